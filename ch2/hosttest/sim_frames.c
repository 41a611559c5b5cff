/*
 * A simulated ch1 for host tests: the frame.h functions the heap uses, over
 * one arena from aligned_alloc(), with a small buddy allocator (so frames
 * come back aligned to their order, and freeing restores the count exactly).
 * The kernel services the heap calls (printk, spinlocks, bootargs) are
 * common/hosttest/host_kernel.c's, which every test using this file links too.
 *
 * "Physical" addresses are host addresses (host_env.h's direct map is the
 * identity).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errno.h"
#include "frame.h"
#include "host_env.h"

#define NONE UINT32_MAX

static struct {
	char *base;
	size_t nframes;
	struct page_info *pages;
	uint32_t free_head[MAX_ORDER + 1];
	uint64_t free;
	struct frame_watermarks wm;
	frame_shrinker_fn shrinkers[4];
	int nshrinkers;
	long fail_after; /* -1: never fail on purpose */
	int in_shrinker;
	uint64_t charged; /* frames handed out as asked: n for frames_alloc(n) */
} sim;

/* ---- the buddy lists ------------------------------------------------------- */

static void push(uint32_t idx, unsigned order)
{
	struct page_info *p = &sim.pages[idx];
	p->state = PAGE_FREE_HEAD;
	p->order = order;
	p->free.prev = NONE;
	p->free.next = sim.free_head[order];
	if (p->free.next != NONE)
		sim.pages[p->free.next].free.prev = idx;
	sim.free_head[order] = idx;
}

static void unlink_block(uint32_t idx, unsigned order)
{
	struct page_info *p = &sim.pages[idx];
	if (p->free.prev != NONE)
		sim.pages[p->free.prev].free.next = p->free.next;
	else
		sim.free_head[order] = p->free.next;
	if (p->free.next != NONE)
		sim.pages[p->free.next].free.prev = p->free.prev;
	p->state = PAGE_TAIL;
}

static void free_block(uint32_t idx, unsigned order)
{
	for (uint32_t i = 1; i < (1u << order); i++)
		sim.pages[idx + i].state = PAGE_TAIL;
	sim.free += 1u << order;
	while (order < MAX_ORDER) {
		uint32_t buddy = idx ^ (1u << order);
		if (buddy >= sim.nframes || sim.pages[buddy].state != PAGE_FREE_HEAD || sim.pages[buddy].order != order)
			break;
		unlink_block(buddy, order);
		idx = idx < buddy ? idx : buddy;
		sim.pages[idx].state = PAGE_TAIL;
		order++;
	}
	push(idx, order);
}

static long take_block(unsigned order)
{
	unsigned o = order;
	while (o <= MAX_ORDER && sim.free_head[o] == NONE)
		o++;
	if (o > MAX_ORDER)
		return -1;
	uint32_t idx = sim.free_head[o];
	unlink_block(idx, o);
	while (o > order) {
		o--;
		push(idx + (1u << o), o);
	}
	sim.free -= 1u << order;
	struct page_info *p = &sim.pages[idx];
	p->state = PAGE_ALLOC_HEAD;
	p->order = order;
	p->refcount = 1;
	p->private = 0;
	for (uint32_t i = 1; i < (1u << order); i++) {
		sim.pages[idx + i].state = PAGE_TAIL;
		sim.pages[idx + i].private = 0;
	}
	return idx;
}

void sim_frames_init(size_t nframes)
{
	size_t align = PAGE_SIZE << MAX_ORDER;
	memset(&sim, 0, sizeof(sim));
	sim.nframes = nframes;
	sim.base = aligned_alloc(align, ALIGN_UP(nframes * PAGE_SIZE, align));
	sim.pages = calloc(nframes, sizeof(struct page_info));
	if (!sim.base || !sim.pages) {
		fprintf(stderr, "sim_frames: no memory for %zu frames\n", nframes);
		exit(2);
	}
	for (unsigned o = 0; o <= MAX_ORDER; o++)
		sim.free_head[o] = NONE;
	sim.fail_after = -1;
	for (uint32_t i = 0; i < nframes;) {
		unsigned o = MAX_ORDER;
		while (o && ((i & ((1u << o) - 1)) || i + (1u << o) > nframes))
			o--;
		free_block(i, o);
		i += 1u << o;
	}
}

void sim_frames_fini(void)
{
	free(sim.base);
	free(sim.pages);
	memset(&sim, 0, sizeof(sim));
}

uint64_t sim_frames_used(void)
{
	return sim.charged;
}

void sim_frames_fail_after(long n)
{
	sim.fail_after = n;
}

/* ---- frame.h ----------------------------------------------------------------- */

static paddr_t idx_to_pa(long idx)
{
	return (paddr_t)(uintptr_t)(sim.base + (size_t)idx * PAGE_SIZE);
}

