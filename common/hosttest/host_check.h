/*
 * The harness of the host tests (common/hosttest, chN/hosttest): checks that
 * count, a failure line with file:line (and a context, if set), and a closing
 * line `<name>: N passed, N failed` whose result is the exit status.
 *
 *   CHECK(cond)         cond is true
 *   CHECK_EQ(a, b)      a == b, both taken as long long; on failure both are
 *                       printed in signed decimal, and in hex too when large
 *                       (addresses, masks), as the kernel's ktest does
 *   CHECK_STR(a, b)     strings a and b are equal (NULL only equals NULL)
 *   check_pass(), check_fail(file, line, fmt, ...)
 *                       the counting underneath, for a test's own checks
 *   check_context       a string printed with every failure (NULL: none),
 *                       e.g. the scenario being run
 *   check_max_failures  0: no cap; else the run stops (exit status 1) when
 *                       more checks than this have failed
 *   checks_done(name)   prints the closing line; returns the exit status
 *
 * Each test is a single translation unit that includes this header once.
 */
#ifndef MMLAB_HOST_CHECK_H
#define MMLAB_HOST_CHECK_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int checks_passed, checks_failed;
static const char *check_context;
static int check_max_failures;

static inline void check_pass(void) { checks_passed++; }

/* Count a failure and print `FAIL [context: ]file:line: <message>`. */
static inline __attribute__((format(printf, 3, 4))) void check_fail(const char *file, int line,
								    const char *fmt, ...)
{
	checks_failed++;
	if (check_context)
		printf("FAIL %s: %s:%d: ", check_context, file, line);
	else
		printf("FAIL %s:%d: ", file, line);
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (check_max_failures && checks_failed > check_max_failures) {
		printf("more than %d checks failed: stopping\n", check_max_failures);
		fflush(stdout);
		exit(1);
	}
}

/* Small numbers in decimal; large ones (addresses, masks) in hex as well. */
static inline const char *check_format_value(char *buf, size_t len, long long v)
{
	if (v > -100000 && v < 100000)
		snprintf(buf, len, "%lld", v);
	else
		snprintf(buf, len, "%lld (0x%llx)", v, (unsigned long long)v);
	return buf;
}

static inline void check_fail_eq(const char *file, int line, const char *a_text, const char *b_text,
				 long long a, long long b)
{
	char av[48], bv[48];
	check_fail(file, line, "expected %s == %s (%s), got %s", a_text, b_text,
		   check_format_value(bv, sizeof(bv), b), check_format_value(av, sizeof(av), a));
}

#define CHECK(cond)                                                                                          \
	do {                                                                                                 \
		if (cond)                                                                                    \
			check_pass();                                                                        \
		else                                                                                         \
			check_fail(__FILE__, __LINE__, "%s", #cond);                                         \
	} while (0)

#define CHECK_EQ(a, b)                                                                                       \
	do {                                                                                                 \
		long long _ca = (long long)(a), _cb = (long long)(b);                                        \
		if (_ca == _cb)                                                                              \
			check_pass();                                                                        \
		else                                                                                         \
			check_fail_eq(__FILE__, __LINE__, #a, #b, _ca, _cb);                                 \
	} while (0)

#define CHECK_STR(a, b)                                                                                      \
	do {                                                                                                 \
		const char *_csa = (a), *_csb = (b);                                                         \
		if (_csa == _csb || (_csa && _csb && strcmp(_csa, _csb) == 0))                               \
			check_pass();                                                                        \
		else                                                                                         \
			check_fail(__FILE__, __LINE__, "expected %s == %s (\"%s\"), got \"%s\"", #a, #b,     \
				   _csb ? _csb : "(null)", _csa ? _csa : "(null)");                          \
	} while (0)

/* Print `<name>: N passed, N failed`; the exit status: 0 if nothing failed. */
static inline int checks_done(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, checks_passed, checks_failed);
	return checks_failed ? 1 : 0;
}

#endif
