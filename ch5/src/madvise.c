/*
 * madvise(2): MADV_DONTNEED drops the pages of private anonymous memory,
 * which reads as zero afterwards (the next touch faults a new page in);
 * shared anonymous memory keeps its contents (on Linux they live on in
 * shmem; here the pages simply stay). The other advice mmlab knows asks
 * for nothing that anonymous memory needs. A hole makes the answer
 * -ENOMEM, once the mapped parts are advised (mm/madvise.c
 * madvise_walk_vmas).
 */
#include "errno.h"
#include "mman_internal.h"
#include "panic.h"
#include "tlb.h"

/* True for the advice mmlab knows. */
static bool advice_valid(int advice)
{
	switch (advice) {
	case MADV_NORMAL:
	case MADV_RANDOM:
	case MADV_SEQUENTIAL:
	case MADV_WILLNEED:
	case MADV_DONTNEED:
		return true;
	}
	return false;
}

/* MADV_DONTNEED on [start, end) of @vma. */
static void dontneed(struct vma *vma, vaddr_t start, vaddr_t end, struct tlb_flusher *fl)
{
	/* LAB BEGIN ch5 madvise: drop the pages of a private area (the backend unmaps and frees them) */
	if (vma->flags & VM_SHARED)
		return; /* its pages are the contents: they stay */
	vma->backend->unmap(vma, start, end, fl);
	/* LAB STUB
	TODO("ch5", "madvise: drop the pages of a private area");
	(void)vma, (void)start, (void)end, (void)fl;
	LAB END */
}

int do_madvise(struct mm *mm, vaddr_t start, size_t len, int advice)
{
	if (!advice_valid(advice))
		return -EINVAL;
	if (start & (PAGE_SIZE - 1))
		return -EINVAL;
	size_t plen = page_align_len(len);
	if (len && !plen)
		return -EINVAL; /* the length wrapped */
	vaddr_t end = start + plen;
	if (end < start)
		return -EINVAL;
	if (end == start)
		return 0;
	spin_lock(&mm->lock);
	int err = 0;
	struct tlb_flusher fl;
	tlb_flusher_init(&fl, &mm->as);
	for (struct vma *v = mm_find_vma_after(mm, start); start < end; v = vma_tree_next(v)) {
		if (!v || v->start >= end) {
			err = -ENOMEM;
			break;
		}
		if (start < v->start) {
			err = -ENOMEM; /* a hole: go on with the next area */
			start = v->start;
		}
		vaddr_t to = MIN(v->end, end);
		if (advice == MADV_DONTNEED)
			dontneed(v, start, to, &fl);
		start = to;
	}
	tlb_flusher_finish(&fl);
	spin_unlock(&mm->lock);
	return err;
}
