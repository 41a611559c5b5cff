/*
 * What the console printed while captured, for the tests that check what was
 * printed (common.ktest, common.ktest_suite, common.printk): capture_start() ... capture_stop(),
 * then said() and not_said() look for a text in it. One buffer: a test file
 * that includes this captures one thing at a time.
 */
#ifndef MMLAB_TESTS_CAPTURE_H
#define MMLAB_TESTS_CAPTURE_H

#include "console.h"
#include "printk.h"
#include "string.h"

static char captured[8192];
static size_t captured_len;

static inline void capture(const char *s, size_t len)
{
	for (size_t i = 0; i < len && captured_len < sizeof(captured) - 1; i++)
		captured[captured_len++] = s[i];
	captured[captured_len] = '\0';
}

/* Send the console's output to the buffer, emptied, until capture_stop(). */
static inline void capture_start(void)
{
	captured_len = 0;
	captured[0] = '\0';
	console_capture(capture);
}

static inline void capture_stop(void) { console_capture(NULL); }

static inline bool captured_holds(const char *text)
{
	size_t n = strlen(text);
	for (size_t i = 0; i + n <= captured_len; i++)
		if (memcmp(captured + i, text, n) == 0)
			return true;
	return false;
}

/* True if the capture holds @text; if not, says what it held. */
static inline bool said(const char *text)
{
	if (captured_holds(text))
		return true;
	printk("the captured output has no \"%s\"; it was:\n%s", text, captured);
	return false;
}

/* True if the capture does not hold @text; if it does, says what it held. */
static inline bool not_said(const char *text)
{
	if (!captured_holds(text))
		return true;
	printk("the captured output should not say \"%s\"; it was:\n%s", text, captured);
	return false;
}

#endif
