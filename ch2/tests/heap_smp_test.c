/*
 * ch2.smp: the heap on every hart at once. Each hart stamps its id into every
 * byte of its objects and checks them before freeing: an object handed to two
 * harts, or a stack or slab corrupted by a race, shows up as a wrong byte.
 */
#include "heap_test.h"
#include "smp.h"
#include "string.h"

#define ROUNDS 40
#define LIVE   48

static uint64_t smp_errors[MAX_HARTS];

static size_t size_for(int hart, int round, int i)
{
	unsigned x = (unsigned)(hart * 7919 + round * 131 + i * 31);
	if (i % 23 == 0)
		return 4096 + x % 9000; /* now and then a large block */
	return 1 + x % 700;
}

static bool stamped(const uint8_t *p, size_t n, uint8_t id)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != id)
			return false;
	return true;
}

static void churn(void *arg, int hart)
{
	(void)arg;
	uint8_t *p[LIVE];
	size_t n[LIVE];
	uint8_t id = (uint8_t)(0x40 + hart);
	for (int r = 0; r < ROUNDS; r++) {
		for (int i = 0; i < LIVE; i++) {
			n[i] = size_for(hart, r, i);
			p[i] = kmalloc(n[i]);
			if (!p[i]) {
				smp_errors[hart]++;
				continue;
			}
			memset(p[i], id, n[i]);
		}
		for (int i = 0; i < LIVE; i++) {
			int k = (i * 17 + r) % LIVE; /* free in a scrambled order */
			if (!p[k])
				continue;
			if (!stamped(p[k], n[k], id))
				smp_errors[hart]++;
			kfree(p[k]);
			p[k] = NULL;
		}
	}
}

KTEST(ch2_smp, concurrent_alloc_free)
{
	KTEST_REQUIRE_HARTS(2);
	uint64_t held = heap_settled();
	memset(smp_errors, 0, sizeof(smp_errors));
	on_each_hart(churn, NULL);
	for (int h = 0; h < MAX_HARTS; h++)
		KEXPECT_EQ(smp_errors[h], 0);
	KEXPECT_EQ(kmem_check_all(), 0);
	KEXPECT_EQ(heap_settled(), held);
}

/* Objects allocated on one hart, freed on the next one. */
#define XFER 96
static uint8_t *xfer[MAX_HARTS][XFER];

static int next_hart(int hart)
{
	uint64_t mask = harts_online_mask();
	for (int h = hart + 1;; h++)
		if (mask & (1UL << (h % MAX_HARTS)))
			return h % MAX_HARTS;
}

static void produce(void *arg, int hart)
{
	(void)arg;
	for (int i = 0; i < XFER; i++) {
		xfer[hart][i] = kmalloc(32 + i * 8);
		if (xfer[hart][i])
			memset(xfer[hart][i], 0x40 + hart, 32 + i * 8);
		else
			smp_errors[hart]++;
	}
}

static void consume(void *arg, int hart)
{
	(void)arg;
	int from = next_hart(hart);
	for (int i = 0; i < XFER; i++) {
		uint8_t *p = xfer[from][i];
		if (!p)
			continue;
		if (!stamped(p, 32 + i * 8, (uint8_t)(0x40 + from)))
			smp_errors[hart]++;
		kfree(p);
		xfer[from][i] = NULL;
	}
}

KTEST(ch2_smp, free_on_another_hart)
{
	KTEST_REQUIRE_HARTS(2);
	uint64_t held = heap_settled();
	memset(smp_errors, 0, sizeof(smp_errors));
	for (int r = 0; r < 10; r++) {
		on_each_hart(produce, NULL);
		on_each_hart(consume, NULL);
	}
	for (int h = 0; h < MAX_HARTS; h++)
		KEXPECT_EQ(smp_errors[h], 0);
	KEXPECT_EQ(kmem_check_all(), 0);
	KEXPECT_EQ(heap_settled(), held);
}

/* Each hart: its own cache (created, used, destroyed), while the boot hart also shrinks everything. */
static void own_cache(void *arg, int hart)
{
	(void)arg;
	uint8_t id = (uint8_t)(0x60 + hart);
	for (int r = 0; r < 6; r++) {
		struct kmem_cache *s = kmem_cache_create("ch2-smp", 40 + hart * 8, 0, r & 1 ? SLAB_DEBUG : 0);
		if (!s) {
			smp_errors[hart]++;
			return;
		}
		uint8_t *p[64];
		for (int i = 0; i < 64; i++) {
			p[i] = kmem_cache_alloc(s, 0);
			if (p[i])
				memset(p[i], id, 40);
		}
		if (hart == boot_hart())
			kmalloc_shrink(); /* drains every hart's stacks while they work */
		for (int i = 0; i < 64; i++) {
			if (!p[i] || !stamped(p[i], 40, id))
				smp_errors[hart]++;
			if (p[i] && kmem_cache_free(s, p[i]))
				smp_errors[hart]++;
		}
		if (kmem_cache_destroy(s))
			smp_errors[hart]++;
	}
	churn(NULL, hart);
}

KTEST(ch2_smp, caches_and_shrink_concurrently)
{
	KTEST_REQUIRE_HARTS(2);
	uint64_t held = heap_settled();
	memset(smp_errors, 0, sizeof(smp_errors));
	on_each_hart(own_cache, NULL);
	for (int h = 0; h < MAX_HARTS; h++)
		KEXPECT_EQ(smp_errors[h], 0);
	KEXPECT_EQ(kmem_check_all(), 0);
	KEXPECT_EQ(heap_settled(), held);
}
