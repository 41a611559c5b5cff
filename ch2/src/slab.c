/*
 * ch2: one slab — its objects, its freelist, and getting it from ch1 and
 * giving it back (Bonwick 1994; Linux mm/slub.c: get_freepointer(),
 * set_freepointer(), allocate_slab(), discard_slab(); mm/slab.h:
 * virt_to_slab()).
 *
 * This is the bottom of the heap and the file with the exercises: a slab is
 * a block of 2^order frames cut into objects, with its struct slab at the
 * block's end (slab_internal.h has the picture). Its free objects are chained
 * through a free pointer stored inside each of them, s->offset bytes from
 * the object's start, so a slab needs no memory besides its header. Taking an
 * object pops the head of that chain, giving it back pushes it: nothing here
 * knows about locks, lists or harts (the callers in slab_lists.c hold the
 * cache lock).
 *
 * Around it, in the order a request meets them:
 *   array_cache.h   each hart's array of free objects: the fast path, inline
 *   array_cache.c   ... and its slow paths: refill, flush, drain
 *   slab_lists.c    a cache's partial/full/empty lists, under its lock
 *   slab.c          this file: one slab
 *   slab_offslab.c  headers kept off the slab, for sizes that leave no room
 *   slab_reap.c     giving back what idle caches hold, before growing
 *   slab_cache.c    creating, shrinking and destroying caches
 *   slab_stats.c    statistics, leak reports, consistency checks
 *   slab_debug.c    red zones, poisoning and the misuse reports
 */
#include "errno.h"
#include "panic.h"
#include "slab_internal.h"

/* ---- the student's part: one slab's freelist ----------------------------- */
/*
 * Your tools, in slab_internal.h: slab_obj(s, slab, i) is object i's address;
 * get_freepointer(s, obj) and set_freepointer(s, obj, next) read and write a
 * free object's free pointer. slab->freelist is the first free object (NULL:
 * none), slab->inuse counts the objects not on it.
 */

/* Chain every object of a new slab onto its freelist, object 0 first. */
void slab_init_freelist(struct kmem_cache *s, struct slab *slab)
{
	/* LAB BEGIN ch2 thread a new slab's objects onto its freelist */
	void *next = NULL;
	for (unsigned i = slab->objects; i-- > 0;) {
		void *obj = slab_obj(s, slab, i);
		set_freepointer(s, obj, next);
		next = obj;
	}
	slab->freelist = next;
	/* LAB STUB
	TODO("ch2", "slab_init_freelist: chain a new slab's objects");
	(void)s;
	slab->freelist = NULL;
	LAB END */
}

/*
 * Take the first free object off @p slab's freelist.
 * @return it, or NULL if the slab has none free.
 */
void *slab_take_object(struct kmem_cache *s, struct slab *slab)
{
	/* LAB BEGIN ch2 allocate an object from a slab with free objects */
	void *obj = slab->freelist;
	if (!obj)
		return NULL;
	slab->freelist = get_freepointer(s, obj);
	slab->inuse++;
	return obj;
	/* LAB STUB
	TODO("ch2", "slab_take_object: take an object from a slab");
	(void)s, (void)slab;
	return NULL;
	LAB END */
}

/*
 * Put @p obj (an allocated object of @p slab) back on the slab's freelist.
 * @return 0, or -ENOSYS (stub: the object stays allocated).
 */
int slab_put_object(struct kmem_cache *s, struct slab *slab, void *obj)
{
	/* LAB BEGIN ch2 give an object back to its slab */
	set_freepointer(s, obj, slab->freelist);
	slab->freelist = obj;
	slab->inuse--;
	return 0;
	/* LAB STUB
	TODO("ch2", "slab_put_object: give an object back to its slab");
	(void)s, (void)slab, (void)obj;
	return -ENOSYS;
	LAB END */
}

/* ---- slabs: getting them from ch1 and giving them back ------------------- */

/* Objects a slab of @p order frames holds. */
unsigned order_objects(const struct kmem_cache *s, unsigned order)
{
	size_t room = (PAGE_SIZE << order) - sizeof(struct slab);
	if (s->flags & SLAB_OFF_SLAB)
		room = PAGE_SIZE << order; /* the header is elsewhere (slab_offslab.c) */
	return room / s->size;
}

/* A new slab from ch1 (no locks held: ch1 may call our shrinker). */
struct slab *new_slab(struct kmem_cache *s, unsigned kflags)
{
	unsigned order = s->order,
		 fflags = to_frame_flags(kflags & ~KMALLOC_ZERO); /* zero the object, not the slab */
	paddr_t pa = frames_alloc_order(order, fflags);
	if (!pa && s->min_order < order) {
		order = s->min_order; /* fragmented: a smaller slab still works */
		pa = frames_alloc_order(order, fflags);
	}
	if (!pa)
		return NULL;
	char *base = heap_pa_to_kva(pa);
	struct slab *slab = (struct slab *)(base + (PAGE_SIZE << order) - sizeof(struct slab));
	if ((s->flags & SLAB_OFF_SLAB) && !(slab = slab_header_alloc(kflags))) {
		frames_free_order(pa, order);
		return NULL;
	}
	slab->cache = s;
	slab->base = base;
	slab->objects = order_objects(s, order);
	slab->inuse = 0;
	slab->quarantined = 0;
	slab->order = order;
	slab->on_list = SLAB_EMPTY;
	slab->magic = SLAB_MAGIC;
	list_init(&slab->list);
	for (unsigned i = 0; i < (1u << order); i++)
		pa_to_page(pa + i * PAGE_SIZE)->private = (uint64_t)(uintptr_t)slab;
	if (s->flags & SLAB_DEBUG)
		for (unsigned i = 0; i < slab->objects; i++)
			debug_init_object(s, slab_obj(s, slab, i));
	slab_init_freelist(s, slab);
	heap_frames_add(1 << order);
	return slab;
}

/* Give a detached slab's frames back to ch1 (no locks held). */
void discard_slab(struct slab *slab)
{
	unsigned order = slab->order;
	paddr_t pa = heap_kva_to_pa(slab->base);
	slab->magic = 0;
	for (unsigned i = 0; i < (1u << order); i++)
		pa_to_page(pa + i * PAGE_SIZE)->private = 0;
	frames_free_order(pa, order);
	heap_frames_add(-(int64_t)(1 << order));
	if (slab->cache->flags & SLAB_OFF_SLAB)
		slab_header_free(slab);
}

/* Give back every slab on @p list. @return frames freed. */
uint64_t discard_slabs(struct list_head *list)
{
	struct slab *slab, *tmp;
	uint64_t frames = 0;
	list_for_each_entry_safe(slab, tmp, list, list)
	{
		list_del(&slab->list);
		frames += 1u << slab->order;
		discard_slab(slab);
	}
	return frames;
}

/* ---- from a pointer to its slab ------------------------------------------ */

struct slab *virt_to_slab(const void *p)
{
	paddr_t pa = heap_kva_to_pa(p);
	return pa ? page_to_slab(pa_to_page(pa), p) : NULL;
}
