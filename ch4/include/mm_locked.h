/**
 * @file mm_locked.h
 * @brief The area operations with mm->lock already held: for a layer that
 *        does several of them as one step (ch5's mmap family: find a free
 *        range and add an area; split, re-protect and merge).
 *
 * mm.h's functions take mm->lock themselves; these are their bodies, and
 * the two pieces of an area that a split needs. Every function here is
 * called with mm->lock held.
 *
 * Reference: Linux mm/vma.c (vm_area_dup, __split_vma, vma_set_range);
 * the memory_set crate's MemoryArea::split.
 */
#ifndef MMLAB_MM_LOCKED_H
#define MMLAB_MM_LOCKED_H

#include "mm.h"
#include "vma.h"

/** mm_add_vma(@p mm, @p vma, @p flags) with mm->lock held: the same results. */
int mm_add_vma_locked(struct mm *mm, struct vma *vma, unsigned flags);

/** mm_remove_range(@p mm, @p start, @p end) with mm->lock held: the same results. */
int mm_remove_range_locked(struct mm *mm, vaddr_t start, vaddr_t end);

/**
 * True if no area of @p mm overlaps [@p start, @p start + @p len) (bytes; the
 * range does not wrap): one lookup, O(log n). mm_find_free() checks a hint
 * with it; ch5's mmap and mremap check theirs.
 */
bool mm_range_free(struct mm *mm, vaddr_t start, size_t len);

/**
 * A copy of @p vma for a new area (a split, or fork): the same fields, in no
 * mm, with the backend's own hold on private_data (backend->dup).
 * @return the copy, or NULL if out of memory.
 */
struct vma *vma_dup(const struct vma *vma);

/**
 * Move the start of @p vma up to @p start (inside it), keeping pgoff and
 * data_size pointing at the same bytes: the left part was cut off.
 */
void vma_set_start(struct vma *vma, vaddr_t start);

/** @name The page-level pieces of ch4's backends, which ch5's file backend builds on too.
 * @{ */

/**
 * Map one new private page at @p va of @p vma: a zeroed frame with the
 * first @p len bytes of @p src copied in (@p len <= PAGE_SIZE; @p src may be
 * NULL if @p len is 0), mapped with the area's permissions (vm_page_perm());
 * counts it in mm::nr_pages.
 * @return 0, -ENOMEM (nothing taken), or -EEXIST if @p va is mapped already.
 */
int anon_map_page(struct vma *vma, vaddr_t va, const void *src, size_t len);

/**
 * Point the 4 KiB slot of @p va in @p mm's table at @p pte (tables allocated
 * as needed) and count the page in mm::nr_pages unless it is the zero page.
 * @return 0; -ENOMEM (tables that were allocated stay, empty); -EEXIST if
 *         @p va is mapped already.
 */
int mm_set_pte(struct mm *mm, vaddr_t va, pte_t pte);

/** What a fault on one page must do (pf_decide()). */
enum pf_action {
	PF_RETRY,     /**< The PTE allows the access already (another thread was first): retry. */
	PF_MAP_NEW,   /**< No page: map a new one (a private frame, or a file's page). */
	PF_MAP_ZERO,  /**< No page, a read of bytes that are all zero: map the zero page. */
	PF_COW_BREAK, /**< A write to a copy-on-write page: give this mm its own (cow_break()). */
	PF_DENY,      /**< The PTE forbids the access and it is not copy-on-write. */
};

/**
 * Decide a fault on one page from its leaf @p pte (0 if none), the
 * @p access, and whether a read may map the zero page (@p zero_ok: the
 * page's bytes would all be zero). The area allows @p access (checked
 * before). Pure: it reads nothing but its arguments.
 * Reference: Linux mm/memory.c handle_pte_fault().
 */
enum pf_action pf_decide(pte_t pte, enum vm_access access, bool zero_ok);

/**
 * Copy-on-write, the fault's half: a write to the copy-on-write leaf *@p pte
 * at @p va of @p vma. The zero page is replaced by a new zeroed frame, a
 * shared frame by a copy (its reference dropped after every hart of the mm
 * has flushed @p va); a frame only this mm holds is made writable again,
 * without a copy. ch5's private file mappings break their sharing with the
 * page cache this way too.
 * @return 0, or -ENOMEM (nothing changed).
 * Reference: Linux mm/memory.c do_wp_page(), wp_page_copy().
 */
int cow_break(struct vma *vma, vaddr_t va, pte_t *pte);

/** @} */

#endif
