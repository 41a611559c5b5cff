/*
 * The test runner: selects tests by the `ktest=` bootarg, runs them suite by
 * suite on the boot hart, prints KTAP version 1 and powers off with the
 * verdict. Output follows Linux KUnit (Documentation/dev-tools/ktap.rst):
 *
 *   KTAP version 1
 *   1..<suites>
 *       KTAP version 1
 *       # Subtest: ch1.buddy
 *       1..<tests>
 *       # <diagnostics of test 1>
 *       ok 1 <test>
 *       # ch1.buddy: pass:P fail:F skip:S total:T
 *   ok 1 ch1.buddy
 *   # Totals: pass:P fail:F skip:S total:T
 *
 * External suites (ktest_add_suite(): ch4's user test programs) print their
 * own subtest; they run after the KTEST suites, numbered in the same plan.
 */
#include "backtrace.h"
#include "errno.h"
#include "fdt.h"
#include "ksetjmp.h"
#include "ktest.h"
#include "panic.h"
#include "riscv.h"
#include "sbi.h"
#include "smp.h"
#include "spinlock.h"
#include "string.h"
#include "timer.h"
#include "trap.h"

#define MAX_TESTS  1024
#define MAX_SUITES 64 /* external suites: ktest_add_suite() */
#define NAME_MAX   64
/* How long one test may run before the watchdog abandons it, unless the
 * bootarg ktest_timeout=<ms> says otherwise (0: no watchdog). */
#define DEFAULT_TIMEOUT_MS 8000

extern const struct ktest __ktest_start[], __ktest_end[];
extern const struct kbench __kbench_start[], __kbench_end[];

/* The runner's verdicts are ktest.h's. */
enum verdict { PASS = KTEST_PASS, FAIL = KTEST_FAIL, SKIP = KTEST_SKIPPED };

/* The test now running (on the boot hart). */
static struct {
	volatile bool running;
	bool external; /* an external suite: its own output is not diagnostics */
	volatile enum verdict verdict;
	char skip_reason[NAME_MAX];
	uint64_t env[KJMP_REGS];
} cur;

/* Checks (KEXPECT_*, KASSERT_*) the current test made, passed or not. */
unsigned long ktest_checks;

static uint64_t timeout_ticks;	/* the watchdog's limit per test; 0: none */
static int watchdog_timer = -1; /* its timer.h id */
static bool print_times;	/* bootarg ktest_times: each test's time */

struct totals {
	int pass, fail, skip;
};

/* "ch1_buddy" -> "ch1.buddy": the first '_' becomes '.'. */
static void dotted(const char *id, char *out)
{
	strlcpy(out, id, NAME_MAX);
	char *u = strchr(out, '_');
	if (u)
		*u = '.';
}

void ktest_fail_bool(const char *file, int line, const char *expr)
{
	printk("%s:%d: expected %s\n", file, line, expr);
	cur.verdict = FAIL;
}

/* Small numbers in decimal, addresses and masks in hex. */
static void format_value(char *buf, size_t len, long long v)
{
	if (v > -100000 && v < 100000)
		snprintf(buf, len, "%lld", v);
	else
		snprintf(buf, len, "0x%llx", (unsigned long long)v);
}

void ktest_fail_cmp(const char *file, int line, const char *a_text, const char *op, const char *b_text,
		    long long a, long long b)
{
	char av[24], bv[24];
	format_value(av, sizeof(av), a);
	format_value(bv, sizeof(bv), b);
	printk("%s:%d: expected %s %s %s (%s), got %s\n", file, line, a_text, op, b_text, bv, av);
	cur.verdict = FAIL;
}

void ktest_skip(const char *reason)
{
	if (cur.verdict != FAIL)
		cur.verdict = SKIP;
	strlcpy(cur.skip_reason, reason, sizeof(cur.skip_reason));
}

bool ktest_failed(void) { return cur.verdict == FAIL; }

