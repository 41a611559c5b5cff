/*
 * Moving pages from one range of an address space to another, for mremap:
 * each leaf goes as it is (its frame, its reference, PTE_COW), so a moved
 * mapping keeps its contents without a copy (Linux mm/mremap.c
 * move_page_tables).
 */
#include "errno.h"
#include "mman_internal.h"
#include "panic.h"
#include "tlb.h"

struct move_arg {
	struct mm *mm;
	vaddr_t from, to;	/* the ranges' starts */
	struct tlb_flusher *fl; /* NULL in the first pass */
};

/* First pass: a table slot at the destination of every leaf. */
static int prepare_leaf(pte_t *pte, int level, vaddr_t va, void *arg)
{
	struct move_arg *m = arg;
	(void)level; /* user pages are 4 KiB */
	if (!pte_valid(*pte))
		return 0;
	int dlevel = 0;
	return pt_walk(&m->mm->as.pt, va - m->from + m->to, &dlevel, true) ? 0 : -ENOMEM;
}

/* Second pass: move the leaf (the slot exists: no allocation, no failure). */
static int move_leaf(pte_t *pte, int level, vaddr_t va, void *arg)
{
	struct move_arg *m = arg;
	(void)level;
	if (!pte_valid(*pte))
		return 0;
	pte_t leaf = *pte;
	*pte = 0;
	tlb_flusher_add(m->fl, va, PAGE_SIZE);
	int dlevel = 0;
	pte_t *slot = pt_walk(&m->mm->as.pt, va - m->from + m->to, &dlevel, true);
	if (!slot || dlevel != 0 || pte_valid(*slot))
		panic("move_pages: the destination slot of %lx went away", va - m->from + m->to);
	*slot = leaf; /* the destination was unmapped: no hart caches it */
	return 0;
}

int move_pages(struct mm *mm, vaddr_t from, vaddr_t to, size_t len)
{
	struct move_arg m = {mm, from, to, NULL};
	int err = pt_visit(&mm->as.pt, from, from + len, prepare_leaf, &m);
	if (err)
		return err;
	struct tlb_flusher fl;
	tlb_flusher_init(&fl, &mm->as);
	m.fl = &fl;
	pt_visit(&mm->as.pt, from, from + len, move_leaf, &m);
	tlb_flusher_finish(&fl);
	return 0;
}
