/*
 * ch3 private: pieces of the kernel space shared between its files.
 */
#ifndef MMLAB_CH3_KSPACE_INTERNAL_H
#define MMLAB_CH3_KSPACE_INTERNAL_H

#include "pagetable.h"
#include "spinlock.h"

/* Serialises changes to kernel_pt (kspace.c). */
extern struct spinlock kspace_lock;

/*
 * Map device registers [pa, pa + size), rounded out to pages, at
 * pa_to_kva(pa) in @pt with PT_DEVICE and the largest pages possible; a range
 * already mapped exactly so is fine. 0, -EINVAL, -EEXIST or -ENOMEM.
 */
int kspace_map_device(struct pagetable *pt, paddr_t pa, size_t size);

/* [*start, *end) = the whole pages inside RAM range [base, base + size). */
void kspace_ram_pages(paddr_t base, uint64_t size, paddr_t *start, paddr_t *end);

#endif
