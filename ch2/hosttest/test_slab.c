// HOSTTEST_SOURCES: ch2/src/slab.c ch2/src/slab_lists.c ch2/src/array_cache.c ch2/src/slab_cache.c ch2/src/slab_stats.c ch2/src/kmalloc.c ch2/src/slab_debug.c ch2/src/slab_offslab.c ch2/src/slab_reap.c ch2/hosttest/sim_frames.c ch1/src/buddy.c common/hosttest/host_kernel.c
/*
 * Host unit tests of the heap (slab caches, kmalloc, debug mode) over the
 * simulated frame allocator, under AddressSanitizer and UBSan.
 */
#include <stdlib.h>
#include <string.h>

#include "errno.h"
#include "../../common/hosttest/host_check.h"
#include "slab_internal.h"

/* Frames the heap holds, after giving back all it can. */
static uint64_t settled_frames(void)
{
	kmalloc_shrink();
	return sim_frames_used();
}

static void test_size_classes(void)
{
	for (size_t size = 1; size <= KMALLOC_MAX_CACHE_SIZE; size++) {
		int i = kmalloc_index(size);
		if (i < 0 || kmalloc_class_size(i) < size || (i > 0 && kmalloc_class_size(i - 1) >= size)) {
			CHECK(!"kmalloc_index picks the smallest class that fits");
			return;
		}
	}
	CHECK_EQ(kmalloc_index(0), -1);
	CHECK_EQ(kmalloc_index(KMALLOC_MAX_CACHE_SIZE + 1), -1);
	CHECK_EQ(kmalloc_class_size(kmalloc_index(3072)), 3072);
}

static void test_sizes(void)
{
	uint64_t before = settled_frames();
	for (size_t size = 1; size <= (1 << 20); size = size < 64 ? size + 1 : size + size / 7 + 1) {
		uint8_t *p = kmalloc(size), *q = kmalloc(size);
		CHECK(p && q);
		if (!p || !q)
			return;
		CHECK(IS_ALIGNED((uintptr_t)p, KMALLOC_MIN_ALIGN));
		CHECK(ksize(p) >= size);
		CHECK(p + size <= q || q + size <= p);
		memset(p, 0x5a, size);
		memset(q, 0xa5, size);
		CHECK(p[0] == 0x5a && p[size - 1] == 0x5a);
		kfree(p);
		kfree(q);
	}
	CHECK_EQ(settled_frames(), before);
	CHECK_EQ(kmem_check_all(), 0);
}

static void test_alignment(void)
{
	for (size_t size = 8; size <= 2048; size *= 2) {
		void *p = kmalloc(size);
		CHECK(p && IS_ALIGNED((uintptr_t)p, size));
		kfree(p);
	}
	for (size_t align = 8; align <= 64 * 1024; align *= 2) {
		size_t sizes[] = {1, 100, 3000, 5000, 20000};
		for (unsigned k = 0; k < ARRAY_SIZE(sizes); k++) {
			void *p = kmalloc_aligned(sizes[k], align);
			CHECK(p && IS_ALIGNED((uintptr_t)p, align));
			kfree(p);
		}
	}
	CHECK(kmalloc_aligned(16, 24) == NULL);
	CHECK(kmalloc_aligned(16, 0) == NULL);
}

static void test_krealloc(void)
{
	uint8_t *p = krealloc(NULL, 1);
	CHECK(p != NULL);
	p[0] = 1;
	size_t n = 1;
	while (n < 200000) {
		size_t m = n * 2 + 3;
		p = krealloc(p, m);
		CHECK(p != NULL);
		for (size_t i = 0; i < n; i++)
			if (p[i] != (uint8_t)(i * 7 + 1)) {
				CHECK(!"krealloc kept the contents while growing");
				break;
			}
		for (size_t i = 0; i < m; i++)
			p[i] = (uint8_t)(i * 7 + 1);
		n = m;
	}
	while (n > 1) {
		n /= 3;
		p = krealloc(p, n + 1);
		CHECK(p != NULL);
		for (size_t i = 0; i <= n; i++)
			if (p[i] != (uint8_t)(i * 7 + 1)) {
				CHECK(!"krealloc kept the contents while shrinking");
				break;
			}
	}
	CHECK(krealloc(p, 0) == NULL);
}

