/* ch4.mm: an mm's life: create, references, activate, clear, and every frame back at the end. */
#include "mm_test.h"
#include "addr_space.h"
#include "kspace.h"
#include "riscv.h"

#define RW (VM_READ | VM_WRITE)

KTEST(ch4_mm, create_shares_the_kernel_half)
{
	MM_BEGIN(mm, before);
	KEXPECT_EQ(mm->refs, 1);
	KEXPECT_EQ(mm->nr_vmas, 0);
	KEXPECT_EQ(mm->as.pt.nr_tables, 1);
	KEXPECT_EQ(mm->as.pt.kernel_half, PT_HALF_SHARED);
	MM_END(mm, before);
}

KTEST(ch4_mm, put_returns_every_frame)
{
	MM_BEGIN(mm, before);
	/* Areas in three different level-1 tables, some pages at the edges of tables. */
	KASSERT_EQ(add_anon(mm, USER_MIN, USER_MIN + 3 * PAGE_SIZE, VM_READ | VM_EXEC), 0);
	KASSERT_EQ(add_anon(mm, U_VA - PAGE_SIZE, U_VA + MEGAPAGE_SIZE + PAGE_SIZE, RW), 0);
	KASSERT_EQ(add_anon(mm, USER_TOP - 4 * PAGE_SIZE, USER_TOP, RW), 0);
	KEXPECT_EQ(mm->nr_pages, 3 + 514 + 4);
	KEXPECT_GT(mm->as.pt.nr_tables, 5);
	MM_END(mm, before);
}

KTEST(ch4_mm, references_keep_it)
{
	MM_BEGIN(mm, before);
	KASSERT_EQ(add_anon(mm, UP(0), UP(2), RW), 0);
	mm_get(mm);
	KEXPECT_EQ(mm->refs, 2);
	mm_put(mm);
	KEXPECT_EQ(mm->refs, 1);
	KEXPECT_EQ(mm->nr_pages, 2); /* still there */
	KEXPECT_EQ(peek(mm, UP(1)), 0);
	MM_END(mm, before);
}

KTEST(ch4_mm, clear_keeps_the_mm_and_the_kernel_half)
{
	MM_BEGIN(mm, before);
	uint64_t empty = free_frames_settled(); /* the root and the mm's slab */
	KASSERT_EQ(add_anon(mm, UP(0), UP(40), RW), 0);
	KASSERT_EQ(add_anon(mm, UP(1000), UP(1001), VM_READ), 0);
	mm->brk_start = mm->brk = UP(2000);
	KEXPECT_EQ(mm_brk(mm, UP(2003)), UP(2003));
	mm_clear(mm);
	KEXPECT_EQ(mm->nr_vmas, 0);
	KEXPECT_EQ(nr_areas(mm), 0);
	KEXPECT_EQ(mm->nr_pages, 0);
	KEXPECT_EQ(mm->brk, 0);
	KEXPECT_EQ(mm->brk_start, 0);
	KEXPECT_NULL(mm->heap);
	KEXPECT_EQ(mm->as.pt.nr_tables, 1);
	KEXPECT_EQ(free_frames_settled(), empty);
	KEXPECT_EQ(kspace_check_kernel_half(&mm->as.pt), 0);
	/* Usable again, as exec needs. */
	KEXPECT_EQ(add_anon(mm, UP(0), UP(1), RW), 0);
	MM_END(mm, before);
}

KTEST(ch4_mm, activate_runs_on_its_table)
{
	MM_BEGIN(mm, before);
	KASSERT_EQ(add_anon(mm, UP(0), UP(1), RW), 0);
	mm_activate(mm);
	KEXPECT_TRUE(addr_space_current() == &mm->as);
	KEXPECT_EQ(mm->as.harts, 1UL << cpuid());
	KEXPECT_EQ(csr_read(satp), satp_sv39(mm->as.pt.root));
	mm_activate(NULL);
	KEXPECT_TRUE(addr_space_current() == &kernel_as);
	KEXPECT_EQ(mm->as.harts, 0);
	MM_END(mm, before);
}

KTEST(ch4_mm, write_through_the_table)
{
	MM_BEGIN(mm, before);
	KASSERT_EQ(add_anon(mm, UP(0), UP(2), RW), 0);
	KASSERT_EQ(add_anon(mm, UP(2), UP(3), VM_READ), 0);
	KASSERT_EQ(add_area(mm, UP(4), UP(5), VM_NONE, VM_GUARD, &anon_backend, 0), 0);
	static const char msg[] = "across a page boundary";
	KEXPECT_EQ(mm_write(mm, UP(1) - 6, msg, sizeof(msg)), 0);
	KEXPECT_EQ(peek(mm, UP(1) - 6), 'a');
	KEXPECT_EQ(peek(mm, UP(1) + 1), msg[7]);
	KEXPECT_EQ(mm_write(mm, UP(2), msg, 1), -EFAULT);     /* read-only */
	KEXPECT_EQ(mm_write(mm, UP(3), msg, 1), -EFAULT);     /* no area */
	KEXPECT_EQ(mm_write(mm, UP(4), msg, 1), -EFAULT);     /* guard */
	KEXPECT_EQ(mm_write(mm, UP(2) - 1, msg, 2), -EFAULT); /* straddles into read-only */
	KEXPECT_EQ(mm_write(mm, USER_TOP, msg, 1), -EFAULT);
	KEXPECT_EQ(mm_write(mm, UP(0), msg, 0), 0);
	KEXPECT_EQ(peek(mm, UP(2)), 0);
	MM_END(mm, before);
}
