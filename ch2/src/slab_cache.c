/*
 * ch2: caches — creating, shrinking and destroying them, and the list of all
 * of them (Linux mm/slab_common.c: kmem_cache_create(), kmem_cache_destroy(),
 * kmem_cache_shrink(), the slab_caches list; mm/slub.c: calculate_order()).
 *
 * struct kmem_cache objects come from a cache of their own, cache_cache
 * (Bonwick's bootstrap: it is its own first object's home); kmalloc's size
 * classes are static and set up in place with kmem_cache_init(). Every cache
 * is on cache_chain, which whatever concerns all caches walks (kmem_shrink_all
 * here; the statistics, leak reports and checks in slab_stats.c).
 *
 * The chain lock is taken alone, or first by whatever walks every cache.
 * Nothing here calls ch1's allocator with a lock held: ch1 may call our
 * shrinker from inside frames_alloc(), and the shrinker takes these locks.
 */
#include "errno.h"
#include "printk.h"
#include "slab_internal.h"
#include "string.h"

struct kmem_cache cache_cache; /* the cache of struct kmem_cache itself */
struct list_head cache_chain = LIST_HEAD_INIT(cache_chain);
struct spinlock chain_lock = SPINLOCK_INIT("slab_chain");

/* ---- creating a cache ---------------------------------------------------- */

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
		s->obj_offset = 0;
		s->offset = 0;
	}
	if (want_off_slab(s))
		s->flags |= SLAB_OFF_SLAB;
	if (calculate_order(s))
		return -EINVAL;
	s->reciprocal_size = (uint32_t)(((1ULL << 32) + s->size - 1) / s->size);
	/*
	 * Bigger objects: shorter arrays, so a hart does not sit on much memory
	 * (Linux SLAB's enable_cpucache() sizes). Each trip to the slabs moves
	 * half an array under the cache lock, object by object: longer arrays
	 * make fewer trips, and an idle cache's array is drained by the reaper.
	 */
	unsigned limit = s->object_size <= 256 ? 120 : s->object_size <= 1024 ? 54 : 24;
	for (int h = 0; h < MAX_HARTS; h++) {
		s->cpu_cache[h].limit = limit;
		s->cpu_cache[h].batchcount = limit / 2;
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
	array_cache_init();
	slab_header_init(); /* before any cache that may keep its headers there */
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

/* ---- shrinking and destroying -------------------------------------------- */

/* Empty every hart's array of @p s and detach every empty slab onto @p release. */
void cache_release_free(struct kmem_cache *s, struct list_head *release)
{
	drain_cpu_caches(s, release);
	spin_lock(&s->lock);
	struct slab *slab, *tmp;
	list_for_each_entry_safe(slab, tmp, &s->empty, list) detach_slab(s, slab, release);
	spin_unlock(&s->lock);
}

uint64_t kmem_cache_shrink(struct kmem_cache *s)
{
	if (!s)
		return 0;
	LIST_HEAD_DECL(release);
	cache_release_free(s, &release);
	return discard_slabs(&release);
}

int kmem_cache_destroy(struct kmem_cache *s)
{
	if (!s || (s->flags & SLAB_KMALLOC) || s == &cache_cache)
		return -EINVAL;
	LIST_HEAD_DECL(release);
	cache_release_free(s, &release);
	spin_lock(&s->lock);
	uint64_t live = s->inuse - s->quarantined;
	if (live) {
		spin_unlock(&s->lock);
		discard_slabs(&release);
		printk("heap: kmem_cache_destroy(%s): %lu object(s) still allocated; not destroyed\n",
		       s->name, (unsigned long)live);
		kmem_cache_leak_report(s);
		return -EBUSY;
	}
	/* Only quarantined objects are left: the heap's own, and it is done with them. */
	struct slab *slab, *tmp;
	list_for_each_entry_safe(slab, tmp, &s->partial, list) detach_slab(s, slab, &release);
	list_for_each_entry_safe(slab, tmp, &s->full, list) detach_slab(s, slab, &release);
	spin_unlock(&s->lock);
	spin_lock(&chain_lock);
	list_del(&s->chain);
	spin_unlock(&chain_lock);
	discard_slabs(&release);
	slab_free(&cache_cache, virt_to_slab(s), s, RET_IP);
	return 0;
}

const char *kmem_cache_name(const struct kmem_cache *s) { return s ? s->name : "(null)"; }

uint64_t kmem_shrink_all(void)
{
	LIST_HEAD_DECL(release);
	struct kmem_cache *s;
	spin_lock(&chain_lock);
	list_for_each_entry(s, &cache_chain, chain) cache_release_free(s, &release);
	spin_unlock(&chain_lock);
	return discard_slabs(&release);
}
