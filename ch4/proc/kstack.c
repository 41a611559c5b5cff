/*
 * Kernel stacks of threads: one HART_STACK_STRIDE-aligned slot each in a
 * region of ch3's vmap range, a guard page (never mapped) then KSTACK_SIZE
 * bytes of stack mapped with kernel_map(), laid out as common's hart_stacks
 * are, so that trapvec.S's overflow check (trap_set_stack_region()) turns a
 * thread's stack overflow into a "kernel stack overflow" panic instead of a
 * fault loop. The stack's frames are one contiguous block; unmapping frees
 * the page tables that become empty, so a suite that ends with no thread
 * leaves the frame count as it found it.
 *
 * Unmapping a kernel page costs a TLB shootdown to every hart (a remote
 * fence through SBI, slow under emulation), and a fork-exit loop would pay
 * one per thread. So, as Linux keeps a few freed stacks per CPU
 * (kernel/fork.c, NR_CACHED_STACKS), up to #KSTACK_CACHE freed stacks stay
 * mapped, still holding their frames, and the next threads take them.
 * kstack_cache_drain() gives them back; whoever counts free frames (the
 * user-suite runner, the free-frame test call) drains first, as it shrinks
 * the heap's caches.
 *
 * Reference: Linux's vmalloc'd stacks (CONFIG_VMAP_STACK, kernel/fork.c
 * alloc_thread_stack_node) with their guard pages.
 */
#include "errno.h"
#include "frame.h"
#include "initcall.h"
#include "kspace.h"
#include "panic.h"
#include "sched.h"
#include "spinlock.h"

_Static_assert(KSTACK_REGION_BASE % HART_STACK_STRIDE == 0, "slots are stride-aligned");
_Static_assert(KSTACK_REGION_BASE + (uint64_t)KSTACK_SLOTS * HART_STACK_STRIDE <=
		       KSPACE_VMAP_BASE + KSPACE_VMAP_SIZE,
	       "the region lies in the vmap range");

#define KSTACK_PAGES (KSTACK_SIZE / PAGE_SIZE)

static struct spinlock kstack_lock = SPINLOCK_INIT("kstack");
static uint64_t used[KSTACK_SLOTS / 64];
static int nr_used; /* stacks of live threads (not the cached ones) */

/* Freed stacks kept mapped for the next threads (under kstack_lock). */
static struct {
	vaddr_t slot;
	paddr_t pa;
} cache[KSTACK_CACHE];
static int nr_cached;

/* A free slot's index, marked used, or -1. */
static int slot_take(void)
{
	int found = -1;
	spin_lock(&kstack_lock);
	for (int w = 0; w < KSTACK_SLOTS / 64 && found < 0; w++) {
		if (~used[w]) {
			int b = __builtin_ctzl(~used[w]);
			used[w] |= 1UL << b;
			found = w * 64 + b;
			nr_used++;
		}
	}
	spin_unlock(&kstack_lock);
	return found;
}

static void slot_give(int i)
{
	spin_lock(&kstack_lock);
	used[i / 64] &= ~(1UL << (i % 64));
	nr_used--;
	spin_unlock(&kstack_lock);
}

/* A cached stack, or 0 if there is none. */
static vaddr_t cache_take(paddr_t *pa)
{
	vaddr_t slot = 0;
	spin_lock(&kstack_lock);
	if (nr_cached) {
		nr_cached--;
		slot = cache[nr_cached].slot;
		*pa = cache[nr_cached].pa;
		nr_used++;
	}
	spin_unlock(&kstack_lock);
	return slot;
}

/* Keep a freed stack mapped for the next thread: false if the cache is full. */
static bool cache_give(vaddr_t slot, paddr_t pa)
{
	bool kept = false;
	spin_lock(&kstack_lock);
	if (nr_cached < KSTACK_CACHE) {
		cache[nr_cached].slot = slot;
		cache[nr_cached].pa = pa;
		nr_cached++;
		nr_used--;
		kept = true;
	}
	spin_unlock(&kstack_lock);
	return kept;
}

/* Unmap a stack, free its frames and its slot. */
static void stack_release(vaddr_t slot, paddr_t pa)
{
	if (kernel_unmap(slot + PAGE_SIZE, KSTACK_SIZE) != 0)
		panic("kstack_free: stack slot 0x%lx was not mapped", slot);
	frames_free(pa, KSTACK_PAGES);
	slot_give((int)((slot - KSTACK_REGION_BASE) / HART_STACK_STRIDE));
}

vaddr_t kstack_alloc(paddr_t *pa)
{
	vaddr_t cached = cache_take(pa);
	if (cached)
		return cached;
	int i = slot_take();
	if (i < 0)
		return 0;
	vaddr_t slot = KSTACK_REGION_BASE + (vaddr_t)i * HART_STACK_STRIDE;
	paddr_t frames = frames_alloc(KSTACK_PAGES, 0);
	if (!frames) {
		slot_give(i);
		return 0;
	}
	if (kernel_map(slot + PAGE_SIZE, frames, KSTACK_SIZE, PT_KERNEL_RW) != 0) {
		frames_free(frames, KSTACK_PAGES);
		slot_give(i);
		return 0;
	}
	*pa = frames;
	return slot;
}

void kstack_free(vaddr_t slot, paddr_t pa)
{
	if (!cache_give(slot, pa))
		stack_release(slot, pa);
}

int kstack_cache_drain(void)
{
	int n = 0;
	for (;;) {
		vaddr_t slot = 0;
		paddr_t pa = 0;
		spin_lock(&kstack_lock);
		if (nr_cached) {
			nr_cached--;
			slot = cache[nr_cached].slot;
			pa = cache[nr_cached].pa;
			nr_used++; /* stack_release()'s slot_give() counts it out */
		}
		spin_unlock(&kstack_lock);
		if (!slot)
			return n;
		stack_release(slot, pa);
		n++;
	}
}

int kstack_nr_used(void) { return __atomic_load_n(&nr_used, __ATOMIC_RELAXED); }

int kstack_region_register(void)
{
	return trap_set_stack_region(KSTACK_REGION_BASE,
				     KSTACK_REGION_BASE + (vaddr_t)KSTACK_SLOTS * HART_STACK_STRIDE);
}

/* trapvec.S learns of the region before any thread exists (and again at
 * each user suite: common.user's test sets the region back to empty). */
initcall(INIT_PROC, kstack_region_register);
