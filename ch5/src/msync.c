/*
 * msync(2): Linux's argument checks, its answer for a range with holes
 * (mm/msync.c), and the write-back of shared file mappings' dirty pages
 * (writeback.c's msync_area). MS_ASYNC (and flags 0) write at once too:
 * Linux's start no I/O, because its flusher threads write dirty pages back
 * later; mmlab has no flusher, so a page left dirty would wait for munmap,
 * fsync, the last close or reclaim. MS_INVALIDATE has nothing to do: the
 * page cache is the only copy in memory.
 */
#include "errno.h"
#include "mman_internal.h"
#include "pagecache_internal.h"

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
	/* Every byte of the range must be mapped; the areas before a hole are synced. */
	spin_lock(&mm->lock);
	int err = 0;
	vaddr_t at = start;
	for (struct vma *v = mm_find_vma_after(mm, start); at < end; v = vma_tree_next(v)) {
		if (!v || v->start > at) {
			err = -ENOMEM;
			break;
		}
		int e = msync_area(v, at, v->end < end ? v->end : end);
		if (e && !err)
			err = e; /* Linux goes on to the next area too, and reports the error */
		at = v->end;
	}
	spin_unlock(&mm->lock);
	return err;
}
