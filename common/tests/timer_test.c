/* common.timer: several deadlines on each hart's one SBI timer (timer.h). */
#include "errno.h"
#include "fdt.h"
#include "ktest.h"
#include "riscv.h"
#include "smp.h"
#include "timer.h"

static int timer_id = -1;
static struct {
	volatile int fired[MAX_HARTS];
	volatile uint64_t at[MAX_HARTS];
	uint64_t deadline[MAX_HARTS];
	int rearm; /* times the function arms itself again */
} ev;

static uint64_t ms(uint64_t n) { return n * machine.timebase_hz / 1000; }

static void on_deadline(struct trap_frame *tf)
{
	(void)tf;
	int me = cpuid();
	ev.at[me] = rdtime();
	ev.fired[me]++;
	if (ev.rearm > 0 && me == boot_hart()) {
		ev.rearm--;
		ev.deadline[me] = rdtime() + ms(1);
		timer_arm(timer_id, ev.deadline[me]);
	}
}

/* Our user's id, registered once for every test of the suite. */
static int our_timer(void)
{
	if (timer_id < 0)
		timer_id = timer_register(on_deadline);
	ev = (typeof(ev)){0};
	return timer_id;
}

/* Wait with interrupts on (the runner keeps them on in a test) until this
 * hart's function has run @p n times, or @p limit_ms went by. */
static void wait_fired(int n, uint64_t limit_ms)
{
	uint64_t end = rdtime() + ms(limit_ms);
	while (ev.fired[cpuid()] < n && rdtime() < end)
		mb();
}

KTEST(common_timer, fires_once_not_before_its_deadline)
{
	KASSERT_GE(our_timer(), 0);
	int me = cpuid();
	ev.deadline[me] = rdtime() + ms(2);
	KASSERT_EQ(timer_arm(timer_id, ev.deadline[me]), 0);
	wait_fired(1, 200);
	KEXPECT_EQ(ev.fired[me], 1);
	KEXPECT_GE(ev.at[me], ev.deadline[me]);
	wait_fired(2, 10);
	KEXPECT_EQ(ev.fired[me], 1); /* once */
}

KTEST(common_timer, cancelled_never_fires)
{
	KASSERT_GE(our_timer(), 0);
	/* Interrupts off from the arm to the cancel: however slow the
	 * machine, the deadline cannot fire in between. */
	bool intr = intr_off();
	int err = timer_arm(timer_id, rdtime() + ms(1));
	timer_cancel(timer_id);
	if (intr)
		intr_on();
	KASSERT_EQ(err, 0);
	wait_fired(1, 10);
	KEXPECT_EQ(ev.fired[cpuid()], 0);
}

KTEST(common_timer, rearm_from_the_function)
{
	KASSERT_GE(our_timer(), 0);
	ev.rearm = 3;
	KASSERT_EQ(timer_arm(timer_id, rdtime() + ms(1)), 0);
	wait_fired(4, 500);
	KEXPECT_EQ(ev.fired[cpuid()], 4);
	KEXPECT_EQ(ev.rearm, 0);
}

/* A second user of the timer: when it fired, and how often. */
static int second_id = -1;
static volatile int second_fired;
static volatile uint64_t second_at;

static void on_second(struct trap_frame *tf)
{
	(void)tf;
	second_at = rdtime();
	second_fired++;
}

/* Two deadlines on one hart's one timer: the earlier fires first, and the
 * later still stands after it (the timer was set again for it). */
KTEST(common_timer, two_users_share_the_hart_timer)
{
	KASSERT_GE(our_timer(), 0);
	if (second_id < 0)
		second_id = timer_register(on_second);
	KASSERT_GE(second_id, 0);
	second_fired = 0;
	int me = cpuid();
	/* Both armed with interrupts off, from one reading of the clock: on a
	 * slow host the first could otherwise fire before the second is armed. */
	bool intr = intr_off();
	uint64_t now = rdtime();
	int err1 = timer_arm(timer_id, now + ms(6)), err2 = timer_arm(second_id, now + ms(2));
	if (intr)
		intr_on();
	KASSERT_EQ(err1, 0);
	KASSERT_EQ(err2, 0);
	wait_fired(1, 200);
	KEXPECT_EQ(ev.fired[me], 1);
	KEXPECT_EQ(second_fired, 1);
	KEXPECT_LT(second_at, ev.at[me]);
}

static void arm_and_wait(void *arg, int hart)
{
	(void)arg;
	ev.deadline[hart] = rdtime() + ms(2);
	timer_arm(timer_id, ev.deadline[hart]);
	wait_fired(1, 200);
}

KTEST(common_timer, every_hart_its_own)
{
	KASSERT_GE(our_timer(), 0);
	on_each_hart(arm_and_wait, NULL);
	for (int h = 0; h < MAX_HARTS; h++) {
		if (!(harts_online_mask() & (1UL << h)))
			continue;
		KEXPECT_EQ(ev.fired[h], 1);
		KEXPECT_GE(ev.at[h], ev.deadline[h]);
	}
}

KTEST(common_timer, bad_arguments)
{
	KEXPECT_EQ(timer_register(NULL), -EINVAL);
	KEXPECT_EQ(timer_arm(-1, 0), -EINVAL);
	KEXPECT_EQ(timer_arm(TIMER_USERS, 0), -EINVAL);
	timer_cancel(TIMER_USERS); /* ignored */
	KEXPECT_TRUE(true);
}
