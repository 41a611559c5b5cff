/*
 * Splitting an area in two: what munmap and mprotect of part of an area
 * need (Linux mm/vma.c __split_vma; the memory_set crate's
 * MemoryArea::split). The pages stay where they are: the page table does
 * not know about areas, only the tree does.
 */
#include "errno.h"
#include "mman_internal.h"
#include "panic.h"

int vma_split(struct mm *mm, struct vma *vma, vaddr_t addr)
{
	/* LAB BEGIN ch5 split: a copy of the area takes [addr, end) (vma_dup, vma_set_start), the area keeps [start, addr) */
	if (mm->nr_vmas >= MM_MAX_VMAS)
		return -ENOMEM; /* vm.max_map_count, as Linux's __split_vma checks */
	struct vma *right = vma_dup(vma);
	if (!right)
		return -ENOMEM;
	vma_set_start(right, addr); /* its pgoff and data follow the cut */
	right->mm = mm;
	vma->end = addr;
	vma_tree_insert(&mm->vmas, right); /* [addr, end) was vma's: no overlap */
	mm->nr_vmas++;
	if (mm->heap == vma)
		mm->heap = right; /* brk grows the top piece */
	return 0;
	/* LAB STUB
	TODO("ch5", "vma_split: split an area in two");
	(void)mm, (void)vma, (void)addr;
	return -ENOSYS;
	LAB END */
}
