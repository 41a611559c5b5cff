/*
 * The user side of the KTAP protocol (ch4plan.md, "User test programs"):
 * the program prints its suite's header and one line per test, and tells
 * the kernel's runner where each test begins and how it ended, through
 * SYS_mmlab_test_begin and SYS_mmlab_test_result. The runner adds the last
 * test, frames_returned, once the program and its children are gone.
 * The output follows the kernel's ktest (common/lib/ktest.c) line for line.
 */
#include "ktap.h"

/* Weak: a program without tests (none in the section) still links. */
extern const struct ktap_test __start_ktap_tests[] __attribute__((weak));
extern const struct ktap_test __stop_ktap_tests[] __attribute__((weak));

unsigned long ktap_checks;
static int verdict;
static const char *skip_reason;

bool ktap_failed(void) { return verdict == KTAP_FAIL; }

void ktap_fail_bool(const char *file, int line, const char *expr)
{
	printf("# %s:%d: expected %s\n", file, line, expr);
	verdict = KTAP_FAIL;
}

void ktap_fail_cmp(const char *file, int line, const char *a_text, const char *op, const char *b_text,
		   long long a, long long b)
{
	printf("# %s:%d: expected %s %s %s (%lld), got %lld\n", file, line, a_text, op, b_text, b, a);
	verdict = KTAP_FAIL;
}

void ktap_fail_str(const char *file, int line, const char *a_text, const char *b_text, const char *a,
		   const char *b)
{
	printf("# %s:%d: expected %s == %s (\"%s\"), got \"%s\"\n", file, line, a_text, b_text,
	       b ? b : "(null)", a ? a : "(null)");
	verdict = KTAP_FAIL;
}

void ktap_skip(const char *reason)
{
	if (verdict != KTAP_FAIL)
		verdict = KTAP_SKIP;
	skip_reason = reason;
}

void ktap_child_exit(void) { _exit(verdict == KTAP_FAIL ? 1 : 0); }

int ktap_fork_wait(void (*fn)(void *), void *arg)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		fn(arg);
		ktap_child_exit();
	}
	int status;
	return waitpid(pid, &status, 0) == pid ? status : -1;
}

int ktap_spawn_wait(char *const argv[])
{
	static char *const no_env[] = {NULL};
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		execve(argv[0], argv, no_env);
		_exit(127);
	}
	int status;
	return waitpid(pid, &status, 0) == pid ? status : -1;
}

/* The tests in source order (the linker keeps the section's order only per
 * object, and the compiler may reorder definitions): an insertion sort. */
static int sorted(const struct ktap_test **out, int max)
{
	int n = 0;
	for (const struct ktap_test *t = __start_ktap_tests; t < __stop_ktap_tests && n < max; t++) {
		int i = n++;
		for (; i > 0 && out[i - 1]->line > t->line; i--)
			out[i] = out[i - 1];
		out[i] = t;
	}
	return n;
}

static int run_one(int index, const struct ktap_test *t)
{
	verdict = KTAP_PASS;
	skip_reason = NULL;
	ktap_checks = 0;
	mmlab_test_begin();
	t->fn();
	if (verdict == KTAP_PASS && ktap_checks == 0) {
		printf("# made no check: the test ended without one EXPECT or ASSERT\n");
		verdict = KTAP_FAIL;
	}
	if (verdict == KTAP_SKIP)
		printf("ok %d %s # SKIP %s\n", index, t->name, skip_reason);
	else
		printf("%s %d %s\n", verdict == KTAP_PASS ? "ok" : "not ok", index, t->name);
	mmlab_test_result(verdict);
	return verdict;
}

int ktap_run(const char *suite)
{
	static const struct ktap_test *tests[256];
	int n = sorted(tests, 256);
	pid_t self = getpid();
	printf("KTAP version 1\n# Subtest: %s\n1..%d\n", suite, n + 1);
	int failed = 0;
	for (int i = 0; i < n; i++) {
		if (run_one(i + 1, tests[i]) == KTAP_FAIL)
			failed++;
		if (getpid() != self) /* a child returned from a test: it must not run the rest */
			_exit(127);
	}
	return failed ? 1 : 0;
}
