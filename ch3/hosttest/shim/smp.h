/*
 * Host stand-in for common/include/smp.h, for ch3/hosttest/test_tlb.c: the
 * real cpuid() reads the tp register; here the test says which hart it is
 * and which harts are online.
 */
#ifndef MMLAB_SMP_H
#define MMLAB_SMP_H

#include "types.h"

/* The hart the test pretends to run on. */
int cpuid(void);
/* The harts the test pretends are online. */
uint64_t harts_online_mask(void);

#endif
