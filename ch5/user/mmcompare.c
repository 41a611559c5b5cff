/*
 * mmcompare: one half of the Linux comparison (scripts/linux_compare.py).
 *
 * One source, built twice: as the initramfs program `mmcompare` (mmlab's
 * user library; the kernel runs it with the bootarg init=mmcompare, the
 * console as stdin and stdout), and with the host's cc and C library as
 * build/host/mmcompare (-DMMCOMPARE_HOST), which runs the same sequence on
 * the Linux kernel of the machine. Both read a sequence of calls, one a
 * line, run each with the raw system call, and print the same text:
 *
 *   @ <n> <result>          after call n: "0", "-ENOMEM", "w<hex>" (an
 *                           address inside the window, as an offset),
 *                           "out <cksum>" (an address outside it: its pages
 *                           are checksummed and unmapped again), "ok" or
 *                           "skip" for a write
 *   @M <range> ...          the window, when it changed since the last one:
 *   @+ <range> ...          mapped pages only, runs of equal pages coalesced
 *                           (area boundaries do not count), five a line
 *                           "<first>-<end>:<perms>:<cksum>" (pages, end
 *                           excluded; perms as /proc/self/maps shows them;
 *                           the checksum of the bytes, "-" where neither r
 *                           nor w allows a read)
 *   @H <hash>               instead of @M/@+ after the input line "v hash":
 *                           a hash of the lines it stands for
 *   @end <n>                the sequence is over
 *
 * The input: "m A L P F O" mmap(A, L, P, F, -1, O), "u A L" munmap,
 * "p A L P" mprotect, "r A OL NL F N" mremap, "a A L V" madvise, "s A L F"
 * msync, "w PAGE SLOT VALUE" a 64-bit store into the window (done only if
 * this side's own map says the page is writable), "v hash" / "v full" how
 * windows are printed (not a call), "q" the end. A number
 * is hexadecimal with an optional base: W (the window's address), T (the
 * top of the user half), V (minus W, to make lengths that wrap), then an
 * optional +/- and digits: "W+3000", "T-1000", "V+2000", "ffff". So a
 * sequence means the same on both systems though their windows and user
 * halves differ. Neither side echoes its input; the driver frames nothing
 * but lines, and the guest's console read returns 0 while no byte has come
 * yet (it waits for the rest of a line).
 */
#ifdef MMCOMPARE_HOST
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PAGE_SIZE 4096UL
/* A window free on x86-64 Linux: 16 TiB, far below the libraries and the stack. */
#define WINDOW 0x100000000000UL
/* TASK_SIZE of x86-64 with 4-level page tables (one page below 2^47). */
#define USER_TOP 0x7ffffffff000UL

static long raw(long r) { return r == -1 ? -errno : r; }
static long sys_mmap(void *a, size_t l, int p, int f, int fd, long o)
{
	return raw(syscall(SYS_mmap, a, l, p, f, fd, o));
}
static long sys_munmap(void *a, size_t l) { return raw(syscall(SYS_munmap, a, l)); }
static long sys_mprotect(void *a, size_t l, int p) { return raw(syscall(SYS_mprotect, a, l, p)); }
static long sys_mremap(void *a, size_t ol, size_t nl, int f, void *n)
{
	return raw(syscall(SYS_mremap, a, ol, nl, f, n));
}
static long sys_madvise(void *a, size_t l, int v) { return raw(syscall(SYS_madvise, a, l, v)); }
static long sys_msync(void *a, size_t l, int f) { return raw(syscall(SYS_msync, a, l, f)); }

/* /proc/self/maps into @p buf (NUL-terminated); its length or -errno. */
static long read_maps(char *buf, size_t len)
{
	int fd = open("/proc/self/maps", O_RDONLY);
	if (fd < 0)
		return -errno;
	size_t n = 0;
	long r;
	while (n + 1 < len && (r = read(fd, buf + n, len - 1 - n)) > 0)
		n += r;
	close(fd);
	if (n + 1 >= len)
		return -ERANGE;
	buf[n] = '\0';
	return (long)n;
}

