/*
 * ch3 private: pieces of the kernel space shared between its files.
 */
#ifndef MMLAB_CH3_KSPACE_INTERNAL_H
#define MMLAB_CH3_KSPACE_INTERNAL_H

#include "pagetable.h"
#include "spinlock.h"

/*
 * Serialises changes to kernel_as.pt (kspace.c), and their TLB flushes: a change
 * is flushed on every hart before the lock is dropped. Otherwise a map that
 * takes the lock next could link a new table where the change unlinked one
 * that a hart still has cached (a non-leaf entry, spec 4.2.1), and that hart
 * would fault on the new mapping, which is meant to need no flush.
 */
extern struct spinlock kspace_lock;

/*
 * Call with kspace_lock held after a map into kernel_as.pt that returned @err:
 * an -ENOMEM map rolled back, clearing leaves and unlinking tables that harts
 * may have cached, so then every hart flushes its whole TLB.
 */
void kspace_flush_rollback(int err);

/*
 * Map device registers [pa, pa + size), rounded out to pages, at
 * pa_to_kva(pa) in @pt with PT_DEVICE and the largest pages possible; a range
 * already mapped exactly so is fine. 0, -EINVAL, -EEXIST or -ENOMEM.
 */
int kspace_map_device(struct pagetable *pt, paddr_t pa, size_t size);

/*
 * Remember the upper-half root entries of @pt (the kernel's page table, its
 * kernel half just allocated): kspace_half_unchanged() and
 * kspace_check_kernel_half() compare against them.
 */
void kspace_half_snapshot(struct pagetable *pt);

/* 0 if @pt's upper-half root entries are those of the snapshot, else -EACCES (printed). */
int kspace_half_unchanged(struct pagetable *pt);

/*
 * True if every root slot [va, va + size) meets holds a level-1 table of the
 * kernel's page table (a valid range, pt_check_range()): a map there writes
 * no root entry. Call with kspace_lock held.
 */
bool kspace_in_kernel_half(vaddr_t va, size_t size);

/* [*start, *end) = the whole pages inside RAM range [base, base + size). */
void kspace_ram_pages(paddr_t base, uint64_t size, paddr_t *start, paddr_t *end);

#endif
