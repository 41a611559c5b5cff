/*
 * ch2: a cache's slabs on its three lists, and everything done with them
 * under the cache lock (Linux mm/slab.c up to 6.7: struct kmem_cache_node's
 * slabs_partial, slabs_full and slabs_free, cache_alloc_refill() and
 * free_block(); mm/slub.c: get_partial(), add_partial(), discard_slab()).
 *
 * Every slab of a cache is on exactly one list, the one its counts call for:
 * partial (some objects free), full (none free) or empty (all free). An
 * allocation takes from a partial slab first, so that partly used slabs fill
 * up and empty ones stay empty, ready to go back to ch1; an emptied slab is
 * kept (a couple of them, for the next burst) or released.
 *
 * The callers: array_cache.c moves objects in batches between a hart's array
 * and the slabs (take_objects(), put_object()); debug caches and caches
 * without arrays allocate and free one object at a time here
 * (alloc_locked(), free_locked()), so that every object is checked under the
 * lock. A new slab is got from ch1 with no lock held (ch1 may call our
 * shrinker, which takes these locks) and only then put on the lists.
 */
#include "errno.h"
#include "slab_internal.h"

/* ---- the three lists (cache lock held) ----------------------------------- */

/* Put a new slab on the cache's empty list. */
static void attach_slab(struct kmem_cache *s, struct slab *slab)
{
	slab->on_list = SLAB_EMPTY;
	list_add(&slab->list, &s->empty);
	s->nr_empty++;
	s->nr_frames += 1u << slab->order;
	s->nr_objects += slab->objects;
}

/* Take a slab off its list and out of the counters, to be discarded. */
void detach_slab(struct kmem_cache *s, struct slab *slab, struct list_head *to)
{
	list_del(&slab->list);
	(*list_count(s, slab->on_list))--;
	s->nr_frames -= 1u << slab->order;
	s->nr_objects -= slab->objects;
	list_add(&slab->list, to);
}

/*
 * Move @p slab to the list its counts call for. A slab that had an object
 * freed goes to the front of partial, so the next allocation takes that
 * object again (LIFO: it is warm in the cache, and tests can predict it).
 */
static void slab_update_list(struct kmem_cache *s, struct slab *slab)
{
	enum slab_list to = slab->inuse == 0 ? SLAB_EMPTY : slab->freelist == NULL ? SLAB_FULL : SLAB_PARTIAL;
	if (to == slab->on_list && list_of(s, to)->next == &slab->list)
		return; /* at the front of its list already (a run of allocations from it) */
	list_del(&slab->list);
	if (to != slab->on_list) {
		(*list_count(s, slab->on_list))--;
		(*list_count(s, to))++;
		slab->on_list = to;
	}
	list_add(&slab->list, list_of(s, to));
}

/* A slab with a free object (partial first, then empty), or NULL. */
static struct slab *slab_with_free(struct kmem_cache *s)
{
	if (!list_empty(&s->partial))
		return list_entry(s->partial.next, struct slab, list);
	if (!list_empty(&s->empty))
		return list_entry(s->empty.next, struct slab, list);
	return NULL;
}

static bool under_pressure(void) { return frames_pressure() != PRESSURE_NONE; }

/*
 * After an object went back to @p slab: keep the slab, or detach it onto
 * @p release if it is empty and the cache already keeps enough empty slabs
 * or ch1 is short of frames (asked only then: a plain read, no lock taken).
 */
static void slab_after_free(struct kmem_cache *s, struct slab *slab, struct list_head *release)
{
	if (slab->inuse == 0 && (s->nr_empty >= SLAB_KEEP_EMPTY || under_pressure())) {
		detach_slab(s, slab, release);
		return;
	}
	slab_update_list(s, slab);
}

/* Set aside an object the debug checks refused: it is never handed out again. */
static void quarantine(struct kmem_cache *s, struct slab *slab, void *obj)
{
	struct obj_meta *m = obj_meta(s, obj);
	if (m->state == OBJ_ALLOC)
		s->requested_waste -= s->object_size - m->requested;
	m->state = OBJ_QUARANTINE;
	slab->quarantined++;
	s->quarantined++;
}

/*
 * Debug: the freelist after taking @p taken must still point at another free
 * object of the slab (or be NULL); a write after free into @p taken's free
 * pointer can break it, and a pointer to an allocated object or a loop would
 * hand out an object twice. If broken, the rest of the freelist is abandoned
 * (counted as quarantined) and reported.
 */
static void check_freelist(struct kmem_cache *s, struct slab *slab, void *taken)
{
	void *next = slab->freelist;
	if (!next ||
	    (next != taken && slab_obj_index(s, slab, next) >= 0 && obj_meta(s, next)->state == OBJ_FREE))
		return;
	heap_report(HEAP_ERR_USE_AFTER_FREE, taken, s, 0, s->offset, "free pointer overwritten");
	uint32_t lost = slab->objects - slab->inuse;
	slab->freelist = NULL;
	slab->inuse += lost;
	slab->quarantined += lost;
	s->inuse += lost;
	s->quarantined += lost;
}

