/*
 * ch1.page: what later chapters keep in a frame's page_info (page.h).
 * References: get_page() and put_page() count, the last put frees the whole
 * block, a shared block is not freed by frame_free(), the count never wraps,
 * and anything that is not the head of an allocated block is refused with
 * nothing changed; from every hart at once, no reference is lost. Flags: set,
 * cleared and tested atomically, ch1's own bits refused. The private word:
 * the owner's, kept while the block is allocated.
 */
#include "ch1_test.h"
#include "page.h"
#include "smp.h"

KTEST(ch1_page, get_and_put_count_references)
{
	CH1_REQUIRE_FRAMES();
	paddr_t pa = frame_alloc(0);
	KASSERT_NE(pa, 0);
	struct page_info *pg = pa_to_page(pa);
	uint64_t free = frames_nr_free();
	KEXPECT_EQ(page_ref_count(pg), 1);
	KEXPECT_EQ(get_page(pg), 0);
	KEXPECT_EQ(page_ref_count(pg), 2);
	KEXPECT_EQ(frame_get(pa), 0);
	KEXPECT_EQ(page_ref_count(pg), 3);
	KEXPECT_EQ(put_page(pg), 0);
	KEXPECT_EQ(frame_put(pa), 0);
	KEXPECT_EQ(page_ref_count(pg), 1);
	/* Puts that leave a reference free nothing. */
	KEXPECT_FALSE(frames_is_free(pa));
	KEXPECT_EQ(frames_nr_free(), free);
	KEXPECT_EQ(pg->state, PAGE_ALLOC_HEAD);
	KEXPECT_EQ(frame_free(pa), 0);
	KEXPECT_EQ(page_ref_count(pg), 0);
}

KTEST(ch1_page, last_put_frees_the_block)
{
	CH1_REQUIRE_FRAMES();
	struct snap before, after;
	take(&before);
	paddr_t pa = frames_alloc_order(3, 0);
	KASSERT_NE(pa, 0);
	struct page_info *pg = pa_to_page(pa);
	KEXPECT_EQ(get_page(pg), 0);
	KEXPECT_EQ(get_page(pg), 0);
	KEXPECT_EQ(put_page(pg), 0);
	KEXPECT_EQ(put_page(pg), 0);
	KEXPECT_TRUE(range_taken(pa, 8));
	KEXPECT_EQ(frames_nr_free(), before.st.free - 8);
	KEXPECT_EQ(put_page(pg), 0); /* the allocation's own reference: the last */
	KEXPECT_TRUE(range_free(pa, 8));
	KEXPECT_EQ(page_ref_count(pg), 0);
	take(&after);
	KEXPECT_STATS_SAME(before.st, after.st, 0, 0);
	KEXPECT_DIGEST_EQ(before.d, after.d);
	KEXPECT_NULL(frames_check());
	/* A power-of-two frames_alloc() is one block: its last put frees it too. */
	pa = frames_alloc(4, 0);
	KASSERT_NE(pa, 0);
	KEXPECT_EQ(frame_get(pa), 0);
	KEXPECT_EQ(frame_put(pa), 0);
	KEXPECT_EQ(frame_put(pa), 0);
	KEXPECT_TRUE(range_free(pa, 4));
	KEXPECT_EQ(frames_nr_free(), before.st.free);
}

KTEST(ch1_page, shared_block_not_freed)
{
	CH1_REQUIRE_FRAMES();
	paddr_t pa = frames_alloc_order(1, 0);
	KASSERT_NE(pa, 0);
	struct page_info *pg = pa_to_page(pa);
	KASSERT_EQ(get_page(pg), 0);
	/* Two holders: no free may take the block from under the other. */
	EXPECT_REFUSED_WITH(frames_free_order(pa, 1), -EBUSY, 1);
	EXPECT_REFUSED_WITH(frames_free(pa, 2), -EBUSY, 1);
	KEXPECT_EQ(page_ref_count(pg), 2);
	KEXPECT_TRUE(range_taken(pa, 2));
	KEXPECT_EQ(put_page(pg), 0);
	KEXPECT_EQ(frames_free_order(pa, 1), 0); /* now the sole holder frees it */
	KEXPECT_TRUE(range_free(pa, 2));
}

