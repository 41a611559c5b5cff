/* common.string: the kernel's C-library subset. */
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
