/*
 * Host stand-in for common/include/riscv.h, for ch3/hosttest/test_tlb.c (its
 * `// HOSTTEST_INCLUDE_FIRST:` line puts this directory before common/include).
 * The real header's sfence_vma_*() are RISC-V instructions; here they are
 * plain functions that the test defines to record which addresses were fenced.
 * Only what the sources under test use is here.
 */
#ifndef MMLAB_RISCV_H
#define MMLAB_RISCV_H

#include "types.h"

/* Recorded by the test: a full flush of this hart's TLB. */
void sfence_vma_all(void);
/* Recorded by the test: a flush of this hart's entries for @va. */
void sfence_vma_va(vaddr_t va);
static inline void mb(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }

#endif
