/* ch1.contig: n contiguous frames for any n, and by bytes. */
#include "ch1_test.h"

static const size_t sizes[] = {1, 3, 5, 1023, 1025, 3000};

/* Check n frames at pa: all taken, each ours to write; then stamp each frame. */
static bool check_and_stamp(paddr_t pa, size_t n, uint64_t stamp)
{
	if (!pa || !IS_ALIGNED(pa, PAGE_SIZE) || !memmap_is_ram(pa, n * PAGE_SIZE) || !range_taken(pa, n))
		return false;
	for (size_t i = 0; i < n; i++)
		*(uint64_t *)pa_to_kva(pa + i * PAGE_SIZE) = stamp + i;
	return true;
}

/* True if every frame still carries its stamp. */
static bool stamps_intact(paddr_t pa, size_t n, uint64_t stamp)
{
	for (size_t i = 0; i < n; i++)
		if (*(uint64_t *)pa_to_kva(pa + i * PAGE_SIZE) != stamp + i)
			return false;
	return true;
}

KTEST(ch1_contig, alloc_n_frames)
{
	CH1_REQUIRE_FRAMES();
	struct buddy_digest before, after;
	frames_digest(&before);
	for (size_t k = 0; k < ARRAY_SIZE(sizes); k++) {
		size_t n = sizes[k];
		uint64_t free = frames_nr_free();
		paddr_t pa = frames_alloc(n, 0);
		KEXPECT_NE(pa, 0);
		if (!pa)
			continue;
		KEXPECT_TRUE(check_and_stamp(pa, n, n << 32));
		KEXPECT_EQ(frames_nr_free(), free - n); /* exactly n: the rest went back */
		KEXPECT_EQ(frames_free(pa, n), 0);
		KEXPECT_EQ(frames_nr_free(), free);
		KEXPECT_TRUE(range_free(pa, n));
	}
	frames_digest(&after);
	KEXPECT_DIGEST_EQ(before, after);
}

KTEST(ch1_contig, small_n_gives_back_the_tail)
{
	CH1_REQUIRE_FRAMES();
	/* n <= 2^MAX_ORDER comes from the block of the covering order, aligned to it. */
	size_t ns[] = {3, 5, 1023};
	unsigned orders[] = {2, 3, 10};
	for (size_t k = 0; k < ARRAY_SIZE(ns); k++) {
		paddr_t pa = frames_alloc(ns[k], 0);
		KEXPECT_NE(pa, 0);
		if (!pa)
			continue;
		KEXPECT_TRUE(IS_ALIGNED(pa, PAGE_SIZE << orders[k]));
		KEXPECT_TRUE(range_taken(pa, ns[k]));
		KEXPECT_TRUE(range_free(pa + ns[k] * PAGE_SIZE, (1UL << orders[k]) - ns[k]));
		/* The run is the blocks n decomposes into: 3 = a block of 2, then 1. */
		const struct page_info *pg = pa_to_page(pa);
		KEXPECT_EQ(pg->state, PAGE_ALLOC_HEAD);
		KEXPECT_EQ(pg->order, orders[k] - 1);
		KEXPECT_EQ(frames_free(pa, ns[k]), 0);
	}
}

KTEST(ch1_contig, runs_do_not_overlap)
{
	CH1_REQUIRE_FRAMES();
	struct buddy_digest before, after;
	frames_digest(&before);
	paddr_t pa[ARRAY_SIZE(sizes)];
	for (size_t k = 0; k < ARRAY_SIZE(sizes); k++) {
		pa[k] = frames_alloc(sizes[k], 0);
		KEXPECT_TRUE(check_and_stamp(pa[k], sizes[k], (uint64_t)(k + 1) << 40));
	}
	for (size_t a = 0; a < ARRAY_SIZE(sizes); a++)
		for (size_t b = a + 1; b < ARRAY_SIZE(sizes); b++)
			KEXPECT_TRUE(pa[a] + sizes[a] * PAGE_SIZE <= pa[b] ||
				     pa[b] + sizes[b] * PAGE_SIZE <= pa[a]);
	/* Free the middle ones first, then the ends. */
	static const int free_order[] = {2, 3, 0, 5, 1, 4};
	for (size_t i = 0; i < ARRAY_SIZE(free_order); i++) {
		int k = free_order[i];
		if (!pa[k])
			continue;
		KEXPECT_TRUE(stamps_intact(pa[k], sizes[k], (uint64_t)(k + 1) << 40));
		KEXPECT_EQ(frames_free(pa[k], sizes[k]), 0);
	}
	frames_digest(&after);
	KEXPECT_DIGEST_EQ(before, after);
}

