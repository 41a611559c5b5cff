/*
 * What the ch5 user test programs share: the user half's layout as the
 * kernel has it (ch4/include/mm.h, ch5/include/mman.h), anonymous mappings
 * made and checked in one line, the maps listing read back (how many
 * areas cover a range, what perms a page has), and probes that touch a page
 * in a forked child, so that a fault kills the child and not the test.
 *
 * Every expectation here is Linux's too: the numbers are the riscv64 user
 * half's (256 GiB), and a test that needs a free range picks one in the
 * middle of it, far from the program (low) and the stack (top).
 */
#ifndef MMLAB_UTEST5_H
#define MMLAB_UTEST5_H

#include "ktap.h"
#include "mman.h"

/** One past the highest user address (Sv39's lower half, USER_TOP). */
#define USER_TOP_ADDR (1UL << 38)
/** The top of the main thread's stack area, its size and the guard gap under it (mm.h). */
#define STACK_TOP_ADDR	(USER_TOP_ADDR - PAGE_SIZE)
#define STACK_BYTES	(256UL * 1024)
#define STACK_GUARD_GAP (256UL * PAGE_SIZE)
/** Where mmap's top-down search starts (mman.h's MMAP_BASE). */
#define MMAP_TOP (STACK_TOP_ADDR - STACK_BYTES - STACK_GUARD_GAP)
/** The vm.max_map_count of the tests that fill an address space to the limit. */
#define TEST_MAP_COUNT 1024

/**
 * Lower vm.max_map_count to #TEST_MAP_COUNT for the rest of the suite (the
 * runner puts it back; on Linux: `sysctl vm.max_map_count=1024`), so that
 * reaching the limit takes about 1,000 areas, not 65,530, in every
 * configuration. Returns the limit now in force.
 */
static inline long lower_map_count(void)
{
	mmlab_max_map_count(TEST_MAP_COUNT);
	return mmlab_max_map_count(0);
}
/** A kernel address (the direct map): above the user half. */
#define KERNEL_ADDR 0xffffffc000000000UL

/** A free range for tests that place mappings themselves: 64 GiB, nothing there in a test program. */
#define FREE_ADDR 0x1000000000UL
/** Linux's flags that the user library's mman.h leaves out (asm-generic/mman-common.h, mman.h). */
#define MAP_GROWSDOWN_FLAG 0x0100
#define PROT_SEM	   0x8 /**< Accepted by Linux's generic mprotect (riscv has no check of its own). */
#define PROT_GROWSDOWN	   0x01000000 /**< mprotect: extend down a MAP_GROWSDOWN area (EINVAL elsewhere). */

/** Bytes from FREE_ADDR up that tests may use. */
#define FREE_BYTES (1UL << 30)

#ifndef EOPNOTSUPP
#define EOPNOTSUPP 95 /**< Linux's (asm-generic/errno.h): MAP_SHARED_VALIDATE with a flag it refuses. */
#endif

/** PROT_READ | PROT_WRITE. */
#define PROT_RW (PROT_READ | PROT_WRITE)
/** Private anonymous memory. */
#define MAP_PA (MAP_PRIVATE | MAP_ANONYMOUS)
/** Shared anonymous memory. */
#define MAP_SA (MAP_SHARED | MAP_ANONYMOUS)

/** Bytes of @p n pages. */
#define PAGES(n) ((unsigned long)(n)*PAGE_SIZE)

/** The address a raw call returned, as a pointer (callers checked it is not an errno). */
#define AS_PTR(r) ((char *)(uintptr_t)(r))

/** True if a raw mmap/mremap result is an errno rather than an address. */
static inline bool mm_err(long r) { return r < 0 && r > -4096; }

/** Anonymous memory of @p pages pages at a place of the kernel's choosing; NULL if mmap failed. */
static inline char *map_anon(unsigned long pages, int prot, int flags)
{
	long r = sys_mmap(NULL, PAGES(pages), prot, flags, -1, 0);
	return mm_err(r) ? NULL : AS_PTR(r);
}

/** Anonymous memory exactly at @p addr (MAP_FIXED_NOREPLACE: never over something else); NULL if refused. */
static inline char *map_at(unsigned long addr, unsigned long pages, int prot, int flags)
{
	long r = sys_mmap((void *)addr, PAGES(pages), prot, flags | MAP_FIXED_NOREPLACE, -1, 0);
	return r == (long)addr ? AS_PTR(r) : NULL;
}

/**
 * Unmap whatever an earlier test left in [FREE_ADDR, + FREE_BYTES), so that
 * one failure does not make the next test fail too. @return munmap's result.
 */
static inline long clear_free_range(void) { return sys_munmap((void *)FREE_ADDR, FREE_BYTES); }

/** Fill page @p i of @p base with a pattern that names it (and @p salt). */
static inline void fill_page(char *base, unsigned long i, long salt)
{
	long *p = (long *)(base + PAGES(i));
	for (unsigned long k = 0; k < PAGE_SIZE / sizeof(long); k += 64)
		p[k] = (long)(i << 20) ^ salt ^ (long)k;
}

