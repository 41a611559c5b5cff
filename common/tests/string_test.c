/* common.string: the kernel's C-library subset (with errno_name() and the
 * libgcc helpers of builtins.c). */
#include "errno.h"
#include "ktest.h"
#include "string.h"

KTEST(common_string, memset_memcpy_memcmp)
{
	uint8_t a[37], b[37];
	/* Odd sizes and offsets exercise the word loops' edges. */
	memset(a, 0xab, sizeof(a));
	for (size_t i = 0; i < sizeof(a); i++)
		KEXPECT_EQ(a[i], 0xab);
	for (size_t i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)i;
	memcpy(a + 1, b + 1, 33);
	KEXPECT_EQ(memcmp(a + 1, b + 1, 33), 0);
	KEXPECT_EQ(a[0], 0xab);
	KEXPECT_EQ(a[34], 0xab);
	KEXPECT_LT(memcmp("abc", "abd", 3), 0);
}

KTEST(common_string, memmove_overlap)
{
	char s[16] = "0123456789";
	memmove(s + 2, s, 8);
	KEXPECT_EQ(memcmp(s, "0101234567", 10), 0);
	memmove(s, s + 2, 8);
	KEXPECT_EQ(memcmp(s, "01234567", 8), 0);
}

KTEST(common_string, strings)
{
	char buf[4];
	KEXPECT_EQ(strlen("hello"), 5);
	KEXPECT_EQ(strnlen("hello", 3), 3);
	KEXPECT_EQ(strcmp("a", "a"), 0);
	KEXPECT_NE(strcmp("a", "b"), 0);
	KEXPECT_EQ(strncmp("abcx", "abcy", 3), 0);
	KEXPECT_EQ(strlcpy(buf, "hello", sizeof(buf)), 5);
	KEXPECT_EQ(strcmp(buf, "hel"), 0);
	KEXPECT_TRUE(strchr("hello", 'l') != NULL);
	KEXPECT_NULL(strchr("hello", 'z'));
}

KTEST(common_string, strtoul_and_glob)
{
	char *end;
	KEXPECT_EQ(strtoul("1234x", &end, 0), 1234);
	KEXPECT_EQ(*end, 'x');
	KEXPECT_EQ(strtoul("0x1F", NULL, 0), 31);
	KEXPECT_EQ(strtoul("ff", NULL, 16), 255);
	KEXPECT_TRUE(glob_match("ch1.*", "ch1.buddy"));
	KEXPECT_FALSE(glob_match("ch1.*", "ch2.slab"));
	KEXPECT_TRUE(glob_match("*", ""));
	KEXPECT_TRUE(glob_match("ch?.b*y", "ch1.buddy"));
}

KTEST(common_string, strncmp_stops_at_nul)
{
	/* Equal strings are equal whatever follows their NULs, n or no n. */
	static const char a[] = {'a', 'b', '\0', 'x', '\0'}, b[] = {'a', 'b', '\0', 'y', '\0'};
	KEXPECT_EQ(strncmp(a, b, sizeof(a)), 0);
	KEXPECT_EQ(strncmp(a, b, 2), 0);
	KEXPECT_LT(strncmp("ab", "abc", 3), 0);
	KEXPECT_GT(strncmp("abd", "abc", 8), 0);
	KEXPECT_EQ(strncmp("abd", "xyz", 0), 0);
}

KTEST(common_string, strtoul_stops_at_digits_of_base)
{
	/* A digit is below the base: 'a' ends a decimal number, '8' an octal one, 'g' a hex one. */
	char *end;
	KEXPECT_EQ(strtoul("12a", &end, 10), 12);
	KEXPECT_EQ(*end, 'a');
	KEXPECT_EQ(strtoul("0x1fg", &end, 0), 31);
	KEXPECT_EQ(*end, 'g');
	KEXPECT_EQ(strtoul("78", &end, 8), 7);
	KEXPECT_EQ(*end, '8');
	KEXPECT_EQ(strtoul("102", &end, 2), 2);
	KEXPECT_EQ(*end, '2');
	KEXPECT_EQ(strtoul("z", &end, 36), 35);
	KEXPECT_EQ(*end, '\0');
}

KTEST(common_string, glob_star_stops_at_end)
{
	/* "*x" against "ab": the '*' may eat "ab" but nothing past its NUL,
	 * even when an 'x' lies there. */
	static const char s[] = {'a', 'b', '\0', 'x', '\0'};
	KEXPECT_FALSE(glob_match("*x", s));
	KEXPECT_FALSE(glob_match("a*?", "a"));
	KEXPECT_TRUE(glob_match("a*?", "ab"));
	KEXPECT_TRUE(glob_match("**", ""));
	KEXPECT_FALSE(glob_match("*b", ""));
}

KTEST(common_string, errno_names)
{
	/* Functions return negative errnos: errno_name() takes either sign. */
	KEXPECT_EQ(strcmp(errno_name(ENOMEM), "ENOMEM"), 0);
	KEXPECT_EQ(strcmp(errno_name(-ENOMEM), "ENOMEM"), 0);
	KEXPECT_EQ(strcmp(errno_name(-EINVAL), "EINVAL"), 0);
	KEXPECT_EQ(strcmp(errno_name(-EOVERFLOW), "EOVERFLOW"), 0);
	KEXPECT_EQ(strcmp(errno_name(-6), "E?"), 0);   /* no name */
	KEXPECT_EQ(strcmp(errno_name(-999), "E?"), 0); /* past the table */
	KEXPECT_EQ(strcmp(errno_name(0), "E?"), 0);
}

KTEST(common_string, popcount_clz_ctz)
{
	/* Volatile, so that GCC calls builtins.c's helpers instead of folding. */
	volatile uint64_t v = 0x8000000000000101UL;
	KEXPECT_EQ(__builtin_popcountl(v), 3);
	KEXPECT_EQ(__builtin_clzl(v), 0);
	KEXPECT_EQ(__builtin_ctzl(v), 0);
	v = 0x100;
	KEXPECT_EQ(__builtin_popcountl(v), 1);
	KEXPECT_EQ(__builtin_clzl(v), 55);
	KEXPECT_EQ(__builtin_ctzl(v), 8);
	v = ~0UL;
	KEXPECT_EQ(__builtin_popcountl(v), 64);
	v = 0;
	KEXPECT_EQ(__builtin_popcountl(v), 0);
}