KTEST(ch1_page, overflow_refused_at_the_limit)
{
	CH1_REQUIRE_FRAMES();
	paddr_t pa = frame_alloc(0);
	KASSERT_NE(pa, 0);
	struct page_info *pg = pa_to_page(pa);
	/* As if INT32_MAX - 2 holders had taken a reference each. */
	__atomic_store_n(&pg->refcount, INT32_MAX - 1, __ATOMIC_RELAXED);
	KEXPECT_EQ(get_page(pg), 0);
	KEXPECT_EQ(page_ref_count(pg), INT32_MAX);
	EXPECT_REFUSED_WITH(get_page(pg), -EOVERFLOW, 0);
	EXPECT_REFUSED_WITH(frame_get(pa), -EOVERFLOW, 0);
	KEXPECT_EQ(page_ref_count(pg), INT32_MAX); /* refused, not wrapped */
	KEXPECT_EQ(put_page(pg), 0);
	KEXPECT_EQ(page_ref_count(pg), INT32_MAX - 1);
	KEXPECT_FALSE(frames_is_free(pa));
	__atomic_store_n(&pg->refcount, 1, __ATOMIC_RELAXED);
	KEXPECT_EQ(frame_free(pa), 0);
}

KTEST(ch1_page, put_on_a_free_frame_refused)
{
	CH1_REQUIRE_FRAMES();
	paddr_t run = free_run(16);
	KASSERT_NE(run, 0);
	EXPECT_REFUSED_WITH(put_page(pa_to_page(run)), -EINVAL, 1);
	EXPECT_REFUSED_WITH(frame_put(run + 5 * PAGE_SIZE), -EINVAL, 1); /* inside a free block */
	EXPECT_REFUSED_WITH(get_page(pa_to_page(run)), -EINVAL, 0);
	KEXPECT_TRUE(range_free(run, 16));
	/* One put too many: the first freed the frame, the second finds it free. */
	paddr_t pa = frame_alloc(0);
	KASSERT_NE(pa, 0);
	KEXPECT_EQ(frame_put(pa), 0);
	KEXPECT_TRUE(frames_is_free(pa));
	EXPECT_REFUSED_WITH(frame_put(pa), -EINVAL, 1);
	EXPECT_REFUSED_WITH(frame_get(pa), -EINVAL, 0);
}

KTEST(ch1_page, refused_unless_a_block_head)
{
	CH1_REQUIRE_FRAMES();
	paddr_t pa = frames_alloc_order(2, 0);
	KASSERT_NE(pa, 0);
	struct page_info *pg = pa_to_page(pa);
	EXPECT_REFUSED_WITH(get_page(pg + 1), -EINVAL, 0); /* a tail frame */
	EXPECT_REFUSED_WITH(put_page(pg + 3), -EINVAL, 1);
	EXPECT_REFUSED_WITH(frame_get(pa + 1), -EINVAL, 0); /* not page-aligned */
	EXPECT_REFUSED_WITH(frame_put(pa + 8), -EINVAL, 1);
	EXPECT_REFUSED_WITH(frame_put(0), -EINVAL, 1); /* not RAM */
	EXPECT_REFUSED_WITH(get_page(NULL), -EINVAL, 0);
	EXPECT_REFUSED_WITH(put_page((struct page_info *)((char *)pg + 4)), -EINVAL, 1);
	struct page_info fake = {.state = PAGE_ALLOC_HEAD, .refcount = 1};
	EXPECT_REFUSED_WITH(get_page(&fake), -EINVAL, 0); /* not in the array */
	EXPECT_REFUSED_WITH(put_page(&fake), -EINVAL, 1);
	KEXPECT_EQ(fake.refcount, 1);
	KEXPECT_EQ(page_ref_count(pg), 1);
	KEXPECT_EQ(frames_free_order(pa, 2), 0);
	/* Reserved: the kernel image's first frame. */
	struct page_info *kernel = pa_to_page(kva_to_pa(_kernel_start));
	KASSERT_NOT_NULL(kernel);
	EXPECT_REFUSED_WITH(get_page(kernel), -EINVAL, 0);
	EXPECT_REFUSED_WITH(put_page(kernel), -EINVAL, 1);
	/* A block of a multi-block run: references are per whole block only. */
	paddr_t three = frames_alloc(3, 0);
	KASSERT_NE(three, 0);
	EXPECT_REFUSED_WITH(frame_get(three), -EINVAL, 0);
	EXPECT_REFUSED_WITH(frame_get(three + 2 * PAGE_SIZE), -EINVAL, 0);
	EXPECT_REFUSED_WITH(frame_put(three), -EINVAL, 1);
	KEXPECT_EQ(frames_free(three, 3), 0);
}

/* ---- every hart at once ------------------------------------------------------ */

enum { SHARED = 8, ROUNDS = 40000 };

struct ref_run {
	paddr_t pa[SHARED];
	uint64_t errors[MAX_HARTS];
};

/* Every hart takes and drops references to one frame at a time, the same
 * one, 5000 rounds each: the more the harts collide, the likelier a lost
 * update shows. */
