/*
 * Areas on their own: make one, free one, and the PTE bits its permissions
 * mean (Linux's vm_area_alloc/vm_area_free and vm_get_page_prot).
 */
#include "asmdefs.h"
#include "kmalloc.h"
#include "mm.h"
#include "vma.h"

size_t max_map_count = MM_DEFAULT_MAX_MAP_COUNT;

unsigned vm_prot_to_pte(unsigned prot)
{
	unsigned pte = 0;
	/* Sv39 has no write-only leaf (W without R is reserved, spec 4.3.1):
	 * PROT_WRITE maps readable too, as Linux's protection_map does. */
	if (prot & (VM_READ | VM_WRITE))
		pte |= PTE_R;
	if (prot & VM_WRITE)
		pte |= PTE_W;
	if (prot & VM_EXEC)
		pte |= PTE_X;
	return pte ? pte | PTE_U : 0;
}

unsigned vm_page_perm(unsigned prot)
{
	unsigned perm = vm_prot_to_pte(prot);
	return perm ? perm : PTE_PROT_NONE;
}

struct vma *vma_alloc(vaddr_t start, vaddr_t end, unsigned prot, unsigned flags,
		      const struct vm_backend *backend)
{
	struct vma *vma = kzalloc(sizeof(*vma));
	if (!vma)
		return NULL;
	vma->start = start;
	vma->end = end;
	vma->prot = prot & VM_PROT_MASK;
	vma->flags = flags;
	vma->backend = backend;
	return vma;
}

void vma_free(struct vma *vma)
{
	if (!vma)
		return;
	if (vma->backend && vma->backend->close)
		vma->backend->close(vma);
	kfree(vma);
}

struct vma *vma_dup(const struct vma *vma)
{
	struct vma *copy = kmalloc(sizeof(*copy));
	if (!copy)
		return NULL;
	*copy = *vma;
	copy->mm = NULL;
	copy->node = (struct vma_node){0};
	if (vma->backend && vma->backend->dup && vma->backend->dup(copy, vma)) {
		kfree(copy);
		return NULL;
	}
	return copy;
}

void vma_set_start(struct vma *vma, vaddr_t start)
{
	uint64_t delta = start - vma->start;
	vma->pgoff += delta;
	vma->data_size = vma->data_size > delta ? vma->data_size - delta : 0;
	vma->start = start;
}
