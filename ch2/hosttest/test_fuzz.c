// HOSTTEST_SOURCES: ch2/src/slab.c ch2/src/slab_lists.c ch2/src/array_cache.c ch2/src/slab_cache.c ch2/src/slab_stats.c ch2/src/kmalloc.c ch2/src/slab_debug.c ch2/src/slab_offslab.c ch2/src/slab_reap.c ch2/hosttest/sim_frames.c ch1/src/buddy.c common/hosttest/host_kernel.c
/*
 * A bounded random fuzz of the heap: 200,000 operations (kmalloc of every
 * size range, krealloc, kfree, kmem_cache_alloc/free on three caches with
 * different flags, shrinks, debug-mode switches, watermark pressure and
 * injected frame-allocation failures), from a fixed seed so every run is the
 * same. Every live block carries a pattern that is checked in full before it
 * is resized or freed; every 1000 operations the caches' structure is
 * checked, and the frames the heap says it holds must equal the frames the
 * simulated allocator handed out. At the end everything is freed and every
 * frame must be back. Set FUZZ_SEED / FUZZ_OPS to explore further.
 */
#include <stdlib.h>
#include <string.h>

#include "../../common/hosttest/host_check.h"
#include "slab_internal.h"

#define SLOTS 2048

struct block {
	uint8_t *p;
	size_t size;
	int cache; /* -1: kmalloc; else index into caches[] */
	uint8_t tag;
};

static struct block blocks[SLOTS];
static struct kmem_cache *caches[3];
static const size_t cache_size[3] = {24, 200, 1000};
static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64*: small, fast, and the same everywhere */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static size_t random_size(void)
{
	uint64_t r = rnd() % 100;
	if (r < 60)
		return 1 + rnd() % 128;
	if (r < 85)
		return 129 + rnd() % 1024;
	if (r < 97)
		return 1153 + rnd() % 7000;
	return 8193 + rnd() % 120000;
}

static bool check_pattern(const struct block *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b->p[i] != (uint8_t)(b->tag + i * 13))
			return false;
	return true;
}

static void fill_pattern(struct block *b, size_t from)
{
	for (size_t i = from; i < b->size; i++)
		b->p[i] = (uint8_t)(b->tag + i * 13);
}

static void release(struct block *b)
{
	CHECK(check_pattern(b, b->size));
	if (b->cache < 0)
		kfree(b->p);
	else
		CHECK_EQ(kmem_cache_free(caches[b->cache], b->p), 0);
	b->p = NULL;
}

static void one_op(unsigned long k, unsigned long *failed)
{
	struct block *b = &blocks[rnd() % SLOTS];
	uint64_t r = rnd() % 1000;
	if (b->p && r < 450) {
		release(b);
	} else if (b->p && r < 550 && b->cache < 0) {
		size_t n = random_size();
		uint8_t *q = krealloc(b->p, n);
		if (!q) {
			(*failed)++;
			return;
		}
		size_t kept = MIN(n, b->size);
		b->p = q;
		CHECK(check_pattern(b, kept));
		b->size = n;
		fill_pattern(b, kept);
	} else if (!b->p) {
		b->cache = r < 300 ? (int)(rnd() % 3) : -1;
		b->size = b->cache < 0 ? random_size() : cache_size[b->cache];
		b->tag = (uint8_t)k;
		if (b->cache >= 0)
			b->p = kmem_cache_alloc(caches[b->cache], rnd() % 8 ? 0 : KMALLOC_ZERO);
		else if (r < 700)
			b->p = kmalloc(b->size);
		else if (r < 800)
			b->p = kcalloc(1, b->size);
		else
			b->p = kmalloc_aligned(b->size, 8UL << (rnd() % 10));
		if (!b->p) {
			(*failed)++;
			return;
		}
		fill_pattern(b, 0);
	}
}

/* Now and then: shrink, switch modes, press on the frames, make them fail. */
static void perturb(unsigned long k, struct frame_watermarks normal)
{
	switch (rnd() % 8) {
	case 0:
		kmalloc_shrink();
		break;
	case 1:
		kmalloc_set_debug(!kmalloc_debug());
		break;
	case 2: {
		uint64_t total = frames_nr_total();
		struct frame_watermarks press = {0, total, total};
		frames_set_watermarks(k & 1 ? press : normal);
		break;
	}
	case 3:
		sim_frames_fail_after((long)(rnd() % 4));
		break;
	default:
		sim_frames_fail_after(-1);
		break;
	}
}

int main(void)
{
	const char *seed = getenv("FUZZ_SEED"), *ops = getenv("FUZZ_OPS");
	rng_state = seed ? strtoull(seed, NULL, 0) : 0x6d6d6c6162ULL;
	unsigned long nops = ops ? strtoul(ops, NULL, 0) : 200000, failed = 0;
	sim_frames_init(8192); /* 32 MiB: small enough that failures happen for real */
	CHECK_EQ(kmalloc_init(), 0);
	caches[0] = kmem_cache_create("fuzz-24", cache_size[0], 0, 0);
	caches[1] = kmem_cache_create("fuzz-200-dbg", cache_size[1], 64, SLAB_DEBUG);
	caches[2] = kmem_cache_create("fuzz-1000-nocpu", cache_size[2], 0, SLAB_NO_CPU_CACHE);
	CHECK(caches[0] && caches[1] && caches[2]);
	struct frame_watermarks normal = frames_watermarks();
	struct heap_debug_counts before, after;
	heap_debug_counts(&before);

	for (unsigned long k = 0; k < nops; k++) {
		one_op(k, &failed);
		if (k % 997 == 0)
			perturb(k, normal);
		if (k % 1000 == 0) {
			CHECK_EQ(kmem_check_all(), 0);
			CHECK_EQ(heap_frames_held(), sim_frames_used());
		}
	}
	sim_frames_fail_after(-1);
	frames_set_watermarks(normal);
	for (int i = 0; i < SLOTS; i++)
		if (blocks[i].p)
			release(&blocks[i]);
	heap_debug_counts(&after);
	CHECK_EQ(after.total, before.total); /* no false alarms */
	for (int i = 0; i < 3; i++)
		CHECK_EQ(kmem_cache_destroy(caches[i]), 0);
	kmalloc_shrink();
	CHECK_EQ(kmem_check_all(), 0);
	CHECK_EQ(sim_frames_used(), 0);
	CHECK_EQ(heap_frames_held(), 0);
	printf("fuzz: %lu operations, %lu allocations failed (injected or out of frames)\n", nops, failed);
	return checks_done("ch2/fuzz");
}
