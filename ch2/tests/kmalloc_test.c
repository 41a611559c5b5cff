/* ch2.kmalloc: sizes, classes, alignment, krealloc, kcalloc, the large path. */
#include "errno.h"
#include "heap_test.h"
#include "initcall.h"
#include "string.h"

KTEST(ch2_kmalloc, heap_is_up)
{
	KEXPECT_TRUE(initcall_level_ok(INIT_HEAP));
	void *p = kmalloc(1);
	KEXPECT_NOT_NULL(p);
	kfree(p);
}

KTEST(ch2_kmalloc, index_picks_smallest_class)
{
	for (size_t size = 1; size <= KMALLOC_MAX_CACHE_SIZE; size++) {
		int i = kmalloc_index(size);
		KASSERT_GE(i, 0);
		KASSERT_GE(kmalloc_class_size(i), size);
		if (i > 0)
			KASSERT_LT(kmalloc_class_size(i - 1), size);
	}
	KEXPECT_EQ(kmalloc_index(0), -1);
	KEXPECT_EQ(kmalloc_index(KMALLOC_MAX_CACHE_SIZE + 1), -1);
}

/* Check two blocks of @p size: both usable in full, apart, aligned. */
static bool try_size(size_t size)
{
	uint8_t *p = kmalloc(size), *q = kmalloc(size);
	bool ok = p && q && IS_ALIGNED((uintptr_t)p, KMALLOC_MIN_ALIGN) && ksize(p) >= size &&
		  (p + size <= q || q + size <= p);
	if (ok) {
		memset(p, 0x5a, size);
		memset(q, 0xa5, size);
		ok = p[0] == 0x5a && p[size - 1] == 0x5a && q[0] == 0xa5 && q[size - 1] == 0xa5;
	}
	if (ok && size <= KMALLOC_MAX_CACHE_SIZE && !kmalloc_debug())
		ok = ksize(p) == kmalloc_class_size(kmalloc_index(size));
	if (!ok)
		printk("size %zu: p %p q %p ksize %zu\n", size, p, q, p ? ksize(p) : 0);
	kfree(p);
	kfree(q);
	return ok;
}

KTEST(ch2_kmalloc, sizes_cross_classes)
{
	uint64_t held = heap_settled();
	for (size_t size = 1; size <= 64; size++)
		KEXPECT_TRUE(try_size(size));
	for (int i = 0; i < KMALLOC_NR_CLASSES; i++) {
		size_t c = kmalloc_class_size(i);
		KEXPECT_TRUE(try_size(c - 1));
		KEXPECT_TRUE(try_size(c));
		KEXPECT_TRUE(try_size(c + 1));
	}
	for (size_t size = 4096; size <= MiB; size *= 2) {
		KEXPECT_TRUE(try_size(size - 1));
		KEXPECT_TRUE(try_size(size));
		KEXPECT_TRUE(try_size(size + 1));
	}
	for (size_t size = 100; size <= MiB; size = size * 3 / 2 + 7)
		KEXPECT_TRUE(try_size(size));
	KEXPECT_EQ(heap_settled(), held);
}

KTEST(ch2_kmalloc, alignment)
{
	for (size_t size = 8; size <= 2048; size *= 2) {
		void *p[4];
		for (int k = 0; k < 4; k++) {
			p[k] = kmalloc(size);
			KEXPECT_TRUE(p[k] && IS_ALIGNED((uintptr_t)p[k], size));
		}
		for (int k = 0; k < 4; k++)
			kfree(p[k]);
	}
	for (size_t size = 4097; size < 100000; size *= 3) {
		void *p = kmalloc(size);
		KEXPECT_TRUE(p && IS_ALIGNED((uintptr_t)p, PAGE_SIZE));
		kfree(p);
	}
	static const size_t sizes[] = {1, 24, 100, 1000, 3000, 5000, 70000};
	for (size_t align = 8; align <= 256 * KiB; align *= 2) {
		for (unsigned k = 0; k < ARRAY_SIZE(sizes); k++) {
			void *p = kmalloc_aligned(sizes[k], align);
			KEXPECT_NOT_NULL(p);
			KEXPECT_TRUE(IS_ALIGNED((uintptr_t)p, align));
			if (p)
				memset(p, 1, sizes[k]);
			kfree(p);
		}
	}
	KEXPECT_NULL(kmalloc_aligned(16, 24));
	KEXPECT_NULL(kmalloc_aligned(16, 0));
}

static bool pattern_ok(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (uint8_t)(i * 7 + 3))
			return false;
	return true;
}

static void pattern_fill(uint8_t *p, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		p[i] = (uint8_t)(i * 7 + 3);
}

