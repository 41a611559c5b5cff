/*
 * ch2: each hart's array of free objects per cache, and the allocation and
 * free entry points that use it (Bonwick and Adams 2001, "magazines"; Linux
 * mm/slab.c, the SLAB allocator up to Linux 6.7: struct array_cache,
 * ____cache_alloc(), cache_alloc_refill(), ___cache_free(),
 * cache_flusharray(), drain_array(); slab_internal.h says how our struct
 * array_cache differs from Linux's).
 *
 * kmem_cache_alloc() pops from this hart's array and kmem_cache_free() pushes
 * onto it, with interrupts off and without the cache lock (inline, in
 * array_cache.h). Only when the array runs empty (or full) does the hart
 * come here, take the cache lock and move a batch of objects between it and
 * the slabs (slab_lists.c). Debug caches and
 * SLAB_NO_CPU_CACHE ones skip the arrays: every operation goes to the slabs
 * under the lock.
 *
 * Locks, in the order they nest: a hart's array lock, then the cache lock,
 * then (inside heap_report) the report lock and the console's.
 */
#include "errno.h"
#include "slab_internal.h"
#include "string.h"

/* ---- a hart's array ------------------------------------------------------ */

/* See array_cache.h: whether another hart may drain this hart's arrays. */
bool ac_shared = true;

void array_cache_init(void) { ac_shared = heap_nr_harts() > 1; }

/* ---- allocation ---------------------------------------------------------- */

/* This hart's array is empty: refill it with batchcount objects from the slabs. */
__attribute__((noinline)) void *cache_alloc_refill(struct kmem_cache *s, unsigned kflags, uintptr_t caller)
{
	bool irq = heap_irq_save();
	struct array_cache *ac = cpu_cache_get(s);
	void *obj = NULL;
	ac_lock(ac);
	if (!ac->avail) {
		spin_lock(&s->lock);
		ac->avail = take_objects(s, ac->entry, ac->batchcount);
		spin_unlock(&s->lock);
	}
	if (ac->avail)
		obj = ac->entry[--ac->avail];
	ac_unlock(ac);
	heap_irq_restore(irq);
	if (obj)
		return obj;
	return alloc_from_new_slab(s, kflags, caller, 0);
}

__attribute__((noinline)) void *kmem_cache_alloc(struct kmem_cache *s, unsigned flags)
{
	if (!s)
		return NULL;
	return slab_alloc(s, 0, flags, RET_IP);
}

/* ---- freeing ------------------------------------------------------------- */

/*
 * Move the @p n oldest objects of array @p ac back to the slabs, and the rest
 * down. The array's lock is held (and interrupts are off); takes the cache
 * lock. Linux's cache_flusharray() always moves batchcount; a drain here
 * moves them all.
 */
__attribute__((noinline)) static void cache_flusharray(struct kmem_cache *s, struct array_cache *ac,
						       unsigned n, struct list_head *release)
{
	spin_lock(&s->lock);
	for (unsigned i = 0; i < n; i++)
		put_object(s, ac->entry[i], release);
	spin_unlock(&s->lock);
	ac->avail -= n;
	memmove(ac->entry, ac->entry + n, ac->avail * sizeof(void *));
}

/* Empty array @p ac of @p s (any hart's) into the slabs. */
static void drain_array(struct kmem_cache *s, struct array_cache *ac, struct list_head *release)
{
	if (!READ_ONCE(ac->avail))
		return;
	bool irq = heap_irq_save();
	ac_lock(ac);
	cache_flusharray(s, ac, ac->avail, release);
	ac_unlock(ac);
	heap_irq_restore(irq);
}

void drain_cpu_caches(struct kmem_cache *s, struct list_head *release)
{
	for (int h = 0; h < MAX_HARTS; h++)
		drain_array(s, &s->cpu_cache[h], release);
}

/* This hart's array was full: move its oldest batchcount to the slabs, then push @p obj (Linux ___cache_free()). */
__attribute__((noinline)) void free_flush_push(struct kmem_cache *s, void *obj)
{
	LIST_HEAD_DECL(release);
	bool irq = heap_irq_save();
	struct array_cache *ac = cpu_cache_get(s);
	ac_lock(ac);
	if (ac->avail == ac->limit)
		cache_flusharray(s, ac, ac->batchcount, &release);
	ac->entry[ac->avail++] = obj;
	ac_unlock(ac);
	heap_irq_restore(irq);
	discard_slabs(&release);
}

__attribute__((noinline)) int kmem_cache_free(struct kmem_cache *s, void *obj)
{
	uintptr_t caller = RET_IP;
	if (!obj)
		return 0;
	if (!s)
		return -EINVAL;
	struct slab *slab = virt_to_slab(obj);
	if (!slab) {
		heap_report(HEAP_ERR_INVALID_FREE, obj, s, caller, 0, "not in any slab");
		return -EINVAL;
	}
	if (slab->cache != s) {
		heap_report(HEAP_ERR_WRONG_CACHE, obj, s, caller, 0, slab->cache->name);
		return -EINVAL;
	}
	return slab_free(s, slab, obj, caller);
}
