/*
 * Spinlocks, as in xv6-riscv kernel/spinlock.c: amoswap.w.aq to take,
 * amoswap.w.rl (via __atomic release store) to give back, interrupts off
 * while held.
 */
#include "panic.h"
#include "riscv.h"
#include "smp.h"
#include "spinlock.h"

/* Per-hart nesting of intr_push(), and whether interrupts were on before. */
static struct {
	int depth;
	bool was_on;
} intr_state[MAX_HARTS];

void intr_push(void)
{
	bool on = intr_off();
	int id = cpuid();
	if (intr_state[id].depth++ == 0)
		intr_state[id].was_on = on;
}

void intr_pop(void)
{
	int id = cpuid();
	if (csr_read(sstatus) & SSTATUS_SIE)
		panic("intr_pop: interrupts are on");
	if (intr_state[id].depth < 1)
		panic("intr_pop: not pushed");
	if (--intr_state[id].depth == 0 && intr_state[id].was_on)
		intr_on();
}

void spin_init(struct spinlock *lk, const char *name)
{
	lk->locked = 0;
	lk->hart = -1;
	lk->name = name;
}

bool spin_holding(const struct spinlock *lk)
{
	return lk->locked && lk->hart == cpuid();
}

void spin_lock(struct spinlock *lk)
{
	intr_push();
	if (spin_holding(lk))
		panic("spin_lock: hart %d already holds lock \"%s\"", cpuid(), lk->name);
	while (__atomic_exchange_n(&lk->locked, 1, __ATOMIC_ACQUIRE))
		;
	lk->hart = cpuid();
}

void spin_unlock(struct spinlock *lk)
{
	if (!spin_holding(lk))
		panic("spin_unlock: hart %d does not hold lock \"%s\"", cpuid(), lk->name);
	lk->hart = -1;
	__atomic_store_n(&lk->locked, 0, __ATOMIC_RELEASE);
	intr_pop();
}
