/*
 * vsnprintf and snprintf: the formatter printk uses. Freestanding (no
 * console, no lock, no allocation), so ch4's user library builds this very
 * file into every user program as its printf's formatter.
 */
#include "printk.h"
#include "string.h"

/* An output cursor: writes up to `size - 1` bytes, counts them all. */
struct out {
	char *buf;
	size_t size;
	size_t len;
};

static void out_char(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void out_str(struct out *o, const char *s, int width, bool left)
{
	int len = (int)strlen(s);
	for (int i = len; !left && i < width; i++)
		out_char(o, ' ');
	while (*s)
		out_char(o, *s++);
	for (int i = len; left && i < width; i++)
		out_char(o, ' ');
}

struct numfmt {
	int base;
	int width;
	bool upper, zero_pad, left, is_signed;
};

static void out_num(struct out *o, unsigned long long v, struct numfmt f)
{
	char digits[24];
	const char *set = f.upper ? "0123456789ABCDEF" : "0123456789abcdef";
	bool neg = f.is_signed && (long long)v < 0;
	if (neg)
		v = 0 - v; /* unsigned negation: defined even for LLONG_MIN */
	int n = 0;
	do {
		digits[n++] = set[v % f.base];
		v /= f.base;
	} while (v);
	int len = n + neg;
	if (!f.left && !f.zero_pad)
		for (; len < f.width; len++)
			out_char(o, ' ');
	if (neg)
		out_char(o, '-');
	if (!f.left && f.zero_pad)
		for (; len < f.width; len++)
			out_char(o, '0');
	while (n)
		out_char(o, digits[--n]);
	for (; f.left && len < f.width; len++)
		out_char(o, ' ');
}

/* The integer argument for length modifier `lng` (0 int, 1 long, 2 long long, -1 short, -2 char). */
static unsigned long long arg_int(va_list *ap, int lng, bool is_signed)
{
	if (lng >= 1)
		return lng == 1 ? (is_signed ? (unsigned long long)va_arg(*ap, long)
					     : va_arg(*ap, unsigned long))
				: va_arg(*ap, unsigned long long);
	if (is_signed) {
		int v = va_arg(*ap, int);
		return (unsigned long long)(long long)(lng == -1 ? (short)v : lng == -2 ? (signed char)v : v);
	}
	unsigned v = va_arg(*ap, unsigned);
	return lng == -1 ? (unsigned short)v : lng == -2 ? (unsigned char)v : v;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap_in)
{
	struct out o = {buf, size, 0};
	va_list ap;
	va_copy(ap, ap_in);
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			out_char(&o, *fmt);
			continue;
		}
		struct numfmt f = {.base = 10};
		for (;; fmt++) {
			if (fmt[1] == '-')
				f.left = true;
			else if (fmt[1] == '0')
				f.zero_pad = true;
			else
				break;
		}
		fmt++;
		while (*fmt >= '0' && *fmt <= '9')
			f.width = f.width * 10 + (*fmt++ - '0');
		int lng = 0;
		for (;; fmt++) {
			if (*fmt == 'l' || *fmt == 'z')
				lng = lng < 1 ? 1 : 2;
			else if (*fmt == 'h')
				lng = lng == 0 ? -1 : -2;
			else
				break;
		}
		switch (*fmt) {
		case 'd':
		case 'i':
			f.is_signed = true;
			out_num(&o, arg_int(&ap, lng, true), f);
			break;
		case 'u':
			out_num(&o, arg_int(&ap, lng, false), f);
			break;
		case 'X':
			f.upper = true;
			/* fall through */
		case 'x':
			f.base = 16;
			out_num(&o, arg_int(&ap, lng, false), f);
			break;
		case 'o':
			f.base = 8;
			out_num(&o, arg_int(&ap, lng, false), f);
			break;
		case 'p':
			out_str(&o, "0x", 0, false);
			out_num(&o, (uintptr_t)va_arg(ap, void *),
				(struct numfmt){.base = 16, .width = 16, .zero_pad = true});
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			out_str(&o, s ? s : "(null)", f.width, f.left);
			break;
		}
		case 'c':
			out_char(&o, (char)va_arg(ap, int));
			break;
		case '%':
			out_char(&o, '%');
			break;
		case '\0':
			fmt--;
			break;
		default: /* unknown: print it as written, so the mistake shows */
			out_char(&o, '%');
			out_char(&o, *fmt);
		}
	}
	va_end(ap);
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
