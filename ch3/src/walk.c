/*
 * The walk: from the root down to the PTE that maps an address at a given
 * level (RISC-V privileged spec 4.3.2, steps 2-4; xv6 vm.c walk()).
 */
#include "panic.h"
#include "pagetable.h"
#include "ptalloc.h"
#include "ptinternal.h"

pte_t *pt_walk(struct pagetable *pt, vaddr_t va, int *level, bool alloc)
{
	/* LAB BEGIN ch3 walk the three levels, allocating tables if asked */
	pte_t *table = pt_table_kva(pt->root);
	for (int l = PT_LEVELS - 1; l > *level; l--) {
		pte_t *pte = &table[vpn_index(va, l)];
		if (pte_is_leaf(*pte)) {
			*level = l; /* a huge page maps va: the walk ends here */
			return pte;
		}
		if (!pte_valid(*pte)) {
			if (!alloc)
				return NULL;
			paddr_t pa = pt_new_table(pt);
			if (!pa)
				return NULL;
			*pte = pte_make_table(pa);
		}
		table = pt_table_kva(pte_pa(*pte));
	}
	return &table[vpn_index(va, *level)];
	/* LAB STUB
	TODO("ch3", "pt_walk: walk the three levels");
	(void)pt, (void)va, (void)level, (void)alloc;
	return NULL;
	LAB END */
}
