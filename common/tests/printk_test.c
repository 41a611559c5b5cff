/* common.printk: the formats the kernel relies on. */
#include "ktest.h"
#include "string.h"

static bool formats_as(const char *want, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool formats_as(const char *want, const char *fmt, ...)
{
	char buf[64];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (strcmp(buf, want) != 0)
		printk("format \"%s\" gave \"%s\", want \"%s\"\n", fmt, buf, want);
	return strcmp(buf, want) == 0;
}

KTEST(common_printk, integers)
{
	KEXPECT_TRUE(formats_as("42 -7 0", "%d %d %u", 42, -7, 0u));
	KEXPECT_TRUE(formats_as("18446744073709551615", "%lu", -1UL));
	KEXPECT_TRUE(formats_as("-9223372036854775808", "%lld", (long long)(1ULL << 63)));
	KEXPECT_TRUE(formats_as("ff FF 17", "%x %X %o", 255, 255, 15));
	KEXPECT_TRUE(formats_as("255 -1", "%hhu %hd", 0x1ff, 0xffff));
}

KTEST(common_printk, width_and_padding)
{
	KEXPECT_TRUE(formats_as("[   42]", "[%5d]", 42));
	KEXPECT_TRUE(formats_as("[00042]", "[%05d]", 42));
	KEXPECT_TRUE(formats_as("[42   ]", "[%-5d]", 42));
	KEXPECT_TRUE(formats_as("[-0042]", "[%05d]", -42));
	KEXPECT_TRUE(formats_as("[0x00000000deadbeef]", "[%p]", (void *)0xdeadbeef));
}

KTEST(common_printk, strings_and_chars)
{
	const char *volatile null_string = NULL; /* volatile: GCC would warn at compile time */
	KEXPECT_TRUE(formats_as("a-b (null) %", "%c-%s %s %%", 'a', "b", null_string));
	KEXPECT_TRUE(formats_as("[  ab][ab  ]", "[%4s][%-4s]", "ab", "ab"));
}

KTEST(common_printk, snprintf_truncates)
{
	char buf[8];
	memset(buf, 'x', sizeof(buf));
	int n = snprintf(buf, 4, "%s", "abcdef");
	KEXPECT_EQ(n, 6); /* the length it would have had, as C99 says */
	KEXPECT_EQ(strcmp(buf, "abc"), 0);
	KEXPECT_EQ(buf[4], 'x'); /* nothing written past size */
	KEXPECT_EQ(snprintf(NULL, 0, "%d", 12345), 5);
}
