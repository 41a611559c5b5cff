/**
 * @file ktap.h
 * @brief KTAP helpers for user test programs: one program, one suite.
 *
 * @code
 * #include "ktap.h"
 * KTAP_SUITE("ch4.user.fork");
 *
 * TEST(child_sees_a_copy)
 * {
 *     pid_t pid = fork();
 *     ASSERT_GE(pid, 0);
 *     ...
 *     EXPECT_EQ(WEXITSTATUS(status), 0);
 * }
 * @endcode
 *
 * KTAP_SUITE() defines main(). The program prints "KTAP version 1",
 * "# Subtest: <suite>", the plan "1..N+1" (the kernel's runner adds test
 * N+1, frames_returned), then for each test, in source order: the syscall
 * SYS_mmlab_test_begin, the test, "ok I name" or "not ok I name" (after the
 * "# file:line: expected ..., got ..." lines of its failed checks), or
 * "ok I name # SKIP reason", and SYS_mmlab_test_result(0 pass, 1 fail,
 * 2 skip). As in the kernel's ktest.h: EXPECT_* records a failure and goes
 * on, ASSERT_* also returns from the test function, SKIP() ends the test as
 * skipped, and a test that made no check fails ("made no check").
 *
 * In a forked child the checks work on the child's copy of the state:
 * print, and end the child with ktap_child_exit(), whose status says
 * whether a check failed there (the parent checks WEXITSTATUS == 0).
 */
#ifndef MMLAB_KTAP_H
#define MMLAB_KTAP_H

#include "ulib.h"

/** One test (collected by the linker in section ktap_tests). */
struct ktap_test {
	const char *name; /**< Printed on its ok line. */
	void (*fn)(void); /**< The body. */
	int line;	  /**< Tests run in source order. */
};

/** Verdicts, as SYS_mmlab_test_result takes them. */
enum ktap_verdict { KTAP_PASS = 0, KTAP_FAIL = 1, KTAP_SKIP = 2 };

/** Run every test of the program as suite @p suite. @return 0 if none failed, 1 otherwise. */
int ktap_run(const char *suite);
/** A failed boolean check (the macros call it). */
void ktap_fail_bool(const char *file, int line, const char *expr);
/** A failed comparison (the macros call it). */
void ktap_fail_cmp(const char *file, int line, const char *a_text, const char *op, const char *b_text,
		   long long a, long long b);
/** A failed string comparison (the macros call it). */
void ktap_fail_str(const char *file, int line, const char *a_text, const char *b_text, const char *a,
		   const char *b);
/** Mark the running test skipped (SKIP() also returns). */
void ktap_skip(const char *reason);
/** True once a check of the running test has failed (in this process). */
bool ktap_failed(void);
/** End a forked child: status 0 if its checks held, 1 if one failed. */
void ktap_child_exit(void) __attribute__((noreturn));
/**
 * Run @p fn(@p arg) in a forked child, which then ends with
 * ktap_child_exit(), and wait for it.
 * @return its wait status, or -1 if fork or wait failed (errno says why).
 */
int ktap_fork_wait(void (*fn)(void *), void *arg);
/**
 * fork, execve(@p argv[0], @p argv, an empty environment), wait. A child
 * whose execve fails exits with 127 (as a shell's).
 * @return the wait status, or -1 if fork or wait failed.
 */
int ktap_spawn_wait(char *const argv[]);
/** Checks made by the running test. */
extern unsigned long ktap_checks;

/** Name the suite and define main() to run it. */
#define KTAP_SUITE(name)                                                                                     \
	int main(void) { return ktap_run(name); }                                                            \
	struct ktap_unused_

/** Define a test called @p name (an identifier). */
#define TEST(name)                                                                                           \
	static void ktap_test_##name(void);                                                                  \
	static const struct ktap_test ktap_desc_##name                                                       \
		__attribute__((used, section("ktap_tests"), aligned(8))) = {#name, ktap_test_##name,         \
									    __LINE__};                       \
	static void ktap_test_##name(void)

