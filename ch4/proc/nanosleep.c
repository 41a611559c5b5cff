/*
 * nanosleep(2): sleep on the timer (the scheduler's sleepers, woken by a
 * hart's tick) for at least the time asked. -EFAULT for a bad request
 * pointer, -EINVAL for tv_nsec outside [0, 999999999] or a negative
 * tv_sec; -EINTR if the process is killed meanwhile (then the remaining
 * time goes to rem, if given, as Linux does).
 *
 * Reference: Linux kernel/time/hrtimer.c (hrtimer_nanosleep).
 */
#include "errno.h"
#include "fdt.h"
#include "initcall.h"
#include "riscv.h"
#include "sched.h"
#include "syscall.h"
#include "uaccess.h"

struct timespec64 {
	int64_t tv_sec;
	int64_t tv_nsec;
};

#define NSEC_PER_SEC 1000000000L

static uint64_t hz(void) { return machine.timebase_hz ? machine.timebase_hz : 10000000; }

/* Ticks of the time CSR in @ts, rounded up, saturating. */
static uint64_t to_ticks(const struct timespec64 *ts)
{
	uint64_t secs = (uint64_t)ts->tv_sec;
	if (secs > UINT64_MAX / hz() / 2)
		return UINT64_MAX / 2;
	return secs * hz() + ((uint64_t)ts->tv_nsec * hz() + NSEC_PER_SEC - 1) / NSEC_PER_SEC;
}

static long sys_nanosleep(uint64_t ureq, uint64_t urem, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	(void)a2, (void)a3, (void)a4, (void)a5;
	struct timespec64 req;
	if (copy_from_user(&req, ureq, sizeof(req)))
		return -EFAULT;
	if (req.tv_sec < 0 || req.tv_nsec < 0 || req.tv_nsec >= NSEC_PER_SEC)
		return -EINVAL;
	uint64_t now = rdtime(), ticks = to_ticks(&req);
	uint64_t deadline = ticks > UINT64_MAX - now ? UINT64_MAX - 1 : now + ticks;
	if (sched_sleep_until(deadline) == 0)
		return 0;
	if (urem) {
		uint64_t left = rdtime() < deadline ? deadline - rdtime() : 0;
		struct timespec64 rem = {(int64_t)(left / hz()),
					 (int64_t)(left % hz() * NSEC_PER_SEC / hz())};
		if (copy_to_user(urem, &rem, sizeof(rem)))
			return -EFAULT;
	}
	return -EINTR;
}

static int nanosleep_init(void) { return syscall_register(SYS_nanosleep, sys_nanosleep); }
initcall(INIT_PROC, nanosleep_init);
