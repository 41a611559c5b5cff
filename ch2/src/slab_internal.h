/*
 * The inside of the slab allocator: struct kmem_cache, struct slab and the
 * functions its files share (slab.c, slab_lists.c, array_cache.c,
 * slab_offslab.c, slab_reap.c, slab_cache.c, slab_stats.c, slab_debug.c,
 * kmalloc.c; the fast path inline in array_cache.h). Not for users of the
 * heap (they have slab.h and kmalloc.h); host tests include it to check
 * invariants.
 *
 * A slab of 2^order frames (here order 0, one 4 KiB frame, objects of 48 B):
 *
 *   base                                                  base + 4096
 *   |obj 0|obj 1|obj 2| ...                    |obj 83| tail |struct slab|
 *      |            ^                                         freelist ---+
 *      +--free ptr--+--> ... --> NULL     (only free objects are chained)
 *
 * Every frame of the block has page_info.private = the struct slab's address,
 * so kfree(p) finds the slab (and from it the cache) from p alone.
 */
#ifndef MMLAB_SLAB_INTERNAL_H
#define MMLAB_SLAB_INTERNAL_H

#include "asmdefs.h"
#include "frame.h"
#include "heap_debug.h"
#include "heap_env.h"
#include "kmalloc.h"
#include "list.h"
#include "slab.h"
#include "spinlock.h"
#include "types.h"

#define SLAB_MAGIC	0x51ab51abu /* in every live struct slab */
#define ARRAY_CACHE_MAX 120	    /* largest limit of an array_cache */
#define SLAB_KEEP_EMPTY 2	    /* empty slabs a cache keeps when ch1 is not short */

/* Internal cache flags (above the public SLAB_* ones). */
#define SLAB_KMALLOC  0x100u /* a kmalloc size class: never destroyed */
#define SLAB_OFF_SLAB 0x200u /* struct slab kept off the slab (slab_offslab.c; SLAB's CFLGS_OFF_SLAB) */

/* A local, empty list called @p name. */
#define LIST_HEAD_DECL(name) struct list_head name = LIST_HEAD_INIT(name)

/* ch1's flags for frames taken on behalf of a request with KMALLOC_* @p kflags. */
static inline unsigned to_frame_flags(unsigned kflags)
{
	return ((kflags & KMALLOC_ZERO) ? FRAME_ZERO : 0) |
	       ((kflags & KMALLOC_EMERGENCY) ? FRAME_EMERGENCY : 0);
}

/* Which list a slab is on. */
enum slab_list { SLAB_PARTIAL, SLAB_FULL, SLAB_EMPTY };

/** One slab: lives in the last bytes of its own block of frames. */
struct slab {
	struct list_head list;	  /**< on cache->partial, ->full or ->empty */
	struct kmem_cache *cache; /**< the cache it belongs to */
	void *freelist;		  /**< first free object, NULL if none */
	void *base;		  /**< first byte of the block (2^order frames) */
	uint32_t inuse;		  /**< objects not on the freelist (with quarantined ones) */
	uint32_t objects;	  /**< objects the slab holds */
	uint16_t quarantined;	  /**< debug: objects refused for good */
	uint8_t order;		  /**< the block is 2^order frames */
	uint8_t on_list;	  /**< enum slab_list */
	uint32_t magic;		  /**< SLAB_MAGIC while the slab is live */
};

/**
 * A hart's array of free objects for one cache, used as a stack: the objects
 * kmem_cache_free() pushed last are the first kmem_cache_alloc() pops, warm
 * in the hart's data cache (Bonwick's magazine).
 *
 * Follows Linux SLAB's struct array_cache (mm/slab.c, up to Linux 6.7:
 * avail, limit, batchcount, entry[]). Not SLUB's struct kmem_cache_cpu,
 * which points at one slab that its CPU allocates from (the slab and its
 * freelist), not at loose objects of any slab. Ours differs from SLAB's:
 * - a fixed entry[ARRAY_CACHE_MAX] in an array of MAX_HARTS inside struct
 *   kmem_cache (cpu_cache[]), not one per-CPU allocation sized by limit;
 * - a `lock` word: only its hart pushes and pops, with interrupts off, but it
 *   takes the lock too so that a shrink on another hart can drain the array
 *   (Linux sends each CPU an IPI to drain its own, drain_cpu_caches());
 *   uncontended it costs one atomic swap and one store;
 * - no `touched` and no periodic reaping (cache_reap()): arrays are drained
 *   only by a shrink; no shared or alien (NUMA) arrays.
 */
