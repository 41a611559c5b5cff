/**
 * @file tlb.h
 * @brief ch3: TLB maintenance: a batching flusher and cross-hart shootdown.
 *
 * A hart may cache any translation it has used, and keeps using it after the
 * PTE changes until it executes `sfence.vma` (RISC-V privileged spec 4.2.1).
 * So whoever removes a mapping or takes a permission away must flush the old
 * entry, on every hart that may hold it; adding a mapping needs nothing.
 *
 * A `struct tlb_flusher` collects the virtual addresses of the leaves a
 * change touched and flushes them once, at the end (Redox's Flusher): one
 * `sfence.vma va` per page while there are at most #TLB_FLUSH_BATCH of them,
 * a single full `sfence.vma` past that, when flushing page by page would cost
 * more than refilling the TLB. A flusher made for an address space
 * (addr_space.h) also flushes the other harts that may cache its
 * translations, the harts of its mask (every online hart for the kernel
 * space, whose mappings are global), through the SBI RFENCE extension
 * (remote_sfence_vma, SBI spec 8.3), which OpenSBI completes before it
 * returns. Harts outside the mask get no interrupt at all.
 *
 * Freeing a table is a change to a non-leaf PTE: the spec asks for a full
 * `sfence.vma` then (a hart may cache non-leaf entries), and the table's frame
 * must not be reused while a hart may still walk through it. So a flusher
 * also takes the table frames an unmap unlinked, and frees them only after
 * the flush (Linux's mmu_gather does the same).
 *
 * Reference: Redox kernel src/memory (Flusher, PageFlushAll); Linux
 * arch/riscv/mm/tlbflush.c (flush_tlb_kernel_range); Theseus
 * set_broadcast_tlb_shootdown_cb.
 */
#ifndef MMLAB_TLB_H
#define MMLAB_TLB_H

#include "asmdefs.h"
#include "types.h"

struct addr_space;

/** Pages a flusher flushes one by one; one more and it flushes everything. */
#define TLB_FLUSH_BATCH 16

/** A batch of TLB flushes to do (make one on the stack per change). */
struct tlb_flusher {
	vaddr_t va[TLB_FLUSH_BATCH]; /**< Leaves to flush, one address each. */
	unsigned n;		     /**< Entries in va[]. */
	bool all;		     /**< Past the threshold: flush everything. */
	struct addr_space *as;	     /**< Whose other harts to flush too; NULL: this hart only. */
	vaddr_t lo;		     /**< Lowest address added (for the remote range). */
	vaddr_t hi;		     /**< One past the highest byte added. */
	paddr_t tables;	  /**< Table frames to free after the flush, linked through their entry 0. */
	size_t nr_tables; /**< How many. */
};

/** Counters since boot, for tests and benchmarks. */
struct tlb_stats {
	uint64_t page_flushes; /**< Local `sfence.vma va` executed. */
	uint64_t full_flushes; /**< Local `sfence.vma zero, zero` executed. */
	uint64_t remote_calls; /**< SBI remote_sfence_vma calls made. */
	uint64_t remote_full;  /**< ... of which flushed the whole TLB. */
	/** Remote fences each hart was sent (one per call that named it). */
	uint64_t remote_fences[MAX_HARTS];
	uint64_t tables_freed; /**< Table frames freed after a flush. */
};

/**
 * Start an empty batch in @p fl.
 * @param fl  the flusher.
 * @param as  the address space whose page table the change is made to: when
 *            finishing, the other harts that may cache it are flushed too
 *            (addr_space_harts()); NULL for a page table no other hart uses
 *            (this hart is flushed all the same).
 */
void tlb_flusher_init(struct tlb_flusher *fl, struct addr_space *as);

/**
 * Note that the leaf mapping [@p va, @p va + @p size) changed. One
 * `sfence.vma` of any address in a leaf flushes the whole leaf, huge or not,
 * so each leaf costs one slot however big it is.
 * @param fl    the flusher; a NULL @p fl is allowed and does nothing.
 * @param va    first virtual address of the leaf.
 * @param size  its size in bytes (4 KiB, 2 MiB or 1 GiB).
 */
void tlb_flusher_add(struct tlb_flusher *fl, vaddr_t va, size_t size);

/**
 * Take table frame @p table_pa, just unlinked from a page table, and free it
 * once the flush is done; this makes the flush a full one (spec 4.2.1: after
 * changing a non-leaf PTE, `sfence.vma` with rs1 = x0).
 * @param fl        the flusher, or NULL: then the frame is freed at once
 *                  (right for a page table no hart uses).
 * @param table_pa  the table's frame, no longer linked in: its entries all
 *                  invalid, or (a split undone) the leaves of the huge page
 *                  put back in its place, which translate the same.
 */
void tlb_flusher_free_table(struct tlb_flusher *fl, paddr_t table_pa);

/** True if @p fl has nothing to flush. */
static inline bool tlb_flusher_empty(const struct tlb_flusher *fl) { return !fl->all && fl->n == 0; }

/**
 * Do the flushes @p fl collected, on this hart and (if it was made for an
 * address space) on the other harts that may cache that space, free the
 * table frames it holds, then empty it. Call it after the page-table writes (even if they failed), before
 * anyone may rely on the old mapping being gone.
 */
void tlb_flusher_finish(struct tlb_flusher *fl);

/**
 * Flush [@p va, @p va + @p size) on the harts that may cache @p as
 * (addr_space_harts(): its mask, or every online hart for the kernel space)
 * but this one, through one SBI remote_sfence_vma naming exactly them;
 * @p size = -1UL flushes everything. Returns when they have flushed. Does
 * nothing (no SBI call) when no other hart may cache @p as.
 * @param as    the address space changed; NULL: nobody to tell.
 * @param va    first virtual address.
 * @param size  bytes, or -1UL for the whole TLB.
 * @return 0, or -EIO if the firmware refused.
 */
int tlb_shootdown(struct addr_space *as, vaddr_t va, size_t size);

/** A snapshot of the counters. */
struct tlb_stats tlb_get_stats(void);

#endif
