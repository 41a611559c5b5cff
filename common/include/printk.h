/**
 * @file printk.h
 * @brief Formatted output on the console.
 *
 * Formats: %d %i %u %x %X %o %p %s %c %%, the flags `-` `0` and a field width,
 * and the length modifiers l, ll, z, h, hh.
 *
 * Output reaches the console a whole line at a time: each hart gathers what
 * it prints until a newline (or 240 bytes), then writes the line under a
 * lock, on a fresh line. So lines of different harts never interleave, and
 * text without a newline stays pending until its hart ends the line.
 */
#ifndef MMLAB_PRINTK_H
#define MMLAB_PRINTK_H

#include <stdarg.h>
#include "types.h"

/** Print to the console, formatting @p fmt as printf does. @return the number of bytes printed. */
int printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** printk() of format @p fmt with the arguments in the va_list @p ap. */
int vprintk(const char *fmt, va_list ap);
/** Format @p fmt and the arguments into @p buf of @p size bytes (always
 *  NUL-terminated when size > 0); returns the length the full output would
 *  have had, as C99's snprintf. */
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/** snprintf() into @p buf of @p size bytes, of format @p fmt with the arguments in @p ap. */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

/**
 * Start every line printed from now on with @p prefix (NULL: none). The test
 * runner uses it so that whatever a test prints is a KTAP diagnostic ("    # ").
 */
void printk_set_line_prefix(const char *prefix);

/**
 * End this hart's pending line, if it has one: write it with a newline.
 * The test runner calls it before a KTAP line, so that text a test left
 * without a newline cannot swallow the result.
 */
void printk_end_line(void);

/**
 * Take the console for good, for panic(): wait a little (50 ms) for the
 * hart that holds the printk lock to finish its line, then print from this
 * hart only, without the lock and without a line prefix; end this hart's
 * pending line first. Other harts that print afterwards wait forever.
 */
void printk_panic_mode(void);

#endif
