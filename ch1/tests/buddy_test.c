/* ch1.buddy: allocating and freeing blocks of 2^order frames; split and merge. */
#include "ch1_test.h"

KTEST(ch1_buddy, order0_roundtrip)
{
	CH1_REQUIRE_FRAMES();
	uint64_t free = frames_nr_free();
	paddr_t pa = frame_alloc(0);
	KASSERT_NE(pa, 0);
	KEXPECT_TRUE(IS_ALIGNED(pa, PAGE_SIZE));
	KEXPECT_TRUE(memmap_is_ram(pa, PAGE_SIZE));
	KEXPECT_EQ(frames_nr_free(), free - 1);
	KEXPECT_FALSE(frames_is_free(pa));
	*(volatile uint64_t *)pa_to_kva(pa) = 0x1234; /* it is ours to write */
	KEXPECT_EQ(frame_free(pa), 0);
	KEXPECT_EQ(frames_nr_free(), free);
	KEXPECT_TRUE(frames_is_free(pa));
}

KTEST(ch1_buddy, page_info_states)
{
	CH1_REQUIRE_FRAMES();
	paddr_t pa = frames_alloc_order(3, 0);
	KASSERT_NE(pa, 0);
	struct page_info *pg = pa_to_page(pa);
	KASSERT_NOT_NULL(pg);
	KEXPECT_EQ(pg->state, PAGE_ALLOC_HEAD);
	KEXPECT_EQ(pg->order, 3);
	KEXPECT_EQ(pg->refcount, 1);
	KEXPECT_EQ(pg->flags & (PAGE_RUN_PREV | PAGE_RUN_NEXT), 0);
	for (int i = 1; i < 8; i++)
		KEXPECT_EQ(pg[i].state, PAGE_TAIL);
	KEXPECT_EQ(page_to_pa(pg), pa);
	KEXPECT_EQ(frames_free_order(pa, 3), 0);
	KEXPECT_TRUE(pg->state == PAGE_FREE_HEAD || pg->state == PAGE_TAIL); /* TAIL once merged */
	KEXPECT_TRUE(range_free(pa, 8));
}

KTEST(ch1_buddy, alignment_every_order)
{
	CH1_REQUIRE_FRAMES();
	uint64_t free = frames_nr_free();
	for (unsigned o = 0; o <= MAX_ORDER; o++) {
		paddr_t pa = frames_alloc_order(o, 0);
		KEXPECT_NE(pa, 0);
		if (!pa)
			continue;
		KEXPECT_TRUE(IS_ALIGNED(pa, PAGE_SIZE << o));
		KEXPECT_EQ(frames_nr_free(), free - (1UL << o));
		KEXPECT_EQ(pa_to_page(pa)->order, o);
		KEXPECT_EQ(frames_free_order(pa, o), 0);
		KEXPECT_EQ(frames_nr_free(), free);
	}
	KEXPECT_EQ(frames_alloc_order(MAX_ORDER + 1, 0), 0);
}

/*
 * With every frame allocated but one max-order block, one frame splits that
 * block into exactly one free block of every lower order, and freeing the
 * frame merges them all back.
 */
static void split_one_block(void)
{
	struct held *h = held_begin();
	drain_all(h);
	KASSERT_EQ(frames_nr_free(), 0);
	/* Give back one block of the largest order (they were taken first: the bottom of the stack). */
	held_reverse(h);
	unsigned order;
	paddr_t block = held_pop(h, &order);
	held_reverse(h);
	if (!block || order != MAX_ORDER) {
		if (block)
			held_push(h, block, order);
		held_release(h);
		KTEST_SKIP("no free block of MAX_ORDER");
	}
	KEXPECT_EQ(frames_free_order(block, MAX_ORDER), 0);
	struct frame_stats st;
	ch1_stats(&st);
	KEXPECT_EQ(st.free_blocks[MAX_ORDER], 1);

	paddr_t pa = frame_alloc(FRAME_EMERGENCY);
	KEXPECT_EQ(pa, block); /* the lower half is kept at every split */
	ch1_stats(&st);
	for (unsigned o = 0; o < MAX_ORDER; o++)
		KEXPECT_EQ(st.free_blocks[o], 1);
	KEXPECT_EQ(st.free_blocks[MAX_ORDER], 0);
	/* The buddy of each order is the free block at pa + 2^o frames. */
	for (unsigned o = 0; o < MAX_ORDER; o++) {
		const struct page_info *pg = pa_to_page(block + (PAGE_SIZE << o));
		KEXPECT_EQ(pg->state, PAGE_FREE_HEAD);
		KEXPECT_EQ(pg->order, o);
	}
	/* Three more frames come from the smallest blocks: pa+1, then pa+2 and pa+3 (a split order 1). */
	paddr_t f1 = frame_alloc(FRAME_EMERGENCY), f2 = frame_alloc(FRAME_EMERGENCY),
		f3 = frame_alloc(FRAME_EMERGENCY);
	KEXPECT_EQ(f1, block + PAGE_SIZE);
	KEXPECT_EQ(f2, block + 2 * PAGE_SIZE);
	KEXPECT_EQ(f3, block + 3 * PAGE_SIZE);
	/* Merge in a scrambled order: 1, 3, 0, 2. */
	KEXPECT_EQ(frame_free(f1), 0);
	KEXPECT_EQ(frame_free(f3), 0);
	KEXPECT_EQ(frame_free(pa), 0);
	KEXPECT_EQ(frame_free(f2), 0);
	ch1_stats(&st);
	KEXPECT_EQ(st.free_blocks[MAX_ORDER], 1);
	for (unsigned o = 0; o < MAX_ORDER; o++)
		KEXPECT_EQ(st.free_blocks[o], 0);
	KEXPECT_EQ(pa_to_page(block)->state, PAGE_FREE_HEAD);
	KEXPECT_EQ(pa_to_page(block)->order, MAX_ORDER);
	KEXPECT_EQ(held_release(h), 0);
}

