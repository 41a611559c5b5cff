/*
 * Device registers in the kernel space, where the direct map would put them
 * (Linux ioremap; Theseus MMIO_FLAGS).
 */
#include "errno.h"
#include "kspace.h"
#include "kspace_internal.h"
#include "memlayout.h"
#include "spinlock.h"

/* True if every page of [va, va + size) maps its own direct-map frame as a device. */
static bool mapped_as_device(struct pagetable *pt, vaddr_t va, size_t size)
{
	for (vaddr_t v = va; v < va + size;) {
		struct pt_mapping m;
		if (pt_query(pt, v, &m) || m.pa != kva_to_pa((void *)v) ||
		    (m.flags & PTE_PERM_MASK) != PT_DEVICE)
			return false;
		v = m.page_va + m.page_size;
	}
	return true;
}

int kspace_map_device(struct pagetable *pt, paddr_t pa, size_t size)
{
	if (size == 0)
		return -EINVAL;
	paddr_t start = ALIGN_DOWN(pa, PAGE_SIZE);
	paddr_t end = ALIGN_UP(pa + size, PAGE_SIZE);
	if (end <= start || end > DIRECT_MAP_SIZE)
		return -EINVAL;
	vaddr_t va = (vaddr_t)pa_to_kva(start);
	if (pt_range_free(pt, va, va + (end - start)))
		return pt_map(pt, va, start, end - start, PT_DEVICE | PT_MAP_HUGE);
	return mapped_as_device(pt, va, end - start) ? 0 : -EEXIST;
}

int kernel_map_mmio(paddr_t pa, size_t size, void **kva)
{
	if (size == 0 || pa + size < pa || pa + size > DIRECT_MAP_SIZE)
		return -EINVAL;
	int err = 0;
	if (kspace_active()) {
		spin_lock(&kspace_lock);
		err = kspace_map_device(&kernel_as.pt, pa, size);
		kspace_flush_rollback(err);
		spin_unlock(&kspace_lock);
	}
	if (!err && kva)
		*kva = pa_to_kva(pa);
	return err;
}
