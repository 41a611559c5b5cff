/*
 * Removing areas: unmap a range, splitting the areas that straddle its
 * edges (Linux's do_vmi_munmap, __split_vma), and removing every user area
 * at once (exec and exit: ArceOS unmap_user_areas, xv6 uvmfree).
 */
#include "errno.h"
#include "mm_internal.h"
#include "panic.h"
#include "tlb.h"
#include "vma_tree.h"

void mm_drop_vma(struct mm *mm, struct vma *vma, struct tlb_flusher *fl)
{
	vma->backend->unmap(vma, vma->start, vma->end, fl);
	vma_tree_remove(&mm->vmas, vma);
	mm->nr_vmas--;
	if (mm->heap == vma)
		mm->heap = NULL;
	vma->mm = NULL;
	vma_free(vma);
}

/*
 * Cut [start, end) out of @v, which overlaps it: shrink it from either
 * side, drop it whole, or (@right given) keep its left part in @v and its
 * right part in @right, which goes into the tree.
 */
static void cut(struct mm *mm, struct vma *v, vaddr_t start, vaddr_t end, struct vma *right,
		struct tlb_flusher *fl)
{
	vaddr_t lo = MAX(v->start, start), hi = MIN(v->end, end);
	if (lo == v->start && hi == v->end) {
		mm_drop_vma(mm, v, fl);
		return;
	}
	v->backend->unmap(v, lo, hi, fl);
	if (right) {
		/* The pages of [end, v->end) stay mapped and are right's now. */
		vma_set_start(right, end);
		right->mm = mm;
		v->end = start;
		vma_tree_insert(&mm->vmas, right); /* the hole is free: cannot fail */
		mm->nr_vmas++;
	} else if (lo == v->start) {
		vma_set_start(v, hi); /* the tree's order does not change */
	} else {
		v->end = lo;
	}
}

int mm_remove_range_locked(struct mm *mm, vaddr_t start, vaddr_t end)
{
	if (!IS_ALIGNED(start, PAGE_SIZE) || !IS_ALIGNED(end, PAGE_SIZE) || start >= end)
		return -EINVAL;
	/* Only an area that holds the whole range with room on both sides
	 * needs a new one; get it first, so a failure changes nothing. */
	struct vma *right = NULL, *v = mm_find_vma_after(mm, start);
	if (v && v->start < start && v->end > end) {
		if (mm->nr_vmas >= MM_MAX_VMAS)
			return -ENOMEM;
		right = vma_dup(v);
		if (!right)
			return -ENOMEM;
	}
	struct tlb_flusher fl;
	tlb_flusher_init(&fl, &mm->as);
	while (v && v->start < end) {
		struct vma *next = vma_tree_next(v);
		cut(mm, v, start, end, right, &fl);
		v = next;
	}
	tlb_flusher_finish(&fl);
	return 0;
}

int mm_remove_range(struct mm *mm, vaddr_t start, vaddr_t end)
{
	spin_lock(&mm->lock);
	int err = mm_remove_range_locked(mm, start, end);
	spin_unlock(&mm->lock);
	return err;
}

void mm_clear_locked(struct mm *mm)
{
	/* LAB BEGIN ch4 remove every area: unmap its pages (the backend frees them), take it out, free it */
	struct tlb_flusher fl;
	tlb_flusher_init(&fl, &mm->as);
	struct vma *v;
	while ((v = vma_tree_first(&mm->vmas)))
		mm_drop_vma(mm, v, &fl);
	tlb_flusher_finish(&fl);
	/* LAB STUB
	TODO("ch4", "mm_clear: remove every area and free its pages");
	LAB END */
	mm->brk_start = mm->brk = 0;
	mm->heap = NULL;
}

void mm_clear(struct mm *mm)
{
	spin_lock(&mm->lock);
	mm_clear_locked(mm);
	spin_unlock(&mm->lock);
}
