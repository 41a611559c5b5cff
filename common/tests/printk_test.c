/* common.printk: the formats the kernel relies on. */
#include "capture.h"
#include "ktest.h"
#include "smp.h"
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

#define PIECES_PER_HART 16

/* Each hart prints lines in three pieces: "hart H:", " line N", " end\n". */
static void print_in_pieces(void *arg, int hart)
{
	(void)arg;
	for (int i = 0; i < PIECES_PER_HART; i++) {
		printk("hart %d:", hart);
		printk(" line %d", i);
		printk(" end\n");
	}
}

/* A line on the console is whole: "    # hart H: line N end". */
static bool whole_line(const char *line, size_t len, uint64_t *lines_of)
{
	char want[48];
	for (int h = 0; h < MAX_HARTS; h++) {
		for (int i = 0; i < PIECES_PER_HART; i++) {
			int n = snprintf(want, sizeof(want), "    # hart %d: line %d end", h, i);
			if ((size_t)n == len && memcmp(line, want, len) == 0) {
				lines_of[h]++;
				return true;
			}
		}
	}
	return false;
}

KTEST(common_printk, lines_of_harts_never_interleave)
{
	uint64_t lines_of[MAX_HARTS] = {0};
	capture_start(); /* the console's bytes, as they came */
	on_each_hart(print_in_pieces, NULL);
	capture_stop();
	int broken = 0;
	for (size_t start = 0, i = 0; i < captured_len; i++) {
		if (captured[i] != '\n')
			continue;
		size_t end = i > start && captured[i - 1] == '\r' ? i - 1 : i;
		if (!whole_line(captured + start, end - start, lines_of) && broken++ == 0) {
			char line[80];
			strlcpy(line, captured + start, MIN(end - start + 1, sizeof(line)));
			printk("a line came out broken: \"%s\"\n", line);
		}
		start = i + 1;
	}
	KEXPECT_EQ(broken, 0);
	for (int h = 0; h < MAX_HARTS; h++)
		if (harts_online_mask() & (1UL << h))
			KEXPECT_EQ(lines_of[h], PIECES_PER_HART);
}

/* The result line of a test that leaves a line unfinished still starts on a
 * line of its own: glued to the text, the grader would not see it at all. */
KTEST(common_printk, unfinished_line_does_not_hide_the_result)
{
	printk("this line has no end");
	KEXPECT_TRUE(console_at_line_start()); /* the text waits in this hart's line */
}
