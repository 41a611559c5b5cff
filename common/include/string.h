/**
 * @file string.h
 * @brief The kernel's small C-library subset: memory and string functions.
 */
#ifndef MMLAB_STRING_H
#define MMLAB_STRING_H

#include "types.h"

void *memset(void *dst, int c, size_t n);             /**< Fill @p n bytes with @p c. */
void *memcpy(void *dst, const void *src, size_t n);   /**< Copy @p n bytes; must not overlap. */
void *memmove(void *dst, const void *src, size_t n);  /**< Copy @p n bytes; may overlap. */
int memcmp(const void *a, const void *b, size_t n);   /**< Compare @p n bytes. */
size_t strlen(const char *s);                         /**< Length of @p s in bytes. */
size_t strnlen(const char *s, size_t max);            /**< strlen, but at most @p max. */
int strcmp(const char *a, const char *b);             /**< Compare two strings. */
int strncmp(const char *a, const char *b, size_t n);  /**< Compare at most @p n bytes. */
char *strchr(const char *s, int c);                   /**< First @p c in @p s, or NULL. */
/** Copy @p src into @p dst of @p size bytes, always NUL-terminated; returns strlen(src). */
size_t strlcpy(char *dst, const char *src, size_t size);
/** Parse an unsigned number (base 0: 0x.. hex, else decimal), like C's strtoul. */
unsigned long strtoul(const char *s, char **end, int base);
/** True if @p s matches shell-style @p pattern (`*` any run, `?` any one byte). */
bool glob_match(const char *pattern, const char *s);

#endif
