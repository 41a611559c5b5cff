/*
 * ch2: what the heap can say about itself — per-cache statistics, leak
 * reports, structure checks, and the count of frames it holds (Linux
 * mm/slab_common.c: /proc/slabinfo's cache_show(); mm/slub.c:
 * validate_slab_cache(), list_slab_objects()).
 *
 * Nothing here changes a cache: each function reads one under its lock, or
 * every cache under the chain lock first (slab_cache.c), so that a snapshot is
 * consistent even while other harts allocate.
 */
#include "errno.h"
#include "printk.h"
#include "slab_internal.h"
#include "string.h"

static uint64_t heap_frames; /* frames the heap holds: slabs and large blocks */

/* ---- statistics and leaks ------------------------------------------------ */

void kmem_cache_stats(struct kmem_cache *s, struct kmem_cache_stats *out)
{
	memset(out, 0, sizeof(*out));
	uint64_t cached = 0;
	for (int h = 0; h < MAX_HARTS; h++)
		cached += READ_ONCE(s->cpu_cache[h].avail);
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
		list_for_each_entry(slab, lists[l], list)
		{
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
	{
		if (s != &cache_cache && s != &slab_header_cache)
			total += kmem_cache_leak_report(s);
	}
	spin_unlock(&chain_lock);
	return total;
}

/* ---- consistency checks -------------------------------------------------- */

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
		list_for_each_entry(slab, list_of(s, l), list)
		{
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
	list_for_each_entry(s, &cache_chain, chain) if (kmem_cache_check(s)) err = -EINVAL;
	spin_unlock(&chain_lock);
	return err;
}

void kmalloc_print_stats(void)
{
	struct kmem_cache *s;
	struct kmem_cache_stats st;
	printk("heap: %-20s %8s %8s %6s %6s %8s %9s\n", "cache", "objsize", "active", "slabs", "frames",
	       "cached", "wasted");
	spin_lock(&chain_lock);
	list_for_each_entry(s, &cache_chain, chain)
	{
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

/* ---- the heap's frame count ---------------------------------------------- */

void heap_frames_add(int64_t frames) { __atomic_add_fetch(&heap_frames, (uint64_t)frames, __ATOMIC_RELAXED); }

uint64_t heap_frames_held(void) { return __atomic_load_n(&heap_frames, __ATOMIC_RELAXED); }
