/*
 * ch2.debug: every misuse is reported (a line, a counter, the caller) and
 * refused, never a corruption, never a panic. Misuse on purpose below: each
 * test works on its own cache (SLAB_DEBUG) or turns kmalloc's debug mode on
 * for its duration.
 */
#include "errno.h"
#include "heap_test.h"
#include "memlayout.h"
#include "string.h"

/* Run the statements with kmalloc in debug mode, then put the mode back
 * (so no KASSERT inside: it would return before that). */
#define WITH_KMALLOC_DEBUG(...)                                                                              \
	do {                                                                                                 \
		bool _was = kmalloc_set_debug(true);                                                         \
		__VA_ARGS__;                                                                                 \
		kmalloc_set_debug(_was);                                                                     \
	} while (0)

KTEST(ch2_debug, poison_on_free)
{
	struct kmem_cache *s = kmem_cache_create("ch2-poison", 40, 0, SLAB_DEBUG);
	KASSERT_NOT_NULL(s);
	uint8_t *p = kmem_cache_alloc(s, 0);
	KASSERT_NOT_NULL(p);
	memset(p, 0x11, 40);
	KEXPECT_EQ(kmem_cache_free(s, p), 0);
	bool poisoned = true;
	for (int i = 0; i < 39; i++)
		poisoned &= p[i] == POISON_FREE;
	KEXPECT_TRUE(poisoned);
	KEXPECT_EQ(p[39], POISON_END);
	KEXPECT_EQ(p[-1], RED_INACTIVE);
	KEXPECT_EQ(p[40], RED_INACTIVE);
	KEXPECT_EQ(kmem_cache_destroy(s), 0);
}

KTEST(ch2_debug, overflow_into_red_zone)
{
	struct kmem_cache *s = kmem_cache_create("ch2-over", 40, 0, SLAB_DEBUG);
	KASSERT_NOT_NULL(s);
	uint8_t *p = kmem_cache_alloc(s, 0);
	KASSERT_NOT_NULL(p);
	KEXPECT_EQ(p[40], RED_ACTIVE);
	uint64_t before = heap_debug_count(HEAP_ERR_REDZONE);
	p[40] = 0; /* one byte too far */
	KEXPECT_EQ(kmem_cache_free(s, p), -EINVAL);
	KEXPECT_EQ(heap_debug_count(HEAP_ERR_REDZONE), before + 1);
	struct heap_report r = heap_last_report();
	KEXPECT_TRUE(r.kind == HEAP_ERR_REDZONE && r.ptr == p && r.offset == 40);
	/* Quarantined: never handed out again; the cache is still sound. */
	void *q = kmem_cache_alloc(s, 0);
	KEXPECT_TRUE(q != p);
	kmem_cache_free(s, q);
	struct kmem_cache_stats st;
	kmem_cache_stats(s, &st);
	KEXPECT_EQ(st.quarantined, 1);
	KEXPECT_EQ(st.errors, 1);
	KEXPECT_EQ(kmem_cache_check(s), 0);
	KEXPECT_EQ(kmem_cache_destroy(s), 0);
}

KTEST(ch2_debug, underflow_into_red_zone)
{
	struct kmem_cache *s = kmem_cache_create("ch2-under", 64, 16, SLAB_DEBUG);
	KASSERT_NOT_NULL(s);
	uint8_t *p = kmem_cache_alloc(s, 0);
	KASSERT_NOT_NULL(p);
	uint64_t before = heap_debug_count(HEAP_ERR_REDZONE);
	p[-3] = 0;
	KEXPECT_EQ(kmem_cache_free(s, p), -EINVAL);
	KEXPECT_EQ(heap_debug_count(HEAP_ERR_REDZONE), before + 1);
	KEXPECT_EQ(heap_last_report().offset, -3);
	KEXPECT_EQ(kmem_cache_destroy(s), 0);
}

KTEST(ch2_debug, kmalloc_red_zone_starts_at_request)
{
	WITH_KMALLOC_DEBUG({
		uint8_t *p = kmalloc(20);		    /* from the 32-byte class */
		uint8_t *big = kmalloc(2 * PAGE_SIZE + 10); /* large: the rest of the last frame */
		KEXPECT_TRUE(p && big);
		KEXPECT_EQ(ksize(p), 20);
		uint64_t before = heap_debug_count(HEAP_ERR_REDZONE);
		if (p && big) {
			p[20] = 'x';
			kfree(p);
			KEXPECT_EQ(heap_debug_count(HEAP_ERR_REDZONE), before + 1);
			big[2 * PAGE_SIZE + 10] = 'x';
			kfree(big);
			KEXPECT_EQ(heap_debug_count(HEAP_ERR_REDZONE), before + 2);
		}
	});
}