static void test_kcalloc(void)
{
	uint8_t *p = kmalloc(200);
	memset(p, 0xff, 200);
	kfree(p);
	uint8_t *q = kcalloc(25, 8);
	CHECK(q != NULL);
	bool zero = true;
	for (int i = 0; i < 200; i++)
		zero &= q[i] == 0;
	CHECK(zero);
	kfree(q);
	CHECK(kcalloc(SIZE_MAX / 2, 3) == NULL);
	CHECK(kcalloc(0, 8) == NULL);
	CHECK(kmalloc(0) == NULL);
	kfree(NULL);
}

static void test_cache_lifecycle(void)
{
	uint64_t before = settled_frames();
	struct kmem_cache *s = kmem_cache_create("host-obj", 100, 0, 0);
	CHECK(s != NULL);
	struct kmem_cache_stats st;
	kmem_cache_stats(s, &st);
	CHECK_EQ(st.stride, 104);
	unsigned n = st.objects_per_slab * 5;
	void **objs = calloc(n, sizeof(void *));
	for (unsigned i = 0; i < n; i++) {
		objs[i] = kmem_cache_alloc(s, 0);
		CHECK(objs[i] != NULL);
		memset(objs[i], (int)i, 100);
	}
	kmem_cache_stats(s, &st);
	CHECK_EQ(st.active_objs, n);
	CHECK(st.slabs >= 5);
	CHECK_EQ(kmem_cache_destroy(s), -EBUSY);
	CHECK_EQ(kmem_cache_leak_report(s), n);
	for (unsigned i = 0; i < n; i++)
		CHECK_EQ(kmem_cache_free(s, objs[i]), 0);
	CHECK_EQ(kmem_cache_check(s), 0);
	kmem_cache_stats(s, &st);
	CHECK_EQ(st.active_objs, 0);
	CHECK(st.empty_slabs <= SLAB_KEEP_EMPTY);
	kmem_cache_shrink(s);
	kmem_cache_stats(s, &st);
	CHECK_EQ(st.slabs, 0);
	CHECK_EQ(kmem_cache_destroy(s), 0);
	free(objs);
	CHECK_EQ(settled_frames(), before);
	CHECK(kmem_cache_create("bad", 0, 0, 0) == NULL);
	CHECK(kmem_cache_create("bad", 8, 3, 0) == NULL);
	CHECK(kmem_cache_create("bad", 8, 8192, 0) == NULL);
	CHECK(kmem_cache_create("bad", 1 << 20, 0, 0) == NULL);
	CHECK_EQ(kmem_cache_destroy(NULL), -EINVAL);
}

static void test_fragmentation_stats(void)
{
	struct kmem_cache *s = kmem_cache_create("frag", 100, 64, 0);
	void *p = kmem_cache_alloc(s, 0);
	struct kmem_cache_stats st;
	kmem_cache_stats(s, &st);
	CHECK_EQ(st.stride, 128);
	CHECK_EQ(st.objects_per_slab, (4096 - sizeof(struct slab)) / 128);
	CHECK_EQ(st.wasted_bytes, st.frames * 4096 - st.total_objs * 128 + st.active_objs * 24);
	kmem_cache_free(s, p);
	CHECK_EQ(kmem_cache_destroy(s), 0);
}

static uint64_t errs(enum heap_error k) { return heap_debug_count(k); }