struct array_cache {
	uint32_t lock;		      /**< 1 while someone works on this array */
	uint32_t avail;		      /**< objects in entry[] */
	uint32_t limit;		      /**< at most this many */
	uint32_t batchcount;	      /**< moved to or from the slabs at a time */
	uint32_t touched;	      /**< used since the last reap (slab_reap.c) */
	void *entry[ARRAY_CACHE_MAX]; /**< the free objects; entry[avail - 1] is the top */
};

/** A cache of objects of one size (see slab.h). */
struct kmem_cache {
	struct spinlock lock; /**< protects the lists, the slabs and the counters */
	unsigned flags;	      /**< SLAB_* */
	uint32_t object_size; /**< bytes of an object the user may touch */
	uint32_t size;	      /**< stride: bytes from one object to the next */
	/** 2^32 / size, rounded up: obj_to_index() multiplies by it instead of dividing (SLUB's) */
	uint32_t reciprocal_size;
	uint32_t align; /**< every object address is a multiple of this */
	/** object start in its stride: 0, or debug's left red zone (SLAB's obj_offset) */
	uint32_t obj_offset;
	uint32_t offset;	  /**< free pointer offset, from the object start (SLUB's s->offset) */
	uint32_t meta_offset;	  /**< debug: struct obj_meta, from the object start */
	uint32_t red_left;	  /**< debug: bytes of left red zone */
	uint8_t order;		  /**< preferred slab order */
	uint8_t min_order;	  /**< smallest order that holds one object (fallback) */
	uint16_t objects;	  /**< objects per slab of the preferred order */
	struct list_head partial; /**< Slabs with some objects free (allocations come from here first). */
	struct list_head full;	  /**< Slabs with no object free. */
	struct list_head empty;	  /**< Slabs with every object free. */
	uint64_t nr_partial;	  /**< Slabs on partial. */
	uint64_t nr_full;	  /**< Slabs on full. */
	uint64_t nr_empty;	  /**< Slabs on empty. */
	uint64_t nr_frames;	  /**< frames held by all slabs */
	uint64_t nr_objects;	  /**< capacity of all slabs */
	uint64_t inuse;		  /**< objects out of the slabs (users' + per-hart arrays') */
	uint64_t quarantined;	  /**< debug: objects refused for good */
	uint64_t requested_waste; /**< debug kmalloc: class size - request, summed over live objects */
	uint64_t errors;	  /**< misuse detected on this cache */
	struct list_head chain;	  /**< on the list of all caches */
	char name[SLAB_NAME_MAX]; /**< for messages and statistics */
	struct array_cache cpu_cache[MAX_HARTS]; /**< each hart's array of free objects (SLAB's cpu_cache) */
};

/** Debug: what an object is, in its metadata. */
enum obj_state { OBJ_FREE = 0x0f4ee0f4, OBJ_ALLOC = 0xa110ca7e, OBJ_QUARANTINE = 0x0bad0bad };
/** Debug metadata after an object's right red zone. */
struct obj_meta {
	void *free_next;	/**< the free pointer, kept out of the poisoned object */
	uintptr_t alloc_caller; /**< who allocated it last */
	uintptr_t free_caller;	/**< who freed it last */
	uint32_t state;		/**< enum obj_state */
	uint32_t requested;	/**< bytes asked for (kmalloc); object_size otherwise */
};

/* --- slab.c: one slab ------------------------------------------------------ */

/* Address of object @p i of @p slab. */
static inline void *slab_obj(const struct kmem_cache *s, const struct slab *slab, unsigned i)
{
	return (char *)slab->base + (size_t)i * s->size + s->obj_offset;
}

