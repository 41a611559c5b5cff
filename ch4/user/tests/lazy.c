/*
 * ch4.user.lazy: memory is lazy. Growing the heap maps nothing; the first
 * touch of a page maps it: a read of an untouched page maps the shared zero
 * page (read-only, copy-on-write, no frame of its own), a write a private
 * zeroed frame. So frames used follow the pages touched, not the size of
 * the area, and a 1 GiB heap fits in a 64 MiB machine. .bss and the stack
 * are lazy the same way, and a user copy (a pipe's read()) faults its
 * buffer in as a store would.
 *
 * Frame accounting: mmlab_free_frames() is exact (the runner's count, with
 * the kernel's caches drained). Touching pages costs one frame each plus
 * the page tables they need: at most one level-0 table per 2 MiB region
 * touched and one level-1 table per 1 GiB region (the root exists), fewer
 * if a table was there already. Unmapping frees the tables left empty, so
 * moving the break back gives every frame back.
 *
 * The tests that only hold lazily SKIP in the `eager` config.
 */
#include "utest.h"

KTAP_SUITE("ch4.user.lazy");

#define MIB	 (1024UL * 1024)
#define L0_SPAN	 (2 * MIB)    /* what one level-0 table maps */
#define L1_SPAN	 (1024 * MIB) /* what one level-1 table maps */
#define PAGE_MSK (PAGE_SIZE - 1)

/* The bits of mmlab_page_info() without the reference count. */
#define INFO_BITS(i) ((i) & ~0xffffffffL)
#define ZERO_INFO    (MMLAB_PAGE_PRESENT | MMLAB_PAGE_COW | MMLAB_PAGE_ZERO)
#define PRIVATE_INFO (MMLAB_PAGE_PRESENT | MMLAB_PAGE_WRITABLE)

#define SKIP_IF_EAGER()                                                                                      \
	do {                                                                                                 \
		if (mmlab_eager())                                                                           \
			SKIP("eager: every page is mapped when its area is made");                           \
	} while (0)

static unsigned long align_up(unsigned long x, unsigned long a) { return (x + a - 1) & ~(a - 1); }

/*
 * Move the break to the next multiple of @align (no page of it touched
 * yet), then @bytes further; return that start, or 0. *@old gets the break
 * to go back to.
 */
static unsigned long fresh_heap(unsigned long bytes, unsigned long align, unsigned long *old)
{
	*old = (unsigned long)sys_brk(NULL);
	unsigned long start = align_up(*old, align), end = start + bytes;
	if ((unsigned long)sys_brk((void *)end) != end) {
		sys_brk((void *)*old);
		return 0;
	}
	return start;
}

/* Upper bound on the page tables that touching @n pages at @va[] can add. */
static long tables_bound(const unsigned long *va, long n)
{
	long t = 0;
	for (long i = 0; i < n; i++) {
		bool new_l0 = true, new_l1 = true;
		for (long j = 0; j < i; j++) {
			new_l0 &= va[j] / L0_SPAN != va[i] / L0_SPAN;
			new_l1 &= va[j] / L1_SPAN != va[i] / L1_SPAN;
		}
		t += new_l0 + new_l1;
	}
	return t;
}

/* Pages touched by the sparse tests: at most this many. */
enum { MAX_TOUCH = 1024 };
static unsigned long touched[MAX_TOUCH];

