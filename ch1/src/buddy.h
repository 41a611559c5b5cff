/**
 * @file buddy.h
 * @brief ch1 (internal): the buddy system itself, as pure logic.
 *
 * A struct buddy manages the frames [base_pfn, base_pfn + nr_pages) through
 * one struct page_info per frame. It keeps no lock, prints nothing and never
 * touches the frames' contents, so the same file builds into the kernel (where
 * frame.c wraps it in a spinlock) and into a host program (ch1/hosttest) that
 * runs it under AddressSanitizer against a model.
 *
 * The page_info array is sparse, as Linux's sparsemem is: the frames are cut
 * into sections of 2^MAX_ORDER frames (4 MiB), and only a section that holds
 * some RAM has its page_info (sections[s] points at them; NULL for a hole).
 * A hole in RAM then costs 8 bytes per 4 MiB instead of 16 bytes per frame.
 * A block of any order lies inside one section, and so does its buddy: the
 * buddy of a block of order k < MAX_ORDER differs from it only in bit k of
 * its index, below the section's bits. So the buddy system never looks
 * outside a section it already has, and needs no bounds check to merge.
 * buddy_page() finds a frame's page_info.
 *
 * The rules every function keeps (checked by buddy_check()):
 * - a frame never handed to the buddy is PAGE_RESERVED;
 * - every other frame belongs to exactly one block of 2^order frames, aligned
 *   to 2^order frames; the block's first frame (its head) is PAGE_FREE_HEAD
 *   or PAGE_ALLOC_HEAD and holds the order, every other frame is PAGE_TAIL;
 * - free blocks of order k sit on free list k, and no two free blocks of the
 *   same order are buddies (they would have been merged);
 * - an allocated head holds 1 reference or more (page.h), a free head none;
 * - a frame lent to a hart's frame cache (buddy_alloc_bulk()) is a block of
 *   order 0 on no free list, PAGE_PCP, with no reference.
 *
 * Free lists are doubly linked through page_info.free.next/prev, which hold
 * indices into the page_info array (BUDDY_NONE ends a list): 4-byte links
 * where pointers would take 8, as Linux's struct page packs its list_head.
 *
 * Reference: Knuth TAOCP vol. 1, 2.5 (the buddy system); Linux
 * mm/page_alloc.c (expand(), __free_one_page(), is_free_buddy_page()).
 */
#ifndef MMLAB_CH1_BUDDY_H
#define MMLAB_CH1_BUDDY_H

#include "frame.h"
#include "types.h"

/** "No block": the end of a free list, an empty list. */
#define BUDDY_NONE UINT32_MAX
/** Returned instead of a frame number when there is none. */
#define BUDDY_NO_PFN ((pfn_t)-1)

/** log2 of the frames in a section: one block of the largest order. */
#define SECTION_ORDER MAX_ORDER
/** Frames in a section (1024: 4 MiB). */
#define SECTION_FRAMES (1UL << SECTION_ORDER)

/** One buddy allocator over a sparse page_info array. */
struct buddy {
	struct page_info **sections; /**< sections[s]: the SECTION_FRAMES page_info of section s, or NULL. */
	pfn_t base_pfn;		     /**< First frame of the span; aligned to SECTION_FRAMES. */
	uint64_t nr_pages;	     /**< Frames in the span: a whole number of sections. */
	uint32_t free_list[MAX_ORDER + 1]; /**< First free block of each order (an index), or BUDDY_NONE. */
	uint64_t nr_free[MAX_ORDER + 1];   /**< Free blocks of each order. */
	uint64_t free_frames;		   /**< Frames on all the free lists. */
};

/** A summary of the free lists, to compare two states of a buddy cheaply. */
struct buddy_digest {
	uint64_t blocks[MAX_ORDER + 1];	 /**< Free blocks of each order. */
	uint64_t pfn_sum[MAX_ORDER + 1]; /**< Sum of their first pfns. */
	uint64_t pfn_xor[MAX_ORDER + 1]; /**< Xor of their first pfns. */
	uint64_t free_frames;		 /**< Frames on the free lists. */
};

/** The first frame of the span of a buddy over [@p lo, ...): @p lo aligned down to a section. */
static inline pfn_t buddy_base(pfn_t lo) { return ALIGN_DOWN(lo, SECTION_FRAMES); }
/** Sections in the span of a buddy over frames [@p lo, @p hi): the sections table's entries. */
static inline uint64_t buddy_nr_sections(pfn_t lo, pfn_t hi)
{
	return (ALIGN_UP(hi, SECTION_FRAMES) - buddy_base(lo)) >> SECTION_ORDER;
}

/** True if frame @p idx (an index from base_pfn) is in the span and its section has page_info. */
static inline bool buddy_has(const struct buddy *b, uint64_t idx)
{
	return idx < b->nr_pages && b->sections[idx >> SECTION_ORDER] != NULL;
}

/** The page_info of frame @p idx (an index from base_pfn). @pre buddy_has(b, idx). */
static inline struct page_info *buddy_page(const struct buddy *b, uint64_t idx)
{
	return &b->sections[idx >> SECTION_ORDER][idx & (SECTION_FRAMES - 1)];
}

/**
 * Make @p b an empty allocator over frames [@p lo, @p hi): every frame
 * PAGE_RESERVED, every list empty.
 * @param b the allocator to set up.
 * @param sections buddy_nr_sections(lo, hi) entries, one per section from
 *        buddy_base(lo) on: SECTION_FRAMES page_info each, or NULL for a
 *        section with no RAM (no frame in it may ever be added).
 * @param lo the lowest frame number to manage.
 * @param hi one past the highest.
 * @pre lo < hi, and the span is fewer than BUDDY_NONE frames.
 */
