/**
 * @file kspace.h
 * @brief ch3: the kernel address space that replaces the boot page table.
 *
 * At INIT_PAGING, kspace_init() builds the kernel's page table and switches
 * every hart to it. Layout (upper half of Sv39; memlayout.h):
 *
 * | virtual range                            | what                   | perms | pages      |
 * |------------------------------------------|------------------------|-------|------------|
 * | 0xffffffc0_00000000 + pa, devices        | MMIO (UART, finisher, PLIC, CLINT) | RW- | largest |
 * | 0xffffffc0_00000000 + pa, RAM            | direct map of all RAM  | RW-   | largest    |
 * | KSPACE_VMAP_BASE .. + KSPACE_VMAP_SIZE   | free for kernel_map()  |       |            |
 * | 0xffffffff_80200000 _text_start..        | kernel text            | R-X   | 4 KiB      |
 * | _rodata_start..                          | rodata, initcalls, tests, extable | R-- | 4 KiB |
 * | _data_start..                            | data, bss, hart stacks | RW-   | 4 KiB      |
 * | hart_stacks[i].guard                     | unmapped guard page    | ---   |            |
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

#include "pagetable.h"
#include "types.h"

/** Start of the kernel virtual range that kernel_map() hands out (after the direct map). */
#define KSPACE_VMAP_BASE 0xffffffe000000000UL
/** Size of that range: 64 GiB. */
#define KSPACE_VMAP_SIZE (64UL * GiB)

/**
 * The kernel's page table, built by kspace_init(). Its root is 0 until then,
 * and stays 0 if building failed.
 */
extern struct pagetable kernel_pt;

/**
 * Map the kernel image, the direct map of every RAM range and every device
 * of #machine into the empty page table @p pt, with the permissions of the
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
 * The INIT_PAGING initcall: build #kernel_pt, check it, switch every online
 * hart to it (sfence.vma; csrw satp; sfence.vma on each) and, given the
 * bootarg `ptdump`, print it. `kspace_failat=N` makes the N-th table
 * allocation fail (to test the fallback).
 * @return 0, or an error (then the boot page table stays in use).
 */
int kspace_init(void);

/** True once every hart runs on #kernel_pt. */
bool kspace_active(void);

/** The satp value of the kernel space (Sv39, root of #kernel_pt, ASID 0); 0 if not built. */
uint64_t kspace_satp(void);

/**
 * Map [@p va, @p va + @p size) to @p pa in the kernel space with permissions
 * @p flags (pt_map() under the kernel page table's lock; give PTE_G). New
 * mappings need no flush on any hart.
 * @return 0; -ENODEV if the kernel space is not active; else as pt_map().
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
	int err;                 /**< kspace_init()'s result. */
	uint64_t frames_before;  /**< Free frames before building. */
	uint64_t frames_after;   /**< Free frames after (equal if the failure cleaned up). */
	unsigned long failat;    /**< The `kspace_failat=` value, 0 if none. */
};

/** What the last kspace_init() did (tests read it). */
struct kspace_init_report kspace_last_init(void);

#endif
