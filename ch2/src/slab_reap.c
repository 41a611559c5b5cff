/*
 * ch2: reaping idle caches — giving back what a cache nobody uses any more
 * still holds, before the heap takes new frames (Linux mm/slab.c up to 6.7:
 * cache_reap(), array_cache.touched, drain_freelist()).
 *
 * A cache that was busy and went quiet keeps free objects in its harts'
 * arrays and a couple of empty slabs. The objects in an array are scattered
 * over the cache's slabs, so even a few of them keep many slabs from
 * emptying: after the trace `tree` tears down its first tree (48-byte nodes,
 * 8..40-byte keys), 76 objects in four caches' arrays held 24 frames.
 * Nothing freed them until ch1 ran short.
 *
 * Linux SLAB reaped every 2 s, from a timer: an array not touched since the
 * last round gave back part of its objects, an unused node part of its empty
 * slabs. Here the clock is the heap's own growth: every REAP_INTERVAL new
 * slabs, the hart about to take a new slab from ch1 first reaps every cache
 * none of whose arrays was touched since the round before (every array
 * sets `touched` when it is used): their arrays are drained and their empty
 * slabs given back, so the heap reuses frames it holds before taking more.
 * A busy cache is never reaped; the cache that is growing is not either.
 */
#include "slab_internal.h"

#define REAP_INTERVAL 8 /* new slabs between two reaps */

static uint32_t new_slabs; /* slabs made since boot, the reap's clock */
static uint32_t reaping;   /* 1 while a hart reaps: one at a time, the others skip */

/* Whether no hart used @p s since the last reap; clears the marks for the next. */
static bool cache_idle(struct kmem_cache *s)
{
	bool idle = true;
	for (int h = 0; h < MAX_HARTS; h++) {
		if (READ_ONCE(s->cpu_cache[h].touched)) {
			idle = false;
			WRITE_ONCE(s->cpu_cache[h].touched, 0);
		}
	}
	return idle;
}

void kmem_reap(struct kmem_cache *growing)
{
	if (__atomic_add_fetch(&new_slabs, 1, __ATOMIC_RELAXED) % REAP_INTERVAL ||
	    __atomic_exchange_n(&reaping, 1, __ATOMIC_ACQUIRE))
		return;
	LIST_HEAD_DECL(release);
	struct kmem_cache *s;
	spin_lock(&chain_lock);
	list_for_each_entry(s, &cache_chain, chain)
	{
		if (cache_idle(s) && s != growing)
			cache_release_free(s, &release);
	}
	spin_unlock(&chain_lock);
	__atomic_store_n(&reaping, 0, __ATOMIC_RELEASE);
	discard_slabs(&release);
}