KTEST(ch1_buddy, split_and_merge_one_block)
{
	CH1_REQUIRE_FRAMES();
	struct ch1_env env;
	ch1_env_save(&env);
	struct buddy_digest before, after;
	frames_digest(&before);
	split_one_block();
	frames_digest(&after);
	KEXPECT_DIGEST_EQ(before, after);
	ch1_env_restore(&env);
}

/* Allocate everything, free it all in the order given: the free lists are as before. */
static void drain_and_restore(bool same_order)
{
	struct buddy_digest before, after;
	struct held *h = held_begin();
	drain_everything(h, &before);
	struct frame_stats st;
	ch1_stats(&st);
	for (unsigned o = 0; o <= MAX_ORDER; o++)
		KEXPECT_EQ(st.free_blocks[o], 0);
	KEXPECT_EQ(frame_alloc(FRAME_EMERGENCY), 0);
	if (same_order)
		held_reverse(h);
	KEXPECT_EQ(held_release(h), 0);
	frames_digest(&after);
	KEXPECT_DIGEST_EQ(before, after);
	KEXPECT_NULL(frames_check());
}

KTEST(ch1_buddy, allocate_all_free_all_restores_lists)
{
	CH1_REQUIRE_FRAMES();
	struct ch1_env env;
	ch1_env_save(&env);
	drain_and_restore(false); /* freed last-taken first */
	drain_and_restore(true);  /* freed first-taken first */
	ch1_env_restore(&env);
}

KTEST(ch1_buddy, exhaustion_and_recovery)
{
	CH1_REQUIRE_FRAMES();
	struct ch1_env env;
	ch1_env_save(&env);
	struct frame_stats before, st;
	ch1_stats(&before);
	struct held *h = held_begin();
	KEXPECT_EQ(drain_all(h), before.free);
	/* Out of memory: every way of asking fails, and only failed_allocs moves. */
	ch1_stats(&st);
	KEXPECT_EQ(frame_alloc(FRAME_EMERGENCY), 0);
	KEXPECT_EQ(frame_alloc(0), 0);
	KEXPECT_EQ(frames_alloc(2, FRAME_EMERGENCY), 0);
	KEXPECT_EQ(frames_alloc_order(MAX_ORDER, FRAME_EMERGENCY), 0);
	struct frame_stats st2;
	ch1_stats(&st2);
	KEXPECT_STATS_SAME(st, st2, 0, 4);
	KEXPECT_EQ(frames_pressure(), PRESSURE_CRITICAL);
	KEXPECT_EQ(held_release(h), 0);
	ch1_stats(&st);
	KEXPECT_EQ(st.free, before.free);
	KEXPECT_EQ(st.used, before.used);
	for (unsigned o = 0; o <= MAX_ORDER; o++)
		KEXPECT_EQ(st.free_blocks[o], before.free_blocks[o]);
	KEXPECT_EQ(frames_pressure(), PRESSURE_NONE);
	ch1_env_restore(&env);
}

KTEST(ch1_buddy, zeroed_frames)
{
	CH1_REQUIRE_FRAMES();
	paddr_t pa = frames_alloc_order(2, 0);
	KASSERT_NE(pa, 0);
	memset(pa_to_kva(pa), 0xa5, 4 * PAGE_SIZE);
	KEXPECT_EQ(frames_free_order(pa, 2), 0);
	/* Most likely the same block again (free lists are LIFO); zeroed either way. */
	paddr_t z = frames_alloc_order(2, FRAME_ZERO);
	KASSERT_NE(z, 0);
	const uint64_t *w = pa_to_kva(z);
	uint64_t nonzero = 0;
	for (size_t i = 0; i < 4 * PAGE_SIZE / 8; i++)
		nonzero += w[i] != 0;
	KEXPECT_EQ(nonzero, 0);
	KEXPECT_EQ(frames_free_order(z, 2), 0);
	paddr_t one = frame_alloc(FRAME_ZERO);
	KASSERT_NE(one, 0);
	KEXPECT_EQ(((uint64_t *)pa_to_kva(one))[PAGE_SIZE / 8 - 1], 0);
	KEXPECT_EQ(frame_free(one), 0);
}

