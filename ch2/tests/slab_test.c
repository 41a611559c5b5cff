/* ch2.slab: kmem_cache create / alloc / free / shrink / destroy, stats, invariants. */
#include "errno.h"
#include "heap_test.h"
#include "string.h"

KTEST(ch2_slab, create_alloc_free_destroy)
{
	uint64_t free = free_settled();
	struct kmem_cache *s = kmem_cache_create("ch2-obj", 100, 0, 0);
	KASSERT_NOT_NULL(s);
	KEXPECT_EQ(strcmp(kmem_cache_name(s), "ch2-obj"), 0);
	void *p = kmem_cache_alloc(s, 0);
	KASSERT_NOT_NULL(p);
	memset(p, 0x42, 100);
	struct kmem_cache_stats st;
	kmem_cache_stats(s, &st);
	KEXPECT_EQ(st.active_objs, 1);
	KEXPECT_EQ(st.slabs, 1);
	KEXPECT_EQ(kmem_cache_free(s, p), 0);
	KEXPECT_EQ(kmem_cache_free(s, NULL), 0);
	KEXPECT_EQ(kmem_cache_destroy(s), 0);
	KEXPECT_EQ(free_settled(), free);
}

KTEST(ch2_slab, alignment_of_every_object)
{
	for (size_t align = 8; align <= PAGE_SIZE; align *= 2) {
		struct kmem_cache *s = kmem_cache_create("ch2-align", 24, align, 0);
		KASSERT_NOT_NULL(s);
		void *p[40];
		bool ok = true;
		for (int i = 0; i < 40; i++) {
			p[i] = kmem_cache_alloc(s, 0);
			ok &= p[i] && IS_ALIGNED((uintptr_t)p[i], align);
		}
		KEXPECT_TRUE(ok);
		for (int i = 0; i < 40; i++)
			kmem_cache_free(s, p[i]);
		KEXPECT_EQ(kmem_cache_destroy(s), 0);
	}
}

KTEST(ch2_slab, many_slabs_and_back)
{
	uint64_t free = free_settled();
	struct kmem_cache *s = kmem_cache_create("ch2-many", 200, 0, 0);
	KASSERT_NOT_NULL(s);
	struct kmem_cache_stats st;
	kmem_cache_stats(s, &st);
	unsigned n = st.objects_per_slab * 6;
	void **v = kcalloc(n, sizeof(void *));
	KASSERT_NOT_NULL(v);
	for (unsigned i = 0; i < n; i++) {
		v[i] = kmem_cache_alloc(s, 0);
		KASSERT_NOT_NULL(v[i]);
		memset(v[i], (int)i, 200);
	}
	kmem_cache_stats(s, &st);
	KEXPECT_EQ(st.active_objs, n);
	KEXPECT_GE(st.slabs, 6);
	KEXPECT_EQ(kmem_cache_check(s), 0);
	bool ok = true;
	for (unsigned i = 0; i < n; i++)
		ok &= ((uint8_t *)v[i])[0] == (uint8_t)i && ((uint8_t *)v[i])[199] == (uint8_t)i;
	KEXPECT_TRUE(ok);
	for (unsigned i = 0; i < n; i++)
		KEXPECT_EQ(kmem_cache_free(s, v[i]), 0);
	kfree(v);
	KEXPECT_EQ(kmem_cache_check(s), 0);
	KEXPECT_EQ(kmem_cache_destroy(s), 0);
	KEXPECT_EQ(free_settled(), free);
}

KTEST(ch2_slab, destroy_refuses_live_objects)
{
	struct kmem_cache *s = kmem_cache_create("ch2-live", 64, 0, SLAB_DEBUG);
	KASSERT_NOT_NULL(s);
	void *p[3];
	for (int i = 0; i < 3; i++)
		p[i] = kmem_cache_alloc(s, 0);
	KEXPECT_EQ(kmem_cache_destroy(s), -EBUSY);
	KEXPECT_EQ(kmem_cache_leak_report(s), 3);
	memset(p[1], 0, 64); /* the objects are still good */
	for (int i = 0; i < 3; i++)
		KEXPECT_EQ(kmem_cache_free(s, p[i]), 0);
	KEXPECT_EQ(kmem_cache_leak_report(s), 0);
	KEXPECT_EQ(kmem_cache_destroy(s), 0);
	KEXPECT_EQ(kmem_cache_destroy(NULL), -EINVAL);
}