/* With no free block of order 2 or more, a run of 4 free frames still serves n = 3 and 4. */
static void fragmented(void)
{
	struct held *h = held_begin();
	drain_all(h);
	unsigned order;
	held_reverse(h);
	paddr_t block = held_pop(h, &order); /* the first, largest block taken */
	held_reverse(h);
	if (!block || order < 3) {
		if (block)
			held_push(h, block, order);
		held_release(h);
		KTEST_SKIP("no block of order 3 or more");
	}
	KEXPECT_EQ(frames_free_order(block, order), 0);
	uint64_t size = 1UL << order;
	/* Keep frames 1..4 of the block free: free blocks of order 0, 1, 0. */
	KEXPECT_EQ(frames_alloc_at(block, 1, FRAME_EMERGENCY), 0);
	KEXPECT_EQ(frames_alloc_at(block + 5 * PAGE_SIZE, size - 5, FRAME_EMERGENCY), 0);
	KEXPECT_EQ(frames_nr_free(), 4);
	paddr_t three = frames_alloc(3, FRAME_EMERGENCY);
	KEXPECT_EQ(three, block + PAGE_SIZE);
	KEXPECT_EQ(frames_nr_free(), 1);
	KEXPECT_EQ(frames_free(three, 3), 0);
	paddr_t four = frames_alloc(4, FRAME_EMERGENCY);
	KEXPECT_EQ(four, block + PAGE_SIZE);
	KEXPECT_EQ(frames_nr_free(), 0);
	KEXPECT_EQ(frames_free(four, 4), 0);
	KEXPECT_EQ(frames_alloc(5, FRAME_EMERGENCY), 0); /* no run of 5 anywhere */
	KEXPECT_EQ(frames_free(block, 1), 0);
	KEXPECT_EQ(frames_free(block + 5 * PAGE_SIZE, size - 5), 0);
	KEXPECT_EQ(held_release(h), 0);
}

KTEST(ch1_contig, run_across_small_blocks)
{
	CH1_REQUIRE_FRAMES();
	struct ch1_env env;
	ch1_env_save(&env);
	struct buddy_digest before, after;
	frames_digest(&before);
	fragmented();
	frames_digest(&after);
	KEXPECT_DIGEST_EQ(before, after);
	ch1_env_restore(&env);
}

KTEST(ch1_contig, alloc_bytes)
{
	CH1_REQUIRE_FRAMES();
	uint64_t free = frames_nr_free();
	static const size_t bytes[] = {1, PAGE_SIZE, PAGE_SIZE + 1, 5 * PAGE_SIZE - 7};
	static const size_t frames[] = {1, 1, 2, 5};
	for (size_t k = 0; k < ARRAY_SIZE(bytes); k++) {
		paddr_t pa = frames_alloc_bytes(bytes[k], 0);
		KEXPECT_NE(pa, 0);
		if (!pa)
			continue;
		KEXPECT_EQ(frames_nr_free(), free - frames[k]);
		KEXPECT_EQ(frames_free_bytes(pa, bytes[k]), 0);
		KEXPECT_EQ(frames_nr_free(), free);
	}
	KEXPECT_EQ(frames_alloc_bytes(0, 0), 0);
}

KTEST(ch1_contig, too_many_frames)
{
	CH1_REQUIRE_FRAMES();
	struct ch1_env env;
	ch1_env_save(&env); /* no shrinker may free frames behind our back */
	struct frame_stats a, b;
	ch1_stats(&a);
	KEXPECT_EQ(frames_alloc(0, 0), 0);
	KEXPECT_EQ(frames_alloc(a.total + 1, FRAME_EMERGENCY), 0);
	KEXPECT_EQ(frames_alloc(a.free + 1, FRAME_EMERGENCY), 0);
	KEXPECT_EQ(frames_alloc((size_t)-1, 0), 0);
	ch1_stats(&b);
	KEXPECT_STATS_SAME(a, b, 0, 4);
	ch1_env_restore(&env);
}

KTEST(ch1_contig, zeroed_run)
{
	CH1_REQUIRE_FRAMES();
	const size_t n = 1025;
	paddr_t pa = frames_alloc(n, 0);
	KASSERT_NE(pa, 0);
	memset(pa_to_kva(pa), 0x5a, n * PAGE_SIZE);
	KEXPECT_EQ(frames_free(pa, n), 0);
	paddr_t z = frames_alloc(n, FRAME_ZERO);
	KASSERT_NE(z, 0);
	const uint64_t *w = pa_to_kva(z);
	uint64_t nonzero = 0;
	for (size_t i = 0; i < n * PAGE_SIZE / 8; i++)
		nonzero += w[i] != 0;
	KEXPECT_EQ(nonzero, 0);
	KEXPECT_EQ(frames_free(z, n), 0);
}