/* The free pointer of free object @p obj: the next free object, or NULL. */
static inline void *get_freepointer(const struct kmem_cache *s, void *obj)
{
	return *(void **)((char *)obj + s->offset);
}

/* Make @p next the object after free object @p obj on its slab's freelist. */
static inline void set_freepointer(const struct kmem_cache *s, void *obj, void *next)
{
	*(void **)((char *)obj + s->offset) = next;
}

/*
 * @p off / s->size, for an offset inside a slab (below 2^15: SLAB_MAX_ORDER),
 * by a multiplication: a division takes tens of cycles, and kfree() needs one
 * (Linux SLUB's obj_to_index() and reciprocal_divide()). Exact: with
 * r = ceil(2^32 / size), off * r / 2^32 exceeds off / size by less than
 * 2^-17, too little to reach the next integer, which is 1/size >= 2^-15 away.
 */
static inline uint32_t obj_to_index(const struct kmem_cache *s, uint32_t off)
{
	return (uint32_t)(((uint64_t)off * s->reciprocal_size) >> 32);
}

/*
 * The slab of @p obj, an object known to lie in a live slab (one taken from
 * a hart's array: checked when it was pushed, and its slab cannot go while
 * it is out), with none of page_to_slab()'s checks.
 */
static inline struct slab *obj_to_slab(const void *obj)
{
	return (struct slab *)(uintptr_t)pa_to_page(heap_kva_to_pa(obj))->private;
}

/* Chain every object of a new slab onto its freelist, object 0 first. */
void slab_init_freelist(struct kmem_cache *s, struct slab *slab);
/* Take the first free object off @p slab's freelist; NULL if none. */
void *slab_take_object(struct kmem_cache *s, struct slab *slab);
/* Put allocated object @p obj back on @p slab's freelist: 0, or -ENOSYS (the stub). */
int slab_put_object(struct kmem_cache *s, struct slab *slab, void *obj);
/* Objects a slab of @p order frames holds. */
unsigned order_objects(const struct kmem_cache *s, unsigned order);
/* A new slab from ch1, on no list, or NULL (call with no lock held: ch1 may call our shrinker). */
struct slab *new_slab(struct kmem_cache *s, unsigned kflags);
/* Give a detached slab's frames back to ch1 (no locks held). */
void discard_slab(struct slab *slab);
/* Give back every slab on @p list (no locks held). @return frames freed. */
uint64_t discard_slabs(struct list_head *list);
/*
 * The slab that holds @p p, or NULL if @p p is not in a live slab. Any
 * pointer may be passed: page_info.private is checked before it is trusted.
 */
struct slab *virt_to_slab(const void *p);
/*
 * Index of object @p p in @p slab, or -1 if @p p is not an object's start.
 * Inline: every kfree() asks it.
 */
static inline long slab_obj_index(const struct kmem_cache *s, const struct slab *slab, const void *p)
{
	uintptr_t first = (uintptr_t)slab->base + s->obj_offset;
	if ((uintptr_t)p < first)
		return -1;
	uintptr_t off = (uintptr_t)p - first;
	if (off >= (PAGE_SIZE << slab->order))
		return -1; /* also keeps obj_to_index() exact */
	uintptr_t idx = obj_to_index(s, off);
	if (off != idx * s->size)
		return -1;
	return idx < slab->objects ? (long)idx : -1;
}

/* --- slab_lists.c: a cache's three lists, under its lock -------------------- */

/* The counter of list @p which of @p s. */
static inline uint64_t *list_count(struct kmem_cache *s, enum slab_list which)
{
	return which == SLAB_PARTIAL ? &s->nr_partial : which == SLAB_FULL ? &s->nr_full : &s->nr_empty;
}

/* List @p which of @p s. */
static inline struct list_head *list_of(struct kmem_cache *s, enum slab_list which)
{
	return which == SLAB_PARTIAL ? &s->partial : which == SLAB_FULL ? &s->full : &s->empty;
}

