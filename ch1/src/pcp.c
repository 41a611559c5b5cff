/*
 * Per-hart frame caches: each hart keeps a small stack of free order-0
 * frames, so that frame_alloc() and frame_free() usually touch only their
 * own hart's data: not the zone lock, not the buddy's lists, no split and
 * no merge. This is how Linux serves order-0 pages: its per-cpu page lists
 * (struct per_cpu_pages; rmqueue_pcplist(), free_unref_page()).
 *
 * Frames move between a cache and the buddy in batches, under the zone
 * lock: a cache found empty is refilled with PCP_BATCH frames (Linux
 * rmqueue_bulk()); a full cache (PCP_HIGH frames) gives its PCP_BATCH
 * oldest frames back (free_pcppages_bulk()), so a hart that frees more than
 * it allocates does not hoard. frames_drain_caches() empties every cache
 * (drain_all_pages()): frame.c calls it before an allocation fails and when
 * the zone comes under pressure, so no frame is ever out of reach.
 *
 * A frame in a cache is free: frame.c counts it so, and its page_info says
 * PAGE_PCP. To the buddy it is an order-0 block it lent out.
 *
 * Linux links a cache's pages on lists through struct page; here a cache is
 * an array used as a stack, as ch2's array_cache is: the top is the frame
 * freed last, still warm in the data cache, and the bottom the oldest.
 *
 * Each cache has a lock of its own. Its hart takes it, with interrupts off,
 * on every operation, which costs one atomic swap on a line no other hart
 * touches; a drain from another hart takes it too. Lock order: a cache's
 * lock, then the zone lock.
 */
#include "frame.h"
#include "frame_internal.h"
#include "riscv.h"
#include "smp.h"
#include "string.h"

/* One hart's cache (Linux struct per_cpu_pages). */
struct per_cpu_pages {
	uint32_t lock;		/* 0 free, 1 taken */
	uint64_t count;		/* frames in pfns[0..count): 64 bits, so no zero-extension */
	pfn_t pfns[PCP_HIGH];	/* bottom: the oldest; top: the last freed */
} __attribute__((aligned(64))); /* a cache line of its own: harts do not share */

static struct per_cpu_pages pcps[MAX_HARTS];

/* Take @pcp's lock, interrupts off first. Returns whether they were on. */
static inline bool pcp_lock(struct per_cpu_pages *pcp)
{
	bool irq = intr_off();
	while (__atomic_exchange_n(&pcp->lock, 1, __ATOMIC_ACQUIRE))
		;
	return irq;
}

static inline void pcp_unlock(struct per_cpu_pages *pcp, bool irq)
{
	__atomic_store_n(&pcp->lock, 0, __ATOMIC_RELEASE);
	if (irq)
		intr_on();
}

/* Give back @n frames from the bottom of @pcp (the oldest); the rest move down. Lock held.
 * Out of line, as refill_and_pop() and trim_and_push() are: the pop and the push then
 * save no registers. */
static __attribute__((noinline)) void give_back_oldest(struct per_cpu_pages *pcp, uint64_t n)
{
	frame_zone_take_back(pcp->pfns, n);
	pcp->count -= n;
	memmove(pcp->pfns, pcp->pfns + n, pcp->count * sizeof(pcp->pfns[0]));
}

/*
 * Fill the empty @pcp with a batch from the buddy. The buddy lends frames in
 * the order it would hand them out, lowest first from a split block; the
 * batch is turned over so that pops take them in that same order (Linux's
 * rmqueue_bulk() keeps them in physical order too). Lock held.
 */
static void refill(struct per_cpu_pages *pcp)
{
	uint64_t n = frame_zone_lend(pcp->pfns, PCP_BATCH);
	for (uint64_t i = 0, j = n; i + 1 < j; i++, j--) {
		pfn_t low = pcp->pfns[i];
		pcp->pfns[i] = pcp->pfns[j - 1];
		pcp->pfns[j - 1] = low;
	}
	pcp->count = n;
}

/* pcp_pop() found its cache empty: refill it, then pop. */
static __attribute__((noinline)) bool refill_and_pop(pfn_t *pfn)
{
	struct per_cpu_pages *pcp = &pcps[cpuid()];
	bool irq = pcp_lock(pcp);
	if (!pcp->count) /* still empty: a drain or an interrupt may have come between */
		refill(pcp);
	bool got = pcp->count != 0;
	if (got)
		*pfn = pcp->pfns[--pcp->count];
	pcp_unlock(pcp, irq);
	return got;
}

bool pcp_pop(pfn_t *pfn)
{
	struct per_cpu_pages *pcp = &pcps[cpuid()];
	bool irq = pcp_lock(pcp);
	uint64_t count = pcp->count;
	if (likely(count)) {
		*pfn = pcp->pfns[count - 1];
		pcp->count = count - 1;
	}
	pcp_unlock(pcp, irq);
	return likely(count) ? true : refill_and_pop(pfn);
}

/*
 * pcp_push() found its cache full: give the oldest batch back, then push.
 * The check and the push are under one hold of the lock, so no interleaving
 * (an interrupt's free, a thread moved to another hart between cpuid() and
 * the lock) can push past the end of the array.
 */
static __attribute__((noinline)) void trim_and_push(pfn_t pfn)
{
	struct per_cpu_pages *pcp = &pcps[cpuid()];
	bool irq = pcp_lock(pcp);
	if (pcp->count >= PCP_HIGH)
		give_back_oldest(pcp, PCP_BATCH);
	pcp->pfns[pcp->count++] = pfn;
	pcp_unlock(pcp, irq);
}

void pcp_push(pfn_t pfn)
{
	struct per_cpu_pages *pcp = &pcps[cpuid()];
	bool irq = pcp_lock(pcp);
	uint64_t count = pcp->count;
	if (likely(count < PCP_HIGH)) {
		pcp->pfns[count] = pfn;
		pcp->count = count + 1;
	}
	pcp_unlock(pcp, irq);
	if (unlikely(count >= PCP_HIGH))
		trim_and_push(pfn);
}

uint64_t frames_drain_caches(void)
{
	uint64_t drained = 0;
	for (int h = 0; h < MAX_HARTS; h++) {
		struct per_cpu_pages *pcp = &pcps[h];
		if (!READ_ONCE(pcp->count))
			continue;
		bool irq = pcp_lock(pcp);
		drained += pcp->count;
		give_back_oldest(pcp, pcp->count);
		pcp_unlock(pcp, irq);
	}
	return drained;
}

uint64_t pcp_nr_cached(void)
{
	uint64_t n = 0;
	for (int h = 0; h < MAX_HARTS; h++)
		n += READ_ONCE(pcps[h].count);
	return n;
}