static void test_debug(void)
{
	uint64_t before = settled_frames();
	struct kmem_cache *s = kmem_cache_create("dbg", 40, 0, SLAB_DEBUG);
	struct kmem_cache *o = kmem_cache_create("other", 40, 0, 0);
	uint8_t *p = kmem_cache_alloc(s, 0);
	memset(p, 0x11, 40);
	CHECK_EQ(kmem_cache_free(s, p), 0);
	CHECK(p[0] == POISON_FREE && p[38] == POISON_FREE && p[39] == POISON_END);

	uint64_t e = errs(HEAP_ERR_DOUBLE_FREE);
	CHECK_EQ(kmem_cache_free(s, p), -EINVAL);
	CHECK_EQ(errs(HEAP_ERR_DOUBLE_FREE), e + 1);

	/* A write after free is found when the object comes back. */
	p[5] = 0;
	e = errs(HEAP_ERR_USE_AFTER_FREE);
	uint8_t *q = kmem_cache_alloc(s, 0);
	CHECK(q != NULL && q != p);
	CHECK_EQ(errs(HEAP_ERR_USE_AFTER_FREE), e + 1);
	CHECK(heap_last_report().ptr == p);
	CHECK_EQ(heap_last_report().offset, 5);

	/* Overflow and underflow. */
	e = errs(HEAP_ERR_REDZONE);
	q[40] = 1;
	CHECK_EQ(kmem_cache_free(s, q), -EINVAL);
	uint8_t *r = kmem_cache_alloc(s, 0);
	r[-1] = 1;
	CHECK_EQ(kmem_cache_free(s, r), -EINVAL);
	CHECK_EQ(errs(HEAP_ERR_REDZONE), e + 2);

	/* Invalid and wrong-cache frees. */
	uint8_t *a = kmem_cache_alloc(s, 0);
	e = errs(HEAP_ERR_INVALID_FREE);
	CHECK_EQ(kmem_cache_free(s, a + 8), -EINVAL);
	int local;
	CHECK_EQ(kmem_cache_free(s, &local), -EINVAL);
	kfree(a + 1);
	kfree(&local);
	CHECK_EQ(errs(HEAP_ERR_INVALID_FREE), e + 4);
	e = errs(HEAP_ERR_WRONG_CACHE);
	CHECK_EQ(kmem_cache_free(o, a), -EINVAL);
	CHECK_EQ(errs(HEAP_ERR_WRONG_CACHE), e + 1);
	CHECK_EQ(kmem_cache_free(s, a), 0);
	CHECK_EQ(kmem_cache_check(s), 0);
	/* Only quarantined objects are left: destroy may go on. */
	CHECK_EQ(kmem_cache_destroy(s), 0);
	CHECK_EQ(kmem_cache_destroy(o), 0);
	CHECK_EQ(settled_frames(), before);

	/* kmalloc in debug mode: the red zone starts right after the request. */
	bool was = kmalloc_set_debug(true);
	uint8_t *k = kmalloc(20);
	CHECK_EQ(ksize(k), 20);
	/* The request is recorded: class 32 for 20 B loses 12 on top of the layout's waste. */
	struct kmem_cache_stats st;
	kmem_cache_stats(virt_to_slab(k)->cache, &st);
	CHECK_EQ(st.active_objs, 1);
	CHECK_EQ(st.wasted_bytes -
			 (st.frames * PAGE_SIZE - st.total_objs * st.stride + (st.stride - st.object_size)),
		 12);
	e = errs(HEAP_ERR_REDZONE);
	k[20] = 'x';
	kfree(k);
	CHECK_EQ(errs(HEAP_ERR_REDZONE), e + 1);
	uint8_t *big = kmalloc(5000);
	big[5000] = 1;
	kfree(big);
	CHECK_EQ(errs(HEAP_ERR_REDZONE), e + 2);
	e = errs(HEAP_ERR_DOUBLE_FREE);
	kfree(big); /* refused before: now a double free */
	CHECK_EQ(errs(HEAP_ERR_DOUBLE_FREE), e + 1);
	uint8_t *g = krealloc(kmalloc(10), 30); /* moves to another class, keeps its mode */
	CHECK_EQ(ksize(g), 30);
	kfree(g);
	/* A krealloc that would stay in place never paints over an overflow: the
	 * block moves and freeing the old one reports it (an object, a large block). */
	static const size_t from[] = {20, 5000}, to[] = {24, 7000};
	for (int i = 0; i < 2; i++) {
		uint8_t *o = kmalloc(from[i]);
		o[from[i] + 1] = 'x';
		e = errs(HEAP_ERR_REDZONE);
		uint8_t *m = krealloc(o, to[i]);
		CHECK(m != NULL && m != o);
		CHECK_EQ(errs(HEAP_ERR_REDZONE), e + 1);
		CHECK_EQ(ksize(m), to[i]);
		kfree(m);
	}
	/* krealloc of a freed object: a double free, not a resize. */
	uint8_t *f = kmalloc(40);
	kfree(f);
	e = errs(HEAP_ERR_DOUBLE_FREE);
	CHECK(krealloc(f, 30) == NULL);
	CHECK_EQ(errs(HEAP_ERR_DOUBLE_FREE), e + 1);
	CHECK_EQ(ksize(f), 0);
	kmalloc_set_debug(was);
	/* Normal mode still catches a free twice in a row. */
	void *n = kmalloc(64);
	e = errs(HEAP_ERR_DOUBLE_FREE);
	kfree(n);
	kfree(n);
	CHECK_EQ(errs(HEAP_ERR_DOUBLE_FREE), e + 1);
	CHECK_EQ(kmem_check_all(), 0);
}

