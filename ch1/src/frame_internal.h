/**
 * @file frame_internal.h
 * @brief ch1 (internal): between memmap.c and frame.c, and hooks for ch1's tests.
 *
 * Not part of the API other chapters use: memmap.c builds the zone with the
 * frame_zone_*() calls at boot; the tests in ch1/tests look inside with the
 * rest.
 */
#ifndef MMLAB_CH1_FRAME_INTERNAL_H
#define MMLAB_CH1_FRAME_INTERNAL_H

#include "buddy.h"
#include "frame.h"
#include "types.h"

/** Most shrinkers frames_register_shrinker() keeps. */
#define MAX_SHRINKERS 4

/**
 * @name Per-hart frame caches (pcp.c)
 * Frames a cache moves to or from the buddy at once (Linux pcp->batch), and
 * the most it keeps (pcp->high): a full cache gives its PCP_BATCH oldest back.
 * With 8 harts, at most 4 MiB of frames wait in caches, and every one of
 * them is counted free and is drained before an allocation fails.
 * @{
 */
#define PCP_BATCH 32  /**< Frames moved between a cache and the buddy at once (Linux pcp->batch). */
#define PCP_HIGH  128 /**< Most frames one hart's cache keeps (Linux pcp->high). */
/** @} */

/**
 * Pop a free frame off this hart's cache into *@p pfn, refilling the cache
 * with a batch from the buddy first if it is empty. The frame stays
 * PAGE_PCP: the caller makes it allocated. @return false if the buddy had
 * no frame to lend either.
 */
bool pcp_pop(pfn_t *pfn);
/**
 * Push the frame @p pfn, already PAGE_PCP, onto this hart's cache; a cache
 * that already holds PCP_HIGH frames gives its oldest batch back to the
 * buddy first, so it never holds more.
 */
void pcp_push(pfn_t pfn);
/** Frames in every hart's cache now (each count read once, without locks). */
uint64_t pcp_nr_cached(void);
/**
 * For pcp.c: lend up to @p n order-0 frames from the buddy to a cache, each
 * PAGE_PCP (buddy_alloc_bulk() under the zone lock). @return how many.
 */
unsigned frame_zone_lend(pfn_t *pfns, unsigned n);
/** For pcp.c: give the @p n cached frames @p pfns back to the buddy (buddy_free_bulk() under the zone lock). */
void frame_zone_take_back(const pfn_t *pfns, unsigned n);

/**
 * Bytes of metadata a zone over frames [@p lo, @p hi) takes when
 * @p nr_present of its sections hold RAM: SECTION_FRAMES page_info for each
 * of those, a pointer for every section of the span, and a 4-byte entry per
 * present section (page_to_pa()'s list); rounded up to whole frames.
 */
static inline uint64_t frame_zone_metadata_bytes(pfn_t lo, pfn_t hi, uint64_t nr_present)
{
	return ALIGN_UP(nr_present * SECTION_FRAMES * sizeof(struct page_info) +
				buddy_nr_sections(lo, hi) * sizeof(struct page_info *) +
				nr_present * sizeof(uint32_t),
			PAGE_SIZE);
}

/**
 * Start the zone over frames [@p lo, @p hi) with its metadata at @p meta
 * (a kernel address, @p metadata_bytes from frame_zone_metadata_bytes()):
 * the page_info of each section for which @p has_ram(first frame, end
 * frame) is true, one after the other, all PAGE_RESERVED; the sections
 * table (buddy.h); the list of present sections, with which page_to_pa()
 * finds a page_info's frame in O(1). Boot only.
 */
void frame_zone_init(void *meta, pfn_t lo, pfn_t hi, bool (*has_ram)(pfn_t start, pfn_t end),
		     uint64_t metadata_bytes);
/** Give frames [@p start, @p end) to the zone. @return frames added. Boot only. */
uint64_t frame_zone_add(pfn_t start, pfn_t end);
/**
 * Open the zone for business: count the @p ram_frames - total frames of RAM
 * it does not manage as reserved, and set the default watermarks
 * (frames_default_watermarks()). Boot only.
 */
void frame_zone_ready(uint64_t ram_frames);
/**
 * The watermarks frame_zone_ready() sets for @p total managed frames:
 * min = total/256 but at least 16 frames and at most total/4 (the emergency
 * reserve: 1 MiB per 256 MiB), low = min * 5/4, high = min * 3/2 (Linux
 * spaces its watermarks a quarter and a half of min apart the same way).
 */
struct frame_watermarks frames_default_watermarks(uint64_t total);

/**
 * The INIT_FRAMES initcall (memmap.c): build the memory map from `machine`,
 * place the page_info array, give every usable frame to the zone, print the
 * summary. Not static so that ch1/hosttest/test_memmap.c can run it on made-up
 * machines. @return 0, or -ENOMEM if there is no RAM, no room for the
 * metadata, or no frame reached the free lists.
 */
int frames_init(void);

/**
 * Why @p page is not the page_info of the head of an allocated block, or
 * NULL if it is; any pointer may be passed. Read without the lock: for
 * page_ref.c and page_flags.c, whose callers own the block they name.
 */
static inline const char *page_not_allocated_head(const struct page_info *page)
{
	if (!page_to_pa(page))
		return "not a page_info of the frame allocator";
	switch (__atomic_load_n(&page->state, __ATOMIC_RELAXED)) {
	case PAGE_ALLOC_HEAD:
		return NULL;
	case PAGE_RESERVED:
		return "reserved frame, never handed out";
	case PAGE_FREE_HEAD:
	case PAGE_PCP:
		return "free frame";
	default:
		return "not the first frame of an allocated block";
	}
}

/**
 * For put_page() (page_ref.c): free the block of 2^@p order frames at @p pa
 * as frames_free_order() does, but when the block is still shared (a
 * get_page() came in after the put read a count of 1) return -EBUSY
 * without counting or reporting it: the put tries again.
 */
int frames_free_last_ref(paddr_t pa, unsigned order);
/** Count one refused free in frame_stats.bad_frees (a refused put_page()). */
void frames_count_bad_free(void);

/**
 * Tests: the free lists' digest (per-order counts, sums, xors of pfns),
 * taken after frames_drain_caches(), so that every free frame is on a list.
 */
void frames_digest(struct buddy_digest *d);
/** Tests: buddy_check() under the lock; NULL if every invariant holds. */
const char *frames_check(void);
/** Tests: true if the frame holding @p pa is free: on a free list or in a hart's cache. */
bool frames_is_free(paddr_t pa);
/**
 * Tests: take every registered shrinker out (into @p saved, MAX_SHRINKERS
 * entries), so a test that drains memory sees only its own frames move.
 * @return how many were saved; hand that to frames_shrinkers_restore().
 */
int frames_shrinkers_save(frame_shrinker_fn saved[MAX_SHRINKERS]);
/** Tests: put back the @p n shrinkers frames_shrinkers_save() took out. */
void frames_shrinkers_restore(const frame_shrinker_fn saved[MAX_SHRINKERS], int n);

#endif
