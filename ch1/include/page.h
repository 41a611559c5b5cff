/**
 * @file page.h
 * @brief ch1: struct page_info, the metadata of one frame, and what later
 * chapters keep in it: references, flags, the owner's private word.
 *
 * Every frame of RAM has a struct page_info (frame.h says where the array
 * lives). ch1's allocator keeps its own state in it; later chapters share it
 * without growing it, as Linux's struct page is shared (include/linux/mm.h,
 * page-flags.h, page_ref.h):
 *
 * - **References.** An allocated block has a reference count, 1 when it is
 *   handed out. get_page() adds a reference, put_page() drops one, and the
 *   put that drops the last one gives the block back to the buddy allocator.
 *   ch4 shares a frame between address spaces (fork, copy-on-write) this way.
 *   frame_free() and the other frees are for the sole holder: they refuse a
 *   block that is still shared (-EBUSY). A block goes back only when its
 *   count reaches 0, as in Linux.
 * - **Flags.** page_info.flags holds 16 bits. ch1 owns PAGE_FLAGS_CH1 (the
 *   run bits); ch4 and ch5 each have a range of their own, reserved here, and
 *   define their bits in their own headers; the rest are spare. Change them
 *   with page_set_flag() and page_clear_flag() only (atomic, on the head of
 *   an allocated block): they start at 0 when the block is allocated and are
 *   forgotten when it is freed.
 * - **The private word.** While a block is allocated, page_info.private of
 *   each of its frames belongs to whoever allocated it (ch2's slab names the
 *   slab there, kmalloc the size of a large block). The head's word is 0
 *   when the block is handed out; the other frames' words are the owner's to
 *   set before reading. Read and write it with page_private() and
 *   set_page_private().
 *
 * Every function here is safe to call on every hart at once.
 */
#ifndef MMLAB_PAGE_H
#define MMLAB_PAGE_H

#include "types.h"

/** What a frame is being used for, kept in its struct page_info. */
enum page_state {
	PAGE_RESERVED = 0, /**< Never handed out: firmware, kernel, DTB, metadata, holes. */
	PAGE_FREE_HEAD,	   /**< First frame of a free block on free list `order`. */
	PAGE_ALLOC_HEAD,   /**< First frame of an allocated block of 2^order frames. */
	PAGE_TAIL,	   /**< Any other frame of a block (free or allocated). */
	PAGE_PCP, /**< Free, in a hart's frame cache (frame.h): to the buddy, an order-0 block it lent out. */
};

/**
 * Per-frame metadata, one for every frame of each 4 MiB section that holds
 * some RAM (a sparse array, as Linux's sparsemem: see ch1/src/buddy.h):
 * 16 bytes per 4 KiB frame, 0.39% of RAM (Linux's struct page). The budget
 * is 0.5% of RAM (ch1.memmap.metadata_reserved checks it): a field added
 * here for one chapter costs every frame, so later chapters use the flags
 * and the private word instead.
 */
struct page_info {
	union {
		struct {
			uint8_t state;	/**< enum page_state. */
			uint8_t order;	/**< Block order, valid in a head frame. */
			uint16_t flags; /**< PAGE_FLAGS_CH1 and the later chapters' bits. */
		};
		/** state, order and flags as one word: the flags are changed with
		 * atomic operations on it (RV64 has no 16-bit atomics). */
		uint32_t word;
	};
	int32_t refcount; /**< References to an allocated head: 1 when allocated; 0 otherwise. */
	union {
		struct {
			uint32_t next; /**< Next free block on the list (index into the array). */
			uint32_t prev; /**< Previous free block. */
		} free;		       /**< Links while the block is free. */
		uint64_t private;      /**< The owner's word while allocated (page_private()). */
	};
};

/**
 * @name Page flags
 * Bits of page_info.flags, by owner. A later chapter defines its own bits
 * inside its range (ch4, say, `#define PG_COW 0x0001u` in its own header)
 * and never touches another range.
 * @{
 */
#define PAGE_RUN_PREV 0x4000u /**< ch1: a block of the same allocation comes before this one. */
#define PAGE_RUN_NEXT 0x8000u /**< ch1: a block of the same allocation follows this one. */
/**
 * ch1's bits: frames_alloc() of n frames hands out the run of aligned blocks
 * n decomposes into (3 frames: a block of 2, then a block of 1), and these
 * bits tie the run together so that frames_free() with a different n, or
 * frames_free_order() of one block of it, is refused. page_set_flag() and
 * page_clear_flag() refuse them.
 */
