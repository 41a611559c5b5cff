/**
 * @file ktest.h
 * @brief In-kernel tests that print KTAP version 1 (the format of Linux KUnit).
 *
 * A test is a function defined with KTEST(suite, name). The suite identifier
 * is written `ch1_buddy` and printed `ch1.buddy` (its first `_` becomes `.`);
 * keep one suite per file. Inside a test:
 *
 * - KEXPECT_*(...) records a failure and carries on;
 * - KASSERT_*(...) records a failure and returns from the test function
 *   (only from the test function itself, not from a helper it calls);
 * - KTEST_SKIP("why") ends the test as skipped.
 *
 * A failed check prints `# %file:line: expected <what>, got <values>` before
 * the test's `not ok` line. Whatever a test prints with printk() also becomes a
 * `# ` diagnostic line. A test that ends without a single check fails
 * (`made no check`). A test that faults, on any hart, is reported `not ok`
 * with the fault and the run goes on with the next test. So is a test that
 * runs longer than the watchdog allows (8 s): the runner prints where every
 * hart is, stops the work the test left on other harts, releases the locks
 * it held, and goes on.
 *
 * Suites that are not KTEST functions (ch4's user test programs) join the
 * run through ktest_add_suite().
 *
 * Bootargs: `ktest=<glob>[,<glob>...]` runs the suites whose name matches one
 * (default `*`), `ktest=none` runs none, `ktest_timeout=<ms>` sets the
 * watchdog (0: off), `ktest_times` prints each test's time. `bench=<glob>`
 * runs the benchmarks instead. Then the kernel powers off: exit code 0 if
 * everything passed, 1 otherwise.
 *
 * @code
 * KTEST(ch1_buddy, order0_roundtrip)
 * {
 *     paddr_t pa = frame_alloc(0);
 *     KASSERT_NE(pa, 0);
 *     KEXPECT_EQ(frame_free(pa), 0);
 * }
 * @endcode
 */
#ifndef MMLAB_KTEST_H
#define MMLAB_KTEST_H

#include "printk.h"
#include "smp.h"
#include "types.h"

/** One registered test (collected by the linker from section .ktest). */
struct ktest {
	const char *suite; /**< "ch1_buddy" (printed "ch1.buddy"). */
	const char *name;  /**< "order0_roundtrip". */
	void (*fn)(void);  /**< The test body. */
	int line;	   /**< Where it is defined: tests run in source order. */
};

/** One registered benchmark (section .kbench); it reports with kbench_report(). */
struct kbench {
	const char *name; /**< "ch1_order0" (printed "ch1.order0"). */
	void (*fn)(void); /**< The benchmark body. */
};

