/*
 * Per-hart timer events (timer.h): each hart keeps one deadline per user and
 * has the SBI timer set for the earliest. All of a hart's state is touched
 * by that hart only, with interrupts off, so it needs no lock.
 */
#include "errno.h"
#include "riscv.h"
#include "sbi.h"
#include "smp.h"
#include "timer.h"

#define NEVER UINT64_MAX

static timer_fn users[TIMER_USERS];
static uint64_t deadlines[MAX_HARTS][TIMER_USERS];
static bool initialised[MAX_HARTS];
/* What each hart's SBI timer is set for, when known: not before the first
 * set, and not once it has fired (its interrupt stays pending until the
 * timer is set again, so the next program() must set it). */
static struct {
	uint64_t at;
	bool known;
} programmed[MAX_HARTS];

/* Set this hart's SBI timer for its earliest deadline (or never), unless
 * it is set for that already: most arms and cancels leave the earliest
 * where it was, and each set is an SBI call, and under QEMU a wake-up of
 * its main loop (as Linux's clockevents skip an unchanged next event). */
static void program(uint64_t *d)
{
	uint64_t next = NEVER;
	for (int i = 0; i < TIMER_USERS; i++)
		if (d[i] < next)
			next = d[i];
	int me = cpuid();
	if (programmed[me].known && programmed[me].at == next)
		return;
	programmed[me].at = next;
	programmed[me].known = true;
	sbi_set_timer(next);
}

/* The user whose deadline passed first, or -1 if none has passed. */
static int first_expired(const uint64_t *d)
{
	uint64_t now = rdtime();
	int first = -1;
	for (int i = 0; i < TIMER_USERS; i++)
		if (d[i] <= now && (first < 0 || d[i] < d[first]))
			first = i;
	return first;
}

/* Run the functions whose deadlines passed, earliest first. */
static bool on_timer_interrupt(struct trap_frame *tf)
{
	uint64_t *d = deadlines[cpuid()];
	programmed[cpuid()].known = false; /* fired: set it again, whatever comes next */
	for (int i; (i = first_expired(d)) >= 0;) {
		/* Out of the table and the timer set for the rest before the
		 * call: the function may arm again, or never return. */
		d[i] = NEVER;
		program(d);
		timer_fn fn = __atomic_load_n(&users[i], __ATOMIC_ACQUIRE);
		if (fn)
			fn(tf);
	}
	program(d);
	return true;
}

int timer_register(timer_fn fn)
{
	if (!fn)
		return -EINVAL;
	static uint32_t handler_registered; /* a word: rv64 has no byte AMO */
	if (!__atomic_exchange_n(&handler_registered, 1, __ATOMIC_ACQ_REL))
		trap_register(SCAUSE_INTERRUPT | IRQ_S_TIMER, on_timer_interrupt);
	for (int i = 0; i < TIMER_USERS; i++) {
		timer_fn none = NULL;
		if (__atomic_compare_exchange_n(&users[i], &none, fn, false, __ATOMIC_ACQ_REL,
						__ATOMIC_RELAXED))
			return i;
	}
	return -ENOSPC;
}

/* This hart's deadlines, all NEVER the first time it uses the timer; the
 * timer interrupt enabled in sie from then on. */
static uint64_t *my_deadlines(void)
{
	int me = cpuid();
	if (!initialised[me]) {
		for (int i = 0; i < TIMER_USERS; i++)
			deadlines[me][i] = NEVER;
		initialised[me] = true;
		csr_set(sie, SIE_STIE);
	}
	return deadlines[me];
}

/* Set this hart's deadline @p id to @p deadline and program the timer. */
static void set_deadline(int id, uint64_t deadline)
{
	bool intr = intr_off();
	uint64_t *d = my_deadlines();
	d[id] = deadline;
	program(d);
	if (intr)
		intr_on();
}

int timer_arm(int id, uint64_t deadline)
{
	if (id < 0 || id >= TIMER_USERS || !__atomic_load_n(&users[id], __ATOMIC_ACQUIRE))
		return -EINVAL;
	set_deadline(id, deadline);
	return 0;
}

void timer_cancel(int id)
{
	if (id >= 0 && id < TIMER_USERS)
		set_deadline(id, NEVER);
}
