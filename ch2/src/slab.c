/*
 * ch2: slab caches (Bonwick 1994; Linux mm/slub.c names).
 *
 * A cache's memory comes from ch1 in slabs: blocks of 2^order frames cut into
 * objects, with the struct slab at the block's end (slab_internal.h has the
 * picture). Free objects are chained through a free pointer stored inside
 * them. Three lists per cache: partial, full, empty.
 *
 * On top of the slabs each hart keeps a stack of free objects per cache
 * (struct kmem_cache_cpu): kmem_cache_alloc() pops, kmem_cache_free() pushes,
 * with interrupts off and without the cache lock. Only when a stack runs
 * empty (or full) does the hart take the cache lock and move a batch of
 * objects between the stack and the slabs. Debug caches skip the stacks so
 * that every object is checked under the lock on every operation.
 *
 * Locks, in the order they nest: a hart's stack lock, then the cache lock,
 * then (inside heap_report) the report lock and the console's. The chain lock
 * (all caches) is taken alone, or first by whatever walks every cache (shrink,
 * check, leak report, statistics). Nothing here calls ch1's allocator with a
 * lock held: ch1 may call our shrinker from inside frames_alloc(), and the
 * shrinker takes these locks.
 */
#include "errno.h"
#include "panic.h"
#include "printk.h"
#include "slab_internal.h"
#include "string.h"

static struct kmem_cache cache_cache; /* the cache of struct kmem_cache itself */
static struct list_head cache_chain = LIST_HEAD_INIT(cache_chain);
static struct spinlock chain_lock = SPINLOCK_INIT("slab_chain");
static uint64_t heap_frames; /* frames the heap holds: slabs and large blocks */

/* ---- objects and free pointers ------------------------------------------- */

/* Address of object @p i of @p slab. */
static inline void *slab_obj(const struct kmem_cache *s, const struct slab *slab, unsigned i)
{
	return (char *)slab->base + (size_t)i * s->size + s->offset;
}

/* The free pointer of free object @p obj: the next free object, or NULL. */
static inline void *get_freepointer(const struct kmem_cache *s, void *obj)
{
	return *(void **)((char *)obj + s->free_offset);
}

static inline void set_freepointer(const struct kmem_cache *s, void *obj, void *next)
{
	*(void **)((char *)obj + s->free_offset) = next;
}

long slab_obj_index(const struct kmem_cache *s, const struct slab *slab, const void *p)
{
	uintptr_t first = (uintptr_t)slab->base + s->offset;
	if ((uintptr_t)p < first)
		return -1;
	uintptr_t off = (uintptr_t)p - first;
	if (off % s->size)
		return -1;
	uintptr_t idx = off / s->size;
	return idx < slab->objects ? (long)idx : -1;
}

/*
 * The slab that holds @p p: page_info.private of p's frame names it. Checked
 * before it is trusted, so that any pointer at all (one into another owner's
 * frame, whose private word means something else) gives NULL, not a fault.
 */
struct slab *page_to_slab(struct page_info *page, const void *p)
{
	if (!page || page->state == PAGE_RESERVED || page->state == PAGE_FREE_HEAD)
		return NULL;
	uintptr_t priv = page->private;
	uintptr_t frame = ALIGN_DOWN((uintptr_t)p, PAGE_SIZE);
	/* A slab header lies 8-aligned in the same block, after p. */
	if ((priv & 7) || priv < frame || priv - frame > (PAGE_SIZE << SLAB_MAX_ORDER) - sizeof(struct slab))
		return NULL;
	if (priv - frame >= PAGE_SIZE) {
		/* The header is in a later frame: make sure that one is RAM and ours too. */
		struct page_info *hp = pa_to_page(heap_kva_to_pa(p) + (priv - (uintptr_t)p));
		if (!hp || hp->private != priv)
			return NULL;
	}
	struct slab *slab = (struct slab *)priv;
	if (slab->magic != SLAB_MAGIC || (uintptr_t)p < (uintptr_t)slab->base || (uintptr_t)p >= priv)
		return NULL;
	return slab;
}

struct slab *virt_to_slab(const void *p)
{
	paddr_t pa = heap_kva_to_pa(p);
	return pa ? page_to_slab(pa_to_page(pa), p) : NULL;
}

/* ---- the student's part: one slab's freelist ------------------------------ */

/* Chain every object of a new slab onto its freelist, object 0 first. */
static void slab_init_freelist(struct kmem_cache *s, struct slab *slab)
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
static void *slab_take_object(struct kmem_cache *s, struct slab *slab)
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
static int slab_put_object(struct kmem_cache *s, struct slab *slab, void *obj)
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