KTEST(ch2_slab, shrink_gives_empty_slabs_back)
{
	uint64_t free = free_settled();
	struct kmem_cache_stats st;
	struct kmem_cache *s = cache_after_churn("ch2-shrink", 500, &st);
	KASSERT_NOT_NULL(s);
	KEXPECT_EQ(st.active_objs, 0);
	KEXPECT_GT(st.slabs, 0); /* kept: objects in a hart's stack, and a few empty slabs */
	KEXPECT_LE(st.empty_slabs, 2);
	KEXPECT_LE(st.slabs - st.empty_slabs, st.cached_objs); /* each holds a stacked object */
	KEXPECT_GT(kmem_cache_shrink(s), 0);
	kmem_cache_stats(s, &st);
	KEXPECT_EQ(st.slabs, 0);
	KEXPECT_EQ(st.cached_objs, 0);
	KEXPECT_EQ(kmem_cache_destroy(s), 0);
	KEXPECT_EQ(free_settled(), free);
}

KTEST(ch2_slab, stats_count_fragmentation)
{
	struct kmem_cache *s = kmem_cache_create("ch2-frag", 100, 64, SLAB_NO_CPU_CACHE);
	KASSERT_NOT_NULL(s);
	void *p = kmem_cache_alloc(s, 0), *q = kmem_cache_alloc(s, 0);
	struct kmem_cache_stats st;
	kmem_cache_stats(s, &st);
	KEXPECT_EQ(st.object_size, 104);
	KEXPECT_EQ(st.stride, 128);
	KEXPECT_EQ(st.active_objs, 2);
	KEXPECT_EQ(st.frames, 1);
	/* The slab's unusable tail + header, and 24 B of padding per live object. */
	KEXPECT_EQ(st.wasted_bytes, PAGE_SIZE - st.objects_per_slab * 128 + 2 * 24);
	kmem_cache_free(s, p);
	kmem_cache_free(s, q);
	KEXPECT_EQ(kmem_cache_destroy(s), 0);

	/* Debug kmalloc records the request: ksize is what was asked, not class
	 * 32 (the 12 B lost to rounding are in that cache's wasted_bytes, which
	 * only the host test can read: the size classes are not public). */
	bool was = kmalloc_set_debug(true);
	void *k = kmalloc(20);
	KEXPECT_EQ(ksize(k), 20);
	kfree(k);
	kmalloc_set_debug(was);
}

KTEST(ch2_slab, bad_arguments)
{
	struct kmem_cache *good = kmem_cache_create("good", 8, 8, 0); /* the limits are allowed */
	KASSERT_NOT_NULL(good);
	void *p = kmem_cache_alloc(good, 0);
	KEXPECT_NOT_NULL(p);
	kmem_cache_free(good, p);
	KEXPECT_EQ(kmem_cache_destroy(good), 0);
	KEXPECT_NULL(kmem_cache_create("bad", 0, 0, 0));
	KEXPECT_NULL(kmem_cache_create("bad", 8, 3, 0));
	KEXPECT_NULL(kmem_cache_create("bad", 8, 2 * PAGE_SIZE, 0));
	KEXPECT_NULL(kmem_cache_create("bad", MiB, 0, 0));
	KEXPECT_NULL(kmem_cache_create("bad", 8, 0, 0x80));
	KEXPECT_NULL(kmem_cache_alloc(NULL, 0));
}

KTEST(ch2_slab, zero_flag_and_lifo_reuse)
{
	unsigned flags[] = {0, SLAB_NO_CPU_CACHE, SLAB_DEBUG};
	for (unsigned f = 0; f < ARRAY_SIZE(flags); f++) {
		struct kmem_cache *s = kmem_cache_create("ch2-lifo", 48, 0, flags[f]);
		KASSERT_NOT_NULL(s);
		uint8_t *p = kmem_cache_alloc(s, 0);
		KASSERT_NOT_NULL(p);
		memset(p, 0xee, 48);
		kmem_cache_free(s, p);
		uint8_t *q = kmem_cache_alloc(s, KMALLOC_ZERO);
		KEXPECT_TRUE(q == p); /* the last object freed comes back first */
		KEXPECT_TRUE(q && q[0] == 0 && q[47] == 0);
		kmem_cache_free(s, q);
		KEXPECT_EQ(kmem_cache_destroy(s), 0);
	}
}