/* Where hart @hart was when it stopped: its pc, and the calls that led there. */
static void print_where(int hart, const struct trap_frame *tf)
{
	char prefix[16];
	snprintf(prefix, sizeof(prefix), "hart %d: ", hart);
	backtrace_print(prefix, tf->sepc, tf->regs[1], tf->regs[8], tf->regs[2]);
}

static void report_hart(int hart, enum hart_activity what, const struct trap_frame *tf)
{
	if (what == HART_BUSY)
		print_where(hart, tf);
	else if (what == HART_IDLE)
		printk("hart %d: idle\n", hart);
	else
		printk("hart %d: does not answer (interrupts off?): left out of the rest of the run\n", hart);
}

/*
 * Give up the current test (in a trap handler, interrupts off): stop the
 * work it left on other harts, release the locks this hart held, and jump
 * back to run_one().
 */
static void __attribute__((noreturn)) abandon(void)
{
	cur.running = false; /* a fault while abandoning is a panic */
	cur.verdict = FAIL;
	smp_stop_work(report_hart);
	const char *names[4];
	int n = spin_release_held(names, 4);
	for (int i = 0; i < n && i < 4; i++)
		printk("released the lock \"%s\" the test held\n", names[i]);
	klongjmp(cur.env, 1);
}

void ktest_on_fault(struct trap_frame *tf)
{
	if (!cur.running)
		return;
	printk_end_line(); /* what the test was printing ends where it stopped */
	if (cur.external)
		printk_set_line_prefix("    # ");
	int me = cpuid();
	if (me != boot_hart()) {
		/* A fault in a test's work on another hart: that hart gives up its
		 * share; the test fails; the boot hart carries on. */
		printk("fault: %s on hart %d, address 0x%lx; its part of the test is abandoned\n",
		       trap_cause_name(tf->scause), me, tf->stval);
		print_where(me, tf);
		cur.verdict = FAIL;
		smp_leave_work();
		return; /* not running work: the caller panics */
	}
	printk("fault: %s, address 0x%lx; the test is abandoned\n", trap_cause_name(tf->scause), tf->stval);
	print_where(me, tf);
	abandon();
}

/* The watchdog's deadline passed: the test has run too long. */
static void on_watchdog(struct trap_frame *tf)
{
	if (!cur.running || cpuid() != boot_hart())
		return; /* a late tick after the test ended */
	printk_end_line();
	if (cur.external)
		printk_set_line_prefix("    # ");
	printk("watchdog: the test ran %lu ms without finishing: abandoned\n",
	       timeout_ticks * 1000 / machine.timebase_hz);
	print_where(cpuid(), tf);
	abandon();
}

/* Interrupts on, the watchdog's deadline set (timer.h). */
static void watchdog_arm(void)
{
	if (!timeout_ticks)
		return;
	timer_arm(watchdog_timer, rdtime() + timeout_ticks);
	intr_on();
}

void ktest_watchdog_pet(void)
{
	if (cur.running && timeout_ticks && cpuid() == boot_hart())
		timer_arm(watchdog_timer, rdtime() + timeout_ticks);
}

static void watchdog_disarm(void)
{
	intr_off();
	if (!timeout_ticks)
		return;
	timer_cancel(watchdog_timer);
}

/*
 * Run test body @fn under the watchdog, with a fresh verdict; a fault or the
 * watchdog comes back here through cur.env. A test that made no check fails.
 */
static enum verdict run_body(void (*fn)(void))
{
	cur.verdict = PASS;
	cur.skip_reason[0] = '\0';
	ktest_checks = 0;
	if (ksetjmp(cur.env) == 0) {
		cur.running = true;
		watchdog_arm();
		fn();
	}
	watchdog_disarm();
	cur.running = false;
	printk_end_line(); /* whatever the test left unfinished ends before what follows */
	if (cur.verdict == PASS && __atomic_load_n(&ktest_checks, __ATOMIC_RELAXED) == 0) {
		printk("made no check: the test ended without one KEXPECT or KASSERT\n");
		cur.verdict = FAIL;
	}
	return cur.verdict;
}

