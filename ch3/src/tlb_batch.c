/*
 * The flusher's bookkeeping (Redox's Flusher): which leaves to flush, when to
 * give up and flush everything, which table frames to free afterwards. No
 * instruction here touches the TLB; tlb.c does the flushing.
 */
#include "ptalloc.h"
#include "tlb.h"

void tlb_flusher_init(struct tlb_flusher *fl, struct addr_space *as)
{
	*fl = (struct tlb_flusher){.as = as, .lo = ~0UL, .hi = 0};
}

void tlb_flusher_add(struct tlb_flusher *fl, vaddr_t va, size_t size)
{
	if (!fl)
		return;
	if (va < fl->lo)
		fl->lo = va;
	if (va + size > fl->hi)
		fl->hi = va + size;
	if (fl->all)
		return;
	if (fl->n == TLB_FLUSH_BATCH) {
		fl->all = true; /* one more page than the batch: a full flush is cheaper */
		return;
	}
	fl->va[fl->n++] = va;
}

void tlb_flusher_free_table(struct tlb_flusher *fl, paddr_t table_pa)
{
	if (!fl) {
		pt_table_free(table_pa);
		return;
	}
	/* Link it through its entry 0: a frame number with V clear, so a hart
	 * that still walks through it sees an invalid entry. */
	pt_table_kva(table_pa)[0] = fl->tables;
	fl->tables = table_pa;
	fl->nr_tables++;
	fl->all = true;
}