#define PAGE_FLAGS_CH1	 (PAGE_RUN_PREV | PAGE_RUN_NEXT)
#define PAGE_FLAGS_CH4	 0x00ffu /**< Bits 0-7: ch4's (copy-on-write and the like). */
#define PAGE_FLAGS_CH5	 0x0f00u /**< Bits 8-11: ch5's. */
#define PAGE_FLAGS_SPARE 0x3000u /**< Bits 12-13: not given to anyone yet. */
/** @} */

/**
 * Take a reference to the allocated block whose head is @p page (Linux
 * get_page(), page_ref_inc()). Lock-free: one atomic compare-and-swap on
 * page_info.refcount, safe on every hart at once.
 * @pre the caller holds a reference already, or otherwise knows the block
 *      stays allocated (as for Linux's get_page()): a get racing with the
 *      last put of the same block is the caller's bug.
 * @return 0; -EINVAL if @p page is not the page_info of the head of an
 *         allocated block, or the head is one block of a multi-block
 *         frames_alloc() (references are per block); -EOVERFLOW if the count
 *         is at INT32_MAX already (never wrapped). A refusal changes nothing
 *         and prints one line `frames: refused get_page of 0x...: why`.
 */
int get_page(struct page_info *page);

/**
 * Drop a reference to the allocated block whose head is @p page (Linux
 * put_page()). Dropping the last one frees the whole block through the
 * allocator's ordinary free path, under its lock; other puts are one atomic
 * compare-and-swap.
 * @return 0; -EINVAL if @p page is not the head of an allocated block on
 *         its own (as for get_page()) or holds no reference. A refusal
 *         changes nothing but frame_stats.bad_frees (a refused put is a
 *         refused free) and prints one line `frames: refused put_page of 0x...: why`.
 */
int put_page(struct page_info *page);

/**
 * True if @p page is free: the head of a free block of the buddy, or a frame
 * waiting in a hart's cache (PAGE_PCP, frame.h). A frame inside a free
 * block reads PAGE_TAIL, as one inside an allocated block does: only its
 * head says which. Reads the state once, without a lock.
 */
static inline bool page_is_free(const struct page_info *page)
{
	uint8_t state = __atomic_load_n(&page->state, __ATOMIC_RELAXED);
	return state == PAGE_FREE_HEAD || state == PAGE_PCP;
}

/** The references held to the block whose head is @p page (Linux page_ref_count()); 0 if it is free. */
static inline int page_ref_count(const struct page_info *page)
{
	return __atomic_load_n(&page->refcount, __ATOMIC_RELAXED);
}

/** get_page() of the frame at @p pa, which must be page-aligned (-EINVAL otherwise). */
int frame_get(paddr_t pa);
/** put_page() of the frame at @p pa, which must be page-aligned (-EINVAL otherwise). */
int frame_put(paddr_t pa);

/**
 * Set the bits @p flag in the flags of @p page, atomically (Linux
 * set_bit() on page->flags).
 * @return 0; -EINVAL (nothing changed) if @p flag is 0 or holds a bit of
 *         PAGE_FLAGS_CH1, or @p page is not the head of an allocated block.
 */
int page_set_flag(struct page_info *page, uint16_t flag);
/** Clear the bits @p flag of @p page, atomically. @return as page_set_flag(). */
int page_clear_flag(struct page_info *page, uint16_t flag);
/**
 * True if every bit of @p flag is set in @p page's flags (an atomic read).
 * False for a flag of 0 and for a page that is not an allocated head.
 */
bool page_test_flag(const struct page_info *page, uint16_t flag);

/**
 * The private word of @p page (Linux page_private()): its owner's, while
 * the block it belongs to is allocated; 0 in the head of a new block.
 */
static inline uint64_t page_private(const struct page_info *page) { return page->private; }

/** Set the private word of @p page to @p value (Linux set_page_private()). @pre the caller owns the block. */
static inline void set_page_private(struct page_info *page, uint64_t value) { page->private = value; }

#endif
