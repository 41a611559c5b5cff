/**
 * @file string.h
 * @brief The kernel's small C-library subset: memory and string functions.
 */
#ifndef MMLAB_STRING_H
#define MMLAB_STRING_H

#include "types.h"

void *memset(void *dst, int c, size_t n); /**< Fill @p n bytes at @p dst with byte @p c; returns @p dst. */
void *memcpy(void *dst, const void *src,
	     size_t n); /**< Copy @p n bytes from @p src to @p dst (must not overlap); returns @p dst. */
void *memmove(void *dst, const void *src,
	      size_t n); /**< Copy @p n bytes from @p src to @p dst (may overlap); returns @p dst. */
int memcmp(const void *a, const void *b, size_t n); /**< Compare @p n bytes of @p a and @p b: <0, 0 or >0. */
size_t strlen(const char *s);			    /**< Length of @p s in bytes. */
size_t strnlen(const char *s, size_t max);	    /**< strlen() of @p s, but at most @p max. */
int strcmp(const char *a, const char *b);	    /**< Compare strings @p a and @p b: <0, 0 or >0. */
int strncmp(const char *a, const char *b,
	    size_t n);		    /**< Compare at most @p n bytes of strings @p a and @p b. */
char *strchr(const char *s, int c); /**< First @p c in @p s, or NULL. */
/** Copy @p src into @p dst of @p size bytes, always NUL-terminated; returns strlen(src). */
size_t strlcpy(char *dst, const char *src, size_t size);
/** Parse the unsigned number at @p s in @p base (0: 0x.. hex, else decimal), like C's
 *  strtoul; sets *@p end (if not NULL) to the first byte not parsed. */
unsigned long strtoul(const char *s, char **end, int base);
/** True if @p s matches shell-style @p pattern (`*` any run, `?` any one byte). */
bool glob_match(const char *pattern, const char *s);

#endif
