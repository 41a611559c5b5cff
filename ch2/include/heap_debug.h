/**
 * @file heap_debug.h
 * @brief ch2: what the heap's debug mode detects, and the counters tests read.
 *
 * A cache created with SLAB_DEBUG (and every kmalloc() size class while
 * kmalloc_set_debug(true) or the `debug` bootarg is in force) lays each
 * object out as
 *
 *     | left red zone | object ......... | right red zone | free ptr, callers, size |
 *
 * and checks, on every allocation and free:
 *
 * - a free of an object that is already free: double free;
 * - a free of a pointer that is not the start of an allocated object (or
 *   block) of the heap: invalid free; a free to the wrong cache: wrong cache;
 * - red-zone bytes (0xcc while allocated) overwritten: overflow or underflow
 *   (kmalloc's red zone starts right after the bytes asked for);
 * - poison bytes of a free object (0x6b, last 0xa5) changed when the object is
 *   handed out again: a write after free.
 *
 * Each detection prints one line
 *
 *     heap: <kind> of <ptr> in <cache> (caller <address>, offset <n>): <what was found>
 *
 * bumps a counter and refuses the operation: a refused free leaves the object
 * allocated; an object with a broken red zone or poison is quarantined, never
 * handed out again. Nothing panics. The checks that need no extra memory (a
 * pointer that is not an object, a large block freed twice, an object freed
 * twice in a row) run in normal mode too.
 *
 * Reference: Linux mm/slub.c debugging (SLUB_DEBUG: poison POISON_FREE 0x6b,
 * POISON_END 0xa5, red zone SLUB_RED_ACTIVE 0xcc / SLUB_RED_INACTIVE 0xbb,
 * alloc/free tracking).
 */
#ifndef MMLAB_HEAP_DEBUG_H
#define MMLAB_HEAP_DEBUG_H

#include "types.h"

#define POISON_FREE  0x6b /**< Byte of a free object. */
#define POISON_END   0xa5 /**< Last byte of a free object. */
#define RED_ACTIVE   0xcc /**< Red-zone byte of an allocated object. */
#define RED_INACTIVE 0xbb /**< Red-zone byte of a free object. */

/** Kinds of misuse. */
enum heap_error {
	HEAP_ERR_NONE = 0,	 /**< Nothing yet. */
	HEAP_ERR_DOUBLE_FREE,	 /**< The object was free already. */
	HEAP_ERR_INVALID_FREE,	 /**< Not the start of an object or block the heap gave out. */
	HEAP_ERR_WRONG_CACHE,	 /**< kmem_cache_free() to a cache the object is not from. */
	HEAP_ERR_REDZONE,	 /**< A red zone was overwritten (overflow or underflow). */
	HEAP_ERR_USE_AFTER_FREE, /**< A free object was written to (found when handed out). */
	HEAP_ERR_KINDS,		 /**< Number of kinds. */
};

/** Counters of every misuse detected since boot (by kind). */
struct heap_debug_counts {
	uint64_t count[HEAP_ERR_KINDS]; /**< Detections of each enum heap_error. */
	uint64_t total;			/**< Sum over kinds. */
};

/** The last misuse detected. */
struct heap_report {
	enum heap_error kind; /**< What it was. */
	const void *ptr;      /**< The pointer concerned. */
	uintptr_t caller;     /**< Return address in the code that called the heap. */
	long offset; /**< Red zone, use after free: first bad byte, from the object start (negative: before it). */
	char cache[24]; /**< The cache involved, or "" if none. */
};

/** Copy a snapshot of the counters into @p out. */
void heap_debug_counts(struct heap_debug_counts *out);
/** Detections of kind @p kind since boot. */
uint64_t heap_debug_count(enum heap_error kind);
/** The last detection (kind HEAP_ERR_NONE if none yet). */
struct heap_report heap_last_report(void);
/** Name of kind @p kind ("double free"). */
const char *heap_error_name(enum heap_error kind);

#endif