/*
 * Allocate @p n + 1 objects from the fresh cache @p s into @p p, and put in
 * @p idx the index of each of the first n in the slab of the first one (-1:
 * not an object of that slab). @return true if those n are that whole slab,
 * each object once, and object n comes from another slab.
 */
static bool take_first_slab(struct kmem_cache *s, const struct kmem_cache_stats *st, void **p, long *idx,
			    unsigned n)
{
	static uint8_t seen[PAGE_SIZE];
	size_t block = PAGE_SIZE << st->order;
	for (unsigned i = 0; i <= n; i++)
		p[i] = kmem_cache_alloc(s, 0);
	if (!p[0] || !p[n] || n > sizeof(seen))
		return false;
	uintptr_t base = ALIGN_DOWN((uintptr_t)p[0], block);
	uintptr_t first = base + ((uintptr_t)p[0] - base) % st->stride; /* object 0 */
	bool ok = true;
	memset(seen, 0, n);
	for (unsigned i = 0; i < n; i++) {
		uintptr_t off = (uintptr_t)p[i] - first;
		bool in = p[i] && (uintptr_t)p[i] >= first && off % st->stride == 0 && off / st->stride < n;
		idx[i] = in ? (long)(off / st->stride) : -1;
		if (ok && (!in || seen[idx[i]]))
			printk("allocation %u (%p) is not a new object of the first slab\n", i, p[i]);
		ok &= in && !seen[idx[i]]++;
	}
	if (ok && (uintptr_t)p[n] >= base && (uintptr_t)p[n] < base + block) {
		printk("allocation %u came from the first slab, which has only %u objects\n", n, n);
		ok = false;
	}
	return ok;
}

KTEST(ch2_slab, new_slab_objects_in_order)
{
	/*
	 * slab_init_freelist chains a new slab's objects 0 first, so a fresh
	 * cache without hart stacks hands them out 0, 1, 2... (a hart's stack
	 * takes them in batches and pops each from the top: there only the set
	 * is fixed). Either way a slab gives every object it has, once.
	 */
	static const unsigned flags[] = {SLAB_NO_CPU_CACHE, SLAB_DEBUG, 0};
	static const char *const flag_names[] = {"SLAB_NO_CPU_CACHE", "SLAB_DEBUG", "0"};
	for (unsigned f = 0; f < ARRAY_SIZE(flags); f++) {
		struct kmem_cache *s = kmem_cache_create("ch2-order", 40, 0, flags[f]);
		KASSERT_NOT_NULL(s);
		struct kmem_cache_stats st;
		kmem_cache_stats(s, &st);
		unsigned n = st.objects_per_slab;
		void **p = kcalloc(n + 1, sizeof(void *));
		long *idx = kcalloc(n, sizeof(long));
		KASSERT_TRUE(p && idx);
		KEXPECT_TRUE(take_first_slab(s, &st, p, idx, n));
		unsigned i = 0;
		while (i < n && idx[i] == (long)i)
			i++;
		if (flags[f] && i < n) {
			printk("a fresh cache (%s) gave object %ld of its slab as allocation %u\n",
			       flag_names[f], idx[i], i);
			KEXPECT_EQ(idx[i], (long)i);
		}
		for (i = 0; i <= n; i++)
			kmem_cache_free(s, p[i]);
		kfree(p);
		kfree(idx);
		KEXPECT_EQ(kmem_cache_destroy(s), 0);
	}
}

KTEST(ch2_slab, big_objects_use_bigger_slabs)
{
	struct kmem_cache *s = kmem_cache_create("ch2-big", 3000, 0, 0);
	KASSERT_NOT_NULL(s);
	struct kmem_cache_stats st;
	kmem_cache_stats(s, &st);
	KEXPECT_GT(st.order, 0);
	/* At most 1/8 of a slab lost (the order was picked for it). */
	KEXPECT_LE((PAGE_SIZE << st.order) - st.objects_per_slab * st.stride, (PAGE_SIZE << st.order) / 8);
	void *p = kmem_cache_alloc(s, 0);
	KEXPECT_NOT_NULL(p);
	kmem_cache_free(s, p);
	KEXPECT_EQ(kmem_cache_destroy(s), 0);
}

