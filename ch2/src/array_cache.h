/*
 * ch2: the fast path of kmem_cache_alloc() and kmem_cache_free(), and so of
 * kmalloc() and kfree(): pop from or push onto this hart's array (see
 * array_cache.c, which has the rest: refilling an empty array, flushing a
 * full one, draining). Inline, so that kmalloc() and kfree() reach the
 * array without a call: every call saves and restores registers, and on
 * the traces the fast path is most of the heap's time. Included at the end
 * of slab_internal.h.
 */
#ifndef MMLAB_ARRAY_CACHE_H
#define MMLAB_ARRAY_CACHE_H

#include "errno.h"
#include "string.h"

/*
 * Whether another hart may drain this hart's arrays, so that each needs its
 * lock. With one hart nobody else touches them (interrupts are off around
 * every use), and the lock's atomic swap, the dearest instruction of the
 * fast path (it waits for the hart's pending stores), guards nothing: it is
 * left out, as Linux leaves spinlocks out of a kernel built for one CPU.
 * Decided once, when the heap comes up: every hart is started before the
 * initcalls, so a heap that comes up on one hart never sees a second.
 */
extern bool ac_shared;

static inline void ac_lock(struct array_cache *ac)
{
	if (ac_shared)
		while (__atomic_exchange_n(&ac->lock, 1, __ATOMIC_ACQUIRE))
			;
}

static inline void ac_unlock(struct array_cache *ac)
{
	if (ac_shared)
		__atomic_store_n(&ac->lock, 0, __ATOMIC_RELEASE);
}

/* This hart's array of @p s (interrupts off, so that the hart stays this one). */
static inline struct array_cache *cpu_cache_get(struct kmem_cache *s) { return &s->cpu_cache[heap_cpu()]; }

/* This hart's array is empty: refill it from the slabs and pop, or take a new slab. */
void *cache_alloc_refill(struct kmem_cache *s, unsigned kflags, uintptr_t caller);
/* This hart's array is full: move its oldest batchcount to the slabs, then push @p obj. */
void free_flush_push(struct kmem_cache *s, void *obj);

/* Allocate from @p s for a request of @p requested bytes (0: the object size), on behalf of @p caller. */
static inline void *slab_alloc(struct kmem_cache *s, size_t requested, unsigned kflags, uintptr_t caller)
{
	void *obj;
	if (!requested)
		requested = s->object_size;
	if (unlikely(s->flags & (SLAB_DEBUG | SLAB_NO_CPU_CACHE))) {
		obj = alloc_locked(s, kflags, caller, requested);
	} else {
		/* The fast path: pop from this hart's array. */
		bool irq = heap_irq_save();
		struct array_cache *ac = cpu_cache_get(s);
		ac_lock(ac);
		obj = ac->avail ? ac->entry[--ac->avail] : NULL;
		ac->touched = 1;
		ac_unlock(ac);
		heap_irq_restore(irq);
		if (unlikely(!obj))
			obj = cache_alloc_refill(s, kflags, caller);
	}
	if (obj && (kflags & KMALLOC_ZERO))
		memset(obj, 0, requested);
	return obj;
}

/* Free @p obj (an object of @p slab of @p s, or not); returns 0 or -EINVAL. */
static inline int slab_free(struct kmem_cache *s, struct slab *slab, void *obj, uintptr_t caller)
{
	if (unlikely(slab_obj_index(s, slab, obj) < 0)) {
		heap_report(HEAP_ERR_INVALID_FREE, obj, s, caller, 0, "not the start of an object");
		return -EINVAL;
	}
	if (unlikely(s->flags & (SLAB_DEBUG | SLAB_NO_CPU_CACHE)))
		return free_locked(s, slab, obj, caller);

	/* The fast path: push onto this hart's array. */
	bool irq = heap_irq_save();
	struct array_cache *ac = cpu_cache_get(s);
	ac_lock(ac);
	if (unlikely(ac->avail && ac->entry[ac->avail - 1] == obj)) {
		ac_unlock(ac);
		heap_irq_restore(irq);
		heap_report(HEAP_ERR_DOUBLE_FREE, obj, s, caller, 0, "freed twice in a row");
		return -EINVAL;
	}
	ac->touched = 1;
	if (likely(ac->avail < ac->limit)) {
		ac->entry[ac->avail++] = obj;
		ac_unlock(ac);
		heap_irq_restore(irq);
		return 0;
	}
	ac_unlock(ac);
	heap_irq_restore(irq);
	free_flush_push(s, obj);
	return 0;
}

#endif
