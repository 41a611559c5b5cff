/*
 * The page-fault handler's decision: which area, whether it allows the
 * access, and what to tell the caller when it cannot be resolved (Linux
 * mm/memory.c handle_mm_fault and arch/riscv/mm/fault.c access_error;
 * Redox's PfError; rCore's MemorySet fault handling).
 */
#include "errno.h"
#include "mm_internal.h"
#include "panic.h"
#include "riscv.h"

const char *fault_result_name(enum fault_result r)
{
	switch (r) {
	case FAULT_RESOLVED:
		return "resolved";
	case FAULT_NO_AREA:
		return "no area";
	case FAULT_PERMISSION:
		return "permission";
	case FAULT_GUARD:
		return "stack guard";
	case FAULT_KERNEL:
		return "kernel address";
	case FAULT_OOM:
		return "out of memory";
	case FAULT_SIGBUS:
		return "past the end of the object";
	}
	return "?";
}

bool vm_access_allowed(unsigned prot, enum vm_access access)
{
	switch (access) {
	case ACCESS_WRITE:
		return prot & VM_WRITE;
	case ACCESS_EXEC:
		return prot & VM_EXEC;
	case ACCESS_READ:
		/* riscv maps a writable page readable (vm_prot_to_pte()). */
		return prot & (VM_READ | VM_WRITE);
	}
	return false;
}

unsigned pte_vm_prot(pte_t pte)
{
	return ((pte & PTE_R) ? VM_READ : 0) | ((pte & PTE_W) ? VM_WRITE : 0) | ((pte & PTE_X) ? VM_EXEC : 0);
}

/* What a backend's fault() result means for the faulting access. */
static enum fault_result fault_of_errno(int err)
{
	switch (err) {
	case 0:
		return FAULT_RESOLVED;
	case -ENOMEM:
		return FAULT_OOM;
	case -EIO:
		return FAULT_SIGBUS; /* ch5: a file's page past its end */
	default:
		return FAULT_PERMISSION;
	}
}

/* mm_fault() with mm->lock held. */
static enum fault_result fault_locked(struct mm *mm, vaddr_t va, enum vm_access access)
{
	/* LAB BEGIN ch4 decide a fault: the area, its guard flag, its permissions, then the backend */
	struct vma *vma = mm_find_vma(mm, va);
	if (!vma)
		return FAULT_NO_AREA;
	if (vma->flags & VM_GUARD)
		return FAULT_GUARD;
	if (!vm_access_allowed(vma->prot, access))
		return FAULT_PERMISSION;
	int err = vma->backend->fault(vma, ALIGN_DOWN(va, PAGE_SIZE), access);
	return fault_of_errno(err);
	/* LAB STUB
	TODO("ch4", "mm_fault: find the area, check the access, map the page");
	(void)mm, (void)va, (void)access, (void)fault_of_errno;
	return FAULT_NO_AREA;
	LAB END */
}

enum fault_result mm_fault(struct mm *mm, vaddr_t va, enum vm_access access)
{
	if (va >= USER_TOP)
		return FAULT_KERNEL;
	if (!mm)
		return FAULT_NO_AREA;
	spin_lock(&mm->lock);
	enum fault_result r = fault_locked(mm, va, access);
	spin_unlock(&mm->lock);
	if (r == FAULT_RESOLVED)
		sfence_vma_va(va); /* a hart may cache the invalid entry that faulted (spec 4.2.1) */
	return r;
}
