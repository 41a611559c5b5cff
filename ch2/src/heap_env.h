/*
 * What the heap needs from the machine, in one place, so that the allocator
 * core (slab*.c, array_cache.c, kmalloc.c) also builds on the host over a
 * simulated frame allocator (hosttest/sim_frames.c, under -DMMLAB_HOST) and
 * can be tested there under AddressSanitizer.
 *
 *   heap_pa_to_kva / heap_kva_to_pa   the direct map (identity on the host)
 *   heap_cpu                          this hart's id (0 on the host)
 *   heap_nr_harts                     harts running the kernel (1 on the host)
 *   heap_irq_save / heap_irq_restore  interrupts off around per-hart data
 */
#ifndef MMLAB_HEAP_ENV_H
#define MMLAB_HEAP_ENV_H

#include "types.h"

#ifdef MMLAB_HOST
#include "../hosttest/host_env.h"
#else
#include "memlayout.h"
#include "riscv.h"
#include "smp.h"

static inline void *heap_pa_to_kva(paddr_t pa) { return pa_to_kva(pa); }
static inline paddr_t heap_kva_to_pa(const void *p) { return kva_to_pa(p); }
static inline int heap_cpu(void) { return cpuid(); }
/* common/ starts every hart before the initcalls: from the heap's start on, this count never grows. */
static inline int heap_nr_harts(void) { return harts_online(); }
/* Interrupts off on this hart; returns whether they were on. Cheaper than
 * intr_push(), and compatible with it: inside a push, they are already off. */
static inline bool heap_irq_save(void) { return intr_off(); }
static inline void heap_irq_restore(bool was_on)
{
	if (was_on)
		intr_on();
}
#endif

/* The address of the code that called the function using it. Public entry
 * points are noinline so that it is their caller's, not an inliner's. */
#define RET_IP ((uintptr_t)__builtin_return_address(0))

#endif
