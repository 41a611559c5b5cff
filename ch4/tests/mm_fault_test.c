/* ch4.fault: mm_fault's decision (area, guard, permission, kernel address) and its result names. */
#include "mm_test.h"
#include "tlb.h"

#define RW (VM_READ | VM_WRITE)

/* Take page @va out of @mm behind its area's back, as a lazy backend would leave it. */
static void drop_page(struct mm *mm, vaddr_t va)
{
	paddr_t pa = user_pa(mm, va);
	pt_unmap(&mm->as.pt, va, PAGE_SIZE, NULL);
	frame_put(pa);
	mm->nr_pages--;
}

KTEST(ch4_fault, results_by_area_and_access)
{
	MM_BEGIN(mm, before);
	KASSERT_EQ(add_anon(mm, UP(0), UP(1), VM_READ), 0);
	KASSERT_EQ(add_anon(mm, UP(1), UP(2), VM_WRITE), 0);
	KASSERT_EQ(add_anon(mm, UP(2), UP(3), VM_EXEC), 0);
	KASSERT_EQ(add_area(mm, UP(4), UP(6), VM_NONE, VM_GUARD, &anon_backend, 0), 0);
	KASSERT_EQ(add_anon(mm, UP(6), UP(7), VM_NONE), 0);
	KEXPECT_EQ(mm_fault(mm, UP(0), ACCESS_WRITE), FAULT_PERMISSION);
	KEXPECT_EQ(mm_fault(mm, UP(0), ACCESS_EXEC), FAULT_PERMISSION);
	KEXPECT_EQ(mm_fault(mm, UP(0) + 8, ACCESS_READ), FAULT_RESOLVED); /* present: retry */
	KEXPECT_EQ(mm_fault(mm, UP(1), ACCESS_READ), FAULT_RESOLVED);	  /* W implies R */
	KEXPECT_EQ(mm_fault(mm, UP(1), ACCESS_EXEC), FAULT_PERMISSION);
	KEXPECT_EQ(mm_fault(mm, UP(2), ACCESS_READ), FAULT_PERMISSION); /* execute-only */
	KEXPECT_EQ(mm_fault(mm, UP(2), ACCESS_WRITE), FAULT_PERMISSION);
	KEXPECT_EQ(mm_fault(mm, UP(2), ACCESS_EXEC), FAULT_RESOLVED);
	KEXPECT_EQ(mm_fault(mm, UP(3), ACCESS_READ), FAULT_NO_AREA);
	KEXPECT_EQ(mm_fault(mm, UP(5) + 100, ACCESS_WRITE), FAULT_GUARD);
	KEXPECT_EQ(mm_fault(mm, UP(6), ACCESS_READ), FAULT_PERMISSION);
	KEXPECT_EQ(mm_fault(mm, 0, ACCESS_READ), FAULT_NO_AREA);
	KEXPECT_EQ(mm_fault(mm, USER_TOP, ACCESS_READ), FAULT_KERNEL);
	KEXPECT_EQ(mm_fault(mm, KERNEL_BASE, ACCESS_EXEC), FAULT_KERNEL);
	KEXPECT_EQ(mm_fault(mm, -1UL, ACCESS_WRITE), FAULT_KERNEL);
	KEXPECT_EQ(mm->nr_pages, 3);
	MM_END(mm, before);
}

KTEST(ch4_fault, missing_page_is_mapped_by_the_backend)
{
	static const char bytes[] = "initial data";
	MM_BEGIN(mm, before);
	KASSERT_EQ(add_anon(mm, UP(0), UP(2), RW), 0);
	struct vma *vma = vma_alloc(UP(4), UP(5), VM_READ, 0, &data_backend);
	KASSERT_NOT_NULL(vma);
	vma->private_data = (void *)bytes;
	vma->data_size = sizeof(bytes);
	KASSERT_EQ(mm_add_vma(mm, vma, 0), 0);
	KASSERT_TRUE(poke(mm, UP(1), 0x33));
	drop_page(mm, UP(1));
	drop_page(mm, UP(4));
	KEXPECT_EQ(peek(mm, UP(1)), -1);
	KEXPECT_EQ(mm_fault(mm, UP(1) + 17, ACCESS_WRITE), FAULT_RESOLVED);
	KEXPECT_EQ(peek(mm, UP(1)), 0); /* a new zeroed page */
	KEXPECT_EQ(mm_fault(mm, UP(4) + 3, ACCESS_READ), FAULT_RESOLVED);
	KEXPECT_EQ(peek(mm, UP(4) + 2), 'i');
	KEXPECT_EQ(user_flags(mm, UP(4)) & PTE_W, 0);
	KEXPECT_EQ(mm->nr_pages, 3);
	MM_END(mm, before);
}