KTEST(ch2_kmalloc, krealloc_keeps_contents)
{
	uint64_t held = heap_settled();
	size_t n = 1;
	uint8_t *p = krealloc(NULL, n);
	KASSERT_NOT_NULL(p);
	pattern_fill(p, 0, n);
	while (n < 300 * KiB) { /* grow: through every class, then frames */
		size_t m = n + n / 2 + 5;
		uint8_t *q = krealloc(p, m);
		KASSERT_NOT_NULL(q);
		KASSERT_TRUE(pattern_ok(q, n));
		pattern_fill(q, n, m);
		p = q, n = m;
	}
	while (n > 1) { /* and shrink back */
		n = n * 2 / 3;
		uint8_t *q = krealloc(p, n);
		KASSERT_NOT_NULL(q);
		KASSERT_TRUE(pattern_ok(q, n));
		p = q;
		KEXPECT_GE(ksize(p), n);
	}
	KEXPECT_NULL(krealloc(p, 0)); /* frees it */
	KEXPECT_EQ(heap_settled(), held);
}

KTEST(ch2_kmalloc, krealloc_bad_pointer)
{
	uint64_t before = heap_debug_count(HEAP_ERR_INVALID_FREE);
	int local = 1;
	void *ok = krealloc(NULL, 64); /* the good case works too */
	KASSERT_NOT_NULL(ok);
	kfree(ok);
	KEXPECT_NULL(krealloc(&local, 64));
	KEXPECT_EQ(heap_debug_count(HEAP_ERR_INVALID_FREE), before + 1);
	KEXPECT_EQ(local, 1);
}

KTEST(ch2_kmalloc, kcalloc_zeroes)
{
	static const size_t sizes[] = {8, 200, 3000, 5000, 70000};
	for (unsigned k = 0; k < ARRAY_SIZE(sizes); k++) {
		size_t n = sizes[k];
		uint8_t *dirty = kmalloc(n); /* the block kcalloc gets back next is dirty */
		KASSERT_NOT_NULL(dirty);
		memset(dirty, 0xff, n);
		kfree(dirty);
		uint8_t *p = kcalloc(n / 8, 8);
		KASSERT_NOT_NULL(p);
		bool zero = true;
		for (size_t i = 0; i < n; i++)
			zero &= p[i] == 0;
		KEXPECT_TRUE(zero);
		kfree(p);
	}
	uint8_t *z = kzalloc(100);
	KEXPECT_TRUE(z && z[0] == 0 && z[99] == 0);
	kfree(z);
}

KTEST(ch2_kmalloc, kcalloc_overflow)
{
	uint64_t free = free_settled();
	void *ok = kcalloc(1UL << 10, 4); /* 4 KiB: no overflow, must work */
	KASSERT_NOT_NULL(ok);
	kfree(ok);
	/*
	 * Products that wrap. A wrapped product too big for any memory (or 0)
	 * fails anyway, check or not; these wrap to a small size that kmalloc
	 * would happily give: only the overflow check refuses them.
	 */
	static const size_t wrap[][2] = {
		{(SIZE_MAX >> 6) + 2, 64},    /* 2^64 + 64: 64 B */
		{(1UL << 63) + 1, 2},	      /* 2^64 + 2: 2 B */
		{(1UL << 52) + 1, 1UL << 12}, /* 2^64 + 4096: one frame */
		{SIZE_MAX / 2, 3},	      /* 2^64 + 2^63 - 3: too big anyway */
		{1UL << 33, 1UL << 33},	      /* 2^66: 0 */
	};
	for (unsigned k = 0; k < ARRAY_SIZE(wrap); k++) {
		void *p = kcalloc(wrap[k][0], wrap[k][1]);
		if (p)
			printk("kcalloc(0x%zx, 0x%zx) wrapped to %zu B and gave %p\n", wrap[k][0], wrap[k][1],
			       wrap[k][0] * wrap[k][1], p);
		KEXPECT_NULL(p);
		kfree(p);
	}
	KEXPECT_NULL(kcalloc(0, 8));
	KEXPECT_NULL(kcalloc(8, 0));
	KEXPECT_EQ(free_settled(), free);
}

KTEST(ch2_kmalloc, zero_null_and_huge)
{
	struct heap_debug_counts before, after;
	heap_debug_counts(&before);
	uint64_t free = free_settled(), held = heap_settled();
	void *one = kmalloc(1); /* the smallest request is not 0 */
	KASSERT_NOT_NULL(one);
	kfree(one);
	kfree(NULL);
	KEXPECT_NULL(kmalloc(0));
	KEXPECT_NULL(kmalloc(1UL << 40)); /* recordable, but no machine here has 1 TiB */
	KEXPECT_NULL(kmalloc(1UL << 50));
	KEXPECT_NULL(kmalloc(SIZE_MAX));
	KEXPECT_EQ(ksize(NULL), 0);
	heap_debug_counts(&after);
	KEXPECT_EQ(after.total, before.total);
	KEXPECT_EQ(free_settled(), free);
	KEXPECT_EQ(heap_settled(), held); /* a failed allocation holds nothing */
}

