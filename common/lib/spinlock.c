/*
 * Spinlocks: amoswap.w.aq to take, a release store to give back (as xv6's
 * kernel/spinlock.c), and a record of which locks each hart holds.
 *
 * Unlike xv6, holding a spinlock does not turn interrupts off (Linux's
 * spin_lock(), not spin_lock_irqsave()): the test watchdog's timer must be
 * able to interrupt a test that loops forever inside a locked region, which
 * is where a buggy allocator loops. The record lets the runner release what
 * an abandoned test held, and tells a scheduler (ch4) that this hart must
 * not be preempted (Linux's preempt_count). Locks that an interrupt handler
 * takes are taken with spin_lock_irqsave().
 */
#include "panic.h"
#include "riscv.h"
#include "smp.h"
#include "spinlock.h"

/* Locks one hart may hold at once; more is a bug (a lock never released). */
#define MAX_HELD 8

/* Per hart: intr_push() nesting, and the locks held, in no particular order. */
static struct {
	int depth;
	bool was_on;
	int nr_held;
	struct spinlock *held[MAX_HELD];
} hart_state[MAX_HARTS];

void intr_push(void)
{
	bool on = intr_off();
	int id = cpuid();
	if (hart_state[id].depth++ == 0)
		hart_state[id].was_on = on;
}

void intr_pop(void)
{
	int id = cpuid();
	if (csr_read(sstatus) & SSTATUS_SIE)
		panic("intr_pop: interrupts are on");
	if (hart_state[id].depth < 1)
		panic("intr_pop: not pushed");
	if (--hart_state[id].depth == 0 && hart_state[id].was_on)
		intr_on();
}

void spin_init(struct spinlock *lk, const char *name)
{
	lk->locked = 0;
	lk->hart = -1;
	lk->name = name;
}

bool spin_holding(const struct spinlock *lk) { return lk->locked && lk->hart == cpuid(); }

/* Interrupts are off: record that this hart now holds @lk. */
static void note_held(struct spinlock *lk)
{
	int id = cpuid();
	if (hart_state[id].nr_held == MAX_HELD)
		panic("spin_lock: hart %d holds %d locks already (\"%s\" and more): one was never released",
		      id, MAX_HELD, hart_state[id].held[0]->name);
	hart_state[id].held[hart_state[id].nr_held++] = lk;
}

/* Interrupts are off: forget that this hart holds @lk. */
static void note_released(struct spinlock *lk)
{
	int id = cpuid(), n = hart_state[id].nr_held;
	for (int i = 0; i < n; i++) {
		if (hart_state[id].held[i] == lk) {
			hart_state[id].held[i] = hart_state[id].held[n - 1];
			hart_state[id].nr_held = n - 1;
			return;
		}
	}
}

/* One attempt to take @lk; the attempt and its record are one step for an interrupt. */
static bool try_take(struct spinlock *lk)
{
	bool on = intr_off();
	bool taken = !__atomic_exchange_n(&lk->locked, 1, __ATOMIC_ACQUIRE);
	if (taken) {
		lk->hart = cpuid();
		note_held(lk);
	}
	if (on)
		intr_on();
	return taken;
}

void spin_lock(struct spinlock *lk)
{
	if (spin_holding(lk))
		panic("spin_lock: hart %d already holds lock \"%s\"", cpuid(), lk->name);
	while (!try_take(lk))
		while (__atomic_load_n(&lk->locked, __ATOMIC_RELAXED))
			; /* spin on a plain load: the exchange only when it may win */
}

bool spin_trylock(struct spinlock *lk) { return !spin_holding(lk) && try_take(lk); }

void spin_unlock(struct spinlock *lk)
{
	if (!spin_holding(lk))
		panic("spin_unlock: hart %d does not hold lock \"%s\"", cpuid(), lk->name);
	bool on = intr_off();
	note_released(lk);
	lk->hart = -1;
	__atomic_store_n(&lk->locked, 0, __ATOMIC_RELEASE);
	if (on)
		intr_on();
}

void spin_lock_irqsave(struct spinlock *lk)
{
	intr_push();
	spin_lock(lk);
}

void spin_unlock_irqrestore(struct spinlock *lk)
{
	spin_unlock(lk);
	intr_pop();
}

int spin_held_count(void) { return hart_state[cpuid()].nr_held; }

int spin_release_held(const char **names, int max)
{
	int id = cpuid(), n = 0;
	bool on = intr_off();
	while (hart_state[id].nr_held > 0) {
		struct spinlock *lk = hart_state[id].held[--hart_state[id].nr_held];
		if (lk->hart != id)
			continue;
		if (n < max)
			names[n] = lk->name;
		n++;
		lk->hart = -1;
		__atomic_store_n(&lk->locked, 0, __ATOMIC_RELEASE);
	}
	hart_state[id].depth = 0; /* the abandoned code's intr_push()es are void too */
	if (on)
		intr_on();
	return n;
}