/* Write one byte into each of @n pages @stride bytes apart from @start; check frames and unmapped gaps. */
static void touch_sparse(unsigned long start, long n, unsigned long stride, long free_before)
{
	for (long i = 0; i < n; i++) {
		touched[i] = start + i * stride;
		*(volatile char *)touched[i] = (char)(i + 1);
	}
	long used = free_before - mmlab_free_frames();
	long tables = tables_bound(touched, n);
	printf("# %ld pages touched over %lu MiB: %ld frames used (tables at most %ld)\n", n,
	       n * stride / MIB, used, tables);
	EXPECT_GE(used, n);	     /* one frame per page touched */
	EXPECT_LE(used, n + tables); /* and the tables they need, nothing for the rest of the area */
	long bad = 0, gaps_mapped = 0;
	for (long i = 0; i < n; i++) {
		bad += *(volatile char *)touched[i] != (char)(i + 1);
		bad += INFO_BITS(mmlab_page_info((void *)touched[i])) != PRIVATE_INFO;
		gaps_mapped += mmlab_page_info((void *)(touched[i] + stride / 2)) != 0;
	}
	EXPECT_EQ(bad, 0);
	EXPECT_EQ(gaps_mapped, 0); /* the pages between were never touched: not mapped */
}

TEST(sparse_touch_costs_frames_per_page_touched)
{
	SKIP_IF_EAGER();
	const unsigned long area = 64 * MIB, stride = 16 * PAGE_SIZE;
	memset(touched, 0, sizeof(touched)); /* its own .bss pages are lazy too: in now, not counted */
	long free_before = mmlab_free_frames();
	unsigned long old;
	unsigned long start = fresh_heap(area, PAGE_SIZE, &old);
	ASSERT_NE(start, 0);
	EXPECT_EQ(mmlab_free_frames(), free_before); /* growing the heap maps nothing */
	touch_sparse(start, (long)(area / stride), stride, free_before);
	ASSERT_EQ(sys_brk((void *)old), (long)old);
	EXPECT_EQ(mmlab_free_frames(), free_before); /* pages and tables all back */
}

TEST(a_gigabyte_heap_costs_only_its_touched_pages)
{
	SKIP_IF_EAGER();
	const unsigned long area = 1024 * MIB;
	const long n = 100;
	memset(touched, 0, sizeof(touched));
	long free_before = mmlab_free_frames();
	printf("# %ld frames free, a %lu MiB heap\n", free_before, area / MIB);
	unsigned long old;
	unsigned long start = fresh_heap(area, PAGE_SIZE, &old);
	ASSERT_NE(start, 0);
	EXPECT_EQ(mmlab_free_frames(), free_before);
	touch_sparse(start, n, (area / n) & ~PAGE_MSK, free_before);
	ASSERT_EQ(sys_brk((void *)old), (long)old);
	EXPECT_EQ(mmlab_free_frames(), free_before);
}

TEST(reading_untouched_pages_maps_the_zero_page)
{
	SKIP_IF_EAGER();
	enum { PAGES = 64 };
	unsigned long old;
	/* In one 2 MiB region: one level-0 table for all, made by the anchor's write. */
	unsigned long start = fresh_heap(PAGES * PAGE_SIZE, L0_SPAN, &old);
	ASSERT_NE(start, 0);
	volatile long *anchor = (long *)(start + (PAGES - 1) * PAGE_SIZE);
	EXPECT_EQ(mmlab_page_info((void *)anchor), 0);
	*anchor = 1;
	long free_before = mmlab_free_frames();
	long nonzero = 0, bad_info = 0;
	for (int i = 0; i < PAGES - 1; i++) {
		volatile long *p = (long *)(start + i * PAGE_SIZE);
		EXPECT_EQ(mmlab_page_info((void *)p), 0); /* untouched */
		nonzero += p[i] != 0;
		long info = mmlab_page_info((void *)p);
		bad_info += info != ZERO_INFO; /* read-only, COW, the zero page, no references */
		if (i == 0) {
			EXPECT_EQ(INFO_BITS(info), ZERO_INFO);
			EXPECT_EQ(MMLAB_PAGE_REFS(info), 0);
			EXPECT_FALSE(info & MMLAB_PAGE_WRITABLE);
		}
	}
	EXPECT_EQ(nonzero, 0);
	EXPECT_EQ(bad_info, 0);
	EXPECT_EQ(mmlab_free_frames(), free_before); /* 63 pages read: not one frame */
	ASSERT_EQ(sys_brk((void *)old), (long)old);
}