/* A fixed pseudo-random mix of orders, allocated and freed out of order. */
KTEST(ch1_buddy, mixed_workload_keeps_invariants)
{
	CH1_REQUIRE_FRAMES();
	struct buddy_digest before, after;
	frames_digest(&before);
	KEXPECT_NULL(frames_check());
	enum { SLOTS = 64 };
	paddr_t slot_pa[SLOTS] = {0};
	unsigned slot_order[SLOTS] = {0};
	uint64_t rng = 42, fails = 0;
	for (int step = 0; step < 3000; step++) {
		int s = (int)(lcg_next(&rng) % SLOTS);
		if (slot_pa[s]) {
			fails += frames_free_order(slot_pa[s], slot_order[s]) != 0;
			slot_pa[s] = 0;
		} else {
			unsigned r = (unsigned)(lcg_next(&rng) % 16);
			unsigned o = r < 8    ? 0
				     : r < 14 ? r - 7
					      : (unsigned)(lcg_next(&rng) % (MAX_ORDER + 1));
			slot_pa[s] = frames_alloc_order(o, 0);
			slot_order[s] = o;
			fails += slot_pa[s] == 0 || !IS_ALIGNED(slot_pa[s], PAGE_SIZE << o);
		}
		if (step % 1000 == 999)
			KEXPECT_NULL(frames_check());
	}
	for (int s = 0; s < SLOTS; s++)
		if (slot_pa[s])
			fails += frames_free_order(slot_pa[s], slot_order[s]) != 0;
	KEXPECT_EQ(fails, 0);
	KEXPECT_NULL(frames_check());
	frames_digest(&after);
	KEXPECT_DIGEST_EQ(before, after);
}

KTEST(ch1_buddy, stats_consistent)
{
	CH1_REQUIRE_FRAMES();
	struct frame_stats a, b;
	ch1_stats(&a);
	paddr_t pa = frames_alloc_order(5, 0);
	KASSERT_NE(pa, 0);
	ch1_stats(&b);
	KEXPECT_EQ(b.free, a.free - 32);
	KEXPECT_EQ(b.used, a.used + 32);
	KEXPECT_EQ(b.total, a.total);
	KEXPECT_EQ(b.free + b.used, b.total);
	uint64_t listed = 0;
	for (unsigned o = 0; o <= MAX_ORDER; o++)
		listed += b.free_blocks[o] << o;
	KEXPECT_EQ(listed, b.free);
	KEXPECT_EQ(frames_free_order(pa, 5), 0);
	ch1_stats(&b);
	KEXPECT_STATS_SAME(a, b, 0, 0);
}

/*
 * A buddy of its own over frames whose first one is not aligned to anything
 * (QEMU's RAM always starts 4 MiB aligned, so only a made-up range shows
 * this): a block of every order still comes aligned to its own size, and
 * everything merges back. Three sections of a private page_info array.
 */
static struct page_info unaligned_pages[3][SECTION_FRAMES];

KTEST(ch1_buddy, aligned_blocks_over_an_unaligned_range)
{
	struct page_info *sections[3] = {unaligned_pages[0], unaligned_pages[1], unaligned_pages[2]};
	const pfn_t lo = 4 * SECTION_FRAMES + 600, hi = 7 * SECTION_FRAMES - 3; /* 3 sections' span */
	struct buddy b;
	KASSERT_EQ(buddy_nr_sections(lo, hi), 3);
	buddy_init(&b, sections, lo, hi);
	KASSERT_EQ(buddy_add_range(&b, lo, hi), hi - lo);
	KEXPECT_NULL(buddy_check(&b));
	struct buddy_digest before, after;
	buddy_digest(&b, &before);
	pfn_t got[MAX_ORDER + 1];
	for (unsigned o = 0; o <= MAX_ORDER; o++) {
		got[o] = buddy_alloc(&b, o);
		KEXPECT_NE(got[o], BUDDY_NO_PFN);
		KEXPECT_TRUE(IS_ALIGNED(got[o], 1UL << o));
		KEXPECT_TRUE(got[o] >= lo && got[o] + (1UL << o) <= hi);
	}
	KEXPECT_NULL(buddy_check(&b));
	const char *why;
	for (unsigned o = 0; o <= MAX_ORDER; o++)
		if (got[o] != BUDDY_NO_PFN)
			KEXPECT_EQ(buddy_free(&b, got[o], o, &why), 0);
	buddy_digest(&b, &after);
	KEXPECT_DIGEST_EQ(before, after);
}
