/*
 * Change the permissions of a range: split the huge pages at its edges, then
 * rewrite the permission bits of every leaf in it (mprotect's page-table part).
 */
#include "errno.h"
#include "panic.h"
#include "pagetable.h"
#include "ptinternal.h"
#include "tlb.h"

/* LAB BEGIN ch3 protect a range: split huge pages at its edges, rewrite each leaf's permissions */

struct protect_args {
	unsigned perm;
	struct tlb_flusher *fl;
};

static int set_perm(pte_t *pte, int level, vaddr_t va, void *arg)
{
	struct protect_args *p = arg;
	if (!pte_is_leaf(*pte))
		return 0;
	pte_t old = *pte;
	*pte = (old & ~(pte_t)PTE_PERM_MASK) | (p->perm & PTE_PERM_MASK);
	if (*pte != old)
		tlb_flusher_add(p->fl, va, level_size(level));
	return 0;
}

static int protect_range(struct pagetable *pt, vaddr_t va, size_t size, unsigned perm, struct tlb_flusher *fl)
{
	if (!pt_range_mapped(pt, va, va + size))
		return -ENOENT;
	int err = pt_split_edges(pt, va, va + size, fl);
	if (err)
		return err;
	struct protect_args args = {perm, fl};
	return pt_visit(pt, va, va + size, set_perm, &args);
}
/* LAB STUB
static int protect_range(struct pagetable *pt, vaddr_t va, size_t size, unsigned perm,
			 struct tlb_flusher *fl)
{
	TODO("ch3", "pt_protect: change permissions");
	(void)pt, (void)va, (void)size, (void)perm, (void)fl;
	return -ENOSYS;
}
LAB END */

int pt_protect(struct pagetable *pt, vaddr_t va, size_t size, unsigned perm, struct tlb_flusher *fl)
{
	int err = pt_check_range(va, size);
	if (err)
		return err;
	if (!pt_perm_valid(perm))
		return -EINVAL;
	return protect_range(pt, va, size, perm, fl);
}