/* ---- allocating under the cache lock ------------------------------------- */

/* Move up to @p n free objects from the slabs into @p out. Cache lock held. */
unsigned take_objects(struct kmem_cache *s, void **out, unsigned n)
{
	unsigned got = 0;
	struct slab *slab;
	while (got < n && (slab = slab_with_free(s))) {
		unsigned before = got;
		void *obj;
		while (got < n && (obj = slab_take_object(s, slab)))
			out[got++] = obj;
		slab_update_list(s, slab);
		if (got == before)
			break; /* a slab that says it has room but gives nothing (a stub) */
	}
	s->inuse += got;
	return got;
}

/* A fresh slab is on the lists: one object from it, or NULL. Cache lock held. */
static void *take_from_new(struct kmem_cache *s, struct slab *slab)
{
	attach_slab(s, slab);
	void *obj = slab_take_object(s, slab);
	if (obj)
		s->inuse++;
	slab_update_list(s, slab);
	return obj;
}

/* Get a new slab and take one object from it, for a cache without arrays or an empty array. */
__attribute__((noinline)) void *alloc_from_new_slab(struct kmem_cache *s, unsigned kflags, uintptr_t caller,
						    size_t requested)
{
	kmem_reap(s); /* reuse what idle caches hold before taking more */
	struct slab *slab = new_slab(s, kflags);
	if (!slab)
		return NULL;
	spin_lock(&s->lock);
	void *obj = take_from_new(s, slab);
	if (obj && (s->flags & SLAB_DEBUG))
		debug_mark_alloc(s, obj, requested, caller); /* a new slab: nothing to check yet */
	LIST_HEAD_DECL(release);
	if (!obj) /* the stub gives nothing: do not keep the slab */
		detach_slab(s, slab, &release);
	spin_unlock(&s->lock);
	discard_slabs(&release);
	return obj;
}

/* Debug caches and caches without arrays: everything under the cache lock. */
__attribute__((noinline)) void *alloc_locked(struct kmem_cache *s, unsigned kflags, uintptr_t caller,
					     size_t requested)
{
	spin_lock(&s->lock);
	s->cpu_cache[heap_cpu()].touched = 1; /* no array, but in use: not idle (slab_reap.c) */
	struct slab *slab;
	while ((slab = slab_with_free(s))) {
		void *obj = slab_take_object(s, slab);
		if (!obj)
			break;
		s->inuse++;
		if (s->flags & SLAB_DEBUG) {
			check_freelist(s, slab, obj);
			if (!debug_check_alloc(s, obj, caller)) {
				quarantine(s, slab, obj);
				slab_update_list(s, slab);
				continue;
			}
			debug_mark_alloc(s, obj, requested, caller);
		}
		slab_update_list(s, slab);
		spin_unlock(&s->lock);
		return obj;
	}
	spin_unlock(&s->lock);
	if (slab)
		return NULL; /* a slab with room gave nothing: the stub */
	return alloc_from_new_slab(s, kflags, caller, requested);
}

/* ---- freeing under the cache lock ---------------------------------------- */

/*
 * Give @p obj (from a hart's array, so already checked) back to its slab.
 * Cache lock held. Emptied slabs may be detached onto @p release.
 */
void put_object(struct kmem_cache *s, void *obj, struct list_head *release)
{
	struct slab *slab = obj_to_slab(obj);
	if (slab->cache != s)
		return; /* cannot happen: checked when pushed */
	if (obj == slab->freelist) {
		heap_report(HEAP_ERR_DOUBLE_FREE, obj, s, 0, 0, "found twice in a per-hart array");
		return;
	}
	if (slab_put_object(s, slab, obj))
		return;
	s->inuse--;
	if (slab->inuse && slab->on_list == SLAB_PARTIAL)
		return; /* stays where it is: a batch from an array has no order worth a move (SLAB's free_block()) */
	slab_after_free(s, slab, release);
}

/* Debug caches and caches without arrays: free under the cache lock. */
__attribute__((noinline)) int free_locked(struct kmem_cache *s, struct slab *slab, void *obj,
					  uintptr_t caller)
{
	LIST_HEAD_DECL(release);
	spin_lock(&s->lock);
	s->cpu_cache[heap_cpu()].touched = 1;
	if (s->flags & SLAB_DEBUG) {
		int verdict = debug_check_free(s, obj, caller);
		if (verdict > 0)
			quarantine(s, slab, obj);
		if (verdict) {
			spin_unlock(&s->lock);
			return -EINVAL;
		}
		debug_mark_free(s, obj, caller);
	} else if (obj == slab->freelist) {
		spin_unlock(&s->lock);
		heap_report(HEAP_ERR_DOUBLE_FREE, obj, s, caller, 0, "object is at the head of its freelist");
		return -EINVAL;
	}
	int err = slab_put_object(s, slab, obj);
	if (!err) {
		s->inuse--;
		slab_after_free(s, slab, &release);
	}
	spin_unlock(&s->lock);
	discard_slabs(&release);
	return err ? -EINVAL : 0;
}
