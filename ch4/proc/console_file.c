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

/* Caller holds line_lock (so printk cannot be preempted mid-line). */
static void flush_line(void)
{
	line[line_len] = '\0';
	printk("%s\n", line);
	line_len = 0;
}

static void add_bytes(const char *s, size_t n)
{
	spin_lock(&line_lock);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n') {
			flush_line();
		} else if (s[i] != '\0') {
			line[line_len++] = s[i];
			if (line_len == LINE_MAX)
				flush_line();
		}
	}
	spin_unlock(&line_lock);
}

/* write(2) on the console: every byte is taken (bytes before a bad page, or -EFAULT). */
static long console_file_write(struct file *f, struct io_buf buf, size_t len)
{
	(void)f;
	char chunk[128];
	size_t done = 0;
	while (done < len) {
		size_t n = len - done < sizeof(chunk) ? len - done : sizeof(chunk);
		size_t got = io_copy_from(chunk, buf, done, n);
		add_bytes(chunk, got);
		done += got;
		if (got < n)
			break;
	}
	return done ? (long)done : -EFAULT;
}

static long console_file_read(struct file *f, struct io_buf buf, size_t len)
{
	(void)f;
	char chunk[64];
	size_t done = 0;
	while (done < len) {
		size_t n = 0;
		int c;
		while (done + n < len && n < sizeof(chunk) && (c = console_getc()) >= 0)
			chunk[n++] = (char)c;
		if (!n)
			break;
		size_t got = io_copy_to(buf, done, chunk, n);
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
