/**
 * @file frame.h
 * @brief ch1: the physical frame allocator (a binary buddy system).
 *
 * Every frame of RAM the device tree reports, less the kernel image, the
 * device tree blob and each reserved region, is handed out by a buddy
 * allocator (Knuth, TAOCP vol. 1, 2.5; Linux mm/page_alloc.c): free blocks
 * of 2^order frames sit on one free list per order; allocating splits a
 * larger block, freeing merges a block with its buddy (the block whose pfn
 * differs in bit `order`) while that buddy is free too.
 *
 * Addresses are physical (paddr_t); reach a frame's bytes through
 * pa_to_kva(). Functions that return a paddr_t return 0 on failure: physical
 * address 0 is never handed out. Functions that return int return 0 or a
 * negative errno and change nothing when they fail.
 *
 * Order-0 frames go through a cache on each hart first (Linux's per-cpu
 * page lists): frame_alloc() and frame_free() usually touch only their
 * hart's cache, and frames move between caches and the buddy in batches. A
 * frame in a cache is free and counted so; the caches are emptied before
 * an allocation fails, and while the zone is under pressure every frame
 * goes through the buddy (frames_drain_caches()).
 *
 * Every function here is safe to call on every hart at once. The metadata
 * of a frame, struct page_info, and the references, flags and private word
 * later chapters keep in it are in page.h.
 *
 * Reference: rCore frame_allocator, Theseus allocate_frames*, Redox
 * allocate_p2frame and PageInfo.
 */
#ifndef MMLAB_FRAME_H
#define MMLAB_FRAME_H

#include "page.h"
#include "types.h"

/** Largest order the buddy allocator keeps: blocks of 2^MAX_ORDER frames (4 MiB). */
#define MAX_ORDER 10

/** Allocation flags (an OR of these, or 0). */
#define FRAME_ZERO	0x1u /**< Fill the frames with zeros. */
#define FRAME_EMERGENCY 0x2u /**< May dip into the emergency reserve (below the min watermark). */

/** Watermarks, in frames (Linux's WMARK_MIN/LOW/HIGH). */
struct frame_watermarks {
	uint64_t min;  /**< Below this only FRAME_EMERGENCY allocations succeed: the emergency reserve. */
	uint64_t low;  /**< Below this the allocator is under pressure: caches should shrink. */
	uint64_t high; /**< Pressure ends once free frames climb back above this. */
};

/** How short of memory the allocator is (Redox's PressureState). */
enum frame_pressure {
	PRESSURE_NONE,	   /**< Free frames above low (or back above high). */
	PRESSURE_LOW,	   /**< Between min and low: give memory back if you can. */
	PRESSURE_CRITICAL, /**< Below min: only the emergency reserve is left. */
};

/** Counters, in frames. */
struct frame_stats {
	uint64_t total;		/**< Frames the allocator manages (free + used). */
	uint64_t free;		/**< Free frames: on the free lists or in the harts' caches. */
	uint64_t cached;	/**< Of those, the frames in the harts' caches. */
	uint64_t used;		/**< Frames handed out. */
	uint64_t reserved;	/**< Frames of RAM never managed (firmware, kernel, DTB, metadata). */
	uint64_t bad_frees;	/**< Frees refused as invalid since boot. */
	uint64_t failed_allocs; /**< Allocations that returned nothing since boot. */
	/** Bytes taken by the page_info of every section, and the sections table. */
	uint64_t metadata_bytes;
	uint64_t free_blocks[MAX_ORDER + 1]; /**< Free blocks per order, on the lists (not in caches). */
};

/**
 * Allocate one frame (xv6 kalloc, rCore frame_alloc).
 * @param flags FRAME_ZERO, FRAME_EMERGENCY, or 0.
 * @return its physical address, or 0 if out of memory (or if taking it would
 *         break the emergency reserve and @p flags lacks FRAME_EMERGENCY).
 */
paddr_t frame_alloc(unsigned flags);
/**
 * Free the frame at @p pa from frame_alloc() (a block of order 0). The
 * caller must hold its only reference (page.h).
 * @return 0, or -EINVAL / -EBUSY as frames_free_order() says.
 */
int frame_free(paddr_t pa);

/**
 * Allocate 2^@p order contiguous frames, aligned to 2^order frames (Redox
 * allocate_p2frame). @p flags: FRAME_ZERO, FRAME_EMERGENCY, or 0.
 * @return the first frame's address, or 0 if out of memory or order > MAX_ORDER.
 */
paddr_t frames_alloc_order(unsigned order, unsigned flags);
/**
 * Free 2^@p order frames from frames_alloc_order(). The caller must hold
 * the block's only reference: a free takes its count from 1 to 0 (Linux
 * frees a page only at 0); a shared block goes back with its last
 * put_page() instead (page.h).
 * @return 0; -EINVAL if @p pa is not page-aligned, outside RAM, not the start
 *         of an allocated block, or the block's order is not @p order;
 *         -EBUSY if the block is still shared (get_page() took a reference
 *         that no put_page() has dropped). A refused free changes nothing,
 *         counts in frame_stats.bad_frees and prints one line
 *         `frames: refused free of 0x... (n frames): why`.
 */
