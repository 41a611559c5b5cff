/*
 * Helpers shared by the mm layer's KTAP suites (ch4.area, ch4.fork, ...):
 * an mm with a frame count taken before it, areas added in one call, and
 * reading a user byte through the page table and the direct map.
 */
#ifndef MMLAB_CH4_MM_TEST_H
#define MMLAB_CH4_MM_TEST_H

#include "../../ch3/tests/ch3_test.h" /* drain_memory(), undrain_memory() */
#include "errno.h"
#include "frame.h"
#include "kmalloc.h"
#include "ktest.h"
#include "memlayout.h"
#include "mm.h"
#include "pagetable.h"
#include "string.h"
#include "vma.h"
#include "vma_tree.h"

/* A scratch user address: 1 GiB, far from USER_MIN and USER_TOP. */
#define U_VA 0x40000000UL
/* Page @n from U_VA. */
#define UP(n) (U_VA + (n)*PAGE_SIZE)

/* Free frames now, with the heap's caches given back (what a leak check compares). */
static inline uint64_t free_frames_settled(void)
{
	kmalloc_shrink();
	return frames_nr_free();
}

/* Start a test's mm in @m, noting the free frames in @before; fail the test if out of memory.
 * Part 1's tests check the eager paths: the mm is eager whatever the bootargs. */
#define MM_BEGIN(m, before)                                                                                  \
	uint64_t before = free_frames_settled();                                                             \
	struct mm *m = mm_create();                                                                          \
	KASSERT_NOT_NULL(m);                                                                                 \
	m->eager = true

/* As MM_BEGIN, for a lazy mm (part 2: faults, the zero page, copy-on-write). */
#define MM_BEGIN_LAZY(m, before)                                                                             \
	MM_BEGIN(m, before);                                                                                 \
	m->eager = false

/* Drop @m and expect every frame back. */
#define MM_END(m, before)                                                                                    \
	do {                                                                                                 \
		mm_put(m);                                                                                   \
		KEXPECT_EQ(free_frames_settled(), before);                                                   \
	} while (0)

/* Add [start, end) with @prot and @flags on @backend to @mm; @return mm_add_vma()'s result. */
static inline int add_area(struct mm *mm, vaddr_t start, vaddr_t end, unsigned prot, unsigned flags,
			   const struct vm_backend *backend, unsigned add_flags)
{
	struct vma *vma = vma_alloc(start, end, prot, flags, backend);
	if (!vma)
		return -ENOMEM;
	int err = mm_add_vma(mm, vma, add_flags);
	if (err)
		vma_free(vma);
	return err;
}

/* An anonymous area, no flags. */
static inline int add_anon(struct mm *mm, vaddr_t start, vaddr_t end, unsigned prot)
{
	return add_area(mm, start, end, prot, 0, &anon_backend, 0);
}

/* The physical address @va maps to in @mm, or 0. */
static inline paddr_t user_pa(struct mm *mm, vaddr_t va)
{
	struct pt_mapping m;
	return pt_query(&mm->as.pt, va, &m) ? 0 : m.pa;
}

/* The leaf flags of @va in @mm, or 0. */
static inline unsigned user_flags(struct mm *mm, vaddr_t va)
{
	struct pt_mapping m;
	return pt_query(&mm->as.pt, va, &m) ? 0 : m.flags;
}

/* The byte at @va of @mm (through the direct map), or -1 if it is not mapped. */
static inline int peek(struct mm *mm, vaddr_t va)
{
	paddr_t pa = user_pa(mm, va);
	return pa ? *(unsigned char *)pa_to_kva(pa) : -1;
}

/* Store byte @v at @va of @mm through the direct map; false if it is not mapped. */
static inline bool poke(struct mm *mm, vaddr_t va, unsigned char v)
{
	paddr_t pa = user_pa(mm, va);
	if (pa)
		*(unsigned char *)pa_to_kva(pa) = v;
	return pa != 0;
}

/* Areas of @mm, counted through the tree's own check (-1: broken). */
static inline long nr_areas(struct mm *mm) { return vma_tree_check(&mm->vmas); }

#endif
