/*
 * msync(2) on anonymous memory: nothing to write back, so what is left are
 * Linux's argument checks and its answer for a range with holes
 * (mm/msync.c). Part 2 gives file mappings something to write.
 */
#include "errno.h"
#include "mman_internal.h"

int do_msync(struct mm *mm, vaddr_t start, size_t len, int flags)
{
	if (flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC))
		return -EINVAL;
	if (start & (PAGE_SIZE - 1))
		return -EINVAL;
	if ((flags & MS_ASYNC) && (flags & MS_SYNC))
		return -EINVAL;
	len = page_align_len(len); /* a length that wraps to 0 is an empty range, as on Linux */
	vaddr_t end = start + len;
	if (end < start)
		return -ENOMEM;
	if (end == start)
		return 0;
	/* Every byte of the range must be mapped. */
	spin_lock(&mm->lock);
	int err = 0;
	vaddr_t at = start;
	for (struct vma *v = mm_find_vma_after(mm, start); at < end; v = vma_tree_next(v)) {
		if (!v || v->start > at) {
			err = -ENOMEM;
			break;
		}
		at = v->end;
	}
	spin_unlock(&mm->lock);
	return err;
}