static enum verdict run_one(const struct ktest *t)
{
	todo_epoch++;
	printk_set_line_prefix("    # ");
	uint64_t start = rdtime();
	enum verdict v = run_body(t->fn);
	if (print_times && machine.timebase_hz)
		printk("time: %lu ms\n", (rdtime() - start) * 1000 / machine.timebase_hz);
	printk_set_line_prefix(NULL);
	return v;
}

/* ---- external suites ---------------------------------------------------- */

struct ext_suite {
	char name[NAME_MAX];
	ktest_suite_fn fn;
	void *arg;
};

static struct ext_suite ext_suites[MAX_SUITES];
static int nr_ext_suites;
static bool run_started; /* ktest_main() has begun: no more suites */

/* "ch4.user.fork": [a-z0-9._], a '.' after a first part, short enough. */
static bool valid_suite_name(const char *name)
{
	size_t len = strlen(name);
	if (len == 0 || len >= NAME_MAX || name[0] == '.' || !strchr(name, '.'))
		return false;
	for (const char *c = name; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '.' || *c == '_'))
			return false;
	return true;
}

int ktest_add_suite(const char *name, ktest_suite_fn fn, void *arg)
{
	if (!fn || !name || !valid_suite_name(name))
		return -EINVAL;
	for (int i = 0; i < nr_ext_suites; i++)
		if (strcmp(ext_suites[i].name, name) == 0)
			return -EEXIST;
	if (run_started)
		return -EBUSY;
	if (nr_ext_suites == MAX_SUITES)
		return -ENOSPC;
	struct ext_suite *s = &ext_suites[nr_ext_suites++];
	strlcpy(s->name, name, sizeof(s->name));
	s->fn = fn;
	s->arg = arg;
	return 0;
}

/* The suite run_external() is running, for ext_body(), which takes no argument. */
static struct {
	const struct ext_suite *suite;
	struct ktest_counts *counts;
	int err;
	bool returned; /* its fn returned: not abandoned */
} ext_now;

static void ext_body(void)
{
	ext_now.err = ext_now.suite->fn(ext_now.suite->name, ext_now.suite->arg, ext_now.counts);
	ext_now.returned = true;
	KTEST_COUNT_CHECK_(); /* the suite's tests made the checks */
}

/*
 * Run external suite @s, its own lines indented into the subtest, the
 * runner's lines about it diagnostics; @c gets its counts.
 */
static enum verdict run_external(const struct ext_suite *s, struct ktest_counts *c)
{
	*c = (struct ktest_counts){0};
	ext_now.suite = s;
	ext_now.counts = c;
	ext_now.err = 0;
	ext_now.returned = false;
	todo_epoch++;
	cur.external = true;
	printk_set_line_prefix("    ");
	enum verdict v = run_body(ext_body);
	printk_set_line_prefix("    # ");
	cur.external = false;
	if (!ext_now.returned)
		printk("%s: abandoned after %d test(s)\n", s->name, c->pass + c->fail + c->skip);
	else if (ext_now.err < 0)
		printk("%s: could not run: error %d\n", s->name, ext_now.err), v = FAIL;
	else if (c->pass + c->fail + c->skip == 0)
		printk("%s: ran no test\n", s->name), v = FAIL;
	else if (c->fail)
		v = FAIL;
	printk("%s: pass:%d fail:%d skip:%d total:%d\n", s->name, c->pass, c->fail, c->skip,
	       c->pass + c->fail + c->skip);
	printk_set_line_prefix(NULL);
	return v;
}

/* ---- tests inside a test (common.ktest) ----------------------------------- */

/* Run @run(@arg) as a test inside the current one, with a watchdog of
 * @timeout_ms: the current test's state is saved around it. */
