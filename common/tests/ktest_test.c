/*
 * common.ktest: the test runner itself. Each case runs a small test inside
 * this one (ktest_run_nested()) and checks its verdict, what the runner
 * printed about it (captured, not shown), and that the run can go on: a
 * test that checks nothing, fails, faults, loops, loops holding a lock, or
 * leaves work looping or faulting on other harts.
 */
#include "capture.h"
#include "fdt.h"
#include "ktest.h"
#include "riscv.h"
#include "smp.h"
#include "spinlock.h"
#include "string.h"

/* Run @fn nested, with a watchdog of @ms, its report captured (capture.h). */
static int nested(void (*fn)(void), uint64_t ms)
{
	capture_start();
	int v = ktest_run_nested(fn, ms);
	capture_stop();
	return v;
}

static uint64_t now_ms(void) { return rdtime() * 1000 / machine.timebase_hz; }

static void checks_nothing(void) {}
static void checks_one(void) { KEXPECT_TRUE(true); }
static void fails_one(void) { KEXPECT_EQ(1 + 1, 3); }
static void skips(void) { KTEST_SKIP("no reason"); }

KTEST(common_ktest, a_test_must_check_something)
{
	KEXPECT_EQ(nested(checks_nothing, 8000), KTEST_FAIL);
	KEXPECT_TRUE(said("made no check"));
	KEXPECT_TRUE(not_said("watchdog:"));
	KEXPECT_EQ(nested(checks_one, 8000), KTEST_PASS);
	KEXPECT_EQ(nested(skips, 8000), KTEST_SKIPPED);
}

KTEST(common_ktest, a_failed_check_fails_only_its_test)
{
	KEXPECT_EQ(nested(fails_one, 8000), KTEST_FAIL);
	KEXPECT_TRUE(said("expected 1 + 1 == 3 (3), got 2")); /* the text as written */
	KEXPECT_FALSE(ktest_failed());			      /* this test's verdict is its own */
}

static int *volatile nowhere = (int *)8;

static void faults(void)
{
	KEXPECT_TRUE(true);
	*nowhere = 1;
}

KTEST(common_ktest, a_fault_fails_the_test_and_names_the_place)
{
	KEXPECT_EQ(nested(faults, 8000), KTEST_FAIL);
	KEXPECT_TRUE(said("fault: store page fault, address 0x8"));
	KEXPECT_TRUE(not_said("watchdog:")); /* ended by the fault, at once */
	KEXPECT_TRUE(said("faults+0x"));     /* the function, symbolized */
	KEXPECT_TRUE(said("common/tests/ktest_test.c:"));
}

/* A loop that never ends. It waits in wfi rather than spinning: the
 * watchdog's timer interrupt (or its IPI) ends a wfi just as it ends a spin,
 * and an idle hart leaves the host's core to the other kernels the grader
 * boots at the same time. */
static __attribute__((noinline)) void spin_forever(void)
{
	for (;;)
		wfi();
}

static void loops(void)
{
	KEXPECT_TRUE(true);
	spin_forever();
}

KTEST(common_ktest, the_watchdog_abandons_a_loop)
{
	uint64_t start = now_ms();
	KEXPECT_EQ(nested(loops, 100), KTEST_FAIL);
	KEXPECT_LT(now_ms() - start, 5000);
	KEXPECT_TRUE(said("watchdog: the test ran 100 ms without finishing: abandoned"));
	KEXPECT_TRUE(said("spin_forever+0x"));
	KEXPECT_TRUE(said("called from loops+0x"));
}

static struct spinlock held_lock = SPINLOCK_INIT("ktest-held");

static void loops_holding_a_lock(void)
{
	spin_lock(&held_lock);
	KEXPECT_TRUE(true);
	spin_forever();
}

KTEST(common_ktest, the_watchdog_releases_the_locks_of_a_loop)
{
	KEXPECT_EQ(nested(loops_holding_a_lock, 100), KTEST_FAIL);
	KEXPECT_TRUE(said("released the lock \"ktest-held\""));
	KEXPECT_EQ(spin_held_count(), 0);
	KASSERT_TRUE(spin_trylock(&held_lock)); /* free again: the run can go on */
	spin_unlock(&held_lock);
}

static void others_spin(void *arg, int hart)
{
	(void)arg;
	if (hart != boot_hart())
		spin_forever();
}

static void leaves_others_looping(void)
{
	KEXPECT_TRUE(true);
	on_each_hart(others_spin, NULL);
}

static void count_hart(void *arg, int hart)
{
	__atomic_or_fetch((uint64_t *)arg, 1UL << hart, __ATOMIC_RELAXED);
}

KTEST(common_ktest, the_watchdog_stops_work_on_every_hart)
{
	KTEST_REQUIRE_HARTS(2);
	uint64_t online = harts_online_mask();
	KEXPECT_EQ(nested(leaves_others_looping, 200), KTEST_FAIL);
	for (int h = 0; h < MAX_HARTS; h++) {
		char where[48];
		if (h == boot_hart() || !(online & (1UL << h)))
			continue;
		snprintf(where, sizeof(where), "hart %d: spin_forever+0x", h);
		KEXPECT_TRUE(said(where));
	}
	/* Every hart went back to waiting for work, and takes the next. */
	KEXPECT_EQ(harts_online_mask(), online);
	uint64_t seen = 0;
	on_each_hart(count_hart, &seen);
	KEXPECT_EQ(seen, online);
}

static void others_fault(void *arg, int hart)
{
	(void)arg;
	if (hart != boot_hart())
		*nowhere = hart;
}

static void faults_on_others(void)
{
	KEXPECT_TRUE(true);
	on_each_hart(others_fault, NULL);
}

KTEST(common_ktest, a_fault_on_another_hart_fails_the_test)
{
	KTEST_REQUIRE_HARTS(2);
	uint64_t online = harts_online_mask();
	KEXPECT_EQ(nested(faults_on_others, 8000), KTEST_FAIL);
	KEXPECT_TRUE(said("its part of the test is abandoned"));
	KEXPECT_TRUE(not_said("watchdog:")); /* the boot hart's on_each_hart() came back by itself */
	KEXPECT_TRUE(said("others_fault+0x"));
	uint64_t seen = 0;
	on_each_hart(count_hart, &seen);
	KEXPECT_EQ(seen, online);
}