/*
 * Debug: a write after free that turns a free pointer at a live object, or
 * back at its own object, is caught when that object is handed out: the rest
 * of the freelist is abandoned, no object is handed out twice, the counts
 * stay right and the cache can still be destroyed.
 */
static void test_forged_freelist(void)
{
	uint64_t before = settled_frames();
	for (int k = 0; k < 2; k++) {
		struct kmem_cache *s = kmem_cache_create("forged", 64, 0, SLAB_DEBUG);
		uint8_t *p = kmem_cache_alloc(s, 0), *q = kmem_cache_alloc(s, 0);
		CHECK_EQ(kmem_cache_free(s, p), 0);
		obj_meta(s, p)->free_next = k ? (void *)p : (void *)q;
		uint64_t e = errs(HEAP_ERR_USE_AFTER_FREE);
		uint8_t *a = kmem_cache_alloc(s, 0), *b = kmem_cache_alloc(s, 0);
		CHECK(a == p);
		CHECK(b != NULL && b != p && b != q);
		CHECK_EQ(errs(HEAP_ERR_USE_AFTER_FREE), e + 1);
		CHECK_EQ(kmem_cache_check(s), 0);
		CHECK_EQ(kmem_cache_free(s, q), 0); /* still its owner's */
		CHECK_EQ(kmem_cache_free(s, a), 0);
		CHECK_EQ(kmem_cache_free(s, b), 0);
		CHECK_EQ(kmem_cache_destroy(s), 0);
	}
	CHECK_EQ(settled_frames(), before);
}

static void test_out_of_memory(void)
{
	uint64_t before = settled_frames();
	sim_frames_fail_after(0);
	CHECK(kmalloc(100000) == NULL);
	struct kmem_cache *s = kmem_cache_create("oom", 64, 0, 0);
	CHECK(s == NULL || kmem_cache_alloc(s, 0) == NULL);
	sim_frames_fail_after(-1);
	if (s)
		kmem_cache_destroy(s);
	CHECK_EQ(settled_frames(), before);
	/* Exhaust the arena for real, then recover. */
	void *head = NULL;
	size_t sizes[] = {1 << 20, 65536, 4096, 256, 32};
	unsigned long got = 0;
	for (unsigned k = 0; k < ARRAY_SIZE(sizes); k++) {
		void **p;
		while ((p = kmalloc(sizes[k]))) {
			*p = head;
			head = p;
			got++;
		}
	}
	CHECK(got > 0);
	CHECK_EQ(frames_nr_free(), 0);
	while (head) {
		void *next = *(void **)head;
		kfree(head);
		head = next;
	}
	CHECK_EQ(settled_frames(), before);
	void *p = kmalloc(1 << 20);
	CHECK(p != NULL);
	kfree(p);
}

static void test_pressure(void)
{
	uint64_t before = settled_frames();
	struct kmem_cache *s = kmem_cache_create("press", 256, 0, SLAB_NO_CPU_CACHE);
	void *objs[200];
	for (int i = 0; i < 200; i++)
		objs[i] = kmem_cache_alloc(s, 0);
	struct kmem_cache_stats st;
	/* No pressure: free all, and the cache keeps a few empty slabs. */
	for (int i = 0; i < 200; i++)
		kmem_cache_free(s, objs[i]);
	kmem_cache_stats(s, &st);
	CHECK_EQ(st.empty_slabs, SLAB_KEEP_EMPTY);
	for (int i = 0; i < 200; i++)
		objs[i] = kmem_cache_alloc(s, 0);
	/* Pressure: every slab that empties goes back at once. */
	uint64_t total = frames_nr_total();
	struct frame_watermarks wm = frames_watermarks(), high = {0, total, total};
	CHECK_EQ(frames_set_watermarks(high), 0);
	CHECK(frames_pressure() != PRESSURE_NONE);
	for (int i = 0; i < 200; i++)
		kmem_cache_free(s, objs[i]);
	kmem_cache_stats(s, &st);
	CHECK_EQ(st.slabs, 0);
	frames_set_watermarks(wm);
	/* The shrinker: empty slabs go back when an allocation would fail. */
	for (int i = 0; i < 200; i++)
		objs[i] = kmem_cache_alloc(s, 0);
	for (int i = 0; i < 200; i++)
		kmem_cache_free(s, objs[i]);
	kmem_cache_stats(s, &st);
	CHECK(st.empty_slabs > 0);
	struct frame_watermarks none = {total, total, total};
	CHECK_EQ(frames_set_watermarks(none), 0);
	CHECK(frame_alloc(0) == 0);
	kmem_cache_stats(s, &st);
	CHECK_EQ(st.empty_slabs, 0);
	frames_set_watermarks(wm);
	CHECK_EQ(kmem_cache_destroy(s), 0);
	CHECK_EQ(settled_frames(), before);
}

