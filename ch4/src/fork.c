/*
 * fork's copy of an address space: the child gets a copy of every area,
 * and every page present in the parent is shared copy-on-write (cow.h;
 * Linux's dup_mmap and copy_present_pte). An eager mm copies each page into
 * a new frame instead (xv6's uvmcopy), as does a page whose reference count
 * is at its limit. VM_SHARED areas map the parent's frames, writable as
 * they are, with one more reference each.
 */
#include "errno.h"
#include "frame.h"
#include "memlayout.h"
#include "mm_internal.h"
#include "pagetable.h"
#include "panic.h"
#include "string.h"
#include "tlb.h"
#include "vma_tree.h"

/* A copy of the page @pte of @vma in a new frame, for @child at @va: private, with the area's permissions. */
static int copy_into_new_frame(struct mm *child, struct vma *vma, vaddr_t va, pte_t pte)
{
	paddr_t copy = frame_alloc(0);
	if (!copy)
		return -ENOMEM;
	memcpy(pa_to_kva(copy), pa_to_kva(pte_pa(pte)), PAGE_SIZE);
	int err = mm_set_pte(child, va, pte_make_leaf(copy, vm_page_perm(vma->prot)));
	if (err)
		frame_put(copy);
	return err;
}

/* LAB BEGIN ch4 fork one present page: share it copy-on-write (or copy it, or share a VM_SHARED frame) */
static int copy_page(struct mm *child, struct vma *vma, vaddr_t va, pte_t *pte, struct tlb_flusher *fl)
{
	if (vma->flags & VM_SHARED) {
		if (frame_get(pte_pa(*pte)))
			return -ENOMEM;
	} else if (child->eager || cow_share(pte)) {
		return copy_into_new_frame(child, vma, va, *pte);
	} else {
		tlb_flusher_add(fl, va, PAGE_SIZE); /* the parent's PTE lost its W */
	}
	int err = mm_set_pte(child, va, *pte);
	if (err && !is_zero_page(pte_pa(*pte)))
		frame_put(pte_pa(*pte)); /* the parent keeps PTE_COW: its next write reuses the frame */
	return err;
}
/* LAB STUB
static int copy_page(struct mm *child, struct vma *vma, vaddr_t va, pte_t *pte, struct tlb_flusher *fl)
{
	TODO("ch4", "mm_fork: share a page with the child, copy-on-write");
	(void)child, (void)vma, (void)va, (void)pte, (void)fl;
	(void)copy_into_new_frame; // given, for you to call
	return -ENOSYS;
}
LAB END */

struct copy_arg {
	struct mm *child;
	struct vma *vma;
	struct tlb_flusher *fl;
};

/* pt_visit() callback: copy each leaf of the parent's area into the child. */
static int copy_leaf(pte_t *pte, int level, vaddr_t va, void *arg)
{
	struct copy_arg *c = arg;
	(void)level; /* user pages are 4 KiB */
	return pte_valid(*pte) ? copy_page(c->child, c->vma, va, pte, c->fl) : 0;
}

/* Give @child a copy of @vma and of its present pages. */
static int fork_vma(struct mm *child, struct vma *vma, struct tlb_flusher *fl)
{
	struct vma *copy = vma_dup(vma);
	if (!copy)
		return -ENOMEM;
	copy->mm = child;
	vma_tree_insert(&child->vmas, copy); /* as in the parent: no overlap */
	child->nr_vmas++;
	if (vma == vma->mm->heap)
		child->heap = copy;
	struct copy_arg c = {child, copy, fl};
	return pt_visit(&vma->mm->as.pt, vma->start, vma->end, copy_leaf, &c);
}

struct mm *mm_fork(struct mm *mm)
{
	struct mm *child = mm_create();
	if (!child)
		return NULL;
	int err = 0;
	struct tlb_flusher fl;
	spin_lock(&mm->lock);
	child->eager = mm->eager;
	tlb_flusher_init(&fl, &mm->as);
	for (struct vma *v = vma_tree_first(&mm->vmas); v && !err; v = vma_tree_next(v))
		err = fork_vma(child, v, &fl);
	child->brk_start = mm->brk_start;
	child->brk = mm->brk;
	/* Another thread of the parent may hold a writable entry for a page
	 * that is shared now: every hart of the parent flushes before it goes on. */
	tlb_flusher_finish(&fl);
	spin_unlock(&mm->lock);
	if (err) {
		mm_put(child); /* frees what was copied: the child runs nowhere */
		return NULL;
	}
	return child;
}