/* Take @p slab off its list and out of the counters onto @p to, to be discarded. Cache lock held. */
void detach_slab(struct kmem_cache *s, struct slab *slab, struct list_head *to);
/* Move up to @p n free objects from the slabs into @p out. Cache lock held. @return how many. */
unsigned take_objects(struct kmem_cache *s, void **out, unsigned n);
/* Give @p obj (from a hart's array) back to its slab; emptied slabs may go onto @p release. Cache lock held. */
void put_object(struct kmem_cache *s, void *obj, struct list_head *release);
/* Get a new slab and take one object from it (no lock held). */
void *alloc_from_new_slab(struct kmem_cache *s, unsigned kflags, uintptr_t caller, size_t requested);
/* Allocate one object under the cache lock (debug caches, SLAB_NO_CPU_CACHE). */
void *alloc_locked(struct kmem_cache *s, unsigned kflags, uintptr_t caller, size_t requested);
/* Free one object under the cache lock (debug caches, SLAB_NO_CPU_CACHE): 0 or -EINVAL. */
int free_locked(struct kmem_cache *s, struct slab *slab, void *obj, uintptr_t caller);

/* --- array_cache.c: each hart's array, the alloc and free entry points ------ */

/* slab_alloc(), slab_free(): the inline fast path, in array_cache.h. */
/* Empty every hart's array of @p s into the slabs; emptied slabs may go onto @p release. */
void drain_cpu_caches(struct kmem_cache *s, struct list_head *release);
/* Count the harts, once, before the first array is used (slab_init()). */
void array_cache_init(void);

/* --- slab_cache.c: creating, shrinking, destroying caches ------------------- */

extern struct kmem_cache cache_cache; /* the cache of struct kmem_cache itself */
extern struct list_head cache_chain;  /* every cache, by kmem_cache.chain */
extern struct spinlock chain_lock;    /* protects cache_chain */

/* Set up a cache in memory the caller owns (kmalloc's static size classes). */
int kmem_cache_init(struct kmem_cache *s, const char *name, size_t size, size_t align, unsigned flags);
/* Set up the cache of caches (once, before any kmem_cache_create()). */
void slab_init(void);
/* What kmalloc_shrink() does for every cache. */
uint64_t kmem_shrink_all(void);
/* Empty every hart's array of @p s and detach every empty slab onto @p release (no lock held). */
void cache_release_free(struct kmem_cache *s, struct list_head *release);

/* --- slab_reap.c: giving back what idle caches hold -------------------------- */

/* @p growing is about to take a new slab from ch1: now and then, reap the idle caches first (no lock held). */
void kmem_reap(struct kmem_cache *growing);

/* --- slab_offslab.c: headers kept off the slab ------------------------------- */

/*
 * Whether @p page (or NULL) is a frame someone holds: neither reserved nor
 * free (a free head, or a frame in one of ch1's caches); its private word is
 * then its owner's. A frame inside a free block reads PAGE_TAIL and passes:
 * callers check what the private word says.
 */
static inline bool page_allocated(const struct page_info *page)
{
	return page && page->state != PAGE_RESERVED && !page_is_free(page);
}

extern struct kmem_cache slab_header_cache; /* struct slab of the off-slab caches */

/* Whether @p s (its stride set) should keep its slab headers off the slab. */
bool want_off_slab(const struct kmem_cache *s);
/* Set up slab_header_cache (slab_init(), once). */
void slab_header_init(void);
/* A header for a new off-slab slab, or NULL (no lock held). */
struct slab *slab_header_alloc(unsigned kflags);
/* Give back an off-slab header (no lock held). */
void slab_header_free(struct slab *slab);
/*
 * Whether @p priv (a page_info.private word, any value) may be read as an
 * off-slab header: all of it in one allocated frame of RAM, so that reading
 * it cannot fault. page_to_slab() then checks what it says (the magic, and
 * that its block holds the pointer), as it does for a header on the slab.
 */
static inline bool slab_header_readable(uintptr_t priv)
{
	paddr_t pa = heap_kva_to_pa((const void *)priv);
	if (!pa || (priv & (PAGE_SIZE - 1)) > PAGE_SIZE - sizeof(struct slab))
		return false;
	return page_allocated(pa_to_page(pa));
}

/* --- slab.c again: from a pointer to its slab (needs slab_header_readable()) -- */

