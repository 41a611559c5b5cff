/*
 * Host test: the kernel's vsnprintf against glibc's, format by format, over
 * fixed edge cases and a seeded random sweep.
 *
 * Both must live in one program, so the kernel's formatter (format.c, which
 * printk and the user library use) is compiled into this file with its
 * functions renamed (k_*). The renames are in force only
 * around that #include: everywhere else snprintf is glibc's. (Renaming with
 * -D on the command line would rename this file's calls too, and the test
 * would compare the kernel's formatter with itself.)
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_check.h"

#define vsnprintf k_vsnprintf
#define snprintf  k_snprintf
#include "../lib/format.c"
#undef vsnprintf
#undef snprintf

/* Compare one format with one integer argument of type T (its own check: two
 * formatters, one format; the counting and closing line are host_check.h's). */
#define CHECK_FMT(fmt, T, v)                                                                                 \
	do {                                                                                                 \
		char a[128], b[128];                                                                         \
		int na = k_snprintf(a, sizeof(a), fmt, (T)(v));                                              \
		int nb = snprintf(b, sizeof(b), fmt, (T)(v));                                                \
		if (na == nb && strcmp(a, b) == 0)                                                           \
			check_pass();                                                                        \
		else                                                                                         \
			check_fail(__FILE__, __LINE__, "%s: kernel \"%s\" (%d), glibc \"%s\" (%d)", fmt, a,  \
				   na, b, nb);                                                               \
	} while (0)

static void check_value(long long v)
{
	CHECK_FMT("%d", int, v);
	CHECK_FMT("%i", int, v);
	CHECK_FMT("%5d", int, v);
	CHECK_FMT("%-5d", int, v);
	CHECK_FMT("%05d", int, v);
	CHECK_FMT("%u", unsigned, v);
	CHECK_FMT("%x", unsigned, v);
	CHECK_FMT("%X", unsigned, v);
	CHECK_FMT("%o", unsigned, v);
	CHECK_FMT("%08x", unsigned, v);
	CHECK_FMT("%ld", long, v);
	CHECK_FMT("%lu", unsigned long, v);
	CHECK_FMT("%lx", unsigned long, v);
	CHECK_FMT("%016lx", unsigned long, v);
	CHECK_FMT("%lld", long long, v);
	CHECK_FMT("%llu", unsigned long long, v);
	CHECK_FMT("%zu", size_t, v);
	CHECK_FMT("%hd", int, v);
	CHECK_FMT("%hhu", int, v);
	CHECK_FMT("[%-20lld]", long long, v);
	CHECK_FMT("%c", int, 'a' + (v & 15));
}

/* Truncation is the point here: GCC's warning about it is expected. */
#pragma GCC diagnostic ignored "-Wformat-truncation"
static void check_strings(void)
{
	char a[16], b[16];
	const char *s = "hello, world";
	int na = k_snprintf(a, sizeof(a), "%s|%8s|%-8s|", s, "ab", "cd");
	int nb = snprintf(b, sizeof(b), "%s|%8s|%-8s|", s, "ab", "cd");
	if (na == nb && strcmp(a, b) == 0)
		check_pass();
	else
		check_fail(__FILE__, __LINE__, "truncated strings: \"%s\" (%d) vs \"%s\" (%d)", a, na, b, nb);
	na = k_snprintf(NULL, 0, "%d%%", 12345);
	if (na == 6)
		check_pass();
	else
		check_fail(__FILE__, __LINE__, "size 0: %d", na);
}

int main(void)
{
	static const long long edges[] = {0,
					  1,
					  -1,
					  9,
					  10,
					  255,
					  256,
					  65535,
					  65536,
					  -32768,
					  2147483647LL,
					  -2147483648LL,
					  4294967295LL,
					  INT64_MAX,
					  INT64_MIN};
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
		check_value(edges[i]);
	srand(1);
	for (int i = 0; i < 20000; i++) {
		long long v = (long long)(((unsigned long long)rand() << 33) ^
					  ((unsigned long long)rand() << 11) ^ (unsigned)rand());
		check_value(v >> (rand() % 64));
	}
	check_strings();
	return checks_done("common/printk");
}
