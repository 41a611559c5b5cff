/**
 * @file kspace.h
 * @brief ch3: the kernel address space that replaces the boot page table.
 *
 * At INIT_PAGING, kspace_init() builds the kernel's page table and switches
 * every hart to it. Layout (upper half of Sv39; memlayout.h):
 *
 * | virtual range                            | what                   | perms | pages      |
 * |------------------------------------------|------------------------|-------|------------|
 * | 0xffffffc0_00000000 + pa, devices        | MMIO (UART, finisher, PLIC, CLINT) | RW- | 2 MiB at most |
 * | 0xffffffc0_00000000 + pa, RAM            | direct map of all RAM  | RW-   | 2 MiB at most |
 * | KSPACE_VMAP_BASE .. + KSPACE_VMAP_SIZE   | free for kernel_map()  |       |            |
 * | 0xffffffff_80200000 _text_start..        | kernel text            | R-X   | 4 KiB      |
 * | _rodata_start..                          | rodata, initcalls, tests, extable | R-- | 4 KiB |
 * | _data_start..                            | data, bss, hart stacks | RW-   | 4 KiB      |
 * | hart_stacks[i].guard                     | unmapped guard page    | ---   |            |
 *
 * Every root slot of these ranges points to a level-1 table from boot on
 * (kspace_alloc_kernel_half()), so the upper half of the root never changes
 * and every address space can share it (kspace_share_kernel_half()).
 *
 * Every mapping is global (PTE_G). Nothing else is mapped: the lower half is
 * empty (ch4 puts user space there), and so is the boot table's identity
 * entry. Everything is W^X: no page is both writable and executable.
 *
 * If building fails (out of memory, or a handout's stubs), kspace_init()
 * frees what it built and returns the error: the boot page table stays, and
 * the earlier chapters' tests still run.
 *
 * Reference: rCore os/src/mm/memory_set.rs (KERNEL_SPACE, new_kernel,
 * remap_test); xv6 kernel/vm.c (kvmmake, kvminithart).
 */
#ifndef MMLAB_KSPACE_H
#define MMLAB_KSPACE_H

#include "addr_space.h"
#include "pagetable.h"
#include "types.h"

/** Start of the kernel virtual range that kernel_map() hands out (after the direct map). */
#define KSPACE_VMAP_BASE 0xffffffe000000000UL
/** Size of that range: 64 GiB. */
#define KSPACE_VMAP_SIZE (64UL * GiB)

/**
 * The kernel's address space: its page table (kernel_as.pt), built by
 * kspace_init(), and every hart that runs on it. Its root is 0 until then,
 * and stays 0 if building failed. Global: a shootdown for it reaches every
 * online hart, whatever address space the hart runs (addr_space.h).
 */
extern struct addr_space kernel_as;

/**
 * Map the kernel image, the direct map of every RAM range and every device
 * of #machine into page table @p pt, empty or with nothing but the kernel
 * half's level-1 tables (kspace_alloc_kernel_half()), with the permissions of the
 * table in this file's description, leaving each hart stack's guard page
 * unmapped.
 * @return 0, or the error of the first map that failed (-ENOMEM, or
 *         -ENOSYS from a stub); @p pt may then hold part of the layout: the
 *         caller destroys it.
 */
int kspace_build(struct pagetable *pt);

/**
 * Check the W^X layout of @p pt (rCore's remap_test): every page of text is
 * R-X, of rodata R--, of data and bss RW-, the guard pages are unmapped, and
 * nothing in the image or the direct map is both writable and executable.
 * Prints the first page that is wrong.
 * @return 0, or -EACCES.
 */
int kspace_check(struct pagetable *pt);

/**
 * The INIT_PAGING initcall: build the kernel's page table (the level-1
 * tables of the kernel half, kspace_alloc_kernel_half(), then
 * kspace_build()), check it (kspace_check(), and that building left every
 * root entry of the kernel half as it was), switch every online hart to it
 * (sfence.vma; addr_space_activate(); sfence.vma on each: the boot table's
 * global entries go too) and, given the bootarg `ptdump`, print it.
 * `kspace_failat=N` makes the N-th table allocation of kspace_build() fail
 * (to test the fallback).
 * @return 0, or an error (then the boot page table stays in use).
 */
int kspace_init(void);

/** True once every hart runs on #kernel_as. */
bool kspace_active(void);

/** The satp value of the kernel space (Sv39, root of kernel_as.pt, ASID 0); 0 if not built. */
uint64_t kspace_satp(void);

