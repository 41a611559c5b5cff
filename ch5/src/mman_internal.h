/*
 * What the files of ch5/src share: the page rounding of a length that may
 * overflow, and the free-range search that mmap and mremap both use.
 */
#ifndef MMLAB_MMAN_INTERNAL_H
#define MMLAB_MMAN_INTERNAL_H

#include "mm_locked.h"
#include "mman.h"
#include "vma_tree.h"

/* @len rounded up to whole pages; 0 if that overflows (Linux's PAGE_ALIGN wraps too). */
static inline size_t page_align_len(size_t len) { return (len + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1); }

/*
 * Where a new mapping of @len bytes (page-aligned, not 0) goes: at @addr
 * itself with MAP_FIXED, else at the hint @addr if that range is free, else
 * the highest free range under MMAP_BASE (Linux's get_unmapped_area with
 * its top-down layout). Caller holds mm->lock.
 * @return the address, -ENOMEM (no room, or a fixed range that leaves the
 *         user half), -EINVAL (an unaligned fixed address) or -EPERM (a fixed
 *         address under USER_MIN: Linux's mmap_min_addr for a process without
 *         CAP_SYS_RAWIO).
 */
long get_unmapped_area(struct mm *mm, vaddr_t addr, size_t len, bool fixed);

/* do_munmap() with mm->lock held (mremap's shrink). */
int do_munmap_locked(struct mm *mm, vaddr_t addr, size_t len);

/*
 * Move the pages mapped in [from, from + len) of @mm to [to, to + len), leaf
 * by leaf, frames, references and copy-on-write state and all (Linux's
 * move_page_tables). The tables for the new range are allocated first, so
 * that a failure moves nothing. Caller holds mm->lock.
 * @return 0 or -ENOMEM.
 */
int move_pages(struct mm *mm, vaddr_t from, vaddr_t to, size_t len);

#endif
