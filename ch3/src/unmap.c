/*
 * Unmap a range: split the huge pages at its edges, clear every leaf in it,
 * and free the tables left empty (xv6 vm.c uvmunmap + freewalk).
 */
#include "errno.h"
#include "panic.h"
#include "pagetable.h"
#include "ptalloc.h"
#include "ptinternal.h"
#include "tlb.h"

/* LAB BEGIN ch3 unmap a range: split huge pages at its edges, clear the leaves, free empty tables */

/*
 * Clear the leaves of @table (at @level, mapping from @base) inside
 * [start, end), going down into its tables and freeing those left empty.
 */
static void clear_range(struct pagetable *pt, pte_t *table, int level, vaddr_t base, vaddr_t start,
			vaddr_t end, struct tlb_flusher *fl)
{
	size_t size = level_size(level);
	for (unsigned i = vpn_index(start, level); i < PTES_PER_TABLE; i++) {
		vaddr_t va = va_sign_extend(base + i * size);
		if (va >= end)
			break;
		pte_t *pte = &table[i];
		if (pte_is_leaf(*pte)) {
			*pte = 0;
			tlb_flusher_add(fl, va, size);
		} else if (level > 0 && pte_is_table(*pte)) {
			pte_t *child = pt_table_kva(pte_pa(*pte));
			clear_range(pt, child, level - 1, va, va > start ? va : start, end, fl);
			if (pt_table_empty(child))
				pt_unlink_table(pt, pte, 0, fl);
		}
	}
}

static int unmap_range(struct pagetable *pt, vaddr_t va, size_t size, struct tlb_flusher *fl)
{
	if (!pt_range_mapped(pt, va, va + size))
		return -ENOENT;
	int err = pt_split_edges(pt, va, va + size, fl);
	if (err)
		return err;
	clear_range(pt, pt_table_kva(pt->root), PT_LEVELS - 1, 0, va, va + size, fl);
	return 0;
}
/* LAB STUB
static int unmap_range(struct pagetable *pt, vaddr_t va, size_t size, struct tlb_flusher *fl)
{
	TODO("ch3", "pt_unmap: unmap a range");
	(void)pt, (void)va, (void)size, (void)fl;
	return -ENOSYS;
}
LAB END */

int pt_unmap(struct pagetable *pt, vaddr_t va, size_t size, struct tlb_flusher *fl)
{
	int err = pt_check_range(va, size);
	if (err)
		return err;
	return unmap_range(pt, va, size, fl);
}
