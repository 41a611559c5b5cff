/*
 * What the files of ch4/src share but nobody else calls: the locked forms of
 * the area operations (caller holds mm->lock), and the anonymous backend's
 * page helpers that the data backend reuses.
 */
#ifndef MMLAB_MM_INTERNAL_H
#define MMLAB_MM_INTERNAL_H

#include "mm.h"
#include "vma.h"

struct tlb_flusher;

/* mm_add_vma() with mm->lock held. */
int mm_add_vma_locked(struct mm *mm, struct vma *vma, unsigned flags);

/* mm_remove_range() with mm->lock held. */
int mm_remove_range_locked(struct mm *mm, vaddr_t start, vaddr_t end);

/* mm_clear() with mm->lock held (or no other user left: mm_put()). */
void mm_clear_locked(struct mm *mm);

/* Unmap all of @vma (backend->unmap), take it out of the tree and free it. */
void mm_drop_vma(struct mm *mm, struct vma *vma, struct tlb_flusher *fl);

/*
 * A copy of @vma for a new area (a split, or fork): same fields, in no mm,
 * with the backend's own hold on private_data (backend->dup).
 * @return the copy, or NULL if out of memory.
 */
struct vma *vma_dup(const struct vma *vma);

/*
 * Move the start of @vma up to @start (inside it), keeping pgoff and
 * data_size pointing at the same bytes: the left part was cut off.
 */
void vma_set_start(struct vma *vma, vaddr_t start);

/* The access check of a fault: true if @prot (VM_*) allows @access. */
bool vm_access_allowed(unsigned prot, enum vm_access access);

/*
 * Map one new private page at @va of @vma: a zeroed frame with the first
 * @len bytes of @src copied in (len <= PAGE_SIZE; src may be NULL if len is
 * 0), mapped with the area's permissions; counts it in mm->nr_pages.
 * @return 0, -ENOMEM (nothing taken), or -EEXIST if @va is mapped already.
 */
int anon_map_page(struct vma *vma, vaddr_t va, const void *src, size_t len);

/*
 * The fault of a page that may be mapped already: -ENOENT if @va is not
 * mapped; 0 if it is and its PTE allows @access (retry); -EACCES if not.
 */
int anon_fault_present(struct vma *vma, vaddr_t va, enum vm_access access);

/* anon_backend's unmap, protect and fault, which the data backend shares. */
int anon_unmap(struct vma *vma, vaddr_t start, vaddr_t end, struct tlb_flusher *fl);
int anon_protect(struct vma *vma, vaddr_t start, vaddr_t end, unsigned prot, struct tlb_flusher *fl);

#endif
