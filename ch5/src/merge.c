/*
 * Merging neighbours: after mmap, mprotect or mremap, an area whose
 * neighbour is alike (same permissions, flags, backend, data) becomes one
 * area with it, so that splitting and re-joining does not leave an
 * address space in ever more pieces (Linux mm/vma.c vma_merge_new_range
 * and vma_merge_existing_range, is_mergeable_vma). Linux also refuses to
 * merge anonymous areas whose pages belong to different anon_vmas (its
 * reverse map); mmlab has no reverse map, so alike neighbours always
 * merge: the areas may differ from Linux's, the pages never do.
 */
#include "errno.h"
#include "mman_internal.h"
#include "panic.h"

bool vma_mergeable(const struct vma *a, const struct vma *b)
{
	/* LAB BEGIN ch5 merge: alike neighbours (and, for a backend with data, offsets that continue) */
	if (a->end != b->start || a->prot != b->prot || a->flags != b->flags || a->backend != b->backend ||
	    a->private_data != b->private_data || a->name != b->name)
		return false;
	if (a->flags & (VM_STACK | VM_GUARD))
		return false; /* one of each per mm, with their own meaning */
	if (!a->private_data)
		return true; /* anonymous memory: no offset to continue */
	/* b's bytes must be those that follow a's in the data. */
	uint64_t size = vma_size(a);
	return b->pgoff == a->pgoff + size && b->data_size == (a->data_size > size ? a->data_size - size : 0);
	/* LAB STUB
	TODO("ch5", "vma_merge: merge alike neighbours");
	(void)a, (void)b;
	return false;
	LAB END */
}

/* @left absorbs @right, its neighbour: one area, the pages untouched. */
static void absorb(struct mm *mm, struct vma *left, struct vma *right)
{
	vma_tree_remove(&mm->vmas, right);
	mm->nr_vmas--;
	left->end = right->end; /* the tree's order does not change */
	if (mm->heap == right)
		mm->heap = left;
	right->mm = NULL;
	vma_free(right);
}

struct vma *vma_merge(struct mm *mm, struct vma *vma)
{
	struct vma *next = vma_tree_next(vma);
	if (next && vma_mergeable(vma, next))
		absorb(mm, vma, next);
	struct vma *prev = vma_tree_prev(vma);
	if (prev && vma_mergeable(prev, vma)) {
		absorb(mm, prev, vma);
		vma = prev;
	}
	return vma;
}
