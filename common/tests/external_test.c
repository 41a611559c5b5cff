/*
 * common.external: an external suite added at boot (ktest_add_suite()), as
 * ch4 adds one per user test program, so that every boot shows the whole
 * path: numbered in the top-level plan, its own KTAP nested, its result
 * line and counts printed by the runner, read by the grader as any suite.
 */
#include "initcall.h"
#include "ktest.h"
#include "riscv.h"
#include "smp.h"

static void report(struct ktest_counts *c, int number, const char *test, bool ok)
{
	ktest_watchdog_pet();
	printk("%s %d %s\n", ok ? "ok" : "not ok", number, test);
	ok ? c->pass++ : c->fail++;
}

static int external_suite(const char *name, void *arg, struct ktest_counts *c)
{
	(void)arg;
	printk("KTAP version 1\n# Subtest: %s\n1..2\n", name);
	report(c, 1, "runs_on_the_boot_hart", cpuid() == boot_hart());
	report(c, 2, "runs_with_interrupts_on",
	       (csr_read(sstatus) & SSTATUS_SIE) != 0); /* the watchdog can fire */
	return 0;
}

static int external_init(void) { return ktest_add_suite("common.external", external_suite, NULL); }
initcall(INIT_LATE, external_init);