/** Define a test called @p name in suite @p suite (both bare identifiers). */
#define KTEST(suite, name)                                                                                   \
	static void ktest_##suite##__##name(void);                                                           \
	static const struct ktest ktest_desc_##suite##__##name                                               \
		__attribute__((used, section(".ktest"), aligned(8))) = {#suite, #name,                       \
									ktest_##suite##__##name, __LINE__};  \
	static void ktest_##suite##__##name(void)

/** Define a benchmark called @p name (an identifier like ch1_order0). */
#define KBENCH(name)                                                                                         \
	static void kbench_##name(void);                                                                     \
	static const struct kbench kbench_desc_##name                                                        \
		__attribute__((used, section(".kbench"), aligned(8))) = {#name, kbench_##name};              \
	static void kbench_##name(void)

/* The runner's side of a check; tests use the macros below. */
/**
 * Record that check @p expr (its text), at @p file : @p line, was false:
 * print `# %file:line: expected expr` and mark the current test failed.
 */
void ktest_fail_bool(const char *file, int line, const char *expr);
/**
 * Record that the comparison @p a_text @p op @p b_text, at @p file : @p line,
 * was false with values @p a and @p b: print `# %file:line: expected a_text op
 * b_text (b), got a` and mark the current test failed.
 */
void ktest_fail_cmp(const char *file, int line, const char *a_text, const char *op, const char *b_text,
		    long long a, long long b);
/** Mark the current test skipped, saying @p reason (KTEST_SKIP() also returns). */
void ktest_skip(const char *reason);
/** True once the current test has failed a check. */
bool ktest_failed(void);

/**
 * Checks the running test has made, passed or failed (every KEXPECT_* and
 * KASSERT_* counts one). A test that ends without a single check fails:
 * `made no check`, so a test that returns early cannot pass by accident.
 */
extern unsigned long ktest_checks;

/** @cond INTERNAL */
#define KTEST_COUNT_CHECK_() __atomic_add_fetch(&ktest_checks, 1, __ATOMIC_RELAXED)

#define KTEST_CHECK_BOOL_(cond, text, on_fail)                                                               \
	do {                                                                                                 \
		KTEST_COUNT_CHECK_();                                                                        \
		if (!(cond)) {                                                                               \
			ktest_fail_bool(__FILE__, __LINE__, text);                                           \
			on_fail;                                                                             \
		}                                                                                            \
	} while (0)

/* The texts of a and b come stringized by the caller, before its arguments
 * are macro-expanded: `expected nr == PAGE_SIZE`, not `... == (1UL << 12)`. */
#define KTEST_CHECK_CMP_(a, op, b, a_text, b_text, on_fail)                                                  \
	do {                                                                                                 \
		KTEST_COUNT_CHECK_();                                                                        \
		long long _ka = (long long)(a), _kb = (long long)(b);                                        \
		if (!(_ka op _kb)) {                                                                         \
			ktest_fail_cmp(__FILE__, __LINE__, a_text, #op, b_text, _ka, _kb);                   \
			on_fail;                                                                             \
		}                                                                                            \
	} while (0)

/** @endcond */

/** Expect @p c to be true; carry on if not. */
#define KEXPECT_TRUE(c) KTEST_CHECK_BOOL_(c, #c, (void)0)
/** Expect @p c to be false. */
#define KEXPECT_FALSE(c)    KTEST_CHECK_BOOL_(!(c), "!(" #c ")", (void)0)
#define KEXPECT_EQ(a, b)    KTEST_CHECK_CMP_(a, ==, b, #a, #b, (void)0) /**< Expect a == b. */
#define KEXPECT_NE(a, b)    KTEST_CHECK_CMP_(a, !=, b, #a, #b, (void)0) /**< Expect a != b. */
#define KEXPECT_LT(a, b)    KTEST_CHECK_CMP_(a, <, b, #a, #b, (void)0)	/**< Expect a < b (signed). */
#define KEXPECT_LE(a, b)    KTEST_CHECK_CMP_(a, <=, b, #a, #b, (void)0) /**< Expect a <= b (signed). */
#define KEXPECT_GT(a, b)    KTEST_CHECK_CMP_(a, >, b, #a, #b, (void)0)	/**< Expect a > b (signed). */
#define KEXPECT_GE(a, b)    KTEST_CHECK_CMP_(a, >=, b, #a, #b, (void)0) /**< Expect a >= b (signed). */
#define KEXPECT_NULL(p)	    KTEST_CHECK_BOOL_((p) == NULL, #p " == NULL", (void)0) /**< Expect NULL. */
#define KEXPECT_NOT_NULL(p) KTEST_CHECK_BOOL_((p) != NULL, #p " != NULL", (void)0) /**< Expect non-NULL. */

/** Assert @p c; return from the test if false. */
#define KASSERT_TRUE(c)	    KTEST_CHECK_BOOL_(c, #c, return )
#define KASSERT_FALSE(c)    KTEST_CHECK_BOOL_(!(c), "!(" #c ")", return )	   /**< Assert !c. */
#define KASSERT_EQ(a, b)    KTEST_CHECK_CMP_(a, ==, b, #a, #b, return )		   /**< Assert a == b. */
#define KASSERT_NE(a, b)    KTEST_CHECK_CMP_(a, !=, b, #a, #b, return )		   /**< Assert a != b. */
#define KASSERT_LT(a, b)    KTEST_CHECK_CMP_(a, <, b, #a, #b, return )		   /**< Assert a < b. */
#define KASSERT_LE(a, b)    KTEST_CHECK_CMP_(a, <=, b, #a, #b, return )		   /**< Assert a <= b. */
#define KASSERT_GT(a, b)    KTEST_CHECK_CMP_(a, >, b, #a, #b, return )		   /**< Assert a > b. */
#define KASSERT_GE(a, b)    KTEST_CHECK_CMP_(a, >=, b, #a, #b, return )		   /**< Assert a >= b. */
#define KASSERT_NULL(p)	    KTEST_CHECK_BOOL_((p) == NULL, #p " == NULL", return ) /**< Assert NULL. */
#define KASSERT_NOT_NULL(p) KTEST_CHECK_BOOL_((p) != NULL, #p " != NULL", return ) /**< Assert non-NULL. */

/** End the test now as skipped, saying @p reason. */
#define KTEST_SKIP(reason)                                                                                   \
	do {                                                                                                 \
		ktest_skip(reason);                                                                          \
		return;                                                                                      \
	} while (0)

/** Skip the test unless at least @p n harts are online. */
#define KTEST_REQUIRE_HARTS(n)                                                                               \
	do {                                                                                                 \
		if (harts_online() < (n))                                                                    \
			KTEST_SKIP("needs " #n " harts");                                                    \
	} while (0)

/** How a test ended. */
enum ktest_verdict {
	KTEST_PASS,    /**< Every check held. */
	KTEST_FAIL,    /**< A check failed, it faulted, the watchdog stopped it, or it made no check. */
	KTEST_SKIPPED, /**< KTEST_SKIP(). */
};

/**
 * For the runner's own tests (common.ktest): run @p fn as a test inside the
 * current one, with a watchdog of @p timeout_ms (0: none), and return its
 * verdict. Its checks, its fault, its watchdog report and its locks are its
 * own: the calling test's verdict and checks are left as they were, and its
 * watchdog starts afresh afterwards. Call from a test on the boot hart.
 * @return a ::ktest_verdict.
 */
int ktest_run_nested(void (*fn)(void), uint64_t timeout_ms);

/**
 * @name External suites
 * A suite whose tests are not KTEST functions: chapter 4 runs each user test
 * program as one suite (`ch4.user.fork`), the program printing its own KTAP.
 * @{
 */

/** What an external suite's tests came to. */
struct ktest_counts {
	int pass; /**< Tests that passed. */
	int fail; /**< Tests that failed. */
	int skip; /**< Tests that were skipped. */
};

/**
 * An external suite's body: run the suite named @p name (with the @p arg it
 * was added with), print it as a KTAP subtest (`KTAP version 1`,
 * `# Subtest: <name>`, `1..<n>`, one `ok`/`not ok <i> <test>` line per test,
 * as a KTEST suite prints; the runner indents every line by four spaces) and
 * keep @p out up to date as tests end, so that an abandoned suite still
 * counts what it ran.
 * @return 0, or a negative errno if the suite could not run (it then fails).
 */
typedef int (*ktest_suite_fn)(const char *name, void *arg, struct ktest_counts *out);

/**
 * Add an external suite to the run: called before ktest_main(), typically
 * from an initcall (ch4 adds one suite per user test program of its
 * initramfs). The suite is numbered in the top-level plan like any other,
 * runs after the KTEST suites in the order added, only if `ktest=` selects
 * @p name, on the boot hart under the watchdog (ktest_watchdog_pet()), and
 * fails if a test failed, it ran no test, @p fn returned an error, or it
 * faulted in the kernel or overran the watchdog (abandoned as a test is).
 * The runner prints its `ok`/`not ok` line and counts it in `# Totals`.
 * @param name "chN.topic" or "chN.user.topic": lower-case letters, digits,
 *        `.` and `_`, a `.` after the first part, fewer than 64 characters;
 *        copied.
 * @param fn   the suite's body (::ktest_suite_fn).
 * @param arg  passed to @p fn as it is (a program's initramfs entry, say).
 * @return 0; -EINVAL for a NULL @p fn or a bad name; -EEXIST if a suite of
 *         that name was added already; -EBUSY once the run has started;
 *         -ENOSPC past 64 suites.
 */
int ktest_add_suite(const char *name, ktest_suite_fn fn, void *arg);

/**
 * Restart the watchdog's count for the running test or external suite, so
 * that an external suite's limit applies to each of its tests rather than to
 * the whole suite: call it as each test of the suite begins. Boot hart only;
 * does nothing when nothing runs or the watchdog is off.
 */
void ktest_watchdog_pet(void);

/**
 * For the runner's own tests (common.ktest_suite): run @p fn (@p name,
 * @p arg) as an external suite inside the current test, as
 * ktest_run_nested() runs a test: its output indented, under a watchdog of
 * @p timeout_ms (0: none), its counts in @p out.
 * @return a ::ktest_verdict: KTEST_PASS, or KTEST_FAIL as ktest_add_suite()
 *         says.
 */
int ktest_run_suite_nested(const char *name, ktest_suite_fn fn, void *arg, uint64_t timeout_ms,
			   struct ktest_counts *out);
/** @} */

/** Print `# bench <name>: <value> <unit>` (name as "ch1.order0"). */
void kbench_report(const char *name, uint64_t value, const char *unit);

/**
 * Run the tests (or benchmarks) the bootargs select, print KTAP, and power
 * off. Called by kmain() on the boot hart once every initcall has run.
 */
void ktest_main(void) __attribute__((noreturn));

#endif