/* ---- slabs: getting them from ch1 and giving them back -------------------- */

/* Objects a slab of @p order frames holds. */
static unsigned order_objects(const struct kmem_cache *s, unsigned order)
{
	size_t room = (PAGE_SIZE << order) - sizeof(struct slab);
	return room / s->size;
}

/* A new slab from ch1 (no locks held: ch1 may call our shrinker). */
static struct slab *new_slab(struct kmem_cache *s, unsigned kflags)
{
	unsigned order = s->order, fflags = to_frame_flags(kflags & ~KMALLOC_ZERO); /* zero the object, not the slab */
	paddr_t pa = frames_alloc_order(order, fflags);
	if (!pa && s->min_order < order) {
		order = s->min_order; /* fragmented: a smaller slab still works */
		pa = frames_alloc_order(order, fflags);
	}
	if (!pa)
		return NULL;
	char *base = heap_pa_to_kva(pa);
	struct slab *slab = (struct slab *)(base + (PAGE_SIZE << order) - sizeof(struct slab));
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
static void discard_slab(struct slab *slab)
{
	unsigned order = slab->order;
	paddr_t pa = heap_kva_to_pa(slab->base);
	slab->magic = 0;
	for (unsigned i = 0; i < (1u << order); i++)
		pa_to_page(pa + i * PAGE_SIZE)->private = 0;
	frames_free_order(pa, order);
	heap_frames_add(-(int64_t)(1 << order));
}

/* Give back every slab on @p list. @return frames freed. */
static uint64_t discard_slabs(struct list_head *list)
{
	struct slab *slab, *tmp;
	uint64_t frames = 0;
	list_for_each_entry_safe(slab, tmp, list, list) {
		list_del(&slab->list);
		frames += 1u << slab->order;
		discard_slab(slab);
	}
	return frames;
}

/* ---- the three lists (cache lock held) ------------------------------------ */

static uint64_t *list_count(struct kmem_cache *s, enum slab_list which)
{
	return which == SLAB_PARTIAL ? &s->nr_partial : which == SLAB_FULL ? &s->nr_full : &s->nr_empty;
}

static struct list_head *list_of(struct kmem_cache *s, enum slab_list which)
{
	return which == SLAB_PARTIAL ? &s->partial : which == SLAB_FULL ? &s->full : &s->empty;
}

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
static void detach_slab(struct kmem_cache *s, struct slab *slab, struct list_head *to)
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
	enum slab_list to = slab->inuse == 0 ? SLAB_EMPTY
			    : slab->freelist == NULL ? SLAB_FULL : SLAB_PARTIAL;
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

static bool under_pressure(void)
{
	return frames_pressure() != PRESSURE_NONE;
}

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
	if (!next || (next != taken && slab_obj_index(s, slab, next) >= 0 && obj_meta(s, next)->state == OBJ_FREE))
		return;
	heap_report(HEAP_ERR_USE_AFTER_FREE, taken, s, 0, s->free_offset, "free pointer overwritten");
	uint32_t lost = slab->objects - slab->inuse;
	slab->freelist = NULL;
	slab->inuse += lost;
	slab->quarantined += lost;
	s->inuse += lost;
	s->quarantined += lost;
}

/* ---- allocation ------------------------------------------------------------ */

static inline void cpu_lock(struct kmem_cache_cpu *c)
{
	while (__atomic_exchange_n(&c->lock, 1, __ATOMIC_ACQUIRE))
		;
}

static inline void cpu_unlock(struct kmem_cache_cpu *c)
{
	__atomic_store_n(&c->lock, 0, __ATOMIC_RELEASE);
}

/* Move up to @p n free objects from the slabs into @p out. Cache lock held. */
static unsigned take_objects(struct kmem_cache *s, void **out, unsigned n)
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

