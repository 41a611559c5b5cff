/*
 * A simulated ch1 for host tests: the frame.h functions the heap uses, over
 * one arena from aligned_alloc(), managed by ch1's own buddy system
 * (ch1/src/buddy.c, pure logic), so frames are taken and refused exactly as
 * in the kernel: frames_alloc(n) takes n frames, a block of 2^order comes
 * aligned to itself, a free of the wrong size is refused. What frame.c adds
 * around the buddy (the emergency reserve, pressure, shrinkers asked before
 * an allocation fails) is redone here in a few lines, without a lock. The
 * kernel services the heap calls (printk, spinlocks, bootargs) are
 * common/hosttest/host_kernel.c's, which every test using this file links too.
 *
 * "Physical" addresses are host addresses (host_env.h's direct map is the
 * identity).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../ch1/src/buddy.h"
#include "errno.h"
#include "frame.h"
#include "host_env.h"

static struct {
	char *base;
	uint64_t nframes;
	struct page_info *pages;     /* every section's page_info, one after the other */
	struct page_info **sections; /* the buddy's table into it */
	struct buddy buddy;
	struct frame_watermarks wm;
	frame_shrinker_fn shrinkers[4];
	int nshrinkers;
	long fail_after; /* -1: never fail on purpose */
	int in_shrinker;
} sim;

void sim_frames_init(size_t nframes)
{
	size_t align = PAGE_SIZE << MAX_ORDER; /* so that the buddy's base needs no rounding */
	memset(&sim, 0, sizeof(sim));
	sim.base = aligned_alloc(align, ALIGN_UP(nframes * PAGE_SIZE, align));
	pfn_t lo = pa_to_pfn((uintptr_t)sim.base);
	uint64_t nr_sections = buddy_nr_sections(lo, lo + nframes);
	sim.pages = calloc(nr_sections << SECTION_ORDER, sizeof(struct page_info));
	sim.sections = calloc(nr_sections, sizeof(*sim.sections));
	if (!sim.base || !sim.pages || !sim.sections) {
		fprintf(stderr, "sim_frames: no memory for %zu frames\n", nframes);
		exit(2);
	}
	/* Touch every frame once, as RAM is there from the start: otherwise the
	 * host's first-touch page faults would land in whichever allocation
	 * reaches a frame first, and a benchmark would time the host's kernel. */
	memset(sim.base, 0, nframes * PAGE_SIZE);
	for (uint64_t s = 0; s < nr_sections; s++)
		sim.sections[s] = sim.pages + (s << SECTION_ORDER);
	sim.nframes = nframes;
	buddy_init(&sim.buddy, sim.sections, lo, lo + nframes);
	buddy_add_range(&sim.buddy, lo, lo + nframes);
	sim.fail_after = -1;
}

void sim_frames_fini(void)
{
	free(sim.base);
	free(sim.pages);
	free(sim.sections);
	memset(&sim, 0, sizeof(sim));
}

uint64_t sim_frames_used(void) { return sim.nframes - sim.buddy.free_frames; }

void sim_frames_fail_after(long n) { sim.fail_after = n; }

/* ---- frame.h ----------------------------------------------------------------- */

/* One attempt (frame.c's try_alloc): a block of 2^@p order, or (order < 0) a run of @p n frames. */
static pfn_t try_alloc(uint64_t n, int order, unsigned flags)
{
	struct buddy *b = &sim.buddy;
	if (sim.fail_after == 0 ||
	    (!(flags & FRAME_EMERGENCY) && (n > b->free_frames || b->free_frames - n < sim.wm.min)))
		return BUDDY_NO_PFN;
	if (order >= 0)
		return buddy_alloc(b, (unsigned)order);
	pfn_t pfn = n <= 1UL << MAX_ORDER ? buddy_alloc_run(b, n) : BUDDY_NO_PFN;
	if (pfn == BUDDY_NO_PFN && n > 1) { /* a run across blocks, as frame.c's claim_run() */
		pfn = buddy_find_run(b, n, b->base_pfn, b->base_pfn + b->nr_pages);
		if (pfn != BUDDY_NO_PFN && buddy_claim(b, pfn, n) != 0)
			pfn = BUDDY_NO_PFN;
	}
	return pfn;
}

/* Try; if that fails, ask the shrinkers, as ch1 does, and try once more. */
static paddr_t alloc(uint64_t n, int order, unsigned flags)
{
	pfn_t pfn = try_alloc(n, order, flags);
	if (pfn == BUDDY_NO_PFN && !sim.in_shrinker && sim.fail_after != 0) {
		sim.in_shrinker = 1;
		for (int i = 0; i < sim.nshrinkers; i++)
			sim.shrinkers[i](n);
		sim.in_shrinker = 0;
		pfn = try_alloc(n, order, flags);
	}
	if (pfn == BUDDY_NO_PFN)
		return 0;
	if (sim.fail_after > 0)
		sim.fail_after--;
	paddr_t pa = pfn_to_pa(pfn);
	if (flags & FRAME_ZERO)
		memset((void *)(uintptr_t)pa, 0, n * PAGE_SIZE);
	return pa;
}

/* The heap must never free what it does not hold, nor by the wrong size. */
static int checked(int err, const char *why, paddr_t pa, uint64_t n)
{
	if (err) {
		fprintf(stderr, "sim_frames: bad free of %#lx (%lu frames): %s\n", (unsigned long)pa,
			(unsigned long)n, why ? why : "?");
		abort();
	}
	return 0;
}

paddr_t frames_alloc_order(unsigned order, unsigned flags)
{
	return order > MAX_ORDER ? 0 : alloc(1UL << order, (int)order, flags);
}

paddr_t frame_alloc(unsigned flags) { return frames_alloc_order(0, flags); }

paddr_t frames_alloc(size_t n, unsigned flags) { return n == 0 || n > sim.nframes ? 0 : alloc(n, -1, flags); }

int frames_free_order(paddr_t pa, unsigned order)
{
	const char *why = NULL;
	return checked(buddy_free(&sim.buddy, pa_to_pfn(pa), order, &why), why, pa, 1UL << order);
}

int frame_free(paddr_t pa) { return frames_free_order(pa, 0); }

int frames_free(paddr_t pa, size_t n)
{
	const char *why = NULL;
	return checked(buddy_free_range(&sim.buddy, pa_to_pfn(pa), n, &why), why, pa, n);
}

uint64_t frames_nr_free(void) { return sim.buddy.free_frames; }
uint64_t frames_nr_used(void) { return sim_frames_used(); }
uint64_t frames_nr_total(void) { return sim.nframes; }
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
	if (sim.buddy.free_frames < sim.wm.min)
		return PRESSURE_CRITICAL;
	if (sim.buddy.free_frames < sim.wm.low)
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
	pfn_t pfn = pa_to_pfn(pa);
	struct buddy *b = &sim.buddy;
	return pfn >= pa_to_pfn((uintptr_t)sim.base) && pfn - pa_to_pfn((uintptr_t)sim.base) < sim.nframes
		       ? buddy_page(b, pfn - b->base_pfn)
		       : NULL;
}

paddr_t page_to_pa(const struct page_info *page)
{
	return pfn_to_pa(sim.buddy.base_pfn +
			 (pfn_t)(page - sim.pages)); /* every section present, in order */
}