/* Whether @p priv can be the on-slab header of a block holding @p p: 8-aligned in the same block, after p. */
static inline bool header_on_slab(uintptr_t priv, const void *p)
{
	uintptr_t frame = ALIGN_DOWN((uintptr_t)p, PAGE_SIZE);
	if (priv < frame || priv - frame > (PAGE_SIZE << SLAB_MAX_ORDER) - sizeof(struct slab))
		return false;
	if (priv - frame >= PAGE_SIZE) {
		/* The header is in a later frame: make sure that one is RAM and ours too. */
		struct page_info *hp = pa_to_page(heap_kva_to_pa(p) + (priv - (uintptr_t)p));
		if (!hp || hp->private != priv)
			return false;
	}
	return true;
}

/*
 * virt_to_slab(), when the caller has @p p's page_info (or NULL) already:
 * page_info.private of p's frame names the slab. Checked before it is
 * trusted, so that any pointer at all (one into another owner's frame, whose
 * private word means something else) gives NULL, not a fault. Inline: every
 * kfree() asks it.
 */
static inline struct slab *page_to_slab(struct page_info *page, const void *p)
{
	if (!page_allocated(page))
		return NULL;
	uintptr_t priv = page->private;
	if (priv & 7)
		return NULL;
	bool on = header_on_slab(priv, p);
	if (!on && !slab_header_readable(priv))
		return NULL; /* nor off the slab (slab_offslab.c) */
	struct slab *slab = (struct slab *)priv;
	if (slab->magic != SLAB_MAGIC || (uintptr_t)p < (uintptr_t)slab->base ||
	    (uintptr_t)p >= (on ? priv : (uintptr_t)slab->base + (PAGE_SIZE << slab->order)))
		return NULL;
	return slab;
}

/* --- slab_stats.c ----------------------------------------------------------- */

/* Frames held by the heap (slabs + large blocks), and changes to it. */
void heap_frames_add(int64_t frames);

/* --- kmalloc.c --------------------------------------------------------------- */

/* kmalloc's initcall (the host tests call it directly). */
int kmalloc_init(void);

/* --- slab_debug.c ---------------------------------------------------------- */

/* Lay out a debug object: left red zone, object, right red zone, meta. */
void debug_layout(struct kmem_cache *s);
static inline struct obj_meta *obj_meta(const struct kmem_cache *s, const void *obj)
{
	return (struct obj_meta *)((char *)obj + s->meta_offset);
}
/* A new slab's object: poisoned, red zones inactive, state free. */
void debug_init_object(struct kmem_cache *s, void *obj);
/* On the way out: check poison and red zones. false: quarantine it. */
bool debug_check_alloc(struct kmem_cache *s, void *obj, uintptr_t caller);
/* Mark @p obj allocated for @p requested bytes by @p caller. */
void debug_mark_alloc(struct kmem_cache *s, void *obj, size_t requested, uintptr_t caller);
/*
 * Resize allocated object @p obj in place to @p requested bytes (its red
 * zone then starts there). Refused (false, nothing changed) unless @p obj is
 * allocated with both red zones intact, so that a resize never paints over
 * the evidence of an overflow: the caller then moves the block, and the free
 * of the old one reports it.
 */
bool debug_set_requested(struct kmem_cache *s, void *obj, size_t requested);
/*
 * On the way back: 0 to free it, -EINVAL to refuse it (reported), or 1 to
 * refuse and quarantine it (red zone broken; reported).
 */
int debug_check_free(struct kmem_cache *s, void *obj, uintptr_t caller);
/* Poison @p obj and mark it free by @p caller. */
void debug_mark_free(struct kmem_cache *s, void *obj, uintptr_t caller);
/* Offset of the first byte of [p, p+n) that is not @p byte, or -1 (red zones, poison). */
long debug_first_mismatch(const void *p, int byte, size_t n);
/* Report one misuse: a line on the console, the counters, the last report. */
void heap_report(enum heap_error kind, const void *ptr, const struct kmem_cache *s, uintptr_t caller,
		 long offset, const char *detail);

#include "array_cache.h" /* the fast path, inline; needs all of the above */

#endif
