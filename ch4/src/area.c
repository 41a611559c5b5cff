/*
 * Finding and adding areas: the lookups of the area tree under the mm's
 * name, and mm_add_vma(), which refuses an overlap unless asked to replace
 * (Linux mm/mmap.c find_vma, mmap_region; ArceOS AddrSpace::map_alloc).
 */
#include "errno.h"
#include "mm_internal.h"
#include "panic.h"
#include "vma_tree.h"

struct vma *mm_find_vma(struct mm *mm, vaddr_t va)
{
	/* LAB BEGIN ch4 find the area holding va in the tree (vma_tree.h) */
	return vma_tree_find(&mm->vmas, va);
	/* LAB STUB
	TODO("ch4", "mm_find_vma: find the area of an address");
	(void)mm, (void)va;
	return NULL;
	LAB END */
}

struct vma *mm_find_vma_after(struct mm *mm, vaddr_t va) { return vma_tree_find_after(&mm->vmas, va); }

/* True if [start, end) is a page-aligned, non-empty user range. */
static bool user_range_ok(vaddr_t start, vaddr_t end)
{
	return IS_ALIGNED(start, PAGE_SIZE) && IS_ALIGNED(end, PAGE_SIZE) && start < end &&
	       start >= USER_MIN && end <= USER_TOP;
}

/* True if some area of @mm overlaps [start, end). */
static bool range_busy(struct mm *mm, vaddr_t start, vaddr_t end)
{
	/* LAB BEGIN ch4 does an area overlap [start, end)? the first area ending above start tells */
	struct vma *v = mm_find_vma_after(mm, start);
	return v && v->start < end;
	/* LAB STUB
	TODO("ch4", "mm_add_vma: check for an overlap");
	(void)mm, (void)start, (void)end;
	return true;
	LAB END */
}

int mm_add_vma_locked(struct mm *mm, struct vma *vma, unsigned flags)
{
	if (!user_range_ok(vma->start, vma->end) || (flags & ~MM_ADD_REPLACE))
		return -EINVAL;
	if (range_busy(mm, vma->start, vma->end)) {
		if (!(flags & MM_ADD_REPLACE))
			return -EEXIST;
		int err = mm_remove_range_locked(mm, vma->start, vma->end);
		if (err)
			return err;
	}
	if (mm->nr_vmas >= MM_MAX_VMAS)
		return -ENOMEM;
	vma->mm = mm;
	if (vma_tree_insert(&mm->vmas, vma)) {
		/* Only a missing overlap check gets here (a stubbed range_busy
		 * says busy, so not that one): refuse rather than corrupt. */
		vma->mm = NULL;
		return -EEXIST;
	}
	int err = vma->backend->map(vma, vma->start, vma->end);
	if (err) {
		vma_tree_remove(&mm->vmas, vma);
		vma->mm = NULL;
		return err;
	}
	mm->nr_vmas++;
	if (vma->flags & VM_HEAP && !mm->heap)
		mm->heap = vma;
	return 0;
}

int mm_add_vma(struct mm *mm, struct vma *vma, unsigned flags)
{
	spin_lock(&mm->lock);
	int err = mm_add_vma_locked(mm, vma, flags);
	spin_unlock(&mm->lock);
	return err;
}

int mm_for_each_vma(struct mm *mm, int (*fn)(struct vma *vma, void *arg), void *arg)
{
	int ret = 0;
	spin_lock(&mm->lock);
	for (struct vma *v = vma_tree_first(&mm->vmas); v && !ret; v = vma_tree_next(v))
		ret = fn(v, arg);
	spin_unlock(&mm->lock);
	return ret;
}
