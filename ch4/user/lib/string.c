/* String functions, as the C library's (the kernel's common/lib/string.c,
 * plus what user programs need). The compiler may call memcpy and memset on
 * its own (struct copies), so they must exist here. */
#include "ulib.h"

void *memset(void *dst, int c, size_t n)
{
	uint8_t *d = dst;
	/* Word stores once aligned: zeroing frames is on hot paths. */
	while (n && ((uintptr_t)d & 7)) {
		*d++ = (uint8_t)c;
		n--;
	}
	uint64_t w = (uint8_t)c * 0x0101010101010101ULL;
	for (; n >= 8; n -= 8, d += 8)
		*(uint64_t *)d = w;
	while (n--)
		*d++ = (uint8_t)c;
	return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;
	if ((((uintptr_t)d | (uintptr_t)s) & 7) == 0) {
		for (; n >= 8; n -= 8, d += 8, s += 8)
			*(uint64_t *)d = *(const uint64_t *)s;
	}
	while (n--)
		*d++ = *s++;
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;
	if (d <= s || d >= s + n)
		return memcpy(dst, src, n);
	while (n--)
		d[n] = s[n];
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;
	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] - y[i];
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;
	while (n < max && s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (uint8_t)*a - (uint8_t)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (uint8_t)*a - (uint8_t)*b;
		if (!*a)
			return 0;
	}
	return 0;
}

char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}

char *strcpy(char *dst, const char *src)
{
	char *d = dst;
	while ((*d++ = *src++))
		;
	return dst;
}

char *strncpy(char *dst, const char *src, size_t n)
{
	size_t i = 0;
	for (; i < n && src[i]; i++)
		dst[i] = src[i];
	for (; i < n; i++)
		dst[i] = '\0';
	return dst;
}

char *strstr(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for (; *hay; hay++)
		if (strncmp(hay, needle, n) == 0)
			return (char *)hay;
	return n ? NULL : (char *)hay;
}

long strtol(const char *s, char **end, int base)
{
	while (*s == ' ' || *s == '\t')
		s++;
	bool neg = *s == '-';
	if (*s == '-' || *s == '+')
		s++;
	long v = 0;
	if ((base == 0 || base == 16) && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		base = 16;
	} else if (base == 0) {
		base = s[0] == '0' ? 8 : 10;
	}
	for (;; s++) {
		int d = *s >= '0' && *s <= '9'	 ? *s - '0'
			: *s >= 'a' && *s <= 'z' ? *s - 'a' + 10
			: *s >= 'A' && *s <= 'Z' ? *s - 'A' + 10
						 : 99;
		if (d >= base)
			break;
		v = v * base + d;
	}
	if (end)
		*end = (char *)s;
	return neg ? -v : v;
}

int atoi(const char *s) { return (int)strtol(s, NULL, 10); }

const char *strerror(int err)
{
	static const char *const names[] = {
		[EPERM] = "EPERM",     [ENOENT] = "ENOENT",
		[ESRCH] = "ESRCH",     [EINTR] = "EINTR",
		[EIO] = "EIO",	       [E2BIG] = "E2BIG",
		[ENOEXEC] = "ENOEXEC", [EBADF] = "EBADF",
		[ECHILD] = "ECHILD",   [EAGAIN] = "EAGAIN",
		[ENOMEM] = "ENOMEM",   [EACCES] = "EACCES",
		[EFAULT] = "EFAULT",   [EBUSY] = "EBUSY",
		[EEXIST] = "EEXIST",   [ENODEV] = "ENODEV",
		[EINVAL] = "EINVAL",   [EMFILE] = "EMFILE",
		[ENOSPC] = "ENOSPC",   [EPIPE] = "EPIPE",
		[ERANGE] = "ERANGE",   [ENAMETOOLONG] = "ENAMETOOLONG",
		[ENOSYS] = "ENOSYS",
	};
	if (err < 0)
		err = -err;
	if (err < (int)(sizeof(names) / sizeof(names[0])) && names[err])
		return names[err];
	return "E?";
}
