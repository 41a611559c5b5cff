/*
 * The kernel half: the upper-half root entries that every address space
 * copies. Their level-1 tables are made at boot, for every slot the kernel
 * will ever map into, and never unlinked, so the entries never change and a
 * copy never goes stale (Linux arch/riscv/mm/init.c,
 * preallocate_pgd_pages_range(); docs/layout.md, "The kernel half").
 */
#include "errno.h"
#include "kspace.h"
#include "kspace_internal.h"
#include "memlayout.h"
#include "printk.h"
#include "ptalloc.h"
#include "ptinternal.h"

#define HALF (PTES_PER_TABLE / 2) /* root entries per half */

/* The kernel half as it was when the kernel space was built. */
static pte_t snapshot[HALF];
static bool have_snapshot;

/* Give each root slot of [start, end) a level-1 table, if it has none. */
static int alloc_range(struct pagetable *pt, vaddr_t start, vaddr_t end)
{
	pte_t *root = pt_table_kva(pt->root);
	for (unsigned i = vpn_index(start, 2); i <= vpn_index(end - 1, 2); i++) {
		if (pte_valid(root[i]))
			continue;
		paddr_t table = pt_new_table(pt);
		if (!table)
			return -ENOMEM;
		root[i] = pte_make_table(table);
	}
	return 0;
}

int kspace_alloc_kernel_half(struct pagetable *pt)
{
	pt->kernel_half = PT_HALF_PINNED;
	int err = alloc_range(pt, DIRECT_MAP_BASE, DIRECT_MAP_BASE + DIRECT_MAP_SIZE);
	if (!err)
		err = alloc_range(pt, KSPACE_VMAP_BASE, KSPACE_VMAP_BASE + KSPACE_VMAP_SIZE);
	if (!err)
		err = alloc_range(pt, (vaddr_t)_text_start, (vaddr_t)_kernel_end);
	return err;
}

bool kspace_in_kernel_half(vaddr_t va, size_t size)
{
	if (!kernel_as.pt.root || !(va >> 63))
		return false; /* no kernel space, or the lower half */
	const pte_t *root = pt_table_kva(kernel_as.pt.root);
	for (unsigned i = vpn_index(va, 2); i <= vpn_index(va + size - 1, 2); i++)
		if (!pte_is_table(root[i]))
			return false;
	return true;
}

void kspace_half_snapshot(struct pagetable *pt)
{
	const pte_t *root = pt_table_kva(pt->root);
	for (int i = 0; i < HALF; i++)
		snapshot[i] = root[HALF + i];
	have_snapshot = true;
}

int kspace_half_unchanged(struct pagetable *pt)
{
	const pte_t *root = pt_table_kva(pt->root);
	for (int i = 0; i < HALF; i++) {
		if (root[HALF + i] != snapshot[i]) {
			printk("kspace: root entry %d (0x%lx..) is 0x%lx, was 0x%lx when the kernel half "
			       "was made: it is shared by every address space and must never change\n",
			       HALF + i, va_sign_extend((vaddr_t)(HALF + i) << 30), root[HALF + i],
			       snapshot[i]);
			return -EACCES;
		}
	}
	return 0;
}

int kspace_check_kernel_half(struct pagetable *pt)
{
	if (!kspace_active() || !have_snapshot)
		return -ENODEV;
	return kspace_half_unchanged(pt);
}

int kspace_share_kernel_half(struct pagetable *pt)
{
	if (!kspace_active())
		return -ENODEV;
	pte_t *root = pt_table_kva(pt->root);
	if (pt->kernel_half != PT_HALF_OWN)
		return -EEXIST;
	for (int i = HALF; i < PTES_PER_TABLE; i++)
		if (pte_valid(root[i]))
			return -EEXIST;
	const pte_t *kroot = pt_table_kva(kernel_as.pt.root);
	for (int i = HALF; i < PTES_PER_TABLE; i++)
		root[i] = kroot[i];
	pt->kernel_half = PT_HALF_SHARED;
	return 0;
}
