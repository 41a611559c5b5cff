/*
 * Host stand-ins for what ch2/src/heap_env.h takes from the kernel: physical
 * addresses are host addresses (sim_frames.c hands out frames from one
 * aligned_alloc() arena), there is one hart, and no interrupts.
 */
#ifndef MMLAB_HOST_ENV_H
#define MMLAB_HOST_ENV_H

#include "types.h"

static inline void *heap_pa_to_kva(paddr_t pa) { return (void *)(uintptr_t)pa; }
static inline paddr_t heap_kva_to_pa(const void *p) { return (paddr_t)(uintptr_t)p; }
static inline int heap_cpu(void) { return 0; }
static inline int heap_nr_harts(void) { return 1; }
static inline bool heap_irq_save(void) { return false; }
static inline void heap_irq_restore(bool was_on) { (void)was_on; }

/* sim_frames.c: a buddy allocator over an arena of @nframes frames. */
void sim_frames_init(size_t nframes);
/* Free the arena (everything must have been freed). */
void sim_frames_fini(void);
/* Frames allocated by the simulation right now. */
uint64_t sim_frames_used(void);
/* Make the next @n frame allocations fail (0: none), to test out-of-memory paths. */
void sim_frames_fail_after(long n);

#endif
