/*
 * TLB flushing on this hart (sfence.vma) and on the others (SBI RFENCE).
 */
#include "addr_space.h"
#include "errno.h"
#include "ptalloc.h"
#include "riscv.h"
#include "sbi.h"
#include "smp.h"
#include "tlb.h"

static struct tlb_stats stats;

static void count(uint64_t *counter) { __atomic_add_fetch(counter, 1, __ATOMIC_RELAXED); }

int tlb_shootdown(struct addr_space *as, vaddr_t va, size_t size)
{
	/* Our PTE writes before we read who may cache them (a hart joining the
	 * mask sets its bit before its first walk, addr_space.h), and before
	 * the other harts' sfence.vma. */
	mb();
	uint64_t others = addr_space_harts(as) & ~(1UL << cpuid());
	if (!others)
		return 0;
	count(&stats.remote_calls);
	if (size == -1UL)
		count(&stats.remote_full);
	for (int h = 0; h < MAX_HARTS; h++)
		if (others & (1UL << h))
			count(&stats.remote_fences[h]);
	return sbi_remote_sfence_vma(others, va, size) == SBI_SUCCESS ? 0 : -EIO;
}

static void free_tables(struct tlb_flusher *fl)
{
	while (fl->tables) {
		paddr_t pa = fl->tables;
		fl->tables = pt_table_kva(pa)[0];
		pt_table_kva(pa)[0] = 0;
		pt_table_free(pa);
		count(&stats.tables_freed);
	}
	fl->nr_tables = 0;
}

void tlb_flusher_finish(struct tlb_flusher *fl)
{
	if (tlb_flusher_empty(fl))
		return;
	if (fl->all) {
		sfence_vma_all();
		count(&stats.full_flushes);
	} else {
		for (unsigned i = 0; i < fl->n; i++) {
			sfence_vma_va(fl->va[i]);
			count(&stats.page_flushes);
		}
	}
	if (fl->as)
		tlb_shootdown(fl->as, fl->all ? 0 : fl->lo, fl->all ? -1UL : fl->hi - fl->lo);
	free_tables(fl);
	tlb_flusher_init(fl, fl->as);
}

struct tlb_stats tlb_get_stats(void)
{
	struct tlb_stats s;
	__atomic_load(&stats.page_flushes, &s.page_flushes, __ATOMIC_RELAXED);
	__atomic_load(&stats.full_flushes, &s.full_flushes, __ATOMIC_RELAXED);
	__atomic_load(&stats.remote_calls, &s.remote_calls, __ATOMIC_RELAXED);
	__atomic_load(&stats.remote_full, &s.remote_full, __ATOMIC_RELAXED);
	__atomic_load(&stats.tables_freed, &s.tables_freed, __ATOMIC_RELAXED);
	for (int h = 0; h < MAX_HARTS; h++)
		__atomic_load(&stats.remote_fences[h], &s.remote_fences[h], __ATOMIC_RELAXED);
	return s;
}