/**
 * Allocate the level-1 table of every upper-half root slot the kernel maps
 * into, now or later: the direct map's 128 (RAM and every kernel_map_mmio()),
 * the vmap area's 64 (kernel_map()) and the kernel image's; and pin them
 * (#PT_HALF_PINNED), so that no map, unmap, split or rollback in @p pt ever
 * writes a root entry of the upper half again. With a table in every slot,
 * the direct map gets 2 MiB pages at most (pt_map() puts no gigapage over a
 * table), so splitting one changes a level-1 entry, never the root. The
 * same as Linux's preallocate_pgd_pages_range() (arch/riscv/mm/init.c) for
 * the vmalloc area, here for every kernel range. docs/layout.md, "The
 * kernel half".
 * @param pt  a page table with an empty upper half.
 * @return 0, or -ENOMEM (the tables made so far stay: the caller destroys @p pt).
 */
int kspace_alloc_kernel_half(struct pagetable *pt);

/**
 * Copy the kernel's upper-half root entries into the root of @p pt (xv6's
 * user page tables map the trampoline the same way; Linux's pgd_alloc copies
 * the kernel's PGD entries), making it #PT_HALF_SHARED: the kernel's tables
 * are then reachable from @p pt and never freed or unlinked through it.
 * Whatever the kernel maps later shows in @p pt too, since the root entries
 * themselves never change.
 * @param pt  a page table with nothing in its upper half (pt_init()).
 * @return 0; -ENODEV if the kernel space is not active; -EEXIST if @p pt's
 *         upper half is in use or already shared; then nothing changes.
 */
int kspace_share_kernel_half(struct pagetable *pt);

/**
 * Check that the 256 upper-half root entries of @p pt are exactly those the
 * kernel's page table had when the kernel space went live: true of the
 * kernel's own table for as long as it runs, and of every page table
 * kspace_share_kernel_half() made. Prints the first slot that differs.
 * @return 0; -ENODEV if the kernel space is not active; -EACCES if one differs.
 */
int kspace_check_kernel_half(struct pagetable *pt);

/**
 * Map [@p va, @p va + @p size) to @p pa in the kernel space with permissions
 * @p flags (pt_map() under the kernel page table's lock; give PTE_G). New
 * mappings need no flush on any hart. The range must lie in the kernel half
 * (every root slot it meets has its level-1 table from boot:
 * kspace_alloc_kernel_half()), usually in the vmap area.
 * @return 0; -ENODEV if the kernel space is not active; -ERANGE if the range
 *         leaves the kernel half; else as pt_map().
 */
int kernel_map(vaddr_t va, paddr_t pa, size_t size, unsigned flags);

/**
 * Unmap [@p va, @p va + @p size) from the kernel space and shoot the old
 * translations down on every hart before returning.
 * @return 0; -ENODEV if the kernel space is not active; else as pt_unmap().
 */
int kernel_unmap(vaddr_t va, size_t size);

/**
 * Change the permissions of [@p va, @p va + @p size) in the kernel space to
 * @p perm (as pt_protect()) and shoot the old translations down on every hart
 * before returning (needed when a permission goes away; done for any change,
 * since the kernel has no handler for the spurious faults a stale stricter
 * entry would cause).
 * @return 0; -ENODEV if the kernel space is not active; else as pt_protect().
 */
int kernel_protect(vaddr_t va, size_t size, unsigned perm);

/**
 * Map the device registers [@p pa, @p pa + @p size) (rounded out to whole
 * pages) at pa_to_kva(@p pa), where the direct map would put them, with
 * #PT_DEVICE permissions, using the largest pages possible (Linux's
 * ioremap, Theseus's MMIO_FLAGS). A range already mapped exactly so (two
 * devices in one page, or a second call) is fine.
 * @param pa    physical address of the registers.
 * @param size  bytes, > 0.
 * @param kva   if not NULL, set to pa_to_kva(@p pa).
 * @return 0; -EINVAL for size 0 or a range outside the direct map; -EEXIST
 *         if part of the range is mapped differently; -ENOMEM. Before the
 *         kernel space is active the boot table maps every device already:
 *         then it only computes @p kva.
 */
int kernel_map_mmio(paddr_t pa, size_t size, void **kva);

/** Why kspace_init() failed, or 0; and whether it left frames behind. */
struct kspace_init_report {
	int err;		/**< kspace_init()'s result. */
	uint64_t frames_before; /**< Free frames before building. */
	uint64_t frames_after;	/**< Free frames after (equal if the failure cleaned up). */
	unsigned long failat;	/**< The `kspace_failat=` value, 0 if none. */
};

/** What the last kspace_init() did (tests read it). */
struct kspace_init_report kspace_last_init(void);

#endif
