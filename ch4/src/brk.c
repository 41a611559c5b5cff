/*
 * The program break: the heap area [brk_start, brk) grows with new zeroed
 * pages and shrinks by unmapping (Linux mm/mmap.c brk; xv6 growproc).
 */
#include "errno.h"
#include "mm_internal.h"
#include "panic.h"
#include "vma_tree.h"

/* Grow the heap from @old_end to @new_end (page-aligned): @return 0 or an errno. */
static int heap_grow(struct mm *mm, vaddr_t old_end, vaddr_t new_end)
{
	if (new_end > USER_TOP)
		return -ENOMEM;
	struct vma *next = mm_find_vma_after(mm, old_end);
	if (next && next->start < new_end)
		return -ENOMEM; /* the heap would run into another area */
	struct vma *heap = mm->heap;
	if (heap && heap->end == old_end) {
		int err = heap->backend->map(heap, old_end, new_end);
		if (!err)
			heap->end = new_end;
		return err;
	}
	struct vma *vma = vma_alloc(old_end, new_end, VM_READ | VM_WRITE, VM_HEAP, &anon_backend);
	if (!vma)
		return -ENOMEM;
	int err = mm_add_vma_locked(mm, vma, 0);
	if (err)
		vma_free(vma);
	return err;
}

vaddr_t mm_brk(struct mm *mm, vaddr_t new_brk)
{
	spin_lock(&mm->lock);
	vaddr_t old_brk = mm->brk;
	vaddr_t old_end = ALIGN_UP(old_brk, PAGE_SIZE), new_end = ALIGN_UP(new_brk, PAGE_SIZE);
	int err = 0;
	if (new_brk < mm->brk_start || new_brk > USER_TOP)
		err = -EINVAL;
	else if (new_end > old_end)
		err = heap_grow(mm, old_end, new_end);
	else if (new_end < old_end)
		err = mm_remove_range_locked(mm, new_end, old_end);
	if (!err)
		mm->brk = new_brk;
	vaddr_t ret = mm->brk;
	spin_unlock(&mm->lock);
	return ret;
}
