/*
 * ch3 private: helpers shared by the page-table files (not part of the API).
 */
#ifndef MMLAB_CH3_PTINTERNAL_H
#define MMLAB_CH3_PTINTERNAL_H

#include "pagetable.h"

struct tlb_flusher;

/* A zeroed table frame for @pt (counted in pt->nr_tables); 0 if none. */
paddr_t pt_new_table(struct pagetable *pt);

/*
 * Replace non-leaf *@pte by @replacement (one store: 0, or the leaf a split
 * replaced) and free the table it pointed to: through @fl once the TLB is
 * flushed, or at once if @fl is NULL. Does nothing to an upper-half root
 * entry of a page table whose kernel half is pinned or shared (pagetable.h).
 */
void pt_unlink_table(struct pagetable *pt, pte_t *pte, pte_t replacement, struct tlb_flusher *fl);

/* True if every entry of @table is invalid. */
bool pt_table_empty(const pte_t *table);

/*
 * Split the huge leaves that straddle @start or @end, so that every leaf
 * meeting [@start, @end) lies wholly inside it. All or nothing: on -ENOMEM
 * the splits already made are undone (their tables go through @fl).
 */
int pt_split_edges(struct pagetable *pt, vaddr_t start, vaddr_t end, struct tlb_flusher *fl);

#endif