static enum verdict run_nested(enum verdict (*run)(const void *), const void *arg, uint64_t timeout_ms)
{
	uint64_t saved_env[KJMP_REGS], saved_ticks = timeout_ticks;
	enum verdict saved_verdict = cur.verdict;
	unsigned long saved_checks = ktest_checks;
	char saved_reason[NAME_MAX];
	memcpy(saved_env, cur.env, sizeof(saved_env));
	strlcpy(saved_reason, cur.skip_reason, sizeof(saved_reason));
	watchdog_disarm(); /* the caller's */
	timeout_ticks = timeout_ms * machine.timebase_hz / 1000;
	enum verdict v = run(arg);
	timeout_ticks = saved_ticks;
	memcpy(cur.env, saved_env, sizeof(saved_env));
	strlcpy(cur.skip_reason, saved_reason, sizeof(cur.skip_reason));
	cur.verdict = saved_verdict;
	ktest_checks = saved_checks;
	cur.running = true;
	printk_set_line_prefix("    # "); /* the caller's */
	watchdog_arm();			  /* the caller's again, afresh */
	return v;
}

static enum verdict run_fn(const void *fn) { return run_body((void (*)(void))fn); }

int ktest_run_nested(void (*fn)(void), uint64_t timeout_ms)
{
	return run_nested(run_fn, (const void *)fn, timeout_ms);
}

struct nested_suite {
	struct ext_suite suite;
	struct ktest_counts *out;
};

static enum verdict run_suite_fn(const void *arg)
{
	const struct nested_suite *ns = arg;
	return run_external(&ns->suite, ns->out);
}

int ktest_run_suite_nested(const char *name, ktest_suite_fn fn, void *arg, uint64_t timeout_ms,
			   struct ktest_counts *out)
{
	struct nested_suite ns = {.suite = {.fn = fn, .arg = arg}, .out = out};
	strlcpy(ns.suite.name, name, sizeof(ns.suite.name));
	return run_nested(run_suite_fn, &ns, timeout_ms);
}

/* ---- selecting and running ------------------------------------------------- */

static const struct ktest *tests[MAX_TESTS];

/* True if @p name matches one of the comma-separated globs in @p filter. */
static bool filter_match(const char *filter, const char *name)
{
	char one[NAME_MAX];
	while (*filter) {
		const char *comma = strchr(filter, ',');
		size_t len = comma ? (size_t)(comma - filter) : strlen(filter);
		strlcpy(one, filter, len + 1 < sizeof(one) ? len + 1 : sizeof(one));
		if (glob_match(one, name))
			return true;
		filter += comma ? len + 1 : len;
	}
	return false;
}

/* Order: by suite name, then by line within the suite (source order). */
static bool runs_before(const struct ktest *a, const struct ktest *b)
{
	int c = strcmp(a->suite, b->suite);
	return c < 0 || (c == 0 && a->line < b->line);
}

/* The tests whose suite matches @p filter, sorted into tests[]. */
static int select_tests(const char *filter)
{
	int n = 0;
	char name[NAME_MAX];
	for (const struct ktest *t = __ktest_start; t < __ktest_end; t++) {
		dotted(t->suite, name);
		if (!filter_match(filter, name))
			continue;
		if (n == MAX_TESTS)
			panic("ktest: more than %d tests", MAX_TESTS);
		int at = n; /* insertion sort: a few hundred tests at most */
		while (at > 0 && runs_before(t, tests[at - 1])) {
			tests[at] = tests[at - 1];
			at--;
		}
		tests[at] = t;
		n++;
	}
	return n;
}

static int count_suites(int n)
{
	int suites = 0;
	for (int i = 0; i < n; i++)
		suites += i == 0 || strcmp(tests[i]->suite, tests[i - 1]->suite) != 0;
	return suites;
}

/* Run tests[first..] of one suite; returns the index after it. */
static int run_suite(int first, int n, int number, struct totals *all)
{
	char suite[NAME_MAX];
	dotted(tests[first]->suite, suite);
	int last = first;
	while (last < n && strcmp(tests[last]->suite, tests[first]->suite) == 0)
		last++;
	printk("    KTAP version 1\n    # Subtest: %s\n    1..%d\n", suite, last - first);
	struct totals st = {0};
	for (int i = first; i < last; i++) {
		enum verdict v = run_one(tests[i]);
		if (v == SKIP) {
			printk("    ok %d %s # SKIP %s\n", i - first + 1, tests[i]->name, cur.skip_reason);
			st.skip++;
		} else {
			printk("    %s %d %s\n", v == PASS ? "ok" : "not ok", i - first + 1, tests[i]->name);
			v == PASS ? st.pass++ : st.fail++;
		}
	}
	printk("    # %s: pass:%d fail:%d skip:%d total:%d\n", suite, st.pass, st.fail, st.skip,
	       last - first);
	printk("%s %d %s\n", st.fail ? "not ok" : "ok", number, suite);
	all->pass += st.pass, all->fail += st.fail, all->skip += st.skip;
	return last;
}