static long pa_to_idx(paddr_t pa)
{
	uintptr_t a = (uintptr_t)pa, b = (uintptr_t)sim.base;
	if (a < b || a >= b + sim.nframes * PAGE_SIZE)
		return -1;
	return (long)((a - b) / PAGE_SIZE);
}

static bool may_take(unsigned long frames, unsigned flags)
{
	if (sim.fail_after == 0)
		return false;
	if (!(flags & FRAME_EMERGENCY) && sim.free < sim.wm.min + frames)
		return false;
	return true;
}

static long alloc_order_idx(unsigned order, unsigned flags)
{
	if (order > MAX_ORDER)
		return -1;
	for (int attempt = 0; attempt < 2; attempt++) {
		long idx = may_take(1UL << order, flags) ? take_block(order) : -1;
		if (idx >= 0) {
			if (sim.fail_after > 0)
				sim.fail_after--;
			if (flags & FRAME_ZERO)
				memset(sim.base + (size_t)idx * PAGE_SIZE, 0, PAGE_SIZE << order);
			return idx;
		}
		if (attempt || sim.in_shrinker || sim.fail_after == 0)
			break;
		/* About to fail: ask the shrinkers, as ch1 does, then try once more. */
		sim.in_shrinker = 1;
		for (int i = 0; i < sim.nshrinkers; i++)
			sim.shrinkers[i](1UL << order);
		sim.in_shrinker = 0;
	}
	return -1;
}

paddr_t frames_alloc_order(unsigned order, unsigned flags)
{
	long idx = alloc_order_idx(order, flags);
	if (idx < 0)
		return 0;
	sim.charged += 1UL << order;
	return idx_to_pa(idx);
}

paddr_t frame_alloc(unsigned flags)
{
	return frames_alloc_order(0, flags);
}

int frames_free_order(paddr_t pa, unsigned order)
{
	long idx = pa_to_idx(pa);
	if (idx < 0 || (pa & (PAGE_SIZE - 1)) || sim.pages[idx].state != PAGE_ALLOC_HEAD ||
	    sim.pages[idx].order != order || sim.pages[idx].refcount != 1) {
		fprintf(stderr, "sim_frames: bad free of %#lx order %u\n", (unsigned long)pa, order);
		abort(); /* the heap must never do this */
	}
	sim.pages[idx].private = 0;
	sim.charged -= 1UL << order;
	free_block(idx, order);
	return 0;
}

int frame_free(paddr_t pa)
{
	return frames_free_order(pa, 0);
}

/* n frames: a 2^order block whose head remembers n (in refcount, as only the sim reads it). */
paddr_t frames_alloc(size_t n, unsigned flags)
{
	unsigned order = 0;
	while ((1UL << order) < n)
		order++;
	long idx = n ? alloc_order_idx(order, flags) : -1;
	if (idx < 0)
		return 0;
	sim.pages[idx].refcount = (int32_t)n + 1;
	sim.charged += n;
	return idx_to_pa(idx);
}

int frames_free(paddr_t pa, size_t n)
{
	long idx = pa_to_idx(pa);
	if (idx < 0 || sim.pages[idx].state != PAGE_ALLOC_HEAD || sim.pages[idx].refcount != (int32_t)n + 1) {
		fprintf(stderr, "sim_frames: bad frames_free(%#lx, %zu)\n", (unsigned long)pa, n);
		abort();
	}
	sim.pages[idx].refcount = 1;
	sim.charged += (1UL << sim.pages[idx].order) - n; /* frames_free_order() takes the block off */
	return frames_free_order(pa, sim.pages[idx].order);
}

uint64_t frames_free_count(void) { return sim.free; }
uint64_t frames_used_count(void) { return sim.nframes - sim.free; }
uint64_t frames_total_count(void) { return sim.nframes; }
struct frame_watermarks frames_watermarks(void) { return sim.wm; }

int frames_set_watermarks(struct frame_watermarks wm)
{
	if (wm.min > wm.low || wm.low > wm.high || wm.high > sim.nframes)
		return -EINVAL;
	sim.wm = wm;
	return 0;
}

enum frame_pressure frames_pressure(void)
{
	if (sim.free < sim.wm.min)
		return PRESSURE_CRITICAL;
	if (sim.free < sim.wm.low)
		return PRESSURE_LOW;
	return PRESSURE_NONE;
}

int frames_register_shrinker(frame_shrinker_fn fn)
{
	if (sim.nshrinkers == 4)
		return -ENOSPC;
	sim.shrinkers[sim.nshrinkers++] = fn;
	return 0;
}

struct page_info *pa_to_page(paddr_t pa)
{
	long idx = pa_to_idx(pa);
	return idx < 0 ? NULL : &sim.pages[idx];
}

paddr_t page_to_pa(const struct page_info *page)
{
	return idx_to_pa(page - sim.pages);
}