/* Off-slab headers (slab_offslab.c): a size that divides the frame loses nothing. */
static void test_off_slab(void)
{
	uint64_t before = settled_frames();
	struct kmem_cache *s = kmem_cache_create("off2048", 2048, 0, 0);
	CHECK(s && (s->flags & SLAB_OFF_SLAB));
	struct kmem_cache_stats st;
	kmem_cache_stats(s, &st);
	CHECK_EQ(st.order, 0);
	CHECK_EQ(st.objects_per_slab, 2);
	void *p[6];
	for (int i = 0; i < 6; i++) {
		p[i] = kmem_cache_alloc(s, 0);
		CHECK(p[i] && virt_to_slab(p[i]) && virt_to_slab(p[i])->cache == s);
		memset(p[i], 0x5a, 2048); /* all of it is the object's: nothing of the slab's in it */
	}
	CHECK_EQ(kmem_cache_check(s), 0);
	CHECK_EQ(kmem_cache_check(&slab_header_cache), 0);
	/* Not an object's start: refused, as for a header on the slab. */
	CHECK_EQ(kmem_cache_free(s, (char *)p[0] + 8), -EINVAL);
	for (int i = 0; i < 6; i++)
		CHECK_EQ(kmem_cache_free(s, p[i]), 0);
	CHECK_EQ(kmem_cache_destroy(s), 0);
	/* Small objects keep their header on the slab. */
	s = kmem_cache_create("on48", 48, 0, 0);
	CHECK(s && !(s->flags & SLAB_OFF_SLAB));
	CHECK_EQ(kmem_cache_destroy(s), 0);
	CHECK_EQ(settled_frames(), before);
}

/* Reaping (slab_reap.c): a cache nobody uses gives its frames back when another grows. */
static void test_reap(void)
{
	enum { N = 2000 };
	static void *p[N];
	struct kmem_cache *idle = kmem_cache_create("idle", 64, 0, 0),
			  *busy = kmem_cache_create("busy", 64, 0, 0);
	CHECK(idle && busy);
	for (int i = 0; i < N; i++)
		p[i] = kmem_cache_alloc(idle, 0);
	for (int i = 0; i < N; i += 2) /* every other one first: objects of every slab in the array */
		kmem_cache_free(idle, p[i]);
	for (int i = 1; i < N; i += 2)
		kmem_cache_free(idle, p[i]);
	struct kmem_cache_stats st;
	kmem_cache_stats(idle, &st);
	CHECK(st.cached_objs > 0 && st.slabs > st.empty_slabs); /* stacked objects keep slabs partial */
	/* busy grows by many slabs: two rounds of reaping pass, the second finds idle untouched. */
	for (int i = 0; i < N; i++)
		p[i] = kmem_cache_alloc(busy, 0);
	kmem_cache_stats(idle, &st);
	CHECK_EQ(st.cached_objs, 0);
	CHECK_EQ(st.slabs, 0);
	kmem_cache_stats(busy, &st);
	CHECK_EQ(st.active_objs, N); /* the cache that grows is never reaped */
	for (int i = 0; i < N; i++)
		kmem_cache_free(busy, p[i]);
	CHECK_EQ(kmem_cache_destroy(idle), 0);
	CHECK_EQ(kmem_cache_destroy(busy), 0);
}

int main(void)
{
	sim_frames_init(16384); /* 64 MiB */
	CHECK_EQ(kmalloc_init(), 0);
	test_size_classes();
	test_sizes();
	test_alignment();
	test_krealloc();
	test_kcalloc();
	test_cache_lifecycle();
	test_fragmentation_stats();
	test_debug();
	test_forged_freelist();
	test_out_of_memory();
	test_pressure();
	test_off_slab();
	test_reap();
	CHECK_EQ(kmem_check_all(), 0);
	return checks_done("ch2/slab");
}
