/*
 * Helpers shared by ch1's KTAP suites: checking the allocator is up, holding
 * many blocks at once, draining all memory, and saving what a test changes.
 */
#ifndef MMLAB_CH1_TEST_H
#define MMLAB_CH1_TEST_H

#include "../src/frame_internal.h"
#include "errno.h"
#include "frame.h"
#include "ktest.h"
#include "memlayout.h"
#include "memmap.h"
#include "string.h"

/*
 * Fail the test unless the allocator has frames. In a handout whose buddy is
 * not written yet, the emergency allocation first runs into the stub, so the
 * test reports which TODO it lacks.
 */
#define CH1_REQUIRE_FRAMES()                                                                                 \
	do {                                                                                                 \
		if (frames_nr_total() == 0) {                                                                \
			paddr_t _pa = frame_alloc(FRAME_EMERGENCY);                                          \
			if (_pa)                                                                             \
				frame_free(_pa);                                                             \
		}                                                                                            \
		KASSERT_GT(frames_nr_total(), 0);                                                            \
	} while (0)

/* Expect two free-list digests to be equal, order by order. */
#define KEXPECT_DIGEST_EQ(a, b)                                                                              \
	do {                                                                                                 \
		KEXPECT_EQ((a).free_frames, (b).free_frames);                                                \
		for (unsigned _o = 0; _o <= MAX_ORDER; _o++) {                                               \
			KEXPECT_EQ((a).blocks[_o], (b).blocks[_o]);                                          \
			KEXPECT_EQ((a).pfn_sum[_o], (b).pfn_sum[_o]);                                        \
			KEXPECT_EQ((a).pfn_xor[_o], (b).pfn_xor[_o]);                                        \
		}                                                                                            \
	} while (0)

/* Expect the statistics to match but for bad_frees and failed_allocs, which
 * grew by the amounts given. */
#define KEXPECT_STATS_SAME(a, b, more_bad_frees, more_failed_allocs)                                         \
	do {                                                                                                 \
		KEXPECT_EQ((b).total, (a).total);                                                            \
		KEXPECT_EQ((b).free, (a).free);                                                              \
		KEXPECT_EQ((b).used, (a).used);                                                              \
		KEXPECT_EQ((b).reserved, (a).reserved);                                                      \
		KEXPECT_EQ((b).metadata_bytes, (a).metadata_bytes);                                          \
		KEXPECT_EQ((b).bad_frees, (a).bad_frees + (more_bad_frees));                                 \
		KEXPECT_EQ((b).failed_allocs, (a).failed_allocs + (more_failed_allocs));                     \
		for (unsigned _o = 0; _o <= MAX_ORDER; _o++)                                                 \
			KEXPECT_EQ((b).free_blocks[_o], (a).free_blocks[_o]);                                \
	} while (0)

/*
 * The counters with every hart's frame cache drained first, so that
 * free_blocks counts every free frame as the buddy's lists alone hold it:
 * what the tests of split, merge and refusals compare.
 */
static inline void ch1_stats(struct frame_stats *st)
{
	frames_drain_caches();
	frames_get_stats(st);
}

/* The allocator's state around a call that must change nothing. */
struct snap {
	struct frame_stats st;
	struct buddy_digest d;
};

static inline void take(struct snap *s)
{
	frames_digest(&s->d); /* drains the caches first, as ch1_stats() would */
	frames_get_stats(&s->st);
}

/* Expect @call to return @err with nothing changed but @bad more bad frees. */
#define EXPECT_REFUSED_WITH(call, err, bad)                                                                  \
	do {                                                                                                 \
		struct snap _a, _b;                                                                          \
		take(&_a);                                                                                   \
		KEXPECT_EQ(call, err);                                                                       \
		take(&_b);                                                                                   \
		KEXPECT_STATS_SAME(_a.st, _b.st, bad, 0);                                                    \
		KEXPECT_DIGEST_EQ(_a.d, _b.d);                                                               \
	} while (0)

/*
 * A stack of allocated blocks. Kept in an array beside the frames, never in
 * them: writing into every block of a drained 2 GiB machine would make QEMU
 * back all of guest RAM on the host. One instance, shared by the tests (at
 * 72 KiB it is too large for a kernel stack); a test takes it with held_begin().
 */
#define HELD_MAX 8192
struct held {
	uint64_t blocks;	 /* blocks held */
	uint64_t frames;	 /* frames held */
	paddr_t pa[HELD_MAX];	 /* each block's first frame */
	uint8_t order[HELD_MAX]; /* and its order */
};
extern struct held ch1_held; /* defined in ch1_test.c */

/* The shared stack, emptied. Frames still on it are the previous test's loss. */
static inline struct held *held_begin(void)
{
	ch1_held.blocks = ch1_held.frames = 0;
	return &ch1_held;
}