void buddy_init(struct buddy *b, struct page_info **sections, pfn_t lo, pfn_t hi);

/**
 * Give the frames [@p start, @p end) to the allocator. The range is cut into
 * maximal aligned blocks, each freed through the merge path, so the result is
 * the one fully merged state whatever order ranges are added in.
 * @pre every frame in the range is in a section that has page_info, and PAGE_RESERVED.
 * @return frames added: end - start, or fewer if freeing failed (a handout
 *         stub); frames not added stay PAGE_RESERVED.
 */
uint64_t buddy_add_range(struct buddy *b, pfn_t start, pfn_t end);

/**
 * Allocate a block of 2^@p order frames, splitting a larger free block if
 * none of that order is free (Linux expand(): the lower half is kept, the
 * upper half goes on the list one order down).
 * @return the block's first frame, or BUDDY_NO_PFN if no block is large
 *         enough or order > MAX_ORDER. The head becomes PAGE_ALLOC_HEAD with
 *         refcount 1.
 */
pfn_t buddy_alloc(struct buddy *b, unsigned order);

/**
 * Free the block of 2^@p order frames at @p pfn, merging it with its buddy
 * while the buddy is a free block of the same order.
 * @return 0; -EINVAL (nothing changed, *@p why says why) if @p pfn is not
 *         the head of an allocated block of exactly that order on its own
 *         (a block that is part of a multi-block run must be freed with
 *         buddy_free_range()); -EBUSY (nothing changed, *@p why says
 *         why) if the block is still shared: the free takes its reference
 *         count from 1 to 0, and any other count refuses it; -ENOSYS from a
 *         handout stub.
 */
int buddy_free(struct buddy *b, pfn_t pfn, unsigned order, const char **why);

/**
 * Allocate @p n contiguous frames, 1 <= n <= 2^MAX_ORDER: a block of the
 * order that covers n, whose unused tail goes back to the free lists. The n
 * frames become the run of aligned blocks n decomposes into (see
 * buddy_free_range()).
 * @return the first frame, or BUDDY_NO_PFN.
 */
pfn_t buddy_alloc_run(struct buddy *b, uint64_t n);

/**
 * Lend up to @p n order-0 blocks to a frame cache, as buddy_alloc(b, 0)
 * would hand them out one by one, each marked PAGE_PCP with no reference
 * (Linux rmqueue_bulk(), which fills a per-cpu page list).
 * @param b the allocator.
 * @param pfns gets the frames, in the order buddy_alloc() would hand them
 *        out (the first lowest in a split block): room for @p n entries.
 * @param n how many frames the cache asks for.
 * @return how many were lent: fewer than n when the free lists run out.
 */
unsigned buddy_alloc_bulk(struct buddy *b, pfn_t *pfns, unsigned n);

/**
 * Take back the @p n frames @p pfns lent by buddy_alloc_bulk(), merging each
 * as buddy_free() would (Linux free_pcppages_bulk()). A frame that is not
 * PAGE_PCP is skipped: a cache hands back only what it holds.
 * @return how many went back on the free lists.
 */
unsigned buddy_free_bulk(struct buddy *b, const pfn_t *pfns, unsigned n);

/**
 * True if every frame of [@p pfn, @p pfn + @p n) lies in a free block.
 * @pre every frame of the range is in a section that has page_info.
 */
bool buddy_range_is_free(const struct buddy *b, pfn_t pfn, uint64_t n);

/** True if frame @p pfn lies in a free block (false outside the span or in a hole). */
bool buddy_is_free(const struct buddy *b, pfn_t pfn);

/**
 * Allocate exactly the frames [@p pfn, @p pfn + @p n): take the free blocks
 * that cover the range off their lists, mark the range as allocated (the run
 * of maximal aligned blocks it decomposes into) and free what the covering
 * blocks held outside it.
 * @return 0; -EINVAL if n is 0 or the range leaves the frames described
 *         (the span, or a section with no page_info); -EBUSY if a frame in
 *         it is not free (nothing changed); -ENOSYS from a stub.
 */
int buddy_claim(struct buddy *b, pfn_t pfn, uint64_t n);

/**
 * Free the @p n frames at @p pfn that buddy_alloc_run() or buddy_claim()
 * handed out (or a single block of buddy_alloc() when n is its size). Every
 * block the range decomposes into is checked first: it must be an allocated
 * head of exactly that order, and the run must start and end where the
 * allocation did, so a wrong n or a double free is refused as a whole.
 * @return 0; -EINVAL (nothing changed, *@p why says why); -EBUSY if a
 *         block is still shared, as for buddy_free(); -ENOSYS from a stub.
 */
int buddy_free_range(struct buddy *b, pfn_t pfn, uint64_t n, const char **why);

/**
 * The lowest run of @p n free frames inside [@p lo, @p hi) (clipped to the
 * span; a hole ends a run), found by walking blocks, not frames, wherever it can.
 * @return its first frame, or BUDDY_NO_PFN.
 */
pfn_t buddy_find_run(const struct buddy *b, uint64_t n, pfn_t lo, pfn_t hi);

/** Fill @p d with the free lists' per-order counts, sums and xors of pfns. */
void buddy_digest(const struct buddy *b, struct buddy_digest *d);

/**
 * Check every rule above (O(frames described)).
 * @return NULL if they all hold, else a description of the first broken one.
 */
const char *buddy_check(const struct buddy *b);

#endif
