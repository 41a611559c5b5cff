/* common.smp: running on every hart, and locks that hold across harts. */
#include "fdt.h"
#include "ktest.h"
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
