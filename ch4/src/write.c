/*
 * Writing into an address space that is not active here, through its page
 * table and the direct map (rCore's translated_byte_buffer; Linux's
 * access_process_vm): exec fills the new stack so.
 */
#include "errno.h"
#include "memlayout.h"
#include "mm_internal.h"
#include "pagetable.h"
#include "string.h"

/* The kernel address of the writable page holding @va, faulting it in; NULL if none. */
static void *writable_page(struct mm *mm, vaddr_t va)
{
	struct vma *vma = mm_find_vma(mm, va);
	if (!vma || (vma->flags & VM_GUARD) || !(vma->prot & VM_WRITE))
		return NULL;
	struct pt_mapping m;
	if (pt_query(&mm->as.pt, va, &m) || !(m.flags & PTE_W)) {
		/* Missing, or the zero page or a copy-on-write page: a write fault makes it ours. */
		if (vma->backend->fault(vma, ALIGN_DOWN(va, PAGE_SIZE), ACCESS_WRITE) ||
		    pt_query(&mm->as.pt, va, &m) || !(m.flags & PTE_W))
			return NULL;
	}
	return pa_to_kva(ALIGN_DOWN(m.pa, PAGE_SIZE));
}

int mm_write(struct mm *mm, vaddr_t va, const void *src, size_t len)
{
	if (va >= USER_TOP || len > USER_TOP - va)
		return -EFAULT;
	int err = 0;
	spin_lock(&mm->lock);
	while (len && !err) {
		size_t off = va & (PAGE_SIZE - 1), n = MIN(len, PAGE_SIZE - off);
		char *page = writable_page(mm, va);
		if (!page) {
			err = -EFAULT;
			break;
		}
		memcpy(page + off, src, n);
		src = (const char *)src + n;
		va += n;
		len -= n;
	}
	spin_unlock(&mm->lock);
	return err;
}