KTEST(ch2_debug, double_free)
{
	struct kmem_cache *s = kmem_cache_create("ch2-dfree", 32, 0, SLAB_DEBUG);
	KASSERT_NOT_NULL(s);
	void *p = kmem_cache_alloc(s, 0), *q = kmem_cache_alloc(s, 0);
	uint64_t before = heap_debug_count(HEAP_ERR_DOUBLE_FREE);
	KEXPECT_EQ(kmem_cache_free(s, p), 0);
	KEXPECT_EQ(kmem_cache_free(s, q), 0);
	KEXPECT_EQ(kmem_cache_free(s, p), -EINVAL); /* not in a row: only debug mode sees it */
	KEXPECT_EQ(heap_debug_count(HEAP_ERR_DOUBLE_FREE), before + 1);
	/* Refused, so each object comes back exactly once. */
	void *a = kmem_cache_alloc(s, 0), *b = kmem_cache_alloc(s, 0), *c = kmem_cache_alloc(s, 0);
	KEXPECT_TRUE(a != b && b != c && a != c);
	kmem_cache_free(s, a), kmem_cache_free(s, b), kmem_cache_free(s, c);
	KEXPECT_EQ(kmem_cache_check(s), 0);
	KEXPECT_EQ(kmem_cache_destroy(s), 0);

	WITH_KMALLOC_DEBUG({
		void *k = kmalloc(100), *l = kmalloc(100);
		kfree(k);
		kfree(l);
		kfree(k);
		KEXPECT_EQ(heap_debug_count(HEAP_ERR_DOUBLE_FREE), before + 2);
	});
}

KTEST(ch2_debug, double_free_in_normal_mode)
{
	bool was = kmalloc_set_debug(false);
	void *p = kmalloc(64);
	uint64_t before = heap_debug_count(HEAP_ERR_DOUBLE_FREE);
	kfree(p);
	kfree(p); /* twice in a row: seen even without debug mode */
	KEXPECT_EQ(heap_debug_count(HEAP_ERR_DOUBLE_FREE), before + 1);
	void *a = kmalloc(64), *b = kmalloc(64);
	KEXPECT_TRUE(a != b);
	kfree(a);
	kfree(b);
	/* A large block freed twice: its frames are not the heap's any more. */
	struct heap_debug_counts c0, c1;
	heap_debug_counts(&c0);
	void *big = kmalloc(3 * PAGE_SIZE);
	kfree(big);
	kfree(big);
	heap_debug_counts(&c1);
	KEXPECT_EQ(c1.total, c0.total + 1);
	KEXPECT_EQ(c1.count[HEAP_ERR_DOUBLE_FREE] + c1.count[HEAP_ERR_INVALID_FREE],
		   c0.count[HEAP_ERR_DOUBLE_FREE] + c0.count[HEAP_ERR_INVALID_FREE] + 1);
	kmalloc_set_debug(was);
}

/*
 * Two large blocks of two frames that are buddies (@p lo the lower one), from
 * the first @p n of the @p v blocks allocated (the others are freed). The
 * buddy allocator splits a larger block lower half first, so a pair turns up
 * once the free blocks of two frames run out. @return false if none did.
 */
static bool large_buddies(void **v, int n, void **lo, void **hi)
{
	int a = -1, b = -1;
	for (int i = 0; i < n && b < 0; i++) {
		v[i] = kmalloc(2 * PAGE_SIZE);
		for (int j = 0; v[i] && j < i && b < 0; j++)
			if ((kva_to_pa(v[i]) ^ kva_to_pa(v[j])) == 2 * PAGE_SIZE)
				a = j, b = i;
		if (!v[i] || b >= 0)
			n = i + 1;
	}
	for (int i = 0; i < n; i++)
		if (i != a && i != b)
			kfree(v[i]);
	if (b < 0)
		return false;
	bool a_lower = kva_to_pa(v[a]) < kva_to_pa(v[b]);
	*lo = a_lower ? v[a] : v[b];
	*hi = a_lower ? v[b] : v[a];
	return true;
}

