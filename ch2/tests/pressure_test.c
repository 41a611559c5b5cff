/*
 * ch2.pressure: the heap gives memory back. Empty slabs go to ch1 when it is
 * short (pressure, made cheaply with frames_set_watermarks) or asks (the
 * shrinker); out of memory returns NULL and everything comes back after.
 */
#include "heap_test.h"
#include "string.h"

/* Watermarks that put ch1 under pressure whatever is free, and the ones to restore. */
static struct frame_watermarks saved_wm;

static bool press(void)
{
	uint64_t total = frames_nr_total();
	saved_wm = frames_watermarks();
	struct frame_watermarks wm = {saved_wm.min, total, total};
	return frames_set_watermarks(wm) == 0 && frames_pressure() != PRESSURE_NONE;
}

static void release_press(void) { frames_set_watermarks(saved_wm); }

KTEST(ch2_pressure, empty_slabs_kept_without_pressure)
{
	struct kmem_cache *s = kmem_cache_create("ch2-keep", 256, 0, SLAB_NO_CPU_CACHE);
	KASSERT_NOT_NULL(s);
	void *v[150];
	for (int i = 0; i < 150; i++)
		v[i] = kmem_cache_alloc(s, 0);
	KEXPECT_EQ(frames_pressure(), PRESSURE_NONE);
	for (int i = 0; i < 150; i++)
		kmem_cache_free(s, v[i]);
	struct kmem_cache_stats st;
	kmem_cache_stats(s, &st);
	KEXPECT_GT(st.empty_slabs, 0); /* a few, for the next burst */
	KEXPECT_LE(st.empty_slabs, 2);
	KEXPECT_EQ(kmem_cache_destroy(s), 0);
}

KTEST(ch2_pressure, empty_slabs_released_under_pressure)
{
	uint64_t free = free_settled();
	struct kmem_cache *s = kmem_cache_create("ch2-press", 256, 0, 0);
	KASSERT_NOT_NULL(s);
	void *v[300];
	for (int i = 0; i < 300; i++)
		v[i] = kmem_cache_alloc(s, 0);
	struct kmem_cache_stats st;
	kmem_cache_stats(s, &st);
	uint64_t frames = st.frames;
	bool pressed = press();
	KEXPECT_TRUE(pressed);
	for (int i = 0; i < 300; i++)
		kmem_cache_free(s, v[i]);
	kmem_cache_stats(s, &st);
	release_press();
	KEXPECT_EQ(st.empty_slabs, 0);
	/* Only slabs with objects parked in this hart's stack are left. */
	KEXPECT_LE(st.slabs, st.cached_objs);
	KEXPECT_LT(st.frames, frames);
	KEXPECT_EQ(kmem_cache_destroy(s), 0);
	KEXPECT_EQ(free_settled(), free);
}

KTEST(ch2_pressure, shrinker_called_when_frames_run_out)
{
	struct kmem_cache_stats st;
	struct kmem_cache *s = cache_after_churn("ch2-shrinker", 512, &st);
	KASSERT_NOT_NULL(s);
	KEXPECT_GT(st.slabs, 0);
	/* min = total: every ordinary allocation must fail, after asking the shrinkers. */
	struct frame_watermarks wm = frames_watermarks();
	uint64_t total = frames_nr_total();
	struct frame_watermarks none = {total, total, total};
	KASSERT_EQ(frames_set_watermarks(none), 0);
	paddr_t pa = frame_alloc(0);
	kmem_cache_stats(s, &st);
	frames_set_watermarks(wm);
	KEXPECT_EQ(pa, 0);
	KEXPECT_EQ(st.slabs, 0);       /* the shrinker gave them all back */
	KEXPECT_EQ(st.cached_objs, 0); /* and emptied the hart stacks */
	if (pa)
		frame_free(pa);
	KEXPECT_EQ(kmem_cache_destroy(s), 0);
}

/*
 * Blocks a test holds, kept in an array beside them, never in them: a write
 * into every 1 MiB block of a drained 2 GiB machine would make QEMU back all
 * of guest RAM on the host, 2 MiB at a time (it asks the host for huge
 * pages, and each is zeroed on first touch): seconds of host time per test.
 */
#define HELD_MAX 16384
static struct {
	void *p[HELD_MAX];
	unsigned long n;
} held;

/* Allocate blocks of @p size until it fails (or the array is full); hold them. */
static unsigned long fill(size_t size, unsigned flags)
{
	unsigned long n = 0;
	void *p;
	while (held.n < HELD_MAX && (p = kmalloc_flags(size, flags))) {
		held.p[held.n++] = p;
		n++;
	}
	if (held.n == HELD_MAX)
		printk("fill: more than %d blocks held\n", HELD_MAX);
	return n;
}

/* Free every block held, last first. */
static void drain(void)
{
	while (held.n)
		kfree(held.p[--held.n]);
}

KTEST(ch2_pressure, exhaustion_and_recovery)
{
	uint64_t free = free_settled();
	unsigned long n = 0;
	static const size_t sizes[] = {MiB, 64 * KiB, 4 * KiB, 512, 32};
	for (unsigned k = 0; k < ARRAY_SIZE(sizes); k++)
		n += fill(sizes[k], 0);
	KEXPECT_GT(n, 0);
	KEXPECT_LT(held.n, HELD_MAX);
	/* Memory is gone (down to ch1's emergency reserve): NULL, not a crash. */
	KEXPECT_NULL(kmalloc(64 * KiB));
	KEXPECT_NE(frames_pressure(), PRESSURE_NONE);
	KEXPECT_LE(frames_nr_free(), frames_watermarks().min + 8);
	/* The reserve is there for those who may use it. */
	if (frames_watermarks().min > 0) {
		void *e = kmalloc_flags(PAGE_SIZE, KMALLOC_EMERGENCY);
		KEXPECT_NOT_NULL(e);
		kfree(e);
	}
	drain();
	KEXPECT_EQ(free_settled(), free);
	KEXPECT_EQ(kmem_check_all(), 0);
	/* And the heap works again. */
	void *p = kmalloc(MiB), *q = kmalloc(40);
	KEXPECT_TRUE(p && q);
	kfree(p);
	kfree(q);
}

KTEST(ch2_pressure, cache_exhaustion_and_recovery)
{
	uint64_t free = free_settled();
	struct kmem_cache *s = kmem_cache_create("ch2-oom", 2000, 0, 0);
	KASSERT_NOT_NULL(s);
	fill(MiB, 0); /* most of memory, quickly */
	/* What fill() left may be nothing at all (free memory above the min
	 * watermark a multiple of 1 MiB): give the cache one block to fill. */
	if (held.n)
		kfree(held.p[--held.n]);
	void *head = NULL, *p;
	unsigned long n = 0;
	while ((p = kmem_cache_alloc(s, 0))) {
		*(void **)p = head;
		head = p;
		n++;
	}
	KEXPECT_GT(n, 0);
	while (head) {
		void *next = *(void **)head;
		kmem_cache_free(s, head);
		head = next;
	}
	drain();
	KEXPECT_EQ(kmem_cache_destroy(s), 0);
	KEXPECT_EQ(free_settled(), free);
}