/* The next bytes of the sequence; 0 at its end. */
static long read_input(char *buf, size_t len) { return read(0, buf, len); }
#else
#include "mman.h"

/* A window well below MMAP_BASE and above the program and its heap. */
#define WINDOW	 0x1000000000UL
/* USER_TOP (ch4/include/mm.h), as Linux's TASK_SIZE for Sv39. */
#define USER_TOP (1UL << 38)

static long read_maps(char *buf, size_t len)
{
	long n = sys_mmlab_maps(buf, len - 1);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

/* The console's read returns 0 while nothing has come: wait for bytes. */
static long read_input(char *buf, size_t len)
{
	for (;;) {
		long n = read(0, buf, len);
		if (n)
			return n;
		sched_yield();
	}
}
#endif

#define WINDOW_PAGES 64 /* the pages compared */
#define SLOTS	     8	/* the places in a page a write may go */

/* The bytes of a page a write may change (8-byte aligned, spread over the page). */
static const unsigned slot_offset[SLOTS] = {0, 8, 512, 1048, 2048, 3000, 4000, 4088};

/* ---- output: one buffer, written out once a call ---------------------- */

static char out[8192];
static size_t out_len;

static void flush(void)
{
	size_t done = 0;
	while (done < out_len) {
		long n = write(1, out + done, out_len - done);
		if (n <= 0)
			break;
		done += n;
	}
	out_len = 0;
}

static void put(const char *s)
{
	while (*s) {
		if (out_len == sizeof(out))
			flush();
		out[out_len++] = *s++;
	}
}

static void put_hex(uint64_t v)
{
	char d[17];
	int i = 16;
	d[i] = '\0';
	do {
		d[--i] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	put(d + i);
}

static void put_dec(uint64_t v)
{
	char d[21];
	int i = 20;
	d[i] = '\0';
	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(d + i);
}

/* Linux's names (the values are the same on x86-64 and riscv64). */
static const struct {
	int nr;
	const char *name;
} errnames[] = {
	{1, "EPERM"},	{2, "ENOENT"},	{4, "EINTR"},	   {9, "EBADF"},       {11, "EAGAIN"}, {12, "ENOMEM"},
	{13, "EACCES"}, {14, "EFAULT"}, {16, "EBUSY"},	   {17, "EEXIST"},     {19, "ENODEV"}, {22, "EINVAL"},
	{34, "ERANGE"}, {38, "ENOSYS"}, {75, "EOVERFLOW"}, {95, "EOPNOTSUPP"},
};

static void put_errno(long r)
{
	for (size_t i = 0; i < sizeof(errnames) / sizeof(errnames[0]); i++) {
		if (errnames[i].nr == -r) {
			put("-");
			put(errnames[i].name);
			return;
		}
	}
	put("-E");
	put_dec((uint64_t)-r);
}

/* ---- the window as the maps listing shows it ---------------------------- */

static char maps[64 * 1024];

struct page_view {
	char perms[5]; /* "rw-p"; "" if unmapped */
	uint32_t cksum;
};

static struct page_view view[WINDOW_PAGES], last_view[WINDOW_PAGES];
static int views_printed;

static uint64_t parse_hex(const char **p)
{
	uint64_t v = 0;
	for (;; (*p)++) {
		char c = **p;
		if (c >= '0' && c <= '9')
			v = v * 16 + (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v * 16 + (uint64_t)(c - 'a' + 10);
		else
			return v;
	}
}

/* The perms of the page at @p va in listing @p m ("" if unmapped) into @p perms. */
static void perms_of(const char *m, uint64_t va, char perms[5])
{
	perms[0] = '\0';
	for (const char *p = m; *p;) {
		uint64_t start = parse_hex(&p);
		p++; /* '-' */
		uint64_t end = parse_hex(&p);
		p++; /* ' ' */
		if (va >= start && va < end) {
			memcpy(perms, p, 4);
			perms[4] = '\0';
			return;
		}
		while (*p && *p != '\n')
			p++;
		if (*p)
			p++;
	}
}

/* A checksum of the page at @p va (FNV-1a over 64-bit words, folded). */
static uint32_t page_cksum(uint64_t va)
{
	const volatile uint64_t *w = (const volatile uint64_t *)va;
	uint64_t h = 0xcbf29ce484222325UL;
	for (size_t i = 0; i < PAGE_SIZE / 8; i++)
		h = (h ^ w[i]) * 0x100000001b3UL;
	return (uint32_t)(h ^ (h >> 32));
}

static bool readable(const char *perms) { return perms[0] == 'r' || perms[1] == 'w'; }

/*
 * What the last call may have done to the bytes of the window, so that a
 * page whose bytes cannot have changed keeps its checksum (summing all 64
 * pages after every call was a third of the guest's time): mprotect and
 * msync change no byte; a write changes one page; anything else (mmap,
 * munmap, mremap, madvise, failed or not) may change any. Both sides
 * decide alike, from the call alone.
 */
static enum { BYTES_KEPT, BYTES_ONE_PAGE, BYTES_ANY } bytes_changed = BYTES_ANY;
static uint64_t written_page;

/* Set the perms of view[] from listing @p m: one pass over its lines. */
static void perms_from(const char *m)
{
	for (int i = 0; i < WINDOW_PAGES; i++)
		view[i].perms[0] = '\0';
	const uint64_t lo = WINDOW, hi = WINDOW + WINDOW_PAGES * PAGE_SIZE;
	for (const char *p = m; *p;) {
		uint64_t start = parse_hex(&p);
		p++; /* '-' */
		uint64_t end = parse_hex(&p);
		p++; /* ' ' */
		for (uint64_t va = start > lo ? start : lo; va < end && va < hi; va += PAGE_SIZE) {
			char *perms = view[(va - lo) / PAGE_SIZE].perms;
			memcpy(perms, p, 4);
			perms[4] = '\0';
		}
		while (*p && *p != '\n')
			p++;
		if (*p)
			p++;
	}
}

/* Fill view[] from the maps listing and the memory; false if the listing failed. */
static bool take_view(void)
{
	long n = read_maps(maps, sizeof(maps));
	if (n < 0) {
		put("@error maps ");
		put_errno(n);
		put("\n");
		return false;
	}
	bool was_readable[WINDOW_PAGES];
	for (int i = 0; i < WINDOW_PAGES; i++)
		was_readable[i] = view[i].perms[0] && readable(view[i].perms);
	perms_from(maps);
	for (int i = 0; i < WINDOW_PAGES; i++) {
		uint64_t va = WINDOW + (uint64_t)i * PAGE_SIZE;
		if (!view[i].perms[0] || !readable(view[i].perms))
			view[i].cksum = 0;
		else if (!was_readable[i] || bytes_changed == BYTES_ANY ||
			 (bytes_changed == BYTES_ONE_PAGE && (uint64_t)i == written_page))
			view[i].cksum = page_cksum(va);
	}
	return true;
}

static bool same_page(const struct page_view *a, const struct page_view *b)
{
	return strcmp(a->perms, b->perms) == 0 && a->cksum == b->cksum;
}

/*
 * Whether print_view() prints the window (the @M lines) or only a hash of
 * what it would print (an @H line): the input line "v hash" or "v full"
 * chooses. Printing every window over the guest's serial line was more
 * than half of its time; the driver asks for the hashes, and runs a
 * sequence again with "v full" up to the call where two runs part, to
 * show both windows there.
 */
static bool hash_views;

/* FNV-1a, 32 bits, of @p n bytes at @p p. */
static uint32_t fnv32(const char *p, size_t n)
{
	uint32_t h = 2166136261u;
	while (n--)
		h = (h ^ (unsigned char)*p++) * 16777619u;
	return h;
}

/* Print view[] (or its hash) if it differs from what was printed last. */
static void print_view(void)
{
	if (views_printed && memcmp(view, last_view, sizeof(view)) == 0)
		return;
	memcpy(last_view, view, sizeof(view));
	views_printed = 1;
	size_t from = out_len; /* the window fits the buffer: nothing is flushed below */
	put("@M");
	int on_line = 0;
	for (int i = 0; i < WINDOW_PAGES;) {
		int j = i + 1;
		while (j < WINDOW_PAGES && same_page(&view[i], &view[j]))
			j++;
		if (view[i].perms[0]) {
			if (on_line == 5) {
				put("\n@+");
				on_line = 0;
			}
			put(" ");
			put_dec(i);
			put("-");
			put_dec(j);
			put(":");
			put(view[i].perms);
			put(":");
			if (readable(view[i].perms))
				put_hex(view[i].cksum);
			else
				put("-");
			on_line++;
		}
		i = j;
	}
	put("\n");
	if (hash_views) {
		uint32_t h = fnv32(out + from, out_len - from);
		out_len = from;
		put("@H ");
		put_hex(h);
		put("\n");
	}
}

/* ---- the calls ------------------------------------------------------------ */

/* A number of the sequence: [W|T|V][+|-]hex (see the top). */
static uint64_t parse_value(const char **p)
{
	while (**p == ' ')
		(*p)++;
	uint64_t base = 0;
	if (**p == 'W')
		base = WINDOW, (*p)++;
	else if (**p == 'T')
		base = USER_TOP, (*p)++;
	else if (**p == 'V')
		base = -WINDOW, (*p)++;
	int neg = 0;
	if (**p == '+')
		(*p)++;
	else if (**p == '-')
		neg = 1, (*p)++;
	uint64_t v = parse_hex(p);
	return neg ? base - v : base + v;
}

static uint64_t page_align(uint64_t v) { return (v + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1); }

/*
 * The result of a call that returns an address: inside the window as an
 * offset; outside it, "out" and a checksum of its @p len bytes, and the
 * mapping goes again (so that both sides keep only the window).
 */
static void put_address(long r, uint64_t len)
{
	if (r < 0 && r > -4096) {
		put_errno(r);
		return;
	}
	uint64_t a = (uint64_t)r;
	if (a >= WINDOW && a < WINDOW + WINDOW_PAGES * PAGE_SIZE) {
		put("w");
		put_hex(a - WINDOW);
		return;
	}
	len = page_align(len);
	uint32_t sum = 0;
	long n = read_maps(maps, sizeof(maps));
	for (uint64_t off = 0; n >= 0 && off < len; off += PAGE_SIZE) {
		char perms[5];
		perms_of(maps, a + off, perms);
		sum = sum * 31 + (perms[0] && readable(perms) ? page_cksum(a + off) : 1);
	}
	put("out ");
	put_hex(sum);
	long u = sys_munmap((void *)a, len);
	if (u) {
		put(" munmap ");
		put_errno(u);
	}
}

static void do_write(const char *p)
{
	uint64_t page = parse_value(&p), slot = parse_value(&p), value = parse_value(&p);
	if (page >= WINDOW_PAGES || slot >= SLOTS) {
		put("bad");
		return;
	}
	if (view[page].perms[1] != 'w') { /* as of the last view */
		put("skip");
		return;
	}
	*(volatile uint64_t *)(WINDOW + page * PAGE_SIZE + slot_offset[slot]) = value;
	bytes_changed = BYTES_ONE_PAGE;
	written_page = page;
	put("ok");
}

/* Run the call on line @p p and put its result. */
static void run_call(const char *p)
{
	char op = *p++;
	uint64_t a, b, c, d, e;
	long r;
	bytes_changed = op == 'p' || op == 's' || op == 'w' ? BYTES_KEPT : BYTES_ANY; /* a write says more */
	switch (op) {
	case 'm':
		a = parse_value(&p), b = parse_value(&p), c = parse_value(&p), d = parse_value(&p);
		e = parse_value(&p);
		r = sys_mmap((void *)a, b, (int)c, (int)d, -1, (long)e);
		put_address(r, b);
		break;
	case 'u':
		a = parse_value(&p), b = parse_value(&p);
		r = sys_munmap((void *)a, b);
		r < 0 ? put_errno(r) : put_dec(r);
		break;
	case 'p':
		a = parse_value(&p), b = parse_value(&p), c = parse_value(&p);
		r = sys_mprotect((void *)a, b, (int)c);
		r < 0 ? put_errno(r) : put_dec(r);
		break;
	case 'r':
		a = parse_value(&p), b = parse_value(&p), c = parse_value(&p), d = parse_value(&p);
		e = parse_value(&p);
		r = sys_mremap((void *)a, b, c, (int)d, (void *)e);
		put_address(r, c);
		break;
	case 'a':
		a = parse_value(&p), b = parse_value(&p), c = parse_value(&p);
		r = sys_madvise((void *)a, b, (int)c);
		r < 0 ? put_errno(r) : put_dec(r);
		break;
	case 's':
		a = parse_value(&p), b = parse_value(&p), c = parse_value(&p);
		r = sys_msync((void *)a, b, (int)c);
		r < 0 ? put_errno(r) : put_dec(r);
		break;
	case 'w':
		do_write(p);
		break;
	default:
		put("bad");
		break;
	}
}

/* ---- the loop ------------------------------------------------------------- */

static char in[4096];
static size_t in_len;

/* The next line of input (NUL-terminated, no newline) or NULL at the end. */
static char *next_line(void)
{
	static size_t consumed;
	if (consumed) {
		memmove(in, in + consumed, in_len - consumed);
		in_len -= consumed;
		consumed = 0;
	}
	for (;;) {
		for (size_t i = 0; i < in_len; i++) {
			if (in[i] == '\n') {
				in[i] = '\0';
				consumed = i + 1;
				return in;
			}
		}
		if (in_len == sizeof(in))
			return NULL; /* a line longer than any call */
		long n = read_input(in + in_len, sizeof(in) - in_len);
		if (n <= 0)
			return NULL;
		in_len += n;
	}
}

/* The window and a guard of as many pages on each side must be free at the start. */
static bool window_free(void)
{
	if (read_maps(maps, sizeof(maps)) < 0)
		return false;
	for (uint64_t va = WINDOW - WINDOW_PAGES * PAGE_SIZE; va < WINDOW + 2 * WINDOW_PAGES * PAGE_SIZE;
	     va += PAGE_SIZE) {
		char perms[5];
		perms_of(maps, va, perms);
		if (perms[0])
			return false;
	}
	return true;
}

int main(void)
{
	if (!window_free()) {
		put("@error the window is not free\n");
		flush();
		return 2;
	}
	put("@start ");
	put_dec(WINDOW_PAGES);
	put("\n");
	flush();
	uint64_t n = 0;
	char *line;
	while ((line = next_line())) {
		if (!*line)
			continue;
		if (*line == 'q')
			break;
		if (*line == 'v') { /* "v hash" or "v full": not a call */
			hash_views = line[2] == 'h';
			continue;
		}
		put("@ ");
		put_dec(++n);
		put(" ");
		run_call(line);
		/* The result line first: the view reads memory, which may fault. */
		put("\n");
		flush();
		if (!take_view())
			break;
		print_view();
		flush();
	}
	put("@end ");
	put_dec(n);
	put("\n");
	flush();
	return 0;
}