void kbench_report(const char *name, uint64_t value, const char *unit)
{
	char n[NAME_MAX];
	dotted(name, n);
	printk("# bench %s: %lu %s\n", n, value, unit);
}

static void run_benchmarks(const char *filter)
{
	char name[NAME_MAX];
	int ran = 0;
	for (const struct kbench *b = __kbench_start; b < __kbench_end; b++) {
		dotted(b->name, name);
		if (filter_match(filter, name)) {
			b->fn();
			ran++;
		}
	}
	printk("# bench: %d benchmark(s) run\n", ran);
	poweroff(ran ? POWEROFF_PASS : POWEROFF_FAIL);
}

/* The watchdog's limit from the bootargs, and its timer handler. */
static void watchdog_init(void)
{
	char v[24];
	uint64_t ms = DEFAULT_TIMEOUT_MS;
	if (bootarg_get("ktest_timeout", v, sizeof(v))) {
		ms = 0;
		for (const char *c = v; *c >= '0' && *c <= '9'; c++)
			ms = ms * 10 + (uint64_t)(*c - '0');
	}
	timeout_ticks = ms * machine.timebase_hz / 1000;
	if (timeout_ticks) {
		watchdog_timer = timer_register(on_watchdog);
		if (watchdog_timer < 0)
			timeout_ticks = 0; /* no timer to be had: tests run without a watchdog */
	}
	print_times = bootarg_get("ktest_times", v, sizeof(v));
}

void ktest_main(void)
{
	char filter[BOOTARGS_MAX]; /* a list of globs: as long as bootargs allow */
	if (bootarg_get("bench", filter, sizeof(filter)))
		run_benchmarks(filter[0] ? filter : "*");
	watchdog_init();
	if (!bootarg_get("ktest", filter, sizeof(filter)) || !filter[0])
		strlcpy(filter, "*", sizeof(filter));
	run_started = true;
	bool none = strcmp(filter, "none") == 0;
	int n = none ? 0 : select_tests(filter);
	int ext = 0;
	for (int i = 0; i < nr_ext_suites && !none; i++)
		ext += filter_match(filter, ext_suites[i].name);
	printk("ktest: %d tests", n);
	if (ext)
		printk(" and %d external suite(s)", ext);
	printk(", each abandoned after %lu ms\n",
	       machine.timebase_hz ? timeout_ticks * 1000 / machine.timebase_hz : 0);
	printk("KTAP version 1\n1..%d\n", count_suites(n) + ext);
	struct totals all = {0};
	int number = 1;
	for (int i = 0; i < n; number++)
		i = run_suite(i, n, number, &all);
	int total = n;
	for (int i = 0; i < nr_ext_suites && !none; i++) {
		if (!filter_match(filter, ext_suites[i].name))
			continue;
		struct ktest_counts c;
		enum verdict v = run_external(&ext_suites[i], &c);
		printk("%s %d %s\n", v == PASS ? "ok" : "not ok", number++, ext_suites[i].name);
		all.pass += c.pass, all.skip += c.skip;
		all.fail += c.fail ? c.fail : v != PASS; /* a suite that failed counts a failure */
		total += c.pass + c.fail + c.skip + (v != PASS && !c.fail);
	}
	printk("# Totals: pass:%d fail:%d skip:%d total:%d\n", all.pass, all.fail, all.skip, total);
	poweroff(all.fail ? POWEROFF_FAIL : POWEROFF_PASS);
}