KTEST(ch2_debug, large_double_free_after_merge)
{
	/*
	 * A large block freed next to its free lower buddy merges into it: its
	 * first frame is now a tail of a free block, not a free head, and its
	 * page_info.private still holds whatever large_free() left there. So
	 * large_free() must clear the record, or the block would still look
	 * live: a second kfree() would go unreported and ksize() would see it.
	 */
	static void *v[256];
	void *lo, *hi;
	uint64_t free = free_settled(), held = heap_settled();
	KASSERT_TRUE(large_buddies(v, ARRAY_SIZE(v), &lo, &hi));
	kfree(lo);
	kfree(hi);
	KEXPECT_EQ(pa_to_page(kva_to_pa(hi))->state, PAGE_TAIL); /* merged into lo's block */
	KEXPECT_EQ(ksize(hi), 0);
	struct heap_debug_counts c0, c1;
	heap_debug_counts(&c0);
	kfree(hi); /* its frames are free: refused and reported */
	heap_debug_counts(&c1);
	KEXPECT_EQ(c1.total, c0.total + 1);
	KEXPECT_EQ(c1.count[HEAP_ERR_DOUBLE_FREE] + c1.count[HEAP_ERR_INVALID_FREE],
		   c0.count[HEAP_ERR_DOUBLE_FREE] + c0.count[HEAP_ERR_INVALID_FREE] + 1);
	KEXPECT_EQ(free_settled(), free);
	KEXPECT_EQ(heap_settled(), held);
}

static int a_static_variable;

KTEST(ch2_debug, invalid_free)
{
	uint64_t free = free_settled();
	uint64_t before = heap_debug_count(HEAP_ERR_INVALID_FREE);
	int local;
	uint8_t *p = kmalloc(64), *big = kmalloc(3 * PAGE_SIZE);
	KASSERT_NOT_NULL(p);
	KASSERT_NOT_NULL(big);
	kfree(&local);		   /* the stack */
	kfree(&a_static_variable); /* the kernel image */
	kfree(p + 8);		   /* the middle of an object */
	kfree(big + PAGE_SIZE);	   /* the middle of a large block */
	kfree(big + 16);
	kfree((void *)0x1234);	     /* not even mapped */
	paddr_t pa = frame_alloc(0); /* a frame the heap never had */
	KASSERT_NE(pa, 0);
	kfree(pa_to_kva(pa));
	frame_free(pa);
	KEXPECT_EQ(heap_debug_count(HEAP_ERR_INVALID_FREE), before + 7);
	memset(p, 1, 64); /* all refused: both blocks still ours */
	memset(big, 1, 3 * PAGE_SIZE);
	kfree(p);
	kfree(big);
	KEXPECT_EQ(kmem_check_all(), 0);
	KEXPECT_EQ(free_settled(), free);
}

KTEST(ch2_debug, free_to_wrong_cache)
{
	struct kmem_cache *a = kmem_cache_create("ch2-a", 40, 0, 0);
	struct kmem_cache *b = kmem_cache_create("ch2-b", 40, 0, SLAB_DEBUG);
	KASSERT_TRUE(a && b);
	void *p = kmem_cache_alloc(a, 0);
	uint64_t before = heap_debug_count(HEAP_ERR_WRONG_CACHE);
	KEXPECT_EQ(kmem_cache_free(b, p), -EINVAL);
	KEXPECT_EQ(heap_debug_count(HEAP_ERR_WRONG_CACHE), before + 1);
	KEXPECT_EQ(kmem_cache_free(a, p), 0);
	KEXPECT_EQ(kmem_cache_destroy(a), 0);
	KEXPECT_EQ(kmem_cache_destroy(b), 0);
}

KTEST(ch2_debug, free_to_wrong_cache_in_normal_mode)
{
	/* Checking the cache costs nothing (the slab names it): without
	 * SLAB_DEBUG too, the object must not end up in the other cache. */
	static const unsigned flags[] = {0, SLAB_NO_CPU_CACHE};
	for (unsigned f = 0; f < ARRAY_SIZE(flags); f++) {
		struct kmem_cache *a = kmem_cache_create("ch2-a", 40, 0, flags[f]);
		struct kmem_cache *b = kmem_cache_create("ch2-b", 40, 0, flags[f]);
		KASSERT_TRUE(a && b);
		void *p = kmem_cache_alloc(a, 0);
		KASSERT_NOT_NULL(p);
		uint64_t before = heap_debug_count(HEAP_ERR_WRONG_CACHE);
		KEXPECT_EQ(kmem_cache_free(b, p), -EINVAL);
		KEXPECT_EQ(heap_debug_count(HEAP_ERR_WRONG_CACHE), before + 1);
		struct kmem_cache_stats st;
		kmem_cache_stats(b, &st);
		KEXPECT_EQ(st.cached_objs, 0); /* b did not take it */
		KEXPECT_EQ(st.errors, 1);
		KEXPECT_EQ(kmem_cache_free(a, p), 0);
		KEXPECT_EQ(kmem_cache_destroy(a), 0);
		KEXPECT_EQ(kmem_cache_destroy(b), 0);
	}
}

