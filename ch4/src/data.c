/*
 * The initial-data backend: pages filled from vma::private_data (data_size
 * bytes from pgoff on, zero past them) and private to the area from then on:
 * ELF segments, .data with its .bss tail (xv6's loadseg; rCore's
 * MapArea::copy_data). A page is filled on first touch (all of them when
 * the area is mapped, if the mm is eager); a read of a page wholly past the
 * data (.bss) maps the zero page. Unmap and protect are anonymous memory's.
 */
#include "errno.h"
#include "mm_internal.h"
#include "tlb.h"

/* Map the page at @va of @vma with its bytes of the initial data. */
static int data_map_page(struct vma *vma, vaddr_t va)
{
	uint64_t off = va - vma->start;
	size_t len = off < vma->data_size ? MIN(vma->data_size - off, PAGE_SIZE) : 0;
	return anon_map_page(vma, va, (const char *)vma->private_data + vma->pgoff + off, len);
}

static int data_map(struct vma *vma, vaddr_t start, vaddr_t end)
{
	if (!vma->mm->eager || !vm_prot_to_pte(vma->prot))
		return 0;
	for (vaddr_t va = start; va < end; va += PAGE_SIZE) {
		int err = data_map_page(vma, va);
		if (err) {
			struct tlb_flusher fl;
			tlb_flusher_init(&fl, &vma->mm->as);
			if (va > start)
				anon_unmap(vma, start, va, &fl);
			tlb_flusher_finish(&fl);
			return err;
		}
	}
	return 0;
}

static int data_fault(struct vma *vma, vaddr_t va, enum vm_access access)
{
	bool past_data = va - vma->start >= vma->data_size;
	return private_fault(vma, va, access, past_data, data_map_page);
}

const struct vm_backend data_backend = {
	.name = "data",
	.map = data_map,
	.unmap = anon_unmap,
	.protect = anon_protect,
	.fault = data_fault,
};
