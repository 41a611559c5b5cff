/*
 * Translation in software: what the MMU would make of one address
 * (RISC-V privileged spec 4.3.2; ArceOS MemorySet::query).
 */
#include "errno.h"
#include "panic.h"
#include "pagetable.h"

int pt_query(struct pagetable *pt, vaddr_t va, struct pt_mapping *out)
{
	if (!va_is_canonical(va))
		return -ERANGE;
	/* LAB BEGIN ch3 translate one address: find its leaf, add the offset */
	int level = 0;
	pte_t *pte = pt_walk(pt, va, &level, false);
	if (!pte || !pte_is_leaf(*pte))
		return -ENOENT;
	size_t size = level_size(level);
	out->page_size = size;
	out->level = level;
	out->flags = pte_flags(*pte);
	out->page_va = ALIGN_DOWN(va, size);
	out->page_pa = pte_pa(*pte);
	out->pa = out->page_pa + (va & (size - 1));
	return 0;
	/* LAB STUB
	TODO("ch3", "pt_query: translate one address");
	(void)pt, (void)out;
	return -ENOSYS;
	LAB END */
}