/* True if @p a and @p b lie in the same slab of a cache whose slabs are @p block bytes. */
static bool same_slab(const void *a, const void *b, size_t block)
{
	return ALIGN_DOWN((uintptr_t)a, block) == ALIGN_DOWN((uintptr_t)b, block);
}

/*
 * A fresh cache of 512-byte objects without hart stacks (so every allocation
 * and free goes straight to the slabs, in the order the test makes them),
 * with its first @p slabs slabs full: slab k holds p[k * n .. k * n + n - 1],
 * where n = *@p per objects fit a slab (at most @p max objects in all), and
 * *@p block gets the bytes of a slab. NULL if it cannot be made so.
 */
static struct kmem_cache *filled_slabs(const char *name, void **p, unsigned max, unsigned slabs,
				       unsigned *per, size_t *block)
{
	struct kmem_cache *s = kmem_cache_create(name, 512, 0, SLAB_NO_CPU_CACHE);
	if (!s)
		return NULL;
	struct kmem_cache_stats st;
	kmem_cache_stats(s, &st);
	unsigned n = st.objects_per_slab;
	*per = n, *block = PAGE_SIZE << st.order;
	bool ok = n >= 2 && slabs * n <= max;
	for (unsigned i = 0; ok && i < slabs * n; i++)
		ok = (p[i] = kmem_cache_alloc(s, 0)) && same_slab(p[i], p[i - i % n], *block);
	for (unsigned k = 1; ok && k < slabs; k++)
		for (unsigned j = 0; ok && j < k; j++)
			ok = !same_slab(p[k * n], p[j * n], *block);
	if (!ok)
		printk("%s: could not fill %u slabs of %u objects\n", name, slabs, n);
	return ok ? s : NULL;
}

KTEST(ch2_slab, partial_slab_before_empty)
{
	/*
	 * Slab A full but for one object, slab B empty: the next object must come
	 * from A (the partial list comes first). Taking B's instead leaves A's
	 * hole unused and B no longer empty, so B can no longer go back to ch1.
	 */
	void *p[64];
	unsigned n;
	size_t block;
	/* An emptied slab is kept only while ch1 is not short of frames: make
	 * sure it is not, whatever the tests before left (min stays as it is). */
	struct frame_watermarks wm = frames_watermarks(), calm = {wm.min, wm.min, wm.min};
	KASSERT_EQ(frames_set_watermarks(calm), 0);
	struct kmem_cache *s = filled_slabs("ch2-partial", p, 32, 1, &n, &block);
	void *b = s ? kmem_cache_alloc(s, 0) : NULL; /* the first object of slab B */
	bool calm_ok = frames_pressure() == PRESSURE_NONE;
	if (b) {
		KEXPECT_EQ(kmem_cache_free(s, b), 0);	 /* B is empty (and kept) */
		KEXPECT_EQ(kmem_cache_free(s, p[1]), 0); /* A is partial */
	}
	frames_set_watermarks(wm);
	KASSERT_TRUE(s && b);
	KEXPECT_TRUE(calm_ok);
	KEXPECT_FALSE(same_slab(b, p[0], block));
	struct kmem_cache_stats st;
	kmem_cache_stats(s, &st);
	KEXPECT_EQ(st.partial_slabs, 1);
	KEXPECT_EQ(st.empty_slabs, 1);
	void *q = kmem_cache_alloc(s, 0);
	if (q != p[1])
		printk("allocation took %p (slab %s) instead of the free object %p of the partial slab\n", q,
		       same_slab(q, b, block) ? "B, empty" : "?", p[1]);
	KEXPECT_TRUE(q == p[1]);
	kmem_cache_stats(s, &st);
	KEXPECT_EQ(st.empty_slabs, 1);
	KEXPECT_EQ(st.full_slabs, 1);
	if (q)
		p[1] = q;
	for (unsigned i = 0; i < n; i++)
		KEXPECT_EQ(kmem_cache_free(s, p[i]), 0);
	KEXPECT_EQ(kmem_cache_check(s), 0);
	KEXPECT_EQ(kmem_cache_destroy(s), 0);
}

