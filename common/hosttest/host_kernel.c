/*
 * Host stand-ins for the kernel services kernel sources call: see
 * host_kernel.h. Not a test itself (the host-test rule builds test_*.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fdt.h"
#include "host_kernel.h"
#include "panic.h"
#include "printk.h"
#include "spinlock.h"

#define WEAK __attribute__((weak))

unsigned long host_printk_lines;
char host_printk_last[256];
bool host_printk_echo;
char host_panic_msg[256];
static jmp_buf *panic_target;

/* common/lib/panic.c: bumped by the in-kernel test runner; here, never. */
unsigned long todo_epoch;

/* ---- printk ------------------------------------------------------------------ */

WEAK int vprintk(const char *fmt, va_list ap)
{
	int n = vsnprintf(host_printk_last, sizeof(host_printk_last), fmt, ap);
	host_printk_lines++;
	if (host_printk_echo || getenv("MMLAB_VERBOSE"))
		fputs(host_printk_last, stdout);
	return n;
}

WEAK int printk(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vprintk(fmt, ap);
	va_end(ap);
	return n;
}

/* ---- panic ------------------------------------------------------------------- */

void host_expect_panic(jmp_buf *env) { panic_target = env; }

WEAK void panic(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(host_panic_msg, sizeof(host_panic_msg), fmt, ap);
	va_end(ap);
	if (panic_target) {
		jmp_buf *env = panic_target;
		panic_target = NULL; /* a panic while unwinding must not loop */
		longjmp(*env, 1);
	}
	fflush(stdout);
	fprintf(stderr, "panic: %s\n", host_panic_msg);
	abort();
}

/* ---- spinlocks and interrupts (one thread, no interrupts) ---------------------- */

WEAK void spin_init(struct spinlock *lk, const char *name)
{
	lk->locked = 0;
	lk->hart = -1;
	lk->name = name;
}

WEAK void spin_lock(struct spinlock *lk)
{
	if (lk->locked) {
		fprintf(stderr, "spin_lock: \"%s\" already held: a deadlock on a real hart\n", lk->name);
		abort();
	}
	lk->locked = 1;
	lk->hart = 0;
}

WEAK void spin_unlock(struct spinlock *lk)
{
	if (!lk->locked) {
		fprintf(stderr, "spin_unlock: \"%s\" not held\n", lk->name);
		abort();
	}
	lk->locked = 0;
	lk->hart = -1;
}

WEAK bool spin_holding(const struct spinlock *lk) { return lk->locked; }

WEAK bool spin_trylock(struct spinlock *lk)
{
	if (lk->locked)
		return false;
	spin_lock(lk);
	return true;
}

WEAK void intr_push(void) {}
WEAK void intr_pop(void) {}

/* ---- the rest ------------------------------------------------------------------ */

/* No bootargs on the host (common/lib/fdt.c has the real one). */
WEAK bool bootarg_get(const char *key, char *buf, size_t len)
{
	(void)key;
	if (len)
		buf[0] = '\0';
	return false;
}

/* glibc before 2.38 has no strlcpy; the kernel's string.h promises one
 * (common/lib/string.c, which a host build cannot link beside glibc). */
WEAK size_t strlcpy(char *dst, const char *src, size_t size)
{
	if (size)
		snprintf(dst, size, "%s", src); /* truncates and terminates as strlcpy does */
	return strlen(src);
}