TEST(writing_a_zero_page_gives_it_a_private_frame)
{
	SKIP_IF_EAGER();
	enum { PAGES = 8 };
	unsigned long old;
	unsigned long start = fresh_heap(PAGES * PAGE_SIZE, L0_SPAN, &old);
	ASSERT_NE(start, 0);
	long free_start = mmlab_free_frames();
	long sum = 0;
	for (int i = 0; i < PAGES; i++)
		sum += *(volatile long *)(start + i * PAGE_SIZE + 8 * i);
	EXPECT_EQ(sum, 0);
	long free_before = mmlab_free_frames();
	EXPECT_LE(free_start - free_before, 2); /* the reads made tables at most */
	volatile long *p = (long *)(start + 3 * PAGE_SIZE);
	ASSERT_EQ(mmlab_page_info((void *)p), ZERO_INFO);
	p[5] = 0x1234;
	long info = mmlab_page_info((void *)p);
	EXPECT_EQ(INFO_BITS(info), PRIVATE_INFO); /* writable, not COW, not the zero page */
	EXPECT_EQ(MMLAB_PAGE_REFS(info), 1);
	EXPECT_EQ(mmlab_free_frames(), free_before - 1); /* exactly one new frame */
	EXPECT_EQ(p[5], 0x1234);
	long others = 0, bad_info = 0;
	for (int i = 0; i < PAGES; i++) {
		if (i == 3)
			continue;
		volatile long *q = (long *)(start + i * PAGE_SIZE);
		for (int w = 0; w < 8; w++)
			others += q[w * 64] != 0;
		bad_info += mmlab_page_info((void *)q) != ZERO_INFO;
	}
	EXPECT_EQ(others, 0); /* the zero page is still zero */
	EXPECT_EQ(bad_info, 0);
	ASSERT_EQ(sys_brk((void *)old), (long)old);
	EXPECT_EQ(mmlab_free_frames(), free_start);
}

enum { BSS_PAGES = 64 };
static char big_bss[BSS_PAGES * PAGE_SIZE];

TEST(bss_pages_are_mapped_on_first_touch)
{
	SKIP_IF_EAGER();
	/* Pages well inside the array: no .data shares them. */
	char *a = big_bss + 10 * PAGE_SIZE, *b = big_bss + 40 * PAGE_SIZE;
	a = (char *)((unsigned long)a & ~PAGE_MSK);
	b = (char *)((unsigned long)b & ~PAGE_MSK);
	EXPECT_EQ(mmlab_page_info(a), 0);
	EXPECT_EQ(mmlab_page_info(b), 0);
	EXPECT_EQ(((volatile char *)a)[100], 0);
	EXPECT_EQ(mmlab_page_info(a), ZERO_INFO); /* past the file's data: the zero page */
	EXPECT_EQ(mmlab_page_info(b), 0);	  /* its neighbour still untouched */
	((volatile char *)b)[7] = 'b';
	long info = mmlab_page_info(b);
	EXPECT_EQ(INFO_BITS(info), PRIVATE_INFO);
	EXPECT_EQ(MMLAB_PAGE_REFS(info), 1);
	EXPECT_EQ(b[7], 'b');
	EXPECT_EQ(b[8], 0);
	long nonzero = 0;
	for (unsigned long i = 0; i < sizeof(big_bss); i += 512)
		nonzero += ((volatile char *)big_bss)[i] != 0;
	EXPECT_EQ(nonzero, 0);
}

/* The start of this process's [stack] area, from its maps listing; 0 if not found. */
static unsigned long stack_area_start(void)
{
	static char maps[4096];
	long n = mmlab_maps(maps, sizeof(maps) - 1);
	if (n <= 0)
		return 0;
	maps[n] = '\0';
	char *s = strstr(maps, "[stack]");
	if (!s)
		return 0;
	while (s > maps && s[-1] != '\n')
		s--;
	return (unsigned long)strtol(s, NULL, 16);
}

