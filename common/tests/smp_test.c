/* common.smp: running on every hart, and locks that hold across harts. */
#include "fdt.h"
#include "ktest.h"
#include "riscv.h"
#include "smp.h"
#include "spinlock.h"

static void count_me(void *arg, int hart)
{
	uint64_t *seen = arg;
	__atomic_or_fetch(seen, 1UL << hart, __ATOMIC_RELAXED);
}

KTEST(common_smp, on_each_hart_runs_everywhere)
{
	uint64_t seen = 0;
	on_each_hart(count_me, &seen);
	KEXPECT_EQ(seen, harts_online_mask());
	seen = 0;
	on_each_hart(count_me, &seen); /* and again: the harts went back to sleep */
	KEXPECT_EQ(seen, harts_online_mask());
}

#define ROUNDS 20000
static struct spinlock test_lock = SPINLOCK_INIT("test");
static uint64_t counter; /* plain, not atomic: only the lock protects it */

static void add_under_lock(void *arg, int hart)
{
	(void)arg, (void)hart;
	for (int i = 0; i < ROUNDS; i++) {
		spin_lock(&test_lock);
		counter = counter + 1;
		spin_unlock(&test_lock);
	}
}

KTEST(common_smp, spinlock_excludes)
{
	KTEST_REQUIRE_HARTS(2);
	counter = 0;
	on_each_hart(add_under_lock, NULL);
	KEXPECT_EQ(counter, (uint64_t)ROUNDS * harts_online());
	KEXPECT_FALSE(spin_holding(&test_lock));
}

/*
 * A hart that waits long for a lock sleeps in wfi, its bit set in
 * lk->sleepers, and the release wakes it with an IPI (spinlock.c): the boot
 * hart holds the lock while every other hart asks for it, sees them all
 * asleep, lets go, and sees each take the lock in turn. A release that
 * wakes nobody leaves them asleep (nothing else would wake them here).
 */
static struct spinlock nap_lock = SPINLOCK_INIT("nap");
static struct {
	int ready, taken;
	bool all_asleep;
} nap;

/* rdtime() ticks in @ms milliseconds from now. */
static uint64_t ms_from_now(uint64_t ms) { return rdtime() + machine.timebase_hz * ms / 1000; }

static void nap_for_the_lock(void *arg, int hart)
{
	uint64_t others = *(uint64_t *)arg;
	if (hart != boot_hart()) {
		while (!__atomic_load_n(&nap.ready, __ATOMIC_ACQUIRE))
			;
		spin_lock(&nap_lock);
		nap.taken++;
		spin_unlock(&nap_lock);
		return;
	}
	spin_lock(&nap_lock);
	__atomic_store_n(&nap.ready, 1, __ATOMIC_RELEASE);
	for (uint64_t end = ms_from_now(2000); rdtime() < end && !nap.all_asleep;)
		nap.all_asleep = __atomic_load_n(&nap_lock.sleepers, __ATOMIC_ACQUIRE) == others;
	spin_unlock(&nap_lock);
	for (uint64_t end = ms_from_now(2000); rdtime() < end;) {
		spin_lock(&nap_lock);
		bool all = nap.taken == __builtin_popcountl(others);
		spin_unlock(&nap_lock);
		if (all)
			break;
	}
}

KTEST(common_smp, a_waiter_sleeps_and_the_release_wakes_it)
{
	KTEST_REQUIRE_HARTS(2);
	uint64_t others = harts_online_mask() & ~(1UL << boot_hart());
	nap.ready = nap.taken = 0;
	nap.all_asleep = false;
	on_each_hart(nap_for_the_lock, &others);
	KEXPECT_TRUE(nap.all_asleep);
	KEXPECT_EQ(nap.taken, __builtin_popcountl(others));
	KEXPECT_EQ(nap_lock.sleepers, 0);
}

/*
 * A hart that enters at _start after the boot hart (OpenSBI v1.1's race,
 * entry.S) takes the secondary path: the kernel boots once and every hart
 * comes up. With the bootarg smp_race, smp.c makes that happen to one hart
 * for sure; the real race may strike any other hart that was started, as it
 * did once in 600 boots of `make stress` (so: at least one loser, not
 * exactly one). Without smp_race, only the real race makes losers.
 */
KTEST(common_smp, late_entry_takes_secondary_path)
{
	char v[4];
	if (bootarg_get("smp_race", v, sizeof(v)) && harts_online() > 1)
		KEXPECT_GE(smp_lottery_losers(), 1);
	KEXPECT_LT(smp_lottery_losers(), machine.nr_harts);
	KEXPECT_EQ(harts_online(), machine.nr_harts);
	uint64_t seen = 0;
	on_each_hart(count_me, &seen);
	KEXPECT_EQ(seen, harts_online_mask());
}