static void churn_refs(void *arg, int hart)
{
	struct ref_run *run = arg;
	for (int r = 0; r < ROUNDS; r++) {
		struct page_info *pg = pa_to_page(run->pa[r / (ROUNDS / SHARED)]);
		run->errors[hart] += get_page(pg) != 0;
		run->errors[hart] += get_page(pg) != 0;
		run->errors[hart] += put_page(pg) != 0;
		run->errors[hart] += put_page(pg) != 0;
	}
}

/* Every hart takes one reference to each frame. */
static void get_each(void *arg, int hart)
{
	struct ref_run *run = arg;
	for (int i = 0; i < SHARED; i++)
		run->errors[hart] += frame_get(run->pa[(i + hart) % SHARED]) != 0;
}

/* Every hart drops its reference to each frame: one of them drops the last. */
static void put_each(void *arg, int hart)
{
	struct ref_run *run = arg;
	for (int i = 0; i < SHARED; i++)
		run->errors[hart] += frame_put(run->pa[(SHARED - i + hart) % SHARED]) != 0;
}

static uint64_t errors_of(struct ref_run *run)
{
	uint64_t errors = 0;
	for (int h = 0; h < MAX_HARTS; h++)
		errors += run->errors[h];
	return errors;
}

KTEST(ch1_page, references_from_every_hart)
{
	KTEST_REQUIRE_HARTS(2);
	CH1_REQUIRE_FRAMES();
	static struct ref_run run;
	run = (struct ref_run){0};
	struct snap before, after;
	take(&before);
	for (int i = 0; i < SHARED; i++) {
		run.pa[i] = frame_alloc(0);
		KASSERT_NE(run.pa[i], 0);
	}
	on_each_hart(churn_refs, &run);
	KEXPECT_EQ(errors_of(&run), 0);
	int lost = 0; /* a get or put whose update another hart overwrote */
	for (int i = 0; i < SHARED; i++)
		lost += page_ref_count(pa_to_page(run.pa[i])) != 1;
	KEXPECT_EQ(lost, 0);
	/* Every hart holds a reference; the test drops the allocation's own;
	 * then the harts drop theirs at once, and the last put frees. */
	on_each_hart(get_each, &run);
	for (int i = 0; i < SHARED; i++)
		KEXPECT_EQ(page_ref_count(pa_to_page(run.pa[i])), 1 + harts_online());
	for (int i = 0; i < SHARED; i++)
		KEXPECT_EQ(frame_put(run.pa[i]), 0);
	on_each_hart(put_each, &run);
	KEXPECT_EQ(errors_of(&run), 0);
	int freed = 0;
	for (int i = 0; i < SHARED; i++)
		freed += frames_is_free(run.pa[i]);
	KEXPECT_EQ(freed, SHARED);
	take(&after);
	KEXPECT_STATS_SAME(before.st, after.st, 0, 0);
	KEXPECT_NULL(frames_check());
}

struct flag_run {
	struct page_info *pg;
	uint64_t errors[MAX_HARTS];
};

/* Each hart flips its own bit of one frame's flags and checks it reads back:
 * a non-atomic update by another hart would write an old value of it. */
static void churn_flags(void *arg, int hart)
{
	struct flag_run *run = arg;
	uint16_t bit = (uint16_t)(1u << hart); /* hart < MAX_HARTS = 8: inside PAGE_FLAGS_CH4 */
	for (int r = 0; r < 20000; r++) {
		run->errors[hart] += page_set_flag(run->pg, bit) != 0;
		run->errors[hart] += !page_test_flag(run->pg, bit);
		run->errors[hart] += page_clear_flag(run->pg, bit) != 0;
		run->errors[hart] += page_test_flag(run->pg, bit);
	}
	run->errors[hart] += page_set_flag(run->pg, bit) != 0;
}

KTEST(ch1_page, flags_from_every_hart)
{
	KTEST_REQUIRE_HARTS(2);
	CH1_REQUIRE_FRAMES();
	static struct flag_run run;
	paddr_t pa = frames_alloc_order(1, 0);
	KASSERT_NE(pa, 0);
	run = (struct flag_run){.pg = pa_to_page(pa)};
	on_each_hart(churn_flags, &run);
	uint64_t errors = 0;
	for (int h = 0; h < MAX_HARTS; h++)
		errors += run.errors[h];
	KEXPECT_EQ(errors, 0);
	KEXPECT_EQ(run.pg->flags, harts_online_mask() & PAGE_FLAGS_CH4);
	KEXPECT_EQ(run.pg->state, PAGE_ALLOC_HEAD); /* the word the flags share is intact */
	KEXPECT_EQ(run.pg->order, 1);
	KEXPECT_EQ(frames_free_order(pa, 1), 0);
}