int frames_free_order(paddr_t pa, unsigned order);

/**
 * Allocate @p n contiguous frames (any n >= 1, even above 2^MAX_ORDER;
 * Theseus allocate_frames). Up to 2^MAX_ORDER they come from the buddy lists,
 * a block of the covering order with the unused tail given back (so a power
 * of two comes aligned to itself); larger runs, or runs no single free block
 * holds, are searched for. @p flags: FRAME_ZERO, FRAME_EMERGENCY, or 0.
 * @return the first frame's address, or 0 if no run of n free frames exists.
 */
paddr_t frames_alloc(size_t n, unsigned flags);
/**
 * Free the @p n frames at @p pa from frames_alloc(), frames_alloc_at() or
 * frames_alloc_in_range() (or a block of frames_alloc_order() of that size).
 * @return 0; -EINVAL (nothing freed, counted as a bad free) if [pa, pa + n
 *         frames) is not exactly one such allocation; -EBUSY (the same) if
 *         it is one block that is still shared (frames_free_order()).
 */
int frames_free(paddr_t pa, size_t n);

/**
 * Allocate the @p n frames starting at @p pa (Theseus allocate_frames_at).
 * @p flags: FRAME_ZERO, FRAME_EMERGENCY, or 0.
 * @return 0; -EINVAL if @p pa is misaligned, n is 0, or the range is not all
 *         RAM; -EBUSY if a frame in it is reserved or already allocated;
 *         -ENOMEM if taking it would break the emergency reserve.
 */
int frames_alloc_at(paddr_t pa, size_t n, unsigned flags);
/**
 * Allocate @p n contiguous frames lying wholly inside [@p lo, @p hi) — the
 * lowest such run (Theseus allocate_frames_in_range; for DMA limits). Bounds
 * that are not page-aligned shrink the range to the whole frames inside it.
 * @p flags: FRAME_ZERO, FRAME_EMERGENCY, or 0.
 * @return the first frame's address, or 0 if none fits.
 */
paddr_t frames_alloc_in_range(size_t n, paddr_t lo, paddr_t hi, unsigned flags);

/**
 * frames_alloc() of enough frames for @p bytes (rounded up to whole frames).
 * @p flags: as for frames_alloc(). @return 0 for 0 bytes or no memory.
 */
paddr_t frames_alloc_bytes(size_t bytes, unsigned flags);
/** frames_free() of the frames at @p pa that frames_alloc_bytes(@p bytes) took. */
int frames_free_bytes(paddr_t pa, size_t bytes);

/** Free frames: on the free lists or in the harts' caches (exact: one counter). */
uint64_t frames_nr_free(void);
/** Frames handed out. */
uint64_t frames_nr_used(void);
/** Frames managed (free + used). */
uint64_t frames_nr_total(void);
/** Fill @p out with a consistent snapshot of every counter (taken under the lock). */
void frames_get_stats(struct frame_stats *out);
/** The watermarks in force. */
struct frame_watermarks frames_watermarks(void);
/**
 * Set the watermarks to @p wm (tests use this) and re-evaluate the pressure.
 * @return 0, or -EINVAL (nothing changed) unless min <= low <= high <= total.
 */
int frames_set_watermarks(struct frame_watermarks wm);
/** The pressure state now. */
enum frame_pressure frames_pressure(void);

/**
 * A shrinker: asked to give back up to @p frames frames when an allocation is
 * about to fail; returns how many it freed. ch2 registers one for empty slabs.
 */
typedef uint64_t (*frame_shrinker_fn)(uint64_t frames);
/**
 * Register @p fn (up to 4). Before an allocation fails for want of memory,
 * every shrinker is called, with the allocator's lock not held (a shrinker
 * frees frames), and the allocation is tried once more (Linux's reclaim then
 * retry). @return 0, -EINVAL for NULL, or -ENOSPC.
 */
int frames_register_shrinker(frame_shrinker_fn fn);
/** Remove @p fn, registered with frames_register_shrinker(). @return 0 or -ENOENT. */
int frames_unregister_shrinker(frame_shrinker_fn fn);

/**
 * Give every frame in every hart's cache back to the buddy (Linux
 * drain_all_pages()). Nothing is lost or gained: cached frames are free
 * already. The allocator calls it itself before an allocation fails and
 * when the zone comes under pressure; a caller that wants the free lists
 * themselves whole (to read free_blocks, say) may call it too.
 * @return the frames given back.
 */
uint64_t frames_drain_caches(void);
/** The metadata of the frame holding @p pa, or NULL if @p pa is not RAM. O(1). */
struct page_info *pa_to_page(paddr_t pa);
/**
 * Physical address of the frame that @p page describes, or 0 if @p page is
 * not a page_info of the allocator's array (any pointer may be passed).
 */
paddr_t page_to_pa(const struct page_info *page);

/** Print the memory map summary (ranges, reserved regions, free frames, metadata). */
void frames_print_summary(void);

#endif
