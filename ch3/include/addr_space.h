/**
 * @file addr_space.h
 * @brief ch3: an address space: a page table and the harts that may cache it.
 *
 * A TLB shootdown must reach every hart whose TLB may hold a translation that
 * a change removed or restricted, and no other (an SBI remote fence is an
 * interrupt to each hart it names). A `struct addr_space` pairs a page table
 * with that set of harts, as Linux's mm_cpumask does for an mm_struct; the
 * TLB flusher (tlb.h) takes one and fences exactly those harts.
 *
 * **The hart mask rule.** A hart enters the mask of an address space in
 * addr_space_activate(), before it writes satp (so a change made meanwhile
 * sees it), and stays there until it activates another address space: then,
 * after the `sfence.vma` that follows the new satp has dropped every
 * non-global entry from its TLB (the old space's included), it leaves the
 * old mask. So the mask always holds every hart that may cache a
 * translation of the space's own (lower-half, non-global) mappings.
 *
 * **The kernel space** (#kernel_as, kspace.h) is the exception: its mappings
 * are global (PTE_G) and its upper-half tables are shared by every address
 * space, so any hart may cache them whatever satp it runs. Its `global` flag
 * makes a shootdown reach every online hart.
 *
 * **No ASID.** mmlab runs every address space with ASID 0 (satp_sv39()), so
 * switching satp must flush the old space's non-global entries (spec 4.2.1);
 * chapter 4 may add ASIDs, and with them the per-ASID fences.
 *
 * Reference: Linux include/linux/mm_types.h (mm_cpumask), arch/riscv/mm/context.c
 * (switch_mm, set_mm_noasid), arch/riscv/mm/tlbflush.c; RISC-V privileged spec
 * 4.1.11 (satp) and 4.2.1 (sfence.vma).
 */
#ifndef MMLAB_ADDR_SPACE_H
#define MMLAB_ADDR_SPACE_H

#include "pagetable.h"
#include "smp.h"
#include "types.h"

/** An address space: a page table and the harts that may cache its translations. */
struct addr_space {
	struct pagetable pt; /**< Its page table; the upper half is the kernel's (kspace.h). */
	uint64_t harts;	     /**< Bit h set: hart h may cache its translations (the rule above). */
	bool global;	     /**< Its mappings are global: every hart may cache them (#kernel_as only). */
};

/**
 * Make @p as an empty address space: a new root whose upper half shares the
 * kernel's (kspace_share_kernel_half()), no hart in its mask.
 * @return 0; -ENOMEM (no frame for the root); -ENODEV if the kernel space is
 *         not active (an address space without the kernel could not run).
 *         On error @p as holds no frame.
 */
int addr_space_init(struct addr_space *as);

/**
 * Free the page table of @p as (not the kernel's tables it shares, nor the
 * frames its leaves map).
 * @return 0; -EBUSY if a hart may still use it (its mask is not empty: some
 *         hart has not switched away) or it is the kernel space; then nothing
 *         changes.
 */
int addr_space_destroy(struct addr_space *as);

/**
 * Switch this hart to @p as: add the hart to its mask, write satp (Sv39, its
 * root, ASID 0), then `sfence.vma x0, rs2` with rs2 a register holding 0,
 * which drops every non-global entry (the previous space's) and orders the
 * page-table writes before the walks to come (spec 4.2.1: "If software
 * always uses ASID 0, after every satp write, software should execute
 * SFENCE.VMA with rs1=x0 ... rs2 a register other than x0 that contains 0, so
 * that global translations are not flushed"). Then the hart leaves the mask
 * of the space it ran before. Call with interrupts off, or at least on a
 * thread that cannot move to another hart meanwhile.
 * @return 0; -EINVAL if @p as has no page table, or one without the kernel
 *         half (it would unmap the kernel under this hart's feet).
 */
int addr_space_activate(struct addr_space *as);

/** The address space this hart last activated; NULL before the kernel space. */
struct addr_space *addr_space_current(void);

/**
 * The online harts, this one included, that a shootdown for @p as must
 * reach: every online hart for a global space, else those of its mask.
 * @param as  the address space, or NULL (none: 0).
 */
static inline uint64_t addr_space_harts(struct addr_space *as)
{
	if (!as)
		return 0;
	uint64_t mask = as->global ? ~0UL : __atomic_load_n(&as->harts, __ATOMIC_SEQ_CST);
	return mask & harts_online_mask();
}

#endif