/* ---- flags and the private word ------------------------------------------------ */

KTEST(ch1_page, flags_set_clear_test)
{
	CH1_REQUIRE_FRAMES();
	paddr_t pa = frames_alloc_order(1, 0);
	KASSERT_NE(pa, 0);
	struct page_info *pg = pa_to_page(pa);
	KEXPECT_FALSE(page_test_flag(pg, 0x0001));
	KEXPECT_EQ(page_set_flag(pg, 0x0001), 0);
	KEXPECT_EQ(page_set_flag(pg, 0x0100), 0);
	KEXPECT_TRUE(page_test_flag(pg, 0x0001));
	KEXPECT_TRUE(page_test_flag(pg, 0x0101));
	KEXPECT_EQ(page_clear_flag(pg, 0x0001), 0);
	KEXPECT_FALSE(page_test_flag(pg, 0x0001));
	KEXPECT_FALSE(page_test_flag(pg, 0x0101)); /* every bit asked for */
	KEXPECT_TRUE(page_test_flag(pg, 0x0100));
	KEXPECT_EQ(pg->state, PAGE_ALLOC_HEAD);
	KEXPECT_EQ(pg->order, 1);
	/* Refused, nothing changed: ch1's bits, no bit, a tail, a free frame. */
	KEXPECT_EQ(page_set_flag(pg, PAGE_RUN_NEXT), -EINVAL);
	KEXPECT_EQ(page_clear_flag(pg, PAGE_RUN_PREV | 0x0100), -EINVAL);
	KEXPECT_EQ(page_set_flag(pg, 0), -EINVAL);
	KEXPECT_EQ(page_set_flag(pg + 1, 0x0001), -EINVAL);
	KEXPECT_EQ(pg->flags, 0x0100);
	KEXPECT_FALSE(page_test_flag(pg + 1, 0x0001));
	/* Freed, the flags are forgotten: the same frames again start at 0. */
	KEXPECT_EQ(frames_free_order(pa, 1), 0);
	KEXPECT_EQ(page_set_flag(pg, 0x0001), -EINVAL);
	KEXPECT_FALSE(page_test_flag(pg, 0x0100));
	KASSERT_EQ(frames_alloc_at(pa, 2, 0), 0);
	KEXPECT_EQ(pg->flags, 0);
	KEXPECT_EQ(frames_free(pa, 2), 0);
	/* A run's heads: later chapters' bits beside ch1's, which stay. */
	paddr_t three = frames_alloc(3, 0);
	KASSERT_NE(three, 0);
	KEXPECT_EQ(frame_get(three), -EINVAL); /* a run's blocks take no references */
	KEXPECT_EQ(page_set_flag(pa_to_page(three), 0x0002), 0);
	KEXPECT_EQ(pa_to_page(three)->flags, PAGE_RUN_NEXT | 0x0002);
	KEXPECT_EQ(page_clear_flag(pa_to_page(three), 0x0002), 0);
	KEXPECT_EQ(frames_free(three, 3), 0);
}

KTEST(ch1_page, private_word_kept_while_allocated)
{
	CH1_REQUIRE_FRAMES();
	paddr_t pa = frames_alloc_order(2, 0);
	KASSERT_NE(pa, 0);
	struct page_info *pg = pa_to_page(pa);
	KEXPECT_EQ(page_private(pg), 0);
	for (int i = 0; i < 4; i++)
		set_page_private(pg + i, 0x5eed0000ULL + i);
	/* Other blocks come and go around it; its references and flags change. */
	struct held *h = held_begin();
	for (unsigned o = 0; o < 6; o++)
		for (int k = 0; k < 8; k++) {
			paddr_t other = frames_alloc_order(o, 0);
			if (other)
				held_push(h, other, o);
		}
	KEXPECT_EQ(held_release(h), 0);
	KEXPECT_EQ(get_page(pg), 0);
	KEXPECT_EQ(page_set_flag(pg, 0x0004), 0);
	KEXPECT_EQ(put_page(pg), 0);
	int kept = 0;
	for (int i = 0; i < 4; i++)
		kept += page_private(pg + i) == 0x5eed0000ULL + i;
	KEXPECT_EQ(kept, 4);
	KEXPECT_EQ(frames_free_order(pa, 2), 0);
	/* A new block's head starts with a private word of 0. */
	KASSERT_EQ(frames_alloc_at(pa, 4, 0), 0);
	KEXPECT_EQ(page_private(pg), 0);
	KEXPECT_EQ(frames_free(pa, 4), 0);
}