/** @cond INTERNAL */
#define KTAP_CHECK_BOOL_(cond, text, on_fail)                                                                \
	do {                                                                                                 \
		ktap_checks++;                                                                               \
		if (!(cond)) {                                                                               \
			ktap_fail_bool(__FILE__, __LINE__, text);                                            \
			on_fail;                                                                             \
		}                                                                                            \
	} while (0)
#define KTAP_CHECK_CMP_(a, op, b, on_fail)                                                                   \
	do {                                                                                                 \
		ktap_checks++;                                                                               \
		long long _ka = (long long)(a), _kb = (long long)(b);                                        \
		if (!(_ka op _kb)) {                                                                         \
			ktap_fail_cmp(__FILE__, __LINE__, #a, #op, #b, _ka, _kb);                            \
			on_fail;                                                                             \
		}                                                                                            \
	} while (0)
#define KTAP_CHECK_STR_(a, b, on_fail)                                                                       \
	do {                                                                                                 \
		ktap_checks++;                                                                               \
		const char *_ka = (a), *_kb = (b);                                                           \
		if (!_ka || !_kb || strcmp(_ka, _kb) != 0) {                                                 \
			ktap_fail_str(__FILE__, __LINE__, #a, #b, _ka, _kb);                                 \
			on_fail;                                                                             \
		}                                                                                            \
	} while (0)
/** @endcond */

#define EXPECT_TRUE(c)	   KTAP_CHECK_BOOL_(c, #c, (void)0)		/**< Expect @p c. */
#define EXPECT_FALSE(c)	   KTAP_CHECK_BOOL_(!(c), "!(" #c ")", (void)0) /**< Expect !c. */
#define EXPECT_EQ(a, b)	   KTAP_CHECK_CMP_(a, ==, b, (void)0)		/**< Expect a == b. */
#define EXPECT_NE(a, b)	   KTAP_CHECK_CMP_(a, !=, b, (void)0)		/**< Expect a != b. */
#define EXPECT_LT(a, b)	   KTAP_CHECK_CMP_(a, <, b, (void)0)		/**< Expect a < b. */
#define EXPECT_LE(a, b)	   KTAP_CHECK_CMP_(a, <=, b, (void)0)		/**< Expect a <= b. */
#define EXPECT_GT(a, b)	   KTAP_CHECK_CMP_(a, >, b, (void)0)		/**< Expect a > b. */
#define EXPECT_GE(a, b)	   KTAP_CHECK_CMP_(a, >=, b, (void)0)		/**< Expect a >= b. */
#define EXPECT_STREQ(a, b) KTAP_CHECK_STR_(a, b, (void)0)		/**< Expect equal strings. */
#define ASSERT_TRUE(c)	   KTAP_CHECK_BOOL_(c, #c, return )		/**< Assert @p c. */
#define ASSERT_FALSE(c)	   KTAP_CHECK_BOOL_(!(c), "!(" #c ")", return ) /**< Assert !c. */
#define ASSERT_EQ(a, b)	   KTAP_CHECK_CMP_(a, ==, b, return )		/**< Assert a == b. */
#define ASSERT_NE(a, b)	   KTAP_CHECK_CMP_(a, !=, b, return )		/**< Assert a != b. */
#define ASSERT_LT(a, b)	   KTAP_CHECK_CMP_(a, <, b, return )		/**< Assert a < b. */
#define ASSERT_LE(a, b)	   KTAP_CHECK_CMP_(a, <=, b, return )		/**< Assert a <= b. */
#define ASSERT_GT(a, b)	   KTAP_CHECK_CMP_(a, >, b, return )		/**< Assert a > b. */
#define ASSERT_GE(a, b)	   KTAP_CHECK_CMP_(a, >=, b, return )		/**< Assert a >= b. */
#define ASSERT_STREQ(a, b) KTAP_CHECK_STR_(a, b, return )		/**< Assert equal strings. */

/** End the test now as skipped, saying @p reason. */
#define SKIP(reason)                                                                                         \
	do {                                                                                                 \
		ktap_skip(reason);                                                                           \
		return;                                                                                      \
	} while (0)

#endif
