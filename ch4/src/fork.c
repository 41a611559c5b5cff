/*
 * The eager fork: the child gets a copy of every area and, for every page
 * present in the parent, a new frame with a copy of its bytes (xv6's
 * uvmcopy; Linux's dup_mmap before copy-on-write). VM_SHARED areas map the
 * parent's frames instead, with one more reference each.
 */
#include "errno.h"
#include "frame.h"
#include "memlayout.h"
#include "mm_internal.h"
#include "pagetable.h"
#include "panic.h"
#include "string.h"
#include "vma_tree.h"

/* LAB BEGIN ch4 copy one present page into the child: a new frame and a copy (or the same frame, shared) */
static int copy_page(struct mm *child, struct vma *vma, vaddr_t va, pte_t pte)
{
	paddr_t pa = pte_pa(pte);
	if (vma->flags & VM_SHARED) {
		if (frame_get(pa))
			return -ENOMEM;
	} else {
		paddr_t copy = frame_alloc(0);
		if (!copy)
			return -ENOMEM;
		memcpy(pa_to_kva(copy), pa_to_kva(pa), PAGE_SIZE);
		pa = copy;
	}
	int err = pt_map(&child->as.pt, va, pa, PAGE_SIZE, pte_flags(pte) & PTE_PERM_MASK);
	if (err) {
		frame_put(pa);
		return err;
	}
	child->nr_pages++;
	return 0;
}
/* LAB STUB
static int copy_page(struct mm *child, struct vma *vma, vaddr_t va, pte_t pte)
{
	TODO("ch4", "mm_fork: copy a page for the child");
	(void)child, (void)vma, (void)va, (void)pte;
	return -ENOSYS;
}
LAB END */

struct copy_arg {
	struct mm *child;
	struct vma *vma;
};

/* pt_visit() callback: copy each leaf of the parent's area into the child. */
static int copy_leaf(pte_t *pte, int level, vaddr_t va, void *arg)
{
	struct copy_arg *c = arg;
	(void)level; /* user pages are 4 KiB */
	return pte_valid(*pte) ? copy_page(c->child, c->vma, va, *pte) : 0;
}

/* Give @child a copy of @vma and of its present pages. */
static int fork_vma(struct mm *child, struct vma *vma)
{
	struct vma *copy = vma_dup(vma);
	if (!copy)
		return -ENOMEM;
	copy->mm = child;
	vma_tree_insert(&child->vmas, copy); /* as in the parent: no overlap */
	child->nr_vmas++;
	if (vma == vma->mm->heap)
		child->heap = copy;
	struct copy_arg c = {child, copy};
	return pt_visit(&vma->mm->as.pt, vma->start, vma->end, copy_leaf, &c);
}

struct mm *mm_fork(struct mm *mm)
{
	struct mm *child = mm_create();
	if (!child)
		return NULL;
	int err = 0;
	spin_lock(&mm->lock);
	for (struct vma *v = vma_tree_first(&mm->vmas); v && !err; v = vma_tree_next(v))
		err = fork_vma(child, v);
	child->brk_start = mm->brk_start;
	child->brk = mm->brk;
	spin_unlock(&mm->lock);
	if (err) {
		mm_put(child); /* frees what was copied: the child runs nowhere */
		return NULL;
	}
	return child;
}