/* Get a new slab and take one object from it, for a cache without stacks or an empty stack. */
__attribute__((noinline)) static void *alloc_from_new_slab(struct kmem_cache *s, unsigned kflags, uintptr_t caller, size_t requested)
{
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

/* Debug caches and caches without stacks: everything under the cache lock. */
__attribute__((noinline)) static void *alloc_locked(struct kmem_cache *s, unsigned kflags, uintptr_t caller, size_t requested)
{
	spin_lock(&s->lock);
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

/* ---- freeing ---------------------------------------------------------------- */

/*
 * Give @p obj (from a hart's stack, so already checked) back to its slab.
 * Cache lock held. Emptied slabs may be detached onto @p release.
 */
static void put_object(struct kmem_cache *s, void *obj, struct list_head *release)
{
	struct slab *slab = virt_to_slab(obj);
	if (!slab || slab->cache != s)
		return; /* cannot happen: checked when pushed */
	if (obj == slab->freelist) {
		heap_report(HEAP_ERR_DOUBLE_FREE, obj, s, 0, 0, "found twice in a per-hart stack");
		return;
	}
	if (slab_put_object(s, slab, obj))
		return;
	s->inuse--;
	slab_after_free(s, slab, release);
}

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
static void drain_cpu(struct kmem_cache *s, int hart, struct list_head *release)
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

/* Debug caches and caches without stacks: free under the cache lock. */
__attribute__((noinline)) static int free_locked(struct kmem_cache *s, struct slab *slab, void *obj, uintptr_t caller)
{
	LIST_HEAD_DECL(release);
	spin_lock(&s->lock);
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

/* ---- caches ----------------------------------------------------------------- */

/* Pick the slab order: the smallest that wastes at most 1/8 of the block, else the least wasteful. */
static int calculate_order(struct kmem_cache *s)
{
	int best = -1;
	uint64_t best_waste = 0, best_bytes = 1;
	s->min_order = 0xff;
	for (unsigned order = 0; order <= SLAB_MAX_ORDER; order++) {
		uint64_t bytes = PAGE_SIZE << order;
		unsigned n = order_objects(s, order);
		if (n == 0)
			continue;
		if (s->min_order == 0xff)
			s->min_order = order;
		uint64_t waste = bytes - (uint64_t)n * s->size;
		if (waste * 8 <= bytes) {
			best = order;
			break;
		}
		if (best < 0 || waste * best_bytes < best_waste * bytes)
			best = order, best_waste = waste, best_bytes = bytes;
	}
	if (best < 0)
		return -EINVAL;
	s->order = best;
	s->objects = order_objects(s, best);
	return 0;
}

int kmem_cache_init(struct kmem_cache *s, const char *name, size_t size, size_t align, unsigned flags)
{
	if (!align)
		align = KMALLOC_MIN_ALIGN;
	if (!size || size > (PAGE_SIZE << SLAB_MAX_ORDER) || (align & (align - 1)) || align > PAGE_SIZE)
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	spin_init(&s->lock, "kmem_cache");
	list_init(&s->partial);
	list_init(&s->full);
	list_init(&s->empty);
	list_init(&s->chain);
	strlcpy(s->name, name ? name : "?", sizeof(s->name));
	s->flags = flags;
	s->align = MAX(align, (size_t)KMALLOC_MIN_ALIGN);
	s->object_size = ALIGN_UP(size, 8);
	if (flags & SLAB_DEBUG) {
		debug_layout(s);
	} else {
		s->size = ALIGN_UP(s->object_size, s->align);
		s->offset = 0;
		s->free_offset = 0;
	}
	if (calculate_order(s))
		return -EINVAL;
	/* Bigger objects: shorter stacks, so a hart does not sit on much memory. */
	unsigned limit = s->object_size <= 256 ? 32 : s->object_size <= 1024 ? 16 : 8;
	for (int h = 0; h < MAX_HARTS; h++) {
		s->cpu[h].limit = limit;
		s->cpu[h].batch = limit / 2;
	}
	spin_lock(&chain_lock);
	list_add_tail(&s->chain, &cache_chain);
	spin_unlock(&chain_lock);
	return 0;
}

/* Set up the cache of caches (Bonwick's bootstrap: it is its own first object's home). */
void slab_init(void)
{
	if (cache_cache.size)
		return;
	kmem_cache_init(&cache_cache, "kmem_cache", sizeof(struct kmem_cache), 64, SLAB_NO_CPU_CACHE);
}

__attribute__((noinline)) struct kmem_cache *kmem_cache_create(const char *name, size_t size, size_t align,
							       unsigned flags)
{
	if (!cache_cache.size || (flags & ~(SLAB_DEBUG | SLAB_NO_CPU_CACHE)))
		return NULL;
	struct kmem_cache *s = slab_alloc(&cache_cache, 0, 0, RET_IP);
	if (!s)
		return NULL;
	if (kmem_cache_init(s, name, size, align, flags)) {
		slab_free(&cache_cache, virt_to_slab(s), s, RET_IP);
		return NULL;
	}
	return s;
}

/* Empty every hart's stack of @p s and detach every empty slab onto @p release. */
static void shrink_locked_out(struct kmem_cache *s, struct list_head *release)
{
	for (int h = 0; h < MAX_HARTS; h++)
		drain_cpu(s, h, release);
	spin_lock(&s->lock);
	struct slab *slab, *tmp;
	list_for_each_entry_safe(slab, tmp, &s->empty, list)
		detach_slab(s, slab, release);
	spin_unlock(&s->lock);
}

uint64_t kmem_cache_shrink(struct kmem_cache *s)
{
	if (!s)
		return 0;
	LIST_HEAD_DECL(release);
	shrink_locked_out(s, &release);
	return discard_slabs(&release);
}

int kmem_cache_destroy(struct kmem_cache *s)
{
	if (!s || (s->flags & SLAB_KMALLOC) || s == &cache_cache)
		return -EINVAL;
	LIST_HEAD_DECL(release);
	shrink_locked_out(s, &release);
	spin_lock(&s->lock);
	uint64_t live = s->inuse - s->quarantined;
	if (live) {
		spin_unlock(&s->lock);
		discard_slabs(&release);
		printk("heap: kmem_cache_destroy(%s): %lu object(s) still allocated; not destroyed\n", s->name,
		       (unsigned long)live);
		kmem_cache_leak_report(s);
		return -EBUSY;
	}
	/* Only quarantined objects are left: the heap's own, and it is done with them. */
	struct slab *slab, *tmp;
	list_for_each_entry_safe(slab, tmp, &s->partial, list)
		detach_slab(s, slab, &release);
	list_for_each_entry_safe(slab, tmp, &s->full, list)
		detach_slab(s, slab, &release);
	spin_unlock(&s->lock);
	spin_lock(&chain_lock);
	list_del(&s->chain);
	spin_unlock(&chain_lock);
	discard_slabs(&release);
	slab_free(&cache_cache, virt_to_slab(s), s, RET_IP);
	return 0;
}

const char *kmem_cache_name(const struct kmem_cache *s)
{
	return s ? s->name : "(null)";
}

/* ---- statistics, leaks, shrinking everything -------------------------------- */

void kmem_cache_stats(struct kmem_cache *s, struct kmem_cache_stats *out)
{
	memset(out, 0, sizeof(*out));
	uint64_t cached = 0;
	for (int h = 0; h < MAX_HARTS; h++)
		cached += READ_ONCE(s->cpu[h].avail);
	spin_lock(&s->lock);
	strlcpy(out->name, s->name, sizeof(out->name));
	out->object_size = s->object_size;
	out->stride = s->size;
	out->order = s->order;
	out->objects_per_slab = s->objects;
	out->cached_objs = cached;
	uint64_t out_of_slabs = s->inuse - s->quarantined;
	out->active_objs = out_of_slabs > cached ? out_of_slabs - cached : 0;
	out->total_objs = s->nr_objects;
	out->quarantined = s->quarantined;
	out->partial_slabs = s->nr_partial;
	out->full_slabs = s->nr_full;
	out->empty_slabs = s->nr_empty;
	out->slabs = s->nr_partial + s->nr_full + s->nr_empty;
	out->frames = s->nr_frames;
	out->wasted_bytes = s->nr_frames * PAGE_SIZE - s->nr_objects * s->size +
			    out->active_objs * (s->size - s->object_size) + s->requested_waste;
	out->errors = s->errors;
	spin_unlock(&s->lock);
}

uint64_t kmem_cache_leak_report(struct kmem_cache *s)
{
	struct kmem_cache_stats st;
	kmem_cache_stats(s, &st);
	if (!st.active_objs)
		return 0;
	printk("heap: leak: %s has %lu object(s) of %zu B still allocated\n", s->name,
	       (unsigned long)st.active_objs, st.object_size);
	if (!(s->flags & SLAB_DEBUG))
		return st.active_objs;
	/* Debug caches know who allocated each object: name a few. */
	int shown = 0;
	spin_lock(&s->lock);
	struct list_head *lists[2] = {&s->partial, &s->full};
	for (int l = 0; l < 2 && shown < 8; l++) {
		struct slab *slab;
		list_for_each_entry(slab, lists[l], list) {
			for (unsigned i = 0; i < slab->objects && shown < 8; i++) {
				void *obj = slab_obj(s, slab, i);
				struct obj_meta *m = obj_meta(s, obj);
				if (m->state != OBJ_ALLOC)
					continue;
				printk("heap: leak:   %p (%u B) allocated by %p\n", obj, m->requested,
				       (void *)m->alloc_caller);
				shown++;
			}
		}
	}
	spin_unlock(&s->lock);
	return st.active_objs;
}

uint64_t kmem_leak_report(void)
{
	uint64_t total = 0;
	struct kmem_cache *s;
	spin_lock(&chain_lock);
	list_for_each_entry(s, &cache_chain, chain)
		if (s != &cache_cache)
			total += kmem_cache_leak_report(s);
	spin_unlock(&chain_lock);
	return total;
}

/* Check one slab; adds its counts to @p sum. @return 0 or -EINVAL (and says why). */
static int check_slab(struct kmem_cache *s, struct slab *slab, enum slab_list on, uint64_t sum[4])
{
	const char *why = NULL;
	uint32_t free = 0;
	if (slab->magic != SLAB_MAGIC || slab->cache != s)
		why = "bad magic or cache";
	else if (slab->on_list != on)
		why = "on the wrong list";
	else if (slab->inuse > slab->objects)
		why = "more in use than it holds";
	for (void *obj = slab->freelist; !why && obj; obj = get_freepointer(s, obj)) {
		if (slab_obj_index(s, slab, obj) < 0)
			why = "freelist points outside the slab";
		else if (++free > slab->objects)
			why = "freelist loops";
		else if ((s->flags & SLAB_DEBUG) && obj_meta(s, obj)->state != OBJ_FREE)
			why = "an object on the freelist is not free";
	}
	if (!why && free != slab->objects - slab->inuse)
		why = "freelist length disagrees with inuse";
	if (!why && ((on == SLAB_EMPTY) != (slab->inuse == 0) || (on == SLAB_FULL) != (free == 0)))
		why = "on a list its counts do not call for";
	if (why) {
		printk("heap: check: cache %s slab %p: %s\n", s->name, slab, why);
		return -EINVAL;
	}
	sum[0]++;
	sum[1] += slab->objects;
	sum[2] += 1u << slab->order;
	sum[3] += slab->inuse;
	return 0;
}

int kmem_cache_check(struct kmem_cache *s)
{
	uint64_t sum[4] = {0}, n[3] = {0};
	int err = 0;
	spin_lock(&s->lock);
	for (int l = SLAB_PARTIAL; l <= SLAB_EMPTY && !err; l++) {
		struct slab *slab;
		list_for_each_entry(slab, list_of(s, l), list) {
			n[l]++;
			if ((err = check_slab(s, slab, l, sum)))
				break;
		}
	}
	if (!err && (n[0] != s->nr_partial || n[1] != s->nr_full || n[2] != s->nr_empty ||
		     sum[1] != s->nr_objects || sum[2] != s->nr_frames || sum[3] != s->inuse)) {
		printk("heap: check: cache %s: counters disagree with its slabs\n", s->name);
		err = -EINVAL;
	}
	spin_unlock(&s->lock);
	return err;
}

int kmem_check_all(void)
{
	int err = 0;
	struct kmem_cache *s;
	spin_lock(&chain_lock);
	list_for_each_entry(s, &cache_chain, chain)
		if (kmem_cache_check(s))
			err = -EINVAL;
	spin_unlock(&chain_lock);
	return err;
}

uint64_t kmem_shrink_all(void)
{
	LIST_HEAD_DECL(release);
	struct kmem_cache *s;
	spin_lock(&chain_lock);
	list_for_each_entry(s, &cache_chain, chain)
		shrink_locked_out(s, &release);
	spin_unlock(&chain_lock);
	return discard_slabs(&release);
}

void kmalloc_print_stats(void)
{
	struct kmem_cache *s;
	struct kmem_cache_stats st;
	printk("heap: %-20s %8s %8s %6s %6s %8s %9s\n", "cache", "objsize", "active", "slabs", "frames",
	       "cached", "wasted");
	spin_lock(&chain_lock);
	list_for_each_entry(s, &cache_chain, chain) {
		kmem_cache_stats(s, &st);
		if (!st.slabs)
			continue;
		printk("heap: %-20s %8zu %8lu %6lu %6lu %8lu %9lu\n", st.name, st.object_size,
		       (unsigned long)st.active_objs, (unsigned long)st.slabs, (unsigned long)st.frames,
		       (unsigned long)st.cached_objs, (unsigned long)st.wasted_bytes);
	}
	spin_unlock(&chain_lock);
	printk("heap: %lu frame(s) held in all\n", (unsigned long)heap_frames_held());
}

void heap_frames_add(int64_t frames)
{
	__atomic_add_fetch(&heap_frames, (uint64_t)frames, __ATOMIC_RELAXED);
}

uint64_t heap_frames_held(void)
{
	return __atomic_load_n(&heap_frames, __ATOMIC_RELAXED);
}
