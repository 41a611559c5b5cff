/*
 * Copy-on-write and the zero page: the page states of cow.h, and the fault
 * of a page that moves between them: pf_decide() reads the state from the
 * PTE, private_fault() acts, cow_share() and cow_break() are fork's half and
 * the write fault's half of copy-on-write (Linux mm/memory.c:
 * handle_pte_fault, do_anonymous_page, do_wp_page, wp_page_reuse,
 * wp_page_copy; copy_present_pte for fork's half).
 */
#include "cow.h"
#include "errno.h"
#include "frame.h"
#include "memlayout.h"
#include "mm_internal.h"
#include "page.h"
#include "panic.h"
#include "string.h"
#include "tlb.h"

int mm_set_pte(struct mm *mm, vaddr_t va, pte_t pte)
{
	int level = 0;
	pte_t *slot = pt_walk(&mm->as.pt, va, &level, true);
	if (!slot)
		return -ENOMEM;
	if (level != 0 || pte_valid(*slot))
		return -EEXIST;
	*slot = pte;
	if (!is_zero_page(pte_pa(pte)))
		mm->nr_pages++;
	return 0;
}

/* Map the zero page at @va of @vma: read-only, copy-on-write. */
static int map_zero_page(struct vma *vma, vaddr_t va)
{
	unsigned perm = vm_prot_to_pte(vma->prot) & ~PTE_W;
	return mm_set_pte(vma->mm, va, pte_make_leaf(zero_page_pa(), perm) | PTE_COW);
}

/* The 4 KiB leaf that maps @va in @mm, or NULL. */
static pte_t *leaf_of(struct mm *mm, vaddr_t va)
{
	int level = 0;
	pte_t *pte = pt_walk(&mm->as.pt, va, &level, false);
	return pte && pte_is_leaf(*pte) ? pte : NULL;
}

int private_fault(struct vma *vma, vaddr_t va, enum vm_access access, bool zero_ok,
		  int (*map_new)(struct vma *vma, vaddr_t va))
{
	pte_t *pte = leaf_of(vma->mm, va);
	switch (pf_decide(pte ? *pte : 0, access, zero_ok)) {
	case PF_RETRY:
		return 0;
	case PF_MAP_NEW:
		return map_new(vma, va);
	case PF_MAP_ZERO:
		return map_zero_page(vma, va);
	case PF_COW_BREAK:
		return cow_break(vma, va, pte);
	case PF_DENY:
		break;
	}
	return -EACCES;
}

/* LAB BEGIN ch4 the page states: decide a page's fault; share a page at fork; break the sharing on a write */
enum pf_action pf_decide(pte_t pte, enum vm_access access, bool zero_ok)
{
	if (!pte_valid(pte))
		return access != ACCESS_WRITE && zero_ok ? PF_MAP_ZERO : PF_MAP_NEW;
	if (vm_access_allowed(pte_vm_prot(pte), access))
		return PF_RETRY;
	if (access == ACCESS_WRITE && (pte & PTE_COW))
		return PF_COW_BREAK;
	return PF_DENY;
}

int cow_share(pte_t *pte)
{
	paddr_t pa = pte_pa(*pte);
	if (!is_zero_page(pa)) {
		int err = frame_get(pa);
		if (err)
			return err; /* -EOVERFLOW: the caller copies instead */
	}
	*pte = (*pte & ~PTE_W) | PTE_COW;
	return 0;
}

int cow_break(struct vma *vma, vaddr_t va, pte_t *pte)
{
	paddr_t old = pte_pa(*pte);
	unsigned perm = vm_prot_to_pte(vma->prot);
	bool zero = is_zero_page(old);
	if (!zero && page_ref_count(pa_to_page(old)) == 1) {
		/* Ours alone: nobody else can take a reference (that needs one). */
		*pte = pte_make_leaf(old, perm);
		return 0;
	}
	paddr_t copy = frame_alloc(zero ? FRAME_ZERO : 0);
	if (!copy)
		return -ENOMEM;
	if (!zero)
		memcpy(pa_to_kva(copy), pa_to_kva(old), PAGE_SIZE);
	*pte = pte_make_leaf(copy, perm);
	/* A thread on another hart may still read the old frame through its
	 * TLB: every hart of the mm flushes before the reference goes. */
	struct tlb_flusher fl;
	tlb_flusher_init(&fl, &vma->mm->as);
	tlb_flusher_add(&fl, va, PAGE_SIZE);
	tlb_flusher_finish(&fl);
	if (zero)
		vma->mm->nr_pages++;
	else
		frame_put(old);
	return 0;
}
/* LAB STUB
enum pf_action pf_decide(pte_t pte, enum vm_access access, bool zero_ok)
{
	TODO("ch4", "copy_on_write: pf_decide: what a fault needs, from the page's PTE and the access");
	(void)access, (void)zero_ok;
	return pte_valid(pte) ? PF_DENY : PF_MAP_NEW;
}

int cow_share(pte_t *pte)
{
	TODO("ch4", "copy_on_write: cow_share: make the page read-only and copy-on-write, with one more reference");
	(void)pte;
	return -EOVERFLOW;
}

int cow_break(struct vma *vma, vaddr_t va, pte_t *pte)
{
	TODO("ch4", "copy_on_write: cow_break: give the writer its own page (the same one if it holds the only reference)");
	(void)vma, (void)va, (void)pte;
	return -ENOMEM;
}
LAB END */
