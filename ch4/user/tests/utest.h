/*
 * What several ch4 user test programs share: the kinds of bad pointer a
 * system call must refuse, and a page-aligned end of the heap with nothing
 * mapped after it (for buffers that straddle into a bad page).
 */
#ifndef MMLAB_UTEST_H
#define MMLAB_UTEST_H

#include "ktap.h"

/** The start of the direct map: a kernel address no user copy may touch. */
#define KERNEL_ADDR 0xffffffc000000000UL
/** A hole: nothing is mapped at 1 GiB in a ch4 process (heap low, stack at the top). */
#define HOLE_ADDR 0x40000000UL

/**
 * Make the heap end on a page boundary with at least @p pages whole pages
 * under it, and return that end: the page at the result is not mapped.
 */
static inline char *heap_edge(unsigned long pages)
{
	unsigned long cur = (unsigned long)sys_brk(NULL);
	unsigned long end = ((cur + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)) + pages * PAGE_SIZE;
	if ((unsigned long)sys_brk((void *)end) != end)
		return NULL;
	return (char *)end;
}

/** This program's code: mapped, readable, not writable. */
#define TEXT_ADDR ((unsigned long)(uintptr_t)heap_edge)

#endif