KTEST(ch2_slab, last_freed_slab_first)
{
	/*
	 * LIFO across slabs too: a slab that had an object freed goes to the
	 * front of the partial list, so allocations come from the slab freed
	 * into last (its objects are the warmest), last freed first.
	 */
	void *p[64];
	unsigned n;
	size_t block;
	struct kmem_cache *s = filled_slabs("ch2-lifo2", p, 64, 3, &n, &block);
	KASSERT_NOT_NULL(s);
	/* Free one object in slab 0, then in 1, then in 2, then 0 again: the
	 * partial list is then 0, 2, 1, so the allocations take slab 0's two
	 * (the one freed last first), then slab 2's, then slab 1's. */
	void *freed[] = {p[1], p[n + 1], p[2 * n + 1], p[2]};
	void *expect[] = {p[2], p[1], p[2 * n + 1], p[n + 1]};
	static const char *const from[] = {"0 (freed into last)", "0", "2", "1"};
	for (unsigned i = 0; i < ARRAY_SIZE(freed); i++)
		KEXPECT_EQ(kmem_cache_free(s, freed[i]), 0);
	/* The four come back (as a set, whatever the order), so p[] ends up all allocated. */
	for (unsigned i = 0; i < ARRAY_SIZE(expect); i++) {
		void *q = kmem_cache_alloc(s, 0);
		if (q != expect[i])
			printk("allocation %u took %p, not %p from slab %s\n", i, q, expect[i], from[i]);
		KEXPECT_TRUE(q == expect[i]);
	}
	for (unsigned i = 0; i < 3 * n; i++)
		kmem_cache_free(s, p[i]);
	KEXPECT_EQ(kmem_cache_check(s), 0);
	KEXPECT_EQ(kmem_cache_destroy(s), 0);
}

/* Bytes a slab of @p block bytes loses, holding @p n objects of @p stride bytes. */
static size_t slab_waste(size_t block, size_t n, size_t stride) { return block - n * stride; }

KTEST(ch2_slab, order_wastes_at_most_an_eighth)
{
	/*
	 * calculate_order: a cache's slabs have the smallest order that wastes
	 * at most 1/8 of the block (header and unusable tail), if one up to
	 * SLAB_MAX_ORDER does. The header's size is not public; a cache of
	 * 8-byte objects bounds it: its one-frame slab holds (4096 - header) / 8
	 * of them, so header <= 4096 - 8 * that. Any stride up to 4096 - header
	 * meets the bound at SLAB_MAX_ORDER (the loss is under header + stride).
	 */
	struct kmem_cache_stats st;
	struct kmem_cache *s = kmem_cache_create("ch2-order8", 8, 0, 0);
	KASSERT_NOT_NULL(s);
	kmem_cache_stats(s, &st);
	KEXPECT_EQ(kmem_cache_destroy(s), 0);
	KASSERT_EQ(st.order, 0);
	size_t header = PAGE_SIZE - 8 * st.objects_per_slab; /* an upper bound */
	KASSERT_LT(header, PAGE_SIZE / 8);
	static const size_t aligns[] = {8, 64, 512};
	unsigned bad = 0;
	for (unsigned a = 0; a < ARRAY_SIZE(aligns); a++) {
		for (size_t size = 8; size <= PAGE_SIZE; size += a ? 56 : 8) {
			s = kmem_cache_create("ch2-order", size, aligns[a], 0);
			KASSERT_NOT_NULL(s);
			kmem_cache_stats(s, &st);
			KEXPECT_EQ(kmem_cache_destroy(s), 0);
			size_t block = PAGE_SIZE << st.order,
			       waste = slab_waste(block, st.objects_per_slab, st.stride);
			bool ok = st.order <= SLAB_MAX_ORDER && st.objects_per_slab > 0 &&
				  (waste <= block / 8 || st.stride > PAGE_SIZE - header);
			/* The smallest such order: one less would lose more than 1/8
			 * (counted with the header's upper bound, so at least as much
			 * as the real header would lose). */
			if (ok && waste <= block / 8 && st.order > 0) {
				size_t lower = block / 2,
				       n = lower > header ? (lower - header) / st.stride : 0;
				ok = slab_waste(lower, n, st.stride) > lower / 8;
			}
			if (!ok && bad++ < 4)
				printk("%zu-byte objects (align %zu, stride %zu): order %u holds %u and "
				       "loses %zu of %zu B; "
				       "want the smallest order losing at most 1/8\n",
				       size, aligns[a], st.stride, st.order, st.objects_per_slab, waste,
				       block);
		}
	}
	KEXPECT_EQ(bad, 0);
}
