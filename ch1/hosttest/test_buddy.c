/*
 * Host test of ch1/src/buddy.c: the buddy system as pure logic, under
 * AddressSanitizer and UBSan. Directed cases first, then seeded random
 * sequences checked step by step against a model (which frames are managed,
 * which are allocated and by which allocation), with buddy_check() run on
 * the invariants along the way.
 *
 * Build by hand:
 *   cc -std=gnu11 -g -O1 -fsanitize=address,undefined -DMMLAB_HOST \
 *      -iquote common/include -iquote ch1/include -iquote ch1/src \
 *      ch1/hosttest/test_buddy.c ch1/src/buddy.c common/hosttest/host_kernel.c \
 *      -o build/host/test_buddy
 */
// HOSTTEST_SOURCES: ch1/src/buddy.c common/hosttest/host_kernel.c
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/hosttest/host_check.h"
#include "buddy.h"
#include "errno.h"
#include "frame.h"
#include "types.h"

/* buddy_check() with the reason printed on failure. */
#define CHECK_SANE(b)                                                                                        \
	do {                                                                                                 \
		const char *_why = buddy_check(b);                                                           \
		if (!_why) {                                                                                 \
			check_pass();                                                                        \
		} else {                                                                                     \
			check_fail(__FILE__, __LINE__, "buddy_check: %s", _why);                             \
			exit(1);                                                                             \
		}                                                                                            \
	} while (0)

static uint64_t rng_state;
static uint64_t rnd(void) /* xorshift64*: deterministic for a given seed */
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}
static uint64_t rnd_below(uint64_t n) { return n ? rnd() % n : 0; }

