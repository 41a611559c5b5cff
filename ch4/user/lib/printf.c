/*
 * printf and friends over write(2). The formatter, vsnprintf(), is the
 * kernel's own (common/lib/format.c, which the Makefile builds into the user
 * library): no floating point. printf() formats
 * into a buffer on the stack and writes it with as few write(1) calls as it
 * can (one for output up to 512 bytes), so the lines of two processes do not
 * mix on the console.
 */
#include "ulib.h"

static int write_all(int fd, const char *s, size_t len)
{
	while (len) {
		long n = sys_write(fd, s, len);
		if (n <= 0) {
			errno = n < 0 ? (int)-n : EIO;
			return -1;
		}
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

int vdprintf(int fd, const char *fmt, va_list ap)
{
	char buf[512];
	va_list copy;
	va_copy(copy, ap);
	int n = vsnprintf(buf, sizeof(buf), fmt, copy);
	va_end(copy);
	if (n < 0)
		return n;
	if ((size_t)n < sizeof(buf))
		return write_all(fd, buf, (size_t)n) ? -1 : n;
	/* Longer than the buffer: format again into memory from sbrk. */
	char *big = sbrk(n + 1);
	if (big == (void *)-1)
		return -1;
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	int ret = write_all(fd, big, (size_t)n) ? -1 : n;
	sbrk(-(n + 1));
	return ret;
}

int dprintf(int fd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vdprintf(fd, fmt, ap);
	va_end(ap);
	return n;
}

int printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vdprintf(STDOUT_FILENO, fmt, ap);
	va_end(ap);
	return n;
}

int puts(const char *s) { return printf("%s\n", s) < 0 ? -1 : 0; }
