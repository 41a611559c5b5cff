/*
 * printk: format into a buffer (vsnprintf(), format.c), then hand it to the
 * console a whole line at a time, so lines from different harts never
 * interleave mid-line.
 */
#include "console.h"
#include "printk.h"
#include "smp.h"
#include "spinlock.h"
#include "string.h"

/*
 * Output goes to the console a whole line at a time. Each hart collects what
 * it prints in its own line buffer and writes the line, prefix and newline
 * included, under one lock when the newline comes: two harts printing at
 * once never interleave within a line, and a line nobody finished cannot
 * glue itself to the next (the test runner ends it with printk_end_line()
 * before it prints a KTAP result). A line longer than the buffer is cut.
 *
 * The buffer is touched with interrupts off, so a handler that prints (the
 * test watchdog) never finds its hart's line half-written. Only panic()
 * writes without waiting for the lock, and only once the lock's holder has
 * had time to finish its line.
 */
#define LINE_MAX	 240
#define PANIC_LOCK_TRIES 10000000L

struct line {
	char text[LINE_MAX];
	size_t len;
};

static struct line lines[MAX_HARTS];
static struct spinlock printk_lock = SPINLOCK_INIT("printk");
static const char *volatile line_prefix;
static volatile int panic_hart = -1; /* the hart that took the console for good */

void printk_set_line_prefix(const char *prefix) { line_prefix = prefix; }

/* Write this hart's line @p l, a newline after it, and empty it. */
static void emit_line(struct line *l)
{
	bool locked = panic_hart != cpuid();
	if (locked)
		spin_lock(&printk_lock);
	if (!console_at_line_start()) /* raw bytes from elsewhere left a line open */
		console_write("\n", 1);
	const char *prefix = line_prefix;
	if (prefix)
		console_write(prefix, strlen(prefix));
	console_write(l->text, l->len);
	console_write("\n", 1);
	l->len = 0;
	if (locked)
		spin_unlock(&printk_lock);
}

/* Add @p len bytes of @p s to this hart's line, writing each line it ends. */
static void add_to_line(const char *s, size_t len)
{
	struct line *l = &lines[cpuid()];
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n') {
			emit_line(l);
			continue;
		}
		if (l->len == LINE_MAX)
			emit_line(l); /* too long: cut it here */
		l->text[l->len++] = s[i];
	}
}

void printk_end_line(void)
{
	intr_push();
	struct line *l = &lines[cpuid()];
	if (l->len)
		emit_line(l);
	intr_pop();
}

void printk_panic_mode(void)
{
	int me = cpuid();
	/* Give the lock's holder time to finish its line (a line is short,
	 * and the UART under QEMU is fast: some 50 ms of tries); a holder
	 * that never lets go is stuck, and we print anyway. */
	for (long tries = 0; tries < PANIC_LOCK_TRIES && !spin_holding(&printk_lock); tries++)
		if (spin_trylock(&printk_lock))
			break;
	panic_hart = me;
	line_prefix = NULL;
	if (lines[me].len)
		emit_line(&lines[me]);
}

int vprintk(const char *fmt, va_list ap)
{
	char buf[512];
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	size_t len = n < (int)sizeof(buf) ? (size_t)n : sizeof(buf) - 1;
	intr_push();
	add_to_line(buf, len);
	intr_pop();
	return (int)len;
}

int printk(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vprintk(fmt, ap);
	va_end(ap);
	return n;
}
