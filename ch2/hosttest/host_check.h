/* A tiny test harness for the host tests: CHECK counts, the last line sums up. */
#ifndef MMLAB_HOST_CHECK_H
#define MMLAB_HOST_CHECK_H

#include <stdio.h>

static int checks_passed, checks_failed;

#define CHECK(cond)                                                                  \
	do {                                                                         \
		if (cond) {                                                          \
			checks_passed++;                                             \
		} else {                                                             \
			checks_failed++;                                             \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
		}                                                                    \
	} while (0)

#define CHECK_EQ(a, b)                                                               \
	do {                                                                         \
		long long _a = (long long)(a), _b = (long long)(b);                  \
		if (_a == _b) {                                                      \
			checks_passed++;                                             \
		} else {                                                             \
			checks_failed++;                                             \
			fprintf(stderr, "%s:%d: expected %s == %s (%lld), got %lld\n", __FILE__, __LINE__, #a, #b, _b, _a); \
		}                                                                    \
	} while (0)

/* Print the closing line and give the exit status. */
static inline int checks_done(void)
{
	printf("%d passed, %d failed\n", checks_passed, checks_failed);
	return checks_failed ? 1 : 0;
}

#endif