KTEST(ch2_debug, free_past_last_object)
{
	/*
	 * A slab's objects leave a tail before its header when the stride does
	 * not divide the room: the address where one more object would start is
	 * inside the slab, stride-aligned, and not an object. Freeing it is an
	 * invalid free (a cache that took it would hand out memory overlapping
	 * the header and the next block).
	 */
	static const size_t sizes[] = {100, 200, 1000};
	static const unsigned flags[] = {0, SLAB_NO_CPU_CACHE};
	for (unsigned k = 0; k < ARRAY_SIZE(sizes); k++) {
		for (unsigned f = 0; f < ARRAY_SIZE(flags); f++) {
			struct kmem_cache *s = kmem_cache_create("ch2-past", sizes[k], 0, flags[f]);
			KASSERT_NOT_NULL(s);
			struct kmem_cache_stats st;
			kmem_cache_stats(s, &st);
			uint8_t *p = kmem_cache_alloc(s, 0); /* keeps the slab alive */
			KASSERT_NOT_NULL(p);
			uint8_t *base = (uint8_t *)ALIGN_DOWN((uintptr_t)p, PAGE_SIZE << st.order);
			uint8_t *past = base + (size_t)st.objects_per_slab * st.stride;
			struct kmem_cache_stats st0;
			kmem_cache_stats(s, &st0);
			uint64_t before = heap_debug_count(HEAP_ERR_INVALID_FREE);
			int err = kmem_cache_free(s, past);
			kfree(past);
			if (err != -EINVAL || heap_debug_count(HEAP_ERR_INVALID_FREE) != before + 2)
				printk("%zu-byte objects: a free of %p, one past the last object (%u) of "
				       "slab %p, returned %d\n",
				       sizes[k], past, st.objects_per_slab, base, err);
			KEXPECT_EQ(err, -EINVAL);
			KEXPECT_EQ(heap_debug_count(HEAP_ERR_INVALID_FREE), before + 2);
			kmem_cache_stats(s, &st);
			KEXPECT_EQ(st.cached_objs, st0.cached_objs); /* nothing taken back */
			KEXPECT_EQ(st.active_objs, 1);
			KEXPECT_EQ(kmem_cache_free(s, p), 0);
			KEXPECT_EQ(kmem_cache_check(s), 0);
			KEXPECT_EQ(kmem_cache_destroy(s), 0);
		}
	}
}

KTEST(ch2_debug, refused_free_then_free_again)
{
	/*
	 * A free refused for a broken red zone quarantines the object: it is
	 * still not free, and never will be. Freeing it again is a double free
	 * (not another red-zone report, and not a second quarantine).
	 */
	struct kmem_cache *s = kmem_cache_create("ch2-refused", 40, 0, SLAB_DEBUG);
	KASSERT_NOT_NULL(s);
	uint8_t *p = kmem_cache_alloc(s, 0);
	KASSERT_NOT_NULL(p);
	p[40] = 0; /* overflow */
	KEXPECT_EQ(kmem_cache_free(s, p), -EINVAL);
	struct heap_debug_counts c0, c1;
	heap_debug_counts(&c0);
	KEXPECT_EQ(kmem_cache_free(s, p), -EINVAL);
	heap_debug_counts(&c1);
	KEXPECT_EQ(c1.count[HEAP_ERR_DOUBLE_FREE], c0.count[HEAP_ERR_DOUBLE_FREE] + 1);
	KEXPECT_EQ(c1.total, c0.total + 1);
	KEXPECT_EQ(heap_last_report().kind, HEAP_ERR_DOUBLE_FREE);
	struct kmem_cache_stats st;
	kmem_cache_stats(s, &st);
	KEXPECT_EQ(st.quarantined, 1);
	KEXPECT_EQ(st.active_objs, 0);
	KEXPECT_EQ(kmem_cache_check(s), 0);
	KEXPECT_EQ(kmem_cache_destroy(s), 0);

	WITH_KMALLOC_DEBUG({
		uint8_t *k = kmalloc(20);
		KEXPECT_NOT_NULL(k);
		if (k) {
			k[20] = 'x';
			kfree(k); /* red zone: refused, quarantined */
			heap_debug_counts(&c0);
			kfree(k);
			heap_debug_counts(&c1);
			KEXPECT_EQ(c1.count[HEAP_ERR_DOUBLE_FREE], c0.count[HEAP_ERR_DOUBLE_FREE] + 1);
			KEXPECT_EQ(c1.total, c0.total + 1);
		}
	});
}

