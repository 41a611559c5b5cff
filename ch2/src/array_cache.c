/*
 * ch2: each hart's array of free objects per cache, and the allocation and
 * free entry points that use it (Bonwick and Adams 2001, "magazines"; Linux
 * mm/slab.c: struct array_cache, ____cache_alloc(), cache_alloc_refill(),
 * ___cache_free(), cache_flusharray(), drain_array()).
 *
 * kmem_cache_alloc() pops from this hart's array and kmem_cache_free() pushes
 * onto it, with interrupts off and without the cache lock. Only when the
 * array runs empty (or full) does the hart take the cache lock and move a
 * batch of objects between it and the slabs (slab_lists.c). Debug caches and
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

static inline void cpu_lock(struct kmem_cache_cpu *c)
{
	while (__atomic_exchange_n(&c->lock, 1, __ATOMIC_ACQUIRE))
		;
}

static inline void cpu_unlock(struct kmem_cache_cpu *c)
{
	__atomic_store_n(&c->lock, 0, __ATOMIC_RELEASE);
}

/* ---- allocation ---------------------------------------------------------- */

/* This hart's stack is empty: refill it with a batch from the slabs. */
__attribute__((noinline)) static void *alloc_refill(struct kmem_cache *s, unsigned kflags, uintptr_t caller)
{
	bool irq = heap_irq_save();
	struct kmem_cache_cpu *c = &s->cpu[heap_cpu()];
	void *obj = NULL;
	cpu_lock(c);
	if (!c->avail) {
		spin_lock(&s->lock);
		c->avail = take_objects(s, c->entry, c->batch);
		spin_unlock(&s->lock);
	}
	if (c->avail)
		obj = c->entry[--c->avail];
	cpu_unlock(c);
	heap_irq_restore(irq);
	if (obj)
		return obj;
	return alloc_from_new_slab(s, kflags, caller, 0);
}

void *slab_alloc(struct kmem_cache *s, size_t requested, unsigned kflags, uintptr_t caller)
{
	void *obj;
	if (!requested)
		requested = s->object_size;
	if (unlikely(s->flags & (SLAB_DEBUG | SLAB_NO_CPU_CACHE))) {
		obj = alloc_locked(s, kflags, caller, requested);
	} else {
		/* The fast path: pop from this hart's stack. */
		bool irq = heap_irq_save();
		struct kmem_cache_cpu *c = &s->cpu[heap_cpu()];
		cpu_lock(c);
		obj = c->avail ? c->entry[--c->avail] : NULL;
		cpu_unlock(c);
		heap_irq_restore(irq);
		if (unlikely(!obj))
			obj = alloc_refill(s, kflags, caller);
	}
	if (obj && (kflags & KMALLOC_ZERO))
		memset(obj, 0, requested);
	return obj;
}

__attribute__((noinline)) void *kmem_cache_alloc(struct kmem_cache *s, unsigned flags)
{
	if (!s)
		return NULL;
	return slab_alloc(s, 0, flags, RET_IP);
}

/* ---- freeing ------------------------------------------------------------- */

/*
 * Move the @p n oldest objects of stack @p c back to the slabs. The stack's
 * lock is held (and interrupts are off); takes the cache lock.
 */
__attribute__((noinline)) static void flush_cpu(struct kmem_cache *s, struct kmem_cache_cpu *c, unsigned n,
						       struct list_head *release)
{
	spin_lock(&s->lock);
	for (unsigned i = 0; i < n; i++)
		put_object(s, c->entry[i], release);
	spin_unlock(&s->lock);
	c->avail -= n;
	memmove(c->entry, c->entry + n, c->avail * sizeof(void *));
}

/* Empty hart @p hart's stack of @p s into the slabs. */
void drain_cpu(struct kmem_cache *s, int hart, struct list_head *release)
{
	struct kmem_cache_cpu *c = &s->cpu[hart];
	if (!READ_ONCE(c->avail))
		return;
	bool irq = heap_irq_save();
	cpu_lock(c);
	flush_cpu(s, c, c->avail, release);
	cpu_unlock(c);
	heap_irq_restore(irq);
}

/* This hart's stack was full: move its oldest batch to the slabs, then push @p obj. */
__attribute__((noinline)) static void free_flush_push(struct kmem_cache *s, void *obj)
{
	LIST_HEAD_DECL(release);
	bool irq = heap_irq_save();
	struct kmem_cache_cpu *c = &s->cpu[heap_cpu()];
	cpu_lock(c);
	if (c->avail == c->limit)
		flush_cpu(s, c, c->batch, &release);
	c->entry[c->avail++] = obj;
	cpu_unlock(c);
	heap_irq_restore(irq);
	discard_slabs(&release);
}

int slab_free(struct kmem_cache *s, struct slab *slab, void *obj, uintptr_t caller)
{
	if (unlikely(slab_obj_index(s, slab, obj) < 0)) {
		heap_report(HEAP_ERR_INVALID_FREE, obj, s, caller, 0, "not the start of an object");
		return -EINVAL;
	}
	if (unlikely(s->flags & (SLAB_DEBUG | SLAB_NO_CPU_CACHE)))
		return free_locked(s, slab, obj, caller);

	/* The fast path: push onto this hart's stack. */
	bool irq = heap_irq_save();
	struct kmem_cache_cpu *c = &s->cpu[heap_cpu()];
	cpu_lock(c);
	if (unlikely(c->avail && c->entry[c->avail - 1] == obj)) {
		cpu_unlock(c);
		heap_irq_restore(irq);
		heap_report(HEAP_ERR_DOUBLE_FREE, obj, s, caller, 0, "freed twice in a row");
		return -EINVAL;
	}
	if (likely(c->avail < c->limit)) {
		c->entry[c->avail++] = obj;
		cpu_unlock(c);
		heap_irq_restore(irq);
		return 0;
	}
	cpu_unlock(c);
	heap_irq_restore(irq);
	free_flush_push(s, obj);
	return 0;
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
