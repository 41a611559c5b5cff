/*
 * What the files of ch4/src share but nobody else calls: the fault's page
 * states and the anonymous backend's page helpers that the data backend
 * reuses. (The locked forms of the area operations, which ch5 calls too,
 * are in mm_locked.h.)
 */
#ifndef MMLAB_MM_INTERNAL_H
#define MMLAB_MM_INTERNAL_H

#include "cow.h"
#include "mm.h"
#include "mm_locked.h"
#include "pagetable.h"
#include "vma.h"

struct tlb_flusher;

/* mm_clear() with mm->lock held (or no other user left: mm_put()). */
void mm_clear_locked(struct mm *mm);

/* Unmap all of @vma (backend->unmap), take it out of the tree and free it. */
void mm_drop_vma(struct mm *mm, struct vma *vma, struct tlb_flusher *fl);

/* The access check of a fault: true if @prot (VM_*) allows @access. */
bool vm_access_allowed(unsigned prot, enum vm_access access);

/* The VM_* permissions a leaf grants. */
unsigned pte_vm_prot(pte_t pte);

/*
 * The fault of a page of an anon_backend or data_backend area: pf_decide(),
 * then act. @map_new maps a new page at @va. (A VM_SHARED area's pages are
 * all present and never PTE_COW: only a retry or a denial reaches here.)
 * @return 0 (retry the access), -ENOMEM, or -EACCES.
 */
int private_fault(struct vma *vma, vaddr_t va, enum vm_access access, bool zero_ok,
		  int (*map_new)(struct vma *vma, vaddr_t va));

/*
 * fork's half of copy-on-write: make the leaf *@pte of a private area
 * shared: read-only with PTE_COW, one more reference to its frame (none for
 * the zero page). The caller maps the same *@pte in the child and flushes
 * the parent's harts before any of them runs user code again.
 * @return 0; -EOVERFLOW (nothing changed) if the frame's count is at its
 *         limit: the caller copies the page instead.
 */
int cow_share(pte_t *pte);

/* anon_map_page(), pf_decide(), mm_set_pte() and cow_break() are in
 * mm_locked.h: ch5's file backend builds on them too. */

/* anon_backend's unmap, protect and fault, which the data backend shares. */
int anon_unmap(struct vma *vma, vaddr_t start, vaddr_t end, struct tlb_flusher *fl);
int anon_protect(struct vma *vma, vaddr_t start, vaddr_t end, unsigned prot, struct tlb_flusher *fl);

#endif