KTEST(ch4_fault, page_that_forbids_the_access_is_not_retried)
{
	MM_BEGIN(mm, before);
	KASSERT_EQ(add_anon(mm, UP(0), UP(1), RW), 0);
	/* The area allows a write, the page does not: "resolved" would loop forever. */
	KASSERT_EQ(pt_protect(&mm->as.pt, UP(0), PAGE_SIZE, PTE_R | PTE_U, NULL), 0);
	KEXPECT_EQ(mm_fault(mm, UP(0), ACCESS_WRITE), FAULT_PERMISSION);
	KEXPECT_EQ(mm_fault(mm, UP(0), ACCESS_READ), FAULT_RESOLVED);
	MM_END(mm, before);
}

KTEST(ch4_fault, missing_page_the_area_forbids_stays_unmapped)
{
	MM_BEGIN(mm, before);
	KASSERT_EQ(add_anon(mm, UP(0), UP(2), VM_READ), 0);
	KASSERT_EQ(add_anon(mm, UP(2), UP(3), VM_NONE), 0);
	drop_page(mm, UP(1));
	/* The permission check comes before the backend: a write to a
	 * read-only area must not get a page mapped, and report why. */
	KEXPECT_EQ(mm_fault(mm, UP(1), ACCESS_WRITE), FAULT_PERMISSION);
	KEXPECT_EQ(mm_fault(mm, UP(1), ACCESS_EXEC), FAULT_PERMISSION);
	KEXPECT_EQ(mm_fault(mm, UP(2), ACCESS_READ), FAULT_PERMISSION);
	KEXPECT_EQ(peek(mm, UP(1)), -1);
	KEXPECT_EQ(peek(mm, UP(2)), -1);
	KEXPECT_EQ(mm->nr_pages, 1);
	MM_END(mm, before);
}

/* Far too large for a test's stack. */
static struct drain fault_drain;

KTEST(ch4_fault, no_frame_is_out_of_memory)
{
	MM_BEGIN(mm, before);
	KASSERT_EQ(add_anon(mm, UP(0), UP(2), VM_READ | VM_WRITE), 0);
	drop_page(mm, UP(1));
	drain_memory(&fault_drain, 0);
	enum fault_result r = mm_fault(mm, UP(1), ACCESS_WRITE);
	undrain_memory(&fault_drain);
	/* Out of memory is its own outcome: the process is killed for it
	 * (SIGKILL), not blamed for a bad access (SIGSEGV). */
	KEXPECT_EQ(r, FAULT_OOM);
	KEXPECT_EQ(peek(mm, UP(1)), -1);
	KEXPECT_EQ(mm_fault(mm, UP(1), ACCESS_WRITE), FAULT_RESOLVED);
	MM_END(mm, before);
}

KTEST(ch4_fault, result_names)
{
	KEXPECT_EQ(strcmp(fault_result_name(FAULT_NO_AREA), "no area"), 0);
	KEXPECT_EQ(strcmp(fault_result_name(FAULT_PERMISSION), "permission"), 0);
	KEXPECT_EQ(strcmp(fault_result_name(FAULT_GUARD), "stack guard"), 0);
	KEXPECT_EQ(strcmp(fault_result_name(FAULT_KERNEL), "kernel address"), 0);
	KEXPECT_EQ(strcmp(fault_result_name(FAULT_OOM), "out of memory"), 0);
	KEXPECT_EQ(strcmp(fault_result_name(FAULT_RESOLVED), "resolved"), 0);
}
