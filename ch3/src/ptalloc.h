/*
 * ch3 private: where table frames come from, and how the code reaches them.
 *
 * In the kernel a table is one zeroed frame from ch1, reached through the
 * direct map. A host unit test (MMLAB_HOST) supplies these three itself,
 * over an array that stands in for physical memory.
 */
#ifndef MMLAB_CH3_PTALLOC_H
#define MMLAB_CH3_PTALLOC_H

#include "types.h"

/* One zeroed frame for a table; 0 if none (or an injected failure). */
paddr_t pt_table_alloc(void);
/* Give table frame @pa back. */
void pt_table_free(paddr_t pa);

#ifdef MMLAB_HOST
pte_t *pt_table_kva(paddr_t pa);
#else
#include "memlayout.h"
/* The entries of the table at physical address @pa. */
static inline pte_t *pt_table_kva(paddr_t pa) { return pa_to_kva(pa); }
#endif

/* Shared by the host test's allocator and ptalloc.c: an injected failure. */
bool pt_alloc_should_fail(void);

#endif