/* Write the lowest byte of a 192 KiB frame; report the states of its lowest page and of one halfway up. */
static __attribute__((noinline)) void deep_stack(long info[2], unsigned long *low)
{
	volatile char big[192 * 1024];
	big[0] = 1;
	*low = (unsigned long)&big[0];
	info[0] = mmlab_page_info((void *)&big[0]);
	info[1] = mmlab_page_info((void *)&big[96 * 1024]);
}

TEST(stack_pages_are_mapped_on_first_touch)
{
	SKIP_IF_EAGER();
	unsigned long bottom = stack_area_start();
	ASSERT_NE(bottom, 0);
	unsigned long sp = (unsigned long)&bottom;
	printf("# stack area from 0x%lx, sp near 0x%lx\n", bottom, sp);
	EXPECT_EQ(mmlab_page_info((void *)bottom), 0); /* the deepest page: never touched */
	long info[2];
	unsigned long low;
	deep_stack(info, &low);
	EXPECT_GE(low, bottom);
	EXPECT_EQ(INFO_BITS(info[0]), PRIVATE_INFO); /* written: a private frame */
	EXPECT_EQ(MMLAB_PAGE_REFS(info[0]), 1);
	EXPECT_EQ(info[1], 0); /* skipped over: still unmapped */
}

/* Read @len bytes from a pipe into @dst after writing a pattern; check them. */
static void pipe_into(char *dst, long len)
{
	static char src[PIPE_BUF];
	int fds[2];
	ASSERT_EQ(pipe(fds), 0);
	for (long i = 0; i < len; i++)
		src[i] = (char)('a' + i % 26);
	EXPECT_EQ(write(fds[1], src, len), len);
	EXPECT_EQ(read(fds[0], dst, len), len); /* copy_to_user faults the pages in */
	EXPECT_EQ(memcmp(dst, src, len), 0);
	close(fds[0]);
	close(fds[1]);
}

TEST(pipe_read_into_untouched_pages)
{
	unsigned long old;
	unsigned long start = fresh_heap(2 * PAGE_SIZE, PAGE_SIZE, &old);
	ASSERT_NE(start, 0);
	bool lazy = !mmlab_eager();
	if (lazy) {
		EXPECT_EQ(mmlab_page_info((void *)start), 0);
		EXPECT_EQ(mmlab_page_info((void *)(start + PAGE_SIZE)), 0);
	}
	char *buf = (char *)(start + PAGE_SIZE - 100); /* straddles the two pages */
	pipe_into(buf, 300);
	for (int i = 0; i < 2; i++) {
		long info = mmlab_page_info((void *)(start + i * PAGE_SIZE));
		EXPECT_EQ(INFO_BITS(info), PRIVATE_INFO);
		EXPECT_EQ(MMLAB_PAGE_REFS(info), 1);
	}
	EXPECT_EQ(((char *)start)[0], 0);
	ASSERT_EQ(sys_brk((void *)old), (long)old);
}

TEST(pipe_read_into_a_zero_page)
{
	unsigned long old;
	unsigned long start = fresh_heap(PAGE_SIZE, PAGE_SIZE, &old);
	ASSERT_NE(start, 0);
	volatile char *p = (char *)start;
	EXPECT_EQ(p[2000], 0);
	if (!mmlab_eager())
		EXPECT_EQ(mmlab_page_info((void *)p), ZERO_INFO);
	pipe_into((char *)start + 1000, 2000); /* a store through the kernel: the zero page is replaced */
	long info = mmlab_page_info((void *)p);
	EXPECT_EQ(INFO_BITS(info), PRIVATE_INFO);
	EXPECT_EQ(MMLAB_PAGE_REFS(info), 1);
	EXPECT_EQ(p[999], 0);
	EXPECT_EQ(p[3000], 0);
	ASSERT_EQ(sys_brk((void *)old), (long)old);
}