/** True if page @p i of @p base holds fill_page(@p base, @p i, @p salt)'s pattern. */
static inline bool page_has(const char *base, unsigned long i, long salt)
{
	const long *p = (const long *)(base + PAGES(i));
	for (unsigned long k = 0; k < PAGE_SIZE / sizeof(long); k += 64)
		if (p[k] != ((long)(i << 20) ^ salt ^ (long)k))
			return false;
	return true;
}

/** True if page @p i of @p base reads as zeros. */
static inline bool page_zero(const char *base, unsigned long i)
{
	const long *p = (const long *)(base + PAGES(i));
	for (unsigned long k = 0; k < PAGE_SIZE / sizeof(long); k++)
		if (p[k])
			return false;
	return true;
}

/** The maps listing (static buffer, NUL-terminated; "" if the call failed). */
static inline const char *maps_text(void)
{
	static char buf[64 * 1024];
	long n = mmlab_maps(buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* Parse a hex number at *@s, moving past it. */
static inline unsigned long parse_hex(const char **s)
{
	unsigned long v = 0;
	for (;; (*s)++) {
		char c = **s;
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		if (d < 0)
			return v;
		v = v << 4 | (unsigned long)d;
	}
}

/** One line of the maps listing: [start, end) and the perms column ("rw-p"). */
struct map_line {
	unsigned long start, end;
	char perms[5];
};

/**
 * Walk the listing @p text: fill @p out with the next line and move *@p text
 * past it. @return false at the end.
 */
static inline bool next_map_line(const char **text, struct map_line *out)
{
	const char *s = *text;
	if (!*s)
		return false;
	out->start = parse_hex(&s);
	if (*s == '-')
		s++;
	out->end = parse_hex(&s);
	if (*s == ' ')
		s++;
	for (int i = 0; i < 4; i++)
		out->perms[i] = *s ? *s++ : '?';
	out->perms[4] = '\0';
	while (*s && *s != '\n')
		s++;
	if (*s)
		s++;
	*text = s;
	return true;
}

/** Areas of the listing that overlap [@p lo, @p hi). */
static inline int areas_in(unsigned long lo, unsigned long hi)
{
	const char *t = maps_text();
	struct map_line m;
	int n = 0;
	while (next_map_line(&t, &m))
		n += m.start < hi && m.end > lo;
	return n;
}

/** All the areas of the listing. */
static inline int areas_total(void) { return areas_in(0, ~0UL); }

/** The perms column of the area holding @p addr ("rw-p"), or "none" if no area does (static buffer). */
static inline const char *perms_at(const void *addr)
{
	static char perms[5];
	const char *t = maps_text();
	struct map_line m;
	unsigned long a = (unsigned long)addr;
	while (next_map_line(&t, &m))
		if (m.start <= a && a < m.end) {
			memcpy(perms, m.perms, sizeof(perms));
			return perms;
		}
	return "none";
}

/** True if one area of the listing is exactly [@p lo, @p hi). */
static inline bool area_is(unsigned long lo, unsigned long hi)
{
	const char *t = maps_text();
	struct map_line m;
	while (next_map_line(&t, &m))
		if (m.start == lo && m.end == hi)
			return true;
	return false;
}

/** What probe() does to the address. */
enum probe_op { PROBE_READ, PROBE_WRITE };

/* The child's half of probe(): one access, then exit 0 (a fault kills it first). */
static inline void probe_child(void *arg)
{
	volatile long *p = (volatile long *)((uintptr_t *)arg)[0];
	if (((uintptr_t *)arg)[1] == PROBE_WRITE)
		*p = 0x5a5a;
	else
		(void)*p;
	_exit(0);
}

/**
 * Touch @p addr (a read or a write of a long) in a forked child.
 * @return 1 if the access faulted (SIGSEGV), 0 if it went through, -1 if
 *         the child ended any other way.
 */
static inline int probe(const void *addr, enum probe_op op)
{
	uintptr_t arg[2] = {(uintptr_t)addr, (uintptr_t)op};
	int st = ktap_fork_wait(probe_child, arg);
	if (st == -1)
		return -1;
	if (WIFSIGNALED(st))
		return WTERMSIG(st) == SIGSEGV ? 1 : -1;
	return WEXITSTATUS(st) == 0 ? 0 : -1;
}

/** Expect a read of @p a to fault (or not: @p faults 0). */
#define EXPECT_READ_FAULTS(a, faults) EXPECT_EQ(probe((a), PROBE_READ), (faults))
/** Expect a write to @p a to fault (or not: @p faults 0). */
#define EXPECT_WRITE_FAULTS(a, faults) EXPECT_EQ(probe((a), PROBE_WRITE), (faults))

/**
 * A cross-hart test's child could not start: report no harts on @p report
 * (the parent reads one line from every child, so it must not wait) and
 * exit 5.
 */
static inline void child_gives_up(int report)
{
	long line[2] = {-1, -1};
	write(report, line, sizeof(line));
	_exit(5);
}

#endif
