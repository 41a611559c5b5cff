/*
 * Huge pages come apart: a 1 GiB leaf becomes a table of 512 2 MiB leaves,
 * a 2 MiB leaf a table of 512 4 KiB leaves, each with the old permissions and
 * its slice of the old physical range. Unmapping or protecting part of a huge
 * page needs this first.
 */
#include "errno.h"
#include "panic.h"
#include "pagetable.h"
#include "ptalloc.h"
#include "ptinternal.h"

int pt_split(struct pagetable *pt, pte_t *pte, int level)
{
	if (level < 1 || level >= PT_LEVELS || !pte_is_leaf(*pte))
		return -EINVAL;
	/* LAB BEGIN ch3 split a huge leaf into a table of 512 smaller leaves */
	paddr_t table_pa = pt_new_table(pt);
	if (!table_pa)
		return -ENOMEM;
	pte_t *table = pt_table_kva(table_pa);
	size_t step = level_size(level - 1);
	paddr_t pa = pte_pa(*pte);
	unsigned flags = pte_flags(*pte);
	for (int i = 0; i < PTES_PER_TABLE; i++)
		table[i] = pte_make(pa + i * step, flags);
	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* the leaves before the link */
	*pte = pte_make_table(table_pa);
	/* Every address still translates as before: no flush needed here. */
	return 0;
	/* LAB STUB
	TODO("ch3", "pt_split: split a huge page");
	(void)pt;
	return -ENOSYS;
	LAB END */
}

/* Undo record of one split: the PTE and the leaf it held. */
struct split_undo {
	pte_t *pte;
	pte_t old;
};

/* Split huge leaves around boundary @b until none straddles it. */
static int split_at(struct pagetable *pt, vaddr_t b, struct split_undo *log, int *n)
{
	for (;;) {
		if (IS_ALIGNED(b, GIGAPAGE_SIZE))
			return 0; /* no leaf is larger: nothing straddles b */
		int level = 0;
		pte_t *pte = pt_walk(pt, b, &level, false);
		if (!pte || !pte_is_leaf(*pte) || level == 0 || IS_ALIGNED(b, level_size(level)))
			return 0;
		pte_t old = *pte;
		int err = pt_split(pt, pte, level);
		if (err)
			return err;
		log[(*n)++] = (struct split_undo){pte, old};
	}
}

int pt_split_edges(struct pagetable *pt, vaddr_t start, vaddr_t end, struct tlb_flusher *fl)
{
	struct split_undo log[2 * (PT_LEVELS - 1)];
	int n = 0;
	int err = split_at(pt, start, log, &n);
	if (!err)
		err = split_at(pt, end, log, &n);
	if (err) {
		while (n--) { /* newest first: a later split may live in an earlier one's table */
			pt_unlink_table(pt, log[n].pte, log[n].old, fl);
		}
	}
	return err;
}
