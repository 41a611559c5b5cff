/**
 * @file memlayout.h
 * @brief The kernel's virtual address layout and the direct map.
 *
 * Sv39 gives 512 GiB of virtual space: the lower 256 GiB (user, from ch4) and
 * the upper 256 GiB, 0xffffffc000000000 and above (kernel). The kernel keeps:
 *
 * | virtual range                     | what                                  |
 * |-----------------------------------|---------------------------------------|
 * | 0xffffffc0_00000000 + pa          | direct map of all physical memory     |
 * | 0xffffffff_80200000 ...           | kernel image (text, rodata, data, bss) |
 *
 * As in Linux, Redox and ArceOS, the kernel reaches physical memory only through
 * the direct map: pa_to_kva() and kva_to_pa() convert.
 */
#ifndef MMLAB_MEMLAYOUT_H
#define MMLAB_MEMLAYOUT_H

#include "types.h"

/** Virtual address where physical address 0 is mapped. */
#define DIRECT_MAP_BASE 0xffffffc000000000UL
/** Size of the direct map: the boot page table maps this much (gigapages). */
#define DIRECT_MAP_SIZE (128UL * GiB)
/** Link address of the kernel image. */
#define KERNEL_BASE 0xffffffff80200000UL
/** Physical load address of the kernel image (OpenSBI jumps here). */
#define KERNEL_LOAD_PA 0x80200000UL
/** Add to a kernel-image physical address to get its link (virtual) address. */
#define KERNEL_VA_OFFSET (KERNEL_BASE - KERNEL_LOAD_PA)

/** Kernel virtual address of physical address @p pa, through the direct map. */
static inline void *pa_to_kva(paddr_t pa) { return (void *)(pa + DIRECT_MAP_BASE); }

/** True if @p va lies in the direct map. */
static inline bool is_direct_map_va(vaddr_t va)
{
	return va >= DIRECT_MAP_BASE && va < DIRECT_MAP_BASE + DIRECT_MAP_SIZE;
}

/** True if @p va lies in the kernel image's link range. */
static inline bool is_kernel_image_va(vaddr_t va) { return va >= KERNEL_BASE; }

/**
 * Physical address of kernel virtual address @p kva.
 * @pre @p kva is in the direct map or in the kernel image; anything else is a
 *      bug and returns 0 (never a valid RAM address on the machines we run on).
 */
static inline paddr_t kva_to_pa(const void *kva)
{
	vaddr_t va = (vaddr_t)kva;
	if (is_kernel_image_va(va))
		return va - KERNEL_VA_OFFSET;
	if (is_direct_map_va(va))
		return va - DIRECT_MAP_BASE;
	return 0;
}

/** @name Kernel image bounds
 *  Symbols from kernel.ld (link addresses).
 *  @{ */
/**
 * Where the kernel image and each of its page-aligned sections (text, rodata,
 * data, bss) start and end, as link (virtual) addresses; symbols from
 * kernel.ld. Use their address; never read them.
 */
extern char _kernel_start[], _text_start[], _text_end[], _rodata_start[], _rodata_end[];
extern char _data_start[], _data_end[], _bss_start[], _bss_end[], _kernel_end[];
/** @} */

/** The boot page table of entry.S: 512 root entries, gigapages only. */
extern uint64_t boot_pagetable[512];

#endif