KTEST(ch2_debug, write_after_free_found_on_reuse)
{
	struct kmem_cache *s = kmem_cache_create("ch2-uaf", 96, 0, SLAB_DEBUG);
	KASSERT_NOT_NULL(s);
	uint8_t *p = kmem_cache_alloc(s, 0);
	KASSERT_NOT_NULL(p);
	KEXPECT_EQ(kmem_cache_free(s, p), 0);
	uint64_t before = heap_debug_count(HEAP_ERR_USE_AFTER_FREE);
	p[17] = 0x17; /* a dangling pointer writes */
	uint8_t *q = kmem_cache_alloc(s, 0);
	KEXPECT_NOT_NULL(q);
	KEXPECT_TRUE(q != p); /* p is quarantined, q is a clean object */
	KEXPECT_EQ(heap_debug_count(HEAP_ERR_USE_AFTER_FREE), before + 1);
	struct heap_report r = heap_last_report();
	KEXPECT_TRUE(r.ptr == p && r.offset == 17);
	kmem_cache_free(s, q);
	KEXPECT_EQ(kmem_cache_destroy(s), 0);

	WITH_KMALLOC_DEBUG({
		uint8_t *k = kmalloc(200);
		kfree(k);
		if (k)
			k[0] = 1;
		uint8_t *l = kmalloc(200);
		KEXPECT_TRUE(l != k);
		KEXPECT_EQ(heap_debug_count(HEAP_ERR_USE_AFTER_FREE), before + 2);
		kfree(l);
	});
}

/* Frees @p p from a known place; the asm keeps the call from becoming a tail call. */
static __attribute__((noinline)) void free_from_here(void *p)
{
	kfree(p);
	__asm__ volatile("" ::: "memory");
}

KTEST(ch2_debug, report_names_the_caller)
{
	WITH_KMALLOC_DEBUG({
		void *p = kmalloc(50);
		kfree(p);
		free_from_here(p);
		struct heap_report r = heap_last_report();
		KEXPECT_EQ(r.kind, HEAP_ERR_DOUBLE_FREE);
		KEXPECT_TRUE(r.caller > (uintptr_t)free_from_here &&
			     r.caller < (uintptr_t)free_from_here + 64);
		KEXPECT_TRUE(r.caller >= (uintptr_t)_text_start && r.caller < (uintptr_t)_text_end);
	});
}

KTEST(ch2_debug, leak_report)
{
	struct kmem_cache *s = kmem_cache_create("ch2-leak", 24, 0, SLAB_DEBUG);
	KASSERT_NOT_NULL(s);
	void *p[5];
	for (int i = 0; i < 5; i++)
		p[i] = kmem_cache_alloc(s, 0);
	KEXPECT_EQ(kmem_cache_leak_report(s), 5);
	for (int i = 0; i < 5; i++)
		kmem_cache_free(s, p[i]);
	KEXPECT_EQ(kmem_cache_leak_report(s), 0);
	KEXPECT_EQ(kmem_cache_destroy(s), 0);
}

KTEST(ch2_debug, mode_switch_is_safe)
{
	bool was = kmalloc_set_debug(true);
	void *d = kmalloc(300);
	kmalloc_set_debug(false);
	void *n = kmalloc(300);
	KEXPECT_TRUE(d && n);
	struct heap_debug_counts c0, c1;
	heap_debug_counts(&c0);
	kfree(d); /* goes back to the debug class it came from */
	kmalloc_set_debug(true);
	kfree(n);
	heap_debug_counts(&c1);
	KEXPECT_EQ(c1.total, c0.total);
	kmalloc_set_debug(was);
	KEXPECT_EQ(kmem_check_all(), 0);
}