/* Push a block; false (block not pushed) when the stack is full. */
static inline bool held_push(struct held *h, paddr_t pa, unsigned order)
{
	if (h->blocks == HELD_MAX)
		return false;
	h->pa[h->blocks] = pa;
	h->order[h->blocks++] = (uint8_t)order;
	h->frames += 1UL << order;
	return true;
}

/* Pop the last block pushed; 0 if none. */
static inline paddr_t held_pop(struct held *h, unsigned *order)
{
	*order = 0;
	if (!h->blocks)
		return 0;
	h->blocks--;
	*order = h->order[h->blocks];
	h->frames -= 1UL << *order;
	return h->pa[h->blocks];
}

/* Turn the stack over, so blocks come back in the order they were taken. */
static inline void held_reverse(struct held *h)
{
	for (uint64_t i = 0, j = h->blocks; i + 1 < j; i++, j--) {
		paddr_t pa = h->pa[i];
		uint8_t o = h->order[i];
		h->pa[i] = h->pa[j - 1];
		h->order[i] = h->order[j - 1];
		h->pa[j - 1] = pa;
		h->order[j - 1] = o;
	}
}

/* Free every block held. @return the frees that failed (0 if all went well). */
static inline int held_release(struct held *h)
{
	int bad = 0;
	unsigned order;
	for (paddr_t pa; (pa = held_pop(h, &order));)
		bad += frames_free_order(pa, order) != 0;
	return bad;
}

/*
 * Allocate every free frame (dipping into the emergency reserve), largest
 * blocks first: a handful of allocations per order however large RAM is.
 * Bounded by the frame count and the stack, so a broken allocator cannot
 * loop forever.
 */
static inline uint64_t drain_all(struct held *h)
{
	uint64_t limit = frames_nr_total();
	for (int o = MAX_ORDER; o >= 0; o--) {
		for (paddr_t pa; h->frames < limit && (pa = frames_alloc_order(o, FRAME_EMERGENCY));) {
			if (!held_push(h, pa, o)) {
				printk("drain_all: more than %d blocks\n", HELD_MAX);
				frames_free_order(pa, o);
				return h->frames;
			}
		}
	}
	return h->frames;
}

/*
 * The start of every allocate-everything test: take every free frame into @h
 * and check that all came and none is left. *@before gets the free lists'
 * digest from just before, to compare with once @h is released.
 */
static inline void drain_everything(struct held *h, struct buddy_digest *before)
{
	frames_digest(before);
	uint64_t free = frames_nr_free();
	KEXPECT_EQ(drain_all(h), free);
	KEXPECT_EQ(frames_nr_free(), 0);
}

/* What a test may change and must put back: the shrinkers and the watermarks. */
struct ch1_env {
	frame_shrinker_fn shrinkers[MAX_SHRINKERS];
	int nr_shrinkers;
	struct frame_watermarks wm;
};

/* Take the shrinkers out (so only the test's own frames move) and note the watermarks. */
static inline void ch1_env_save(struct ch1_env *e)
{
	e->nr_shrinkers = frames_shrinkers_save(e->shrinkers);
	e->wm = frames_watermarks();
}

static inline void ch1_env_restore(const struct ch1_env *e)
{
	frames_set_watermarks(e->wm);
	frames_shrinkers_restore(e->shrinkers, e->nr_shrinkers);
}

/* One past the last byte of RAM. */
static inline paddr_t ram_end(void)
{
	int n = memmap_count();
	const struct mem_region *r = memmap_region(n - 1);
	return n ? r->base + r->size : 0;
}

/* The first byte of RAM. */
static inline paddr_t ram_start(void) { return memmap_count() ? memmap_region(0)->base : 0; }

/* True if every frame of [pa, pa + n frames) is free. */
static inline bool range_free(paddr_t pa, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		if (!frames_is_free(pa + i * PAGE_SIZE))
			return false;
	return true;
}

/* True if no frame of [pa, pa + n frames) is free. */
static inline bool range_taken(paddr_t pa, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		if (frames_is_free(pa + i * PAGE_SIZE))
			return false;
	return true;
}

/*
 * A run of @n free frames to play in: allocated and freed again, so it is
 * free now (and nothing else moved). 0 if there is none.
 */
static inline paddr_t free_run(uint64_t n)
{
	paddr_t pa = frames_alloc(n, FRAME_EMERGENCY);
	if (pa && frames_free(pa, n) != 0)
		return 0;
	return pa;
}

/* A small deterministic random number generator (a 64-bit LCG, Knuth's MMIX constants). */
static inline uint64_t lcg_next(uint64_t *state)
{
	*state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
	return *state >> 33;
}

#endif