static bool digest_eq(const struct buddy_digest *a, const struct buddy_digest *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

/*
 * A buddy over [lo, hi) whose sections that meet one of the @n frame ranges
 * @ranges (every section if @ranges is NULL) have page_info, each section in
 * an allocation of its own: AddressSanitizer then catches any reach past a
 * section, which the buddy must never make (buddy.h).
 */
static void new_sparse_buddy(struct buddy *b, pfn_t lo, pfn_t hi, const pfn_t (*ranges)[2], int n)
{
	uint64_t nr = buddy_nr_sections(lo, hi);
	struct page_info **sections = calloc(nr, sizeof(*sections));
	for (uint64_t s = 0; s < nr; s++) {
		pfn_t start = buddy_base(lo) + (s << SECTION_ORDER), end = start + SECTION_FRAMES;
		bool has = ranges == NULL;
		for (int i = 0; i < n; i++)
			has |= ranges[i][0] < end && start < ranges[i][1];
		if (has)
			sections[s] = calloc(SECTION_FRAMES, sizeof(struct page_info));
	}
	buddy_init(b, sections, lo, hi);
}

/* A buddy over [lo, hi) with page_info for every frame. */
static void new_buddy(struct buddy *b, pfn_t lo, pfn_t hi) { new_sparse_buddy(b, lo, hi, NULL, 0); }

static void free_buddy(struct buddy *b)
{
	for (uint64_t s = 0; s < b->nr_pages >> SECTION_ORDER; s++)
		free(b->sections[s]);
	free(b->sections);
}

/* The page_info of frame @pfn. */
static struct page_info *page_of(const struct buddy *b, pfn_t pfn)
{
	return buddy_page(b, pfn - b->base_pfn);
}

/* ---- directed tests -------------------------------------------------------- */

static void test_split_and_merge(void)
{
	struct buddy b;
	new_buddy(&b, 0, 1024);
	CHECK_EQ(buddy_add_range(&b, 0, 1024), 1024);
	CHECK_SANE(&b);
	CHECK_EQ(b.nr_free[MAX_ORDER], 1);
	/* One frame splits the block into one free block of every lower order. */
	pfn_t p = buddy_alloc(&b, 0);
	CHECK_EQ(p, 0);
	for (unsigned o = 0; o < MAX_ORDER; o++)
		CHECK_EQ(b.nr_free[o], 1);
	CHECK_EQ(b.nr_free[MAX_ORDER], 0);
	CHECK_EQ(b.free_frames, 1023);
	CHECK_EQ(page_of(&b, 0)->state, PAGE_ALLOC_HEAD);
	CHECK_EQ(page_of(&b, 0)->refcount, 1);
	CHECK_EQ(page_of(&b, 512)->state, PAGE_FREE_HEAD);
	CHECK_EQ(page_of(&b, 512)->order, 9);
	CHECK_SANE(&b);
	/* Freeing it merges all the way back up. */
	const char *why = NULL;
	CHECK_EQ(buddy_free(&b, p, 0, &why), 0);
	CHECK_EQ(b.nr_free[MAX_ORDER], 1);
	CHECK_EQ(b.free_frames, 1024);
	CHECK_SANE(&b);
	/* Double free is refused. */
	CHECK_EQ(buddy_free(&b, p, 0, &why), -EINVAL);
	CHECK(why != NULL);
	free_buddy(&b);
}

static void test_alignment(void)
{
	struct buddy b;
	new_buddy(&b, 5, 4096 + 7);
	buddy_add_range(&b, 5, 4096 + 7);
	CHECK_SANE(&b);
	for (unsigned o = 0; o <= MAX_ORDER; o++) {
		pfn_t p = buddy_alloc(&b, o);
		CHECK(p != BUDDY_NO_PFN);
		CHECK(IS_ALIGNED(p, 1UL << o));
		CHECK_EQ(page_of(&b, p)->order, o);
		for (uint64_t t = 1; t < (1UL << o); t++)
			if (page_of(&b, p + t)->state != PAGE_TAIL)
				CHECK(0);
		CHECK_SANE(&b);
		const char *why;
		CHECK_EQ(buddy_free(&b, p, o, &why), 0);
	}
	CHECK_EQ(buddy_alloc(&b, MAX_ORDER + 1), BUDDY_NO_PFN);
	CHECK_SANE(&b);
	free_buddy(&b);
}

/* Adding ranges in pieces, in any order, gives the same fully merged state. */
static void test_add_canonical(void)
{
	struct buddy a, c;
	new_buddy(&a, 1000, 9000);
	new_buddy(&c, 1000, 9000);
	CHECK_EQ(buddy_add_range(&a, 1000, 9000), 8000);
	CHECK_EQ(buddy_add_range(&c, 5000, 9000), 4000);
	CHECK_EQ(buddy_add_range(&c, 1003, 5000), 3997);
	CHECK_EQ(buddy_add_range(&c, 1000, 1003), 3);
	struct buddy_digest da, dc;
	buddy_digest(&a, &da);
	buddy_digest(&c, &dc);
	CHECK(digest_eq(&da, &dc));
	CHECK_SANE(&a);
	CHECK_SANE(&c);
	CHECK_EQ(a.base_pfn, 0);
	CHECK_EQ(page_of(&a, 999)->state, PAGE_RESERVED);
	CHECK(!buddy_is_free(&a, 999));
	CHECK(buddy_is_free(&a, 1000));
	CHECK(buddy_is_free(&a, 8999));
	CHECK(!buddy_is_free(&a, 9000));
	free_buddy(&a);
	free_buddy(&c);
}

static void test_runs(void)
{
	struct buddy b;
	new_buddy(&b, 0, 8192);
	buddy_add_range(&b, 1, 8192); /* frame 0 stays out, as the kernel keeps PA 0 out */
	struct buddy_digest d0, d;
	buddy_digest(&b, &d0);
	const char *why;

	/* alloc_run(3): 3 frames used, not 4; the fourth is free again. */
	pfn_t p = buddy_alloc_run(&b, 3);
	CHECK(p != BUDDY_NO_PFN);
	CHECK_EQ(b.free_frames, 8191 - 3);
	CHECK(buddy_is_free(&b, p + 3));
	CHECK_SANE(&b);
	/* Wrong n, wrong order, a block of the run: all refused, nothing changed. */
	buddy_digest(&b, &d);
	CHECK_EQ(buddy_free_range(&b, p, 2, &why), -EINVAL);
	CHECK_EQ(buddy_free_range(&b, p, 4, &why), -EINVAL);
	CHECK_EQ(buddy_free_range(&b, p, 1, &why), -EINVAL);
	CHECK_EQ(buddy_free(&b, p, 1, &why), -EINVAL);
	CHECK_EQ(buddy_free(&b, p + 2, 0, &why), -EINVAL);
	CHECK_EQ(buddy_free(&b, p + 1, 0, &why), -EINVAL);
	struct buddy_digest d2;
	buddy_digest(&b, &d2);
	CHECK(digest_eq(&d, &d2));
	CHECK_EQ(buddy_free_range(&b, p, 3, &why), 0);
	buddy_digest(&b, &d);
	CHECK(digest_eq(&d, &d0));

	/* claim across several max-order blocks with leftovers on both sides. */
	CHECK_EQ(buddy_claim(&b, 1000, 3000), 0);
	CHECK_EQ(b.free_frames, 8191 - 3000);
	CHECK(buddy_is_free(&b, 999));
	CHECK(!buddy_is_free(&b, 1000));
	CHECK(!buddy_is_free(&b, 3999));
	CHECK(buddy_is_free(&b, 4000));
	CHECK_SANE(&b);
	/* claim overlapping it: busy, nothing changed. */
	buddy_digest(&b, &d);
	CHECK_EQ(buddy_claim(&b, 990, 11), -EBUSY);
	CHECK_EQ(buddy_claim(&b, 3999, 1), -EBUSY);
	CHECK_EQ(buddy_claim(&b, 0, 1), -EBUSY);     /* reserved */
	CHECK_EQ(buddy_claim(&b, 8190, 3), -EINVAL); /* past the end */
	CHECK_EQ(buddy_claim(&b, 5, 0), -EINVAL);
	buddy_digest(&b, &d2);
	CHECK(digest_eq(&d, &d2));
	/* find_run: the lowest fit; a fit ending exactly at hi; none. */
	CHECK_EQ(buddy_find_run(&b, 999, 0, 8192), 1);
	CHECK_EQ(buddy_find_run(&b, 1000, 0, 8192), 4000);
	CHECK_EQ(buddy_find_run(&b, 10, 990, 1000), 990); /* ends exactly at hi */
	CHECK_EQ(buddy_find_run(&b, 5, 995, 1005), 995);
	CHECK_EQ(buddy_find_run(&b, 6, 995, 1005), BUDDY_NO_PFN);
	CHECK_EQ(buddy_find_run(&b, 5, 3990, 4005), 4000);
	CHECK_EQ(buddy_find_run(&b, 4192, 0, 8192), 4000);
	CHECK_EQ(buddy_find_run(&b, 4193, 0, 8192), BUDDY_NO_PFN);
	CHECK_EQ(buddy_find_run(&b, 1, 7, 7), BUDDY_NO_PFN);
	CHECK_EQ(buddy_find_run(&b, 0, 0, 8192), BUDDY_NO_PFN);
	CHECK_EQ(buddy_find_run(&b, 1, 0, 1), BUDDY_NO_PFN);
	/* Freeing the claim with the wrong n is refused; the right n merges back. */
	CHECK_EQ(buddy_free_range(&b, 1000, 2999, &why), -EINVAL);
	CHECK_EQ(buddy_free_range(&b, 1000, 3001, &why), -EINVAL);
	CHECK_EQ(buddy_free_range(&b, 1001, 2999, &why), -EINVAL);
	CHECK_EQ(buddy_free_range(&b, 1000, 3000, &why), 0);
	buddy_digest(&b, &d);
	CHECK(digest_eq(&d, &d0));
	CHECK_SANE(&b);
	free_buddy(&b);
}

/*
 * RAM with a hole of two whole sections: [1, 1100) and [3900, 5000). The
 * hole's sections have no page_info; nothing may reach into them, and no
 * run, claim or free may go across.
 */
static void test_hole(void)
{
	static const pfn_t ram[2][2] = {{1, 1100}, {3900, 5000}};
	struct buddy b;
	new_sparse_buddy(&b, 1, 5000, ram, 2);
	CHECK(b.sections[0] && b.sections[1] && !b.sections[2] && b.sections[3] && b.sections[4]);
	CHECK_EQ(buddy_add_range(&b, 1, 1100), 1099);
	CHECK_EQ(buddy_add_range(&b, 3900, 5000), 1100);
	CHECK_SANE(&b);
	const char *why;
	CHECK(!buddy_is_free(&b, 2048));
	CHECK(!buddy_is_free(&b, 1100));
	CHECK_EQ(buddy_claim(&b, 1090, 20), -EBUSY);	/* past RAM, in a section that has page_info */
	CHECK_EQ(buddy_claim(&b, 2040, 20), -EINVAL);	/* runs into the section without */
	CHECK_EQ(buddy_claim(&b, 2500, 1), -EINVAL);	/* in it */
	CHECK_EQ(buddy_claim(&b, 1000, 3000), -EINVAL); /* across it */
	CHECK_EQ(buddy_free(&b, 2048, 0, &why), -EINVAL);
	CHECK_EQ(buddy_free_range(&b, 1099, 2, &why), -EINVAL);
	CHECK_EQ(buddy_find_run(&b, 1099, 0, 6000), 1);
	CHECK_EQ(buddy_find_run(&b, 1100, 0, 6000), 3900); /* not across the hole */
	CHECK_EQ(buddy_find_run(&b, 1101, 0, 6000), BUDDY_NO_PFN);
	CHECK_EQ(buddy_find_run(&b, 25, 1080, 3920), BUDDY_NO_PFN);
	CHECK_EQ(buddy_find_run(&b, 20, 1080, 3920), 1080);
	CHECK_EQ(buddy_find_run(&b, 5, 1090, 4000), 1090);
	/* Everything out and back: each block from one side of the hole. */
	pfn_t got[2200];
	uint64_t n = 0;
	for (pfn_t p; (p = buddy_alloc(&b, 0)) != BUDDY_NO_PFN;)
		got[n++] = p;
	CHECK_EQ(n, 2199);
	for (uint64_t i = 0; i < n; i++)
		if (buddy_free(&b, got[i], 0, &why) != 0)
			CHECK(0);
	CHECK_EQ(b.free_frames, 2199);
	CHECK_SANE(&b);
	free_buddy(&b);
}

/* Allocate everything in order-0 frames, free in a shuffled order: lists as before. */
static void test_exhaust_and_restore(void)
{
	struct buddy b;
	new_buddy(&b, 100, 5000);
	buddy_add_range(&b, 100, 3000);
	buddy_add_range(&b, 3500, 5000);
	struct buddy_digest d0, d;
	buddy_digest(&b, &d0);
	uint64_t total = b.free_frames;
	pfn_t *got = malloc(total * sizeof(*got));
	uint64_t n = 0;
	for (pfn_t p; (p = buddy_alloc(&b, 0)) != BUDDY_NO_PFN;)
		got[n++] = p;
	CHECK_EQ(n, total);
	CHECK_EQ(b.free_frames, 0);
	CHECK_SANE(&b);
	for (uint64_t i = n; i > 1; i--) {
		uint64_t j = rnd_below(i);
		pfn_t t = got[i - 1];
		got[i - 1] = got[j];
		got[j] = t;
	}
	const char *why;
	for (uint64_t i = 0; i < n; i++)
		if (buddy_free(&b, got[i], 0, &why) != 0)
			CHECK(0);
	buddy_digest(&b, &d);
	CHECK(digest_eq(&d, &d0));
	CHECK_SANE(&b);
	free(got);
	free_buddy(&b);
}

/* A shared block (refcount above 1) is refused by every free, with nothing
 * changed; freed, the count is 0 and the invariants hold. */
static void test_shared_block(void)
{
	struct buddy b;
	new_buddy(&b, 0, 1024);
	buddy_add_range(&b, 0, 1024);
	pfn_t p = buddy_alloc(&b, 2);
	CHECK_EQ(p, 0);
	struct page_info *pg = page_of(&b, p);
	pg->refcount = 2; /* get_page() */
	CHECK_SANE(&b);
	struct buddy_digest d0, d;
	buddy_digest(&b, &d0);
	const char *why = NULL;
	CHECK_EQ(buddy_free(&b, p, 2, &why), -EBUSY);
	CHECK(why != NULL);
	CHECK_EQ(buddy_free_range(&b, p, 4, &why), -EBUSY);
	buddy_digest(&b, &d);
	CHECK(digest_eq(&d, &d0));
	CHECK_EQ(pg->refcount, 2);
	CHECK_EQ(pg->state, PAGE_ALLOC_HEAD);
	pg->refcount = 1; /* put_page() */
	CHECK_EQ(buddy_free(&b, p, 2, &why), 0);
	CHECK_EQ(pg->refcount, 0);
	CHECK_EQ(b.nr_free[MAX_ORDER], 1);
	/* A run: every block's count goes to 0, or none does. */
	p = buddy_alloc_run(&b, 3);
	CHECK_EQ(p, 0);
	page_of(&b, p + 2)->refcount = 2;
	CHECK_EQ(buddy_free_range(&b, p, 3, &why), -EBUSY);
	CHECK_EQ(page_of(&b, p)->refcount, 1);
	CHECK_EQ(page_of(&b, p + 2)->refcount, 2);
	page_of(&b, p + 2)->refcount = 1;
	CHECK_EQ(buddy_free_range(&b, p, 3, &why), 0);
	CHECK_EQ(b.nr_free[MAX_ORDER], 1);
	/* A count of 0 in an allocated head breaks an invariant. */
	p = buddy_alloc(&b, 0);
	page_of(&b, p)->refcount = 0;
	CHECK(buddy_check(&b) != NULL);
	page_of(&b, p)->refcount = 1;
	CHECK_SANE(&b);
	free_buddy(&b);
}

/* ---- random sequences against a model ---------------------------------------- */

enum { KIND_ORDER, KIND_RUN };
struct alloc {
	pfn_t pfn;
	uint64_t n;
	int kind;
	unsigned order;
};

struct model {
	struct buddy b;
	pfn_t lo, hi;	  /* frames described: [b.base_pfn, hi) */
	uint8_t *managed; /* per frame (index from base): given to the buddy */
	int32_t *owner;	  /* per frame: index into allocs, or -1 */
	struct alloc *allocs;
	int nr_allocs, max_allocs;
	uint64_t free_frames;
	struct buddy_digest initial;
};

static void model_init(struct model *m, pfn_t lo, pfn_t hi, int nr_ranges)
{
	/* Random disjoint ranges with holes between them, added in random order;
	 * only the sections they meet have page_info. */
	pfn_t cut[2 * 8 + 2];
	int k = 2 * nr_ranges;
	for (int i = 0; i < k; i++)
		cut[i] = lo + rnd_below(hi - lo + 1);
	for (int i = 1; i < k; i++) /* insertion sort */
		for (int j = i; j > 0 && cut[j - 1] > cut[j]; j--) {
			pfn_t t = cut[j];
			cut[j] = cut[j - 1];
			cut[j - 1] = t;
		}
	cut[0] = lo; /* the first range starts at lo, the last ends at hi */
	cut[k - 1] = hi;
	pfn_t ranges[8][2];
	for (int i = 0; i < nr_ranges; i++) {
		ranges[i][0] = cut[2 * i];
		ranges[i][1] = cut[2 * i + 1];
	}
	new_sparse_buddy(&m->b, lo, hi, ranges, nr_ranges);
	m->lo = lo;
	m->hi = hi;
	uint64_t n = m->b.nr_pages;
	m->managed = calloc(n, 1);
	m->owner = malloc(n * sizeof(*m->owner));
	for (uint64_t i = 0; i < n; i++)
		m->owner[i] = -1;
	m->max_allocs = 4096;
	m->allocs = malloc(m->max_allocs * sizeof(*m->allocs));
	m->nr_allocs = 0;
	m->free_frames = 0;
	int order[8];
	for (int i = 0; i < nr_ranges; i++)
		order[i] = i;
	for (int i = nr_ranges; i > 1; i--) {
		int j = (int)rnd_below(i), t = order[i - 1];
		order[i - 1] = order[j];
		order[j] = t;
	}
	for (int r = 0; r < nr_ranges; r++) {
		pfn_t s = cut[2 * order[r]], e = cut[2 * order[r] + 1];
		CHECK_EQ(buddy_add_range(&m->b, s, e), e - s);
		for (pfn_t p = s; p < e; p++)
			m->managed[p - m->b.base_pfn] = 1;
		m->free_frames += e - s;
	}
	buddy_digest(&m->b, &m->initial);
}

static void model_destroy(struct model *m)
{
	free_buddy(&m->b);
	free(m->managed);
	free(m->owner);
	free(m->allocs);
}

static bool model_frame_free(const struct model *m, uint64_t idx)
{
	return m->managed[idx] && m->owner[idx] < 0;
}

/* True if the model holds an aligned block of 2^order frames all free. */
static bool model_has_block(const struct model *m, unsigned order)
{
	uint64_t size = 1UL << order;
	for (uint64_t i = 0; i + size <= m->b.nr_pages; i += size) {
		uint64_t t = 0;
		while (t < size && model_frame_free(m, i + t))
			t++;
		if (t == size)
			return true;
	}
	return false;
}

/* The lowest run of n free frames in [lo, hi), as the model sees it. */
static pfn_t model_find_run(const struct model *m, uint64_t n, pfn_t lo, pfn_t hi)
{
	pfn_t base = m->b.base_pfn, end = base + m->b.nr_pages;
	if (lo < base)
		lo = base;
	if (hi > end)
		hi = end;
	uint64_t run = 0;
	for (pfn_t p = lo; p < hi && n; p++) {
		run = model_frame_free(m, p - base) ? run + 1 : 0;
		if (run == n)
			return p + 1 - n;
	}
	return BUDDY_NO_PFN;
}

static void model_take(struct model *m, pfn_t pfn, uint64_t n, int kind, unsigned order)
{
	int id = m->nr_allocs++;
	m->allocs[id] = (struct alloc){pfn, n, kind, order};
	for (uint64_t i = 0; i < n; i++) {
		uint64_t idx = pfn - m->b.base_pfn + i;
		if (!model_frame_free(m, idx)) {
			CHECK(0); /* handed out a frame that was not free */
			return;
		}
		m->owner[idx] = id;
	}
	m->free_frames -= n;
}

static void model_release(struct model *m, int id)
{
	struct alloc *a = &m->allocs[id];
	for (uint64_t i = 0; i < a->n; i++)
		m->owner[a->pfn - m->b.base_pfn + i] = -1;
	m->free_frames += a->n;
	/* Move the last allocation into the hole, and re-own its frames. */
	int last = --m->nr_allocs;
	if (id != last) {
		m->allocs[id] = m->allocs[last];
		for (uint64_t i = 0; i < m->allocs[id].n; i++)
			m->owner[m->allocs[id].pfn - m->b.base_pfn + i] = id;
	}
}

static unsigned random_order(void)
{
	uint64_t r = rnd_below(100);
	if (r < 50)
		return 0;
	if (r < 75)
		return 1 + (unsigned)rnd_below(3);
	if (r < 95)
		return 3 + (unsigned)rnd_below(4);
	return (unsigned)rnd_below(MAX_ORDER + 1);
}

/* A bad free of any sort: must be refused and change nothing. */
static void bad_free(struct model *m)
{
	struct buddy_digest before, after;
	buddy_digest(&m->b, &before);
	const char *why = NULL;
	int err;
	uint64_t idx = rnd_below(m->b.nr_pages);
	pfn_t pfn = m->b.base_pfn + idx;
	int owner = m->owner[idx];
	const struct alloc *a = owner >= 0 ? &m->allocs[owner] : NULL;
	unsigned order = (unsigned)rnd_below(MAX_ORDER + 2);
	uint64_t n = 1 + rnd_below(2048);
	bool valid_order = a && a->pfn == pfn && a->n == (1UL << order);
	bool valid_range = a && a->pfn == pfn && a->n == n;
	if (rnd() & 1) {
		if (valid_order)
			return;
		err = buddy_free(&m->b, pfn, order, &why);
	} else {
		if (valid_range)
			return;
		err = buddy_free_range(&m->b, pfn, n, &why);
	}
	CHECK_EQ(err, -EINVAL);
	CHECK(why != NULL);
	buddy_digest(&m->b, &after);
	CHECK(digest_eq(&before, &after));
}

static void random_step(struct model *m)
{
	uint64_t r = rnd_below(100);
	const char *why;
	if (m->nr_allocs == m->max_allocs)
		r = 0;		      /* full: free something */
	if (r < 35 && m->nr_allocs) { /* free */
		int id = (int)rnd_below(m->nr_allocs);
		struct alloc a = m->allocs[id];
		int err = a.kind == KIND_ORDER && (rnd() & 1) ? buddy_free(&m->b, a.pfn, a.order, &why)
							      : buddy_free_range(&m->b, a.pfn, a.n, &why);
		CHECK_EQ(err, 0);
		model_release(m, id);
		if (rnd_below(8) == 0) { /* and free it again: a double free */
			err = a.kind == KIND_ORDER ? buddy_free(&m->b, a.pfn, a.order, &why)
						   : buddy_free_range(&m->b, a.pfn, a.n, &why);
			CHECK_EQ(err, -EINVAL);
		}
	} else if (r < 60) { /* alloc by order */
		unsigned o = random_order();
		pfn_t p = buddy_alloc(&m->b, o);
		if (p == BUDDY_NO_PFN) {
			CHECK(!model_has_block(m, o));
		} else {
			CHECK(IS_ALIGNED(p, 1UL << o));
			model_take(m, p, 1UL << o, KIND_ORDER, o);
		}
	} else if (r < 75) { /* alloc a count */
		uint64_t n = rnd_below(4) ? 1 + rnd_below(16) : 1 + rnd_below(1UL << MAX_ORDER);
		unsigned o = 0;
		while ((1UL << o) < n)
			o++;
		pfn_t p = buddy_alloc_run(&m->b, n);
		if (p == BUDDY_NO_PFN) {
			CHECK(!model_has_block(m, o));
		} else {
			CHECK(IS_ALIGNED(p, 1UL << o));
			model_take(m, p, n, KIND_RUN, 0);
		}
	} else if (r < 85) { /* claim a range */
		uint64_t n = rnd_below(4) ? 1 + rnd_below(8) : 1 + rnd_below(3000);
		pfn_t p = m->b.base_pfn + rnd_below(m->b.nr_pages);
		bool inside = p - m->b.base_pfn + n <= m->b.nr_pages;
		for (uint64_t i = 0; inside && i < n; i++) /* and no frame in a section without page_info */
			inside = m->b.sections[(p - m->b.base_pfn + i) >> SECTION_ORDER] != NULL;
		bool all_free = inside;
		for (uint64_t i = 0; all_free && i < n; i++)
			all_free = model_frame_free(m, p - m->b.base_pfn + i);
		int err = buddy_claim(&m->b, p, n);
		CHECK_EQ(err, !inside ? -EINVAL : all_free ? 0 : -EBUSY);
		if (err == 0)
			model_take(m, p, n, KIND_RUN, 0);
	} else if (r < 90) { /* find the lowest run, then claim it */
		uint64_t n = rnd_below(2) ? 1 + rnd_below(8) : 1 + rnd_below(4000);
		pfn_t lo = m->b.base_pfn + rnd_below(m->b.nr_pages);
		pfn_t hi = lo + rnd_below(m->b.nr_pages);
		pfn_t p = buddy_find_run(&m->b, n, lo, hi);
		CHECK_EQ(p, model_find_run(m, n, lo, hi));
		if (p != BUDDY_NO_PFN) {
			CHECK_EQ(buddy_claim(&m->b, p, n), 0);
			model_take(m, p, n, KIND_RUN, 0);
		}
	} else if (r < 95) {
		bad_free(m);
	} else { /* lookups */
		for (int i = 0; i < 16; i++) {
			uint64_t idx = rnd_below(m->b.nr_pages + 8);
			bool want = idx < m->b.nr_pages && model_frame_free(m, idx);
			CHECK_EQ(buddy_is_free(&m->b, m->b.base_pfn + idx), want);
		}
	}
	if (m->b.free_frames != m->free_frames)
		CHECK_EQ(m->b.free_frames, m->free_frames);
}

static void model_free_all(struct model *m)
{
	const char *why;
	while (m->nr_allocs) {
		const struct alloc *a = &m->allocs[m->nr_allocs - 1];
		CHECK_EQ(buddy_free_range(&m->b, a->pfn, a->n, &why), 0);
		model_release(m, m->nr_allocs - 1);
	}
	struct buddy_digest d;
	buddy_digest(&m->b, &d);
	CHECK(digest_eq(&d, &m->initial)); /* the canonical fully merged state again */
	CHECK_SANE(&m->b);
}

/* @steps random steps on a buddy over [lo, hi) in @ranges pieces; check every @every steps. */
static void run_random(uint64_t seed, pfn_t lo, pfn_t hi, int ranges, long steps, long every)
{
	rng_state = seed;
	struct model m;
	model_init(&m, lo, hi, ranges);
	CHECK_SANE(&m.b);
	for (long s = 1; s <= steps; s++) {
		random_step(&m);
		if (s % every == 0) {
			CHECK_SANE(&m.b);
			for (uint64_t i = 0; i < m.b.nr_pages; i++) /* full lookup sweep */
				if (buddy_is_free(&m.b, m.b.base_pfn + i) != model_frame_free(&m, i))
					CHECK(0);
		}
		if (s % (steps / 4) == 0)
			model_free_all(&m);
	}
	model_free_all(&m);
	model_destroy(&m);
}

/* A frame cache's batches: lent in split order, PAGE_PCP with no reference, taken back merged. */
static void test_bulk(void)
{
	struct buddy b;
	new_buddy(&b, 0, 1024);
	buddy_add_range(&b, 0, 1024);
	struct buddy_digest d0, d;
	buddy_digest(&b, &d0);
	pfn_t pfns[40];
	CHECK_EQ(buddy_alloc_bulk(&b, pfns, 32), 32);
	for (unsigned i = 0; i < 32; i++) {
		CHECK_EQ(pfns[i], i); /* as buddy_alloc(b, 0) would hand them out, one by one */
		CHECK_EQ(page_of(&b, pfns[i])->state, PAGE_PCP);
		CHECK_EQ(page_of(&b, pfns[i])->refcount, 0);
	}
	CHECK_EQ(b.free_frames, 1024 - 32);
	CHECK_SANE(&b);
	/* A cached frame is nobody's to free, and it is not a free block either. */
	const char *why = NULL;
	CHECK_EQ(buddy_free(&b, pfns[5], 0, &why), -EINVAL);
	CHECK(why && strstr(why, "cache"));
	CHECK(!buddy_is_free(&b, pfns[5]));
	CHECK_EQ(buddy_claim(&b, pfns[5], 1), -EBUSY);
	/* Not PAGE_PCP (here, allocated): skipped, never freed. */
	pfn_t other = buddy_alloc(&b, 0);
	CHECK_EQ(buddy_free_bulk(&b, &other, 1), 0);
	CHECK_EQ(page_of(&b, other)->state, PAGE_ALLOC_HEAD);
	CHECK_EQ(buddy_free(&b, other, 0, &why), 0);
	/* A cached frame with an order or a count it must not have breaks an invariant. */
	page_of(&b, pfns[3])->refcount = 1;
	CHECK(buddy_check(&b) != NULL);
	page_of(&b, pfns[3])->refcount = 0;
	CHECK_SANE(&b);
	/* Back, in any order: merged whole again. */
	CHECK_EQ(buddy_free_bulk(&b, pfns + 16, 16), 16);
	CHECK_EQ(buddy_free_bulk(&b, pfns, 16), 16);
	CHECK_SANE(&b);
	buddy_digest(&b, &d);
	CHECK(digest_eq(&d, &d0));
	/* Short of frames: fewer are lent. */
	pfn_t big = buddy_alloc(&b, MAX_ORDER);
	CHECK_EQ(buddy_alloc_bulk(&b, pfns, 32), 0);
	CHECK_EQ(buddy_free(&b, big, MAX_ORDER, &why), 0);
	pfn_t most = buddy_alloc_run(&b, 1024 - 5);
	CHECK_EQ(buddy_alloc_bulk(&b, pfns, 32), 5);
	CHECK_EQ(b.free_frames, 0);
	CHECK_EQ(buddy_free_bulk(&b, pfns, 5), 5);
	CHECK_EQ(buddy_free_range(&b, most, 1024 - 5, &why), 0);
	CHECK_EQ(b.nr_free[MAX_ORDER], 1);
	free_buddy(&b);
}

int main(void)
{
	check_max_failures = 20; /* a broken buddy fails the same way many times over */
	rng_state = 1;
	test_split_and_merge();
	test_alignment();
	test_add_canonical();
	test_runs();
	test_exhaust_and_restore();
	test_hole();
	test_shared_block();
	test_bulk();
	/* Small spaces, invariants checked at every step. */
	for (uint64_t seed = 1; seed <= 20; seed++)
		run_random(seed, seed * 37, seed * 37 + 2500, 1 + (int)(seed % 4), 2000, 1);
	/* Sparse spaces: a few ranges over many sections, so that whole sections are holes. */
	for (uint64_t seed = 21; seed <= 30; seed++)
		run_random(seed, seed * 101, seed * 101 + 24000, 2 + (int)(seed % 3), 4000, 4);
	/* The fuzz loop: 200k steps over a larger space, checked every 256 steps. */
	run_random(0x6d6d6c6162, 3, 20000, 5, 200000, 256);
	return checks_done("ch1/buddy");
}
