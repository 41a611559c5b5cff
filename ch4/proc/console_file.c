/*
 * The console as a file: descriptors 0, 1 and 2 of every process the
 * kernel starts (files_create_console()).
 *
 * Writes go through printk a whole line at a time, so that the lines of
 * user programs never mix with each other's or the kernel's, and carry the
 * line prefix the test runner sets (a user suite's output is indented as a
 * KTAP subtest). The text of an unfinished line waits in one buffer, shared
 * by every writer (as a terminal's line discipline), until its newline
 * comes or the buffer fills; a NUL byte is dropped (printk prints strings).
 *
 * Reads return the bytes the UART has waiting, or 0 (end of file) when it
 * has none: the console driver has no receive interrupt to sleep on, so a
 * program reading stdin sees an empty input, not a hang.
 */
#include "console.h"
#include "errno.h"
#include "file.h"
#include "printk.h"
#include "spinlock.h"

/* Longest line printed in one piece; printk cuts lines at 240 bytes too. */
#define LINE_MAX 200

static struct spinlock line_lock = SPINLOCK_INIT("console_file");
static char line[LINE_MAX + 1];
static size_t line_len;
/* One write's chunk (Linux's tty write_buf, 2048 bytes); line_lock guards it. */
static char chunk[2048];

/* Caller holds line_lock (so printk cannot be preempted mid-line). */
static void flush_line(void)
{
	line[line_len] = '\0';
	printk("%s\n", line);
	line_len = 0;
}

/* Caller holds line_lock. */
static void add_bytes(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n') {
			flush_line();
		} else if (s[i] != '\0') {
			line[line_len++] = s[i];
			if (line_len == LINE_MAX)
				flush_line();
		}
	}
}

/*
 * write(2) on the console, as Linux's tty_write: the buffer goes in chunks
 * of 2048 bytes; a chunk that cannot be copied whole ends the write, which
 * returns the bytes of the chunks before it, or -EFAULT. One writer at a
 * time (Linux's atomic_write_lock): the lines of one write stay together.
 */
static long console_file_write(struct file *f, struct io_buf buf, size_t len)
{
	(void)f;
	size_t done = 0;
	spin_lock(&line_lock);
	while (done < len) {
		size_t n = len - done < sizeof(chunk) ? len - done : sizeof(chunk);
		if (io_copy_from(chunk, buf, done, n) < n)
			break;
		add_bytes(chunk, n);
		done += n;
	}
	spin_unlock(&line_lock);
	return done ? (long)done : -EFAULT;
}

static long console_file_read(struct file *f, struct io_buf buf, size_t len)
{
	(void)f;
	char in[64];
	size_t done = 0;
	while (done < len) {
		size_t n = 0;
		int c;
		while (done + n < len && n < sizeof(in) && (c = console_getc()) >= 0)
			in[n++] = (char)c;
		if (!n)
			break;
		size_t got = io_copy_to(buf, done, in, n);
		done += got;
		if (got < n)
			return done ? (long)done
				    : -EFAULT; /* the bytes not copied are lost, as a tty's would be */
	}
	return (long)done;
}

static const struct file_ops console_file_ops = {
	.read = console_file_read,
	.write = console_file_write,
	.release = NULL,
};

struct file *console_file_create(void)
{
	return file_alloc(&console_file_ops, FMODE_READ | FMODE_WRITE, NULL);
}
