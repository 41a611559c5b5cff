/**
 * @file slab.h
 * @brief ch2: slab caches — fast allocation of many objects of one size.
 *
 * A cache hands out objects of one size. It gets memory from ch1 in slabs: a
 * naturally aligned block of 2^order frames, cut into equal objects, with a
 * small header (struct slab) at its end. Free objects of a slab are chained
 * through a pointer stored inside each free object (its free pointer), so a
 * slab needs no memory beyond its header. Each slab sits on one of the
 * cache's three lists: partial (some objects free), full (none free) and
 * empty (all free). Empty slabs go back to ch1 when ch1 is short of memory.
 *
 * On top, each hart keeps a small stack of free objects per cache (Bonwick's
 * magazines, Linux SLAB's array_cache): most allocations and frees touch only
 * that stack and never the cache's lock.
 *
 * Every function here is safe on every hart at once.
 *
 * Reference: Bonwick, "The Slab Allocator: An Object-Caching Kernel Memory
 * Allocator" (USENIX Summer 1994); Bonwick and Adams, "Magazines and Vmem"
 * (USENIX 2001); Linux mm/slub.c; Redox's slab allocator.
 */
#ifndef MMLAB_SLAB_H
#define MMLAB_SLAB_H

#include "kmalloc.h"
#include "types.h"

/** Cache flags for kmem_cache_create() (an OR of these, or 0). */
#define SLAB_DEBUG	  0x1u /**< Red zones, poisoning, caller tracking: see heap_debug.h. */
#define SLAB_NO_CPU_CACHE 0x2u /**< No per-hart object stacks: every call takes the cache lock. */

/** Longest cache name kept (longer names are cut). */
#define SLAB_NAME_MAX 24
/** Largest slab: 2^SLAB_MAX_ORDER frames (so objects up to about 32 KiB). */
#define SLAB_MAX_ORDER 3

struct kmem_cache;

/** A snapshot of one cache's counters (kmem_cache_stats()). */
struct kmem_cache_stats {
	char name[SLAB_NAME_MAX];  /**< The cache's name. */
	size_t object_size;	   /**< Bytes of an object, as created (rounded up to 8). */
	size_t stride;		   /**< Bytes from one object to the next (with padding, red zones). */
	unsigned order;		   /**< Frames per slab, log2 (the preferred order). */
	unsigned objects_per_slab; /**< Objects in a slab of that order. */
	uint64_t active_objs;	   /**< Objects handed out and not freed (not counting quarantined). */
	uint64_t cached_objs;	   /**< Free objects waiting in the per-hart stacks. */
	uint64_t total_objs;	   /**< Objects all slabs could hold. */
	uint64_t quarantined;	   /**< Objects refused by debug checks, never reused. */
	uint64_t slabs;		   /**< Slabs held. */
	uint64_t partial_slabs;	   /**< ... of which partly used. */
	uint64_t full_slabs;	   /**< ... of which full. */
	uint64_t empty_slabs;	   /**< ... of which empty. */
	uint64_t frames;	   /**< Frames held by the slabs. */
	/**
	 * Bytes lost to internal fragmentation: the slab headers and unusable
	 * tails, the padding and red zones of every allocated object, and (for
	 * kmalloc in debug mode, where the request is recorded) the rounding up
	 * to the size class.
	 */
	uint64_t wasted_bytes;
	uint64_t errors; /**< Misuses detected on this cache. */
};

/**
 * Create a cache of objects of @p size bytes aligned to @p align bytes.
 *
 * @param name   for messages and statistics (copied, cut at SLAB_NAME_MAX-1).
 * @param size   bytes per object, 1 .. about 32 KiB (rounded up to 8).
 * @param align  0 (meaning 8) or a power of two up to PAGE_SIZE.
 * @param flags  #SLAB_DEBUG, #SLAB_NO_CPU_CACHE.
 * @return the cache, or NULL if an argument is invalid or memory ran out.
 *
 * Follows Linux kmem_cache_create(); no constructor.
 */
struct kmem_cache *kmem_cache_create(const char *name, size_t size, size_t align, unsigned flags);

/**
 * Destroy @p s: give all its slabs back to ch1 and free the cache.
 * @return 0; -EBUSY if objects are still allocated (they are listed with a
 *         leak report and nothing changes); -EINVAL for NULL or a kmalloc
 *         size-class cache.
 */
int kmem_cache_destroy(struct kmem_cache *s);

/**
 * Allocate one object from @p s.
 * @param s     the cache (NULL gives NULL).
 * @param flags #KMALLOC_ZERO, #KMALLOC_EMERGENCY or 0.
 * @return the object (aligned as the cache says), or NULL if out of memory.
 */
void *kmem_cache_alloc(struct kmem_cache *s, unsigned flags);

/**
 * Give @p obj back to @p s. NULL is a no-op.
 * @return 0; -EINVAL (reported, counted and refused) if @p obj is not an
 *         allocated object of @p s: a double free (without #SLAB_DEBUG, seen
 *         only when freed twice in a row), a pointer into the middle of an
 *         object, another cache's object, or memory the heap never gave out,
 *         or (debug) its red zones were overwritten.
 */
int kmem_cache_free(struct kmem_cache *s, void *obj);

/**
 * Drain the per-hart stacks of @p s and give every empty slab back to ch1.
 * @return frames released.
 */
uint64_t kmem_cache_shrink(struct kmem_cache *s);

/** Fill @p out with a snapshot of the counters of @p s. */
void kmem_cache_stats(struct kmem_cache *s, struct kmem_cache_stats *out);

/**
 * Print the objects of @p s still allocated (in debug caches, each with the
 * address of the code that allocated it, at most a few per cache).
 * @return the number of objects still allocated.
 */
uint64_t kmem_cache_leak_report(struct kmem_cache *s);

/** kmem_cache_leak_report() of every cache that has objects. @return their sum. */
uint64_t kmem_leak_report(void);

/**
 * Check the structure of @p s: every slab's header, freelist and list, and
 * the cache's counters against its slabs (Linux validate_slab_cache()).
 * @return 0, or -EINVAL after printing what is wrong.
 */
int kmem_cache_check(struct kmem_cache *s);

/** kmem_cache_check() of every cache. @return 0 or -EINVAL. */
int kmem_check_all(void);

/** The name @p s was created with. */
const char *kmem_cache_name(const struct kmem_cache *s);

#endif