KTEST(ch2_kmalloc, large_takes_exact_frames)
{
	uint64_t free = free_settled();
	void *p = kmalloc(5 * PAGE_SIZE - 100);
	KASSERT_NOT_NULL(p);
	KEXPECT_EQ(frames_nr_free(), free - 5);
	KEXPECT_EQ(kmalloc_debug() ? ksize(p) : ksize(p) / PAGE_SIZE,
		   kmalloc_debug() ? 5 * PAGE_SIZE - 100 : 5);
	kfree(p);
	KEXPECT_EQ(frames_nr_free(), free);
}

KTEST(ch2_kmalloc, aligned_large_takes_one_block)
{
	/*
	 * kmalloc_aligned() above a page: one buddy block of 2^order frames, the
	 * smallest that covers both the size and the alignment (a block is
	 * aligned to its own size), all of it usable, all of it given back.
	 * With an alignment of a page or less, a large request takes exactly
	 * ceil(size / 4096) frames, as kmalloc() does.
	 */
	static const struct {
		size_t size, align, frames;
	} cases[] = {
		{5 * PAGE_SIZE, 2 * PAGE_SIZE, 8}, /* the size decides: 5 frames need a block of 8 */
		{4 * PAGE_SIZE, 4 * PAGE_SIZE, 4}, /* exactly one block: no more */
		{PAGE_SIZE + 1, 8 * PAGE_SIZE, 8}, /* the alignment decides */
		{100, 4 * PAGE_SIZE, 4},	   /* small, but no size class is that aligned */
		{9 * PAGE_SIZE + 8, 64 * KiB, 16},
		{3 * PAGE_SIZE, PAGE_SIZE, 3}, /* a page's alignment: a run of exactly 3 */
	};
	uint64_t free = free_settled(), held = heap_settled();
	for (unsigned k = 0; k < ARRAY_SIZE(cases); k++) {
		size_t size = cases[k].size, align = cases[k].align, want = cases[k].frames;
		uint64_t f0 = frames_nr_free(), h0 = heap_frames_held();
		uint8_t *p = kmalloc_aligned(size, align);
		KEXPECT_NOT_NULL(p);
		if (!p)
			continue;
		uint64_t taken = f0 - frames_nr_free(), counted = heap_frames_held() - h0;
		size_t usable = ksize(p);
		kfree(p);
		uint64_t back = frames_nr_free() - (f0 - taken),
			 uncounted = h0 + counted - heap_frames_held();
		if (!IS_ALIGNED((uintptr_t)p, align) || taken != want || counted != want || back != want ||
		    uncounted != want || usable != (kmalloc_debug() ? size : want * PAGE_SIZE))
			printk("kmalloc_aligned(%zu, %zu): %p, took %lu frame(s) (want %zu), "
			       "heap_frames_held +%lu, "
			       "ksize %zu; kfree gave back %lu, heap_frames_held -%lu\n",
			       size, align, p, (unsigned long)taken, want, (unsigned long)counted, usable,
			       (unsigned long)back, (unsigned long)uncounted);
		KEXPECT_TRUE(IS_ALIGNED((uintptr_t)p, align));
		KEXPECT_EQ(taken, want);
		KEXPECT_EQ(counted, want);
		KEXPECT_EQ(usable, kmalloc_debug() ? size : want * PAGE_SIZE);
		KEXPECT_EQ(back, want);
		KEXPECT_EQ(uncounted, want);
	}
	KEXPECT_EQ(free_settled(), free);
	KEXPECT_EQ(heap_settled(), held);
}

KTEST(ch2_kmalloc, many_small_objects_distinct)
{
	enum { N = 3000 };
	uint64_t held = heap_settled();
	uint32_t **v = kcalloc(N, sizeof(*v));
	KASSERT_NOT_NULL(v);
	for (uint32_t i = 0; i < N; i++) {
		v[i] = kmalloc(8 + (i % 5) * 12);
		KASSERT_NOT_NULL(v[i]);
		v[i][0] = i;
		v[i][1] = ~i;
	}
	bool ok = true;
	for (uint32_t i = 0; i < N; i++)
		ok &= v[i][0] == i && v[i][1] == ~i;
	KEXPECT_TRUE(ok);
	for (uint32_t i = 0; i < N; i += 2)
		kfree(v[i]);
	for (uint32_t i = 1; i < N; i += 2)
		kfree(v[i]);
	kfree(v);
	KEXPECT_EQ(kmem_check_all(), 0);
	KEXPECT_EQ(heap_settled(), held);
}

KTEST(ch2_kmalloc, kfree_works_on_cache_objects)
{
	struct kmem_cache *s = kmem_cache_create("ch2-kfree", 72, 0, 0);
	KASSERT_NOT_NULL(s);
	void *p = kmem_cache_alloc(s, 0);
	KASSERT_NOT_NULL(p);
	KEXPECT_EQ(ksize(p), 72);
	kfree(p);
	KEXPECT_EQ(kmem_cache_destroy(s), 0);
}
