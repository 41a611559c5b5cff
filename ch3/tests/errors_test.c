/* ch3.errors: every error, and nothing left half-built or leaked after one. */
#include "ch3_test.h"

#define RW (PTE_R | PTE_W)

KTEST(ch3_errors, misaligned)
{
	struct scratch s;
	SCRATCH_BEGIN(s);
	KEXPECT_EQ(pt_map(&s.pt, T_VA + 8, T_PA, PAGE_SIZE, RW), -EINVAL);
	KEXPECT_EQ(pt_map(&s.pt, T_VA, T_PA + 0x800, PAGE_SIZE, RW), -EINVAL);
	KEXPECT_EQ(pt_map(&s.pt, T_VA, T_PA, PAGE_SIZE + 1, RW), -EINVAL);
	KEXPECT_EQ(pt_map(&s.pt, T_VA, T_PA, 0, RW), -EINVAL);
	KEXPECT_EQ(s.pt.nr_tables, 1);
	KASSERT_EQ(pt_map(&s.pt, T_VA, T_PA, 2 * PAGE_SIZE, RW), 0);
	KEXPECT_EQ(pt_unmap(&s.pt, T_VA + 1, PAGE_SIZE, NULL), -EINVAL);
	KEXPECT_EQ(pt_unmap(&s.pt, T_VA, 100, NULL), -EINVAL);
	KEXPECT_EQ(pt_unmap(&s.pt, T_VA, 0, NULL), -EINVAL);
	KEXPECT_EQ(pt_protect(&s.pt, T_VA + 0x10, PAGE_SIZE, PTE_R, NULL), -EINVAL);
	KEXPECT_EQ(pt_protect(&s.pt, T_VA, 0x1001, PTE_R, NULL), -EINVAL);
	/* Nothing changed. */
	KEXPECT_EQ(q_pa(&s.pt, T_VA), T_PA);
	KEXPECT_EQ(q_flags(&s.pt, T_VA + PAGE_SIZE), LEAF(RW));
	SCRATCH_END(s);
}

KTEST(ch3_errors, overlap)
{
	struct scratch s;
	SCRATCH_BEGIN(s);
	KASSERT_EQ(pt_map(&s.pt, T_VA, T_PA, 2 * PAGE_SIZE, RW), 0);
	KASSERT_EQ(pt_map(&s.pt, T_VA + 2 * MEGAPAGE_SIZE, T_PA, MEGAPAGE_SIZE, RW | PT_MAP_HUGE), 0);
	uint64_t tables = s.pt.nr_tables, free_now = frames_nr_free();
	KEXPECT_EQ(pt_map(&s.pt, T_VA, T_PA, PAGE_SIZE, RW), -EEXIST);
	KEXPECT_EQ(pt_map(&s.pt, T_VA + PAGE_SIZE, T_PA, 4 * PAGE_SIZE, RW), -EEXIST);
	KEXPECT_EQ(pt_map(&s.pt, T_VA - PAGE_SIZE, T_PA, 2 * PAGE_SIZE, RW), -EEXIST);
	/* Inside a megapage, and a gigapage over everything. */
	KEXPECT_EQ(pt_map(&s.pt, T_VA + 2 * MEGAPAGE_SIZE + 5 * PAGE_SIZE, T_PA, PAGE_SIZE, RW), -EEXIST);
	KEXPECT_EQ(pt_map(&s.pt, T_VA, T_PA, GIGAPAGE_SIZE, RW | PT_MAP_HUGE), -EEXIST);
	/* A range that ends in a mapping: the start of it must not stay mapped. */
	KEXPECT_EQ(pt_map(&s.pt, T_VA + MEGAPAGE_SIZE, T_PA, 2 * MEGAPAGE_SIZE, RW), -EEXIST);
	KEXPECT_EQ(q_size(&s.pt, T_VA + MEGAPAGE_SIZE), -ENOENT);
	KEXPECT_EQ(q_size(&s.pt, T_VA + 2 * PAGE_SIZE), -ENOENT);
	KEXPECT_EQ(q_size(&s.pt, T_VA - PAGE_SIZE), -ENOENT);
	KEXPECT_EQ(s.pt.nr_tables, tables);
	KEXPECT_EQ(frames_nr_free(), free_now);
	KEXPECT_EQ(q_pa(&s.pt, T_VA + PAGE_SIZE), T_PA + PAGE_SIZE);
	SCRATCH_END(s);
}

KTEST(ch3_errors, non_canonical)
{
	struct scratch s;
	SCRATCH_BEGIN(s);
	struct pt_mapping m;
	KEXPECT_EQ(pt_map(&s.pt, 0x4000000000UL, T_PA, PAGE_SIZE, RW), -ERANGE);
	KEXPECT_EQ(pt_map(&s.pt, 0x8000000000000000UL, T_PA, PAGE_SIZE, RW), -ERANGE);
	KEXPECT_EQ(pt_map(&s.pt, 0xffffffbffffff000UL, T_PA, PAGE_SIZE, RW), -ERANGE);
	/* In the lower half, out of it; past the top of the space. */
	KEXPECT_EQ(pt_map(&s.pt, 0x3ffffff000UL, T_PA, 2 * PAGE_SIZE, RW), -ERANGE);
	KEXPECT_EQ(pt_map(&s.pt, ~0UL - PAGE_SIZE + 1, T_PA, PAGE_SIZE, RW), -ERANGE);
	KEXPECT_EQ(pt_map(&s.pt, ~0UL - PAGE_SIZE + 1, T_PA, 2 * PAGE_SIZE, RW), -ERANGE);
	KEXPECT_EQ(pt_query(&s.pt, 0x4000000000UL, &m), -ERANGE);
	KEXPECT_EQ(pt_unmap(&s.pt, 0x4000000000UL, PAGE_SIZE, NULL), -ERANGE);
	KEXPECT_EQ(pt_protect(&s.pt, 0x7000000000UL, PAGE_SIZE, PTE_R, NULL), -ERANGE);
	/* From the last page of the lower half to the first of the upper one:
	 * both ends canonical, but the range runs through the hole between. */
	const vaddr_t lower_last = 0x3ffffff000UL, upper_end = 0xffffffc000001000UL;
	KEXPECT_EQ(pt_check_range(lower_last, upper_end - lower_last), -ERANGE);
	KEXPECT_EQ(pt_unmap(&s.pt, lower_last, upper_end - lower_last, NULL), -ERANGE);
	KEXPECT_EQ(pt_protect(&s.pt, lower_last, upper_end - lower_last, PTE_R, NULL), -ERANGE);
	KEXPECT_EQ(pt_check_range(0, 0xffffffc000001000UL), -ERANGE);
	/* A physical range past 2^56. */
	KEXPECT_EQ(pt_map(&s.pt, T_VA, 1UL << PA_BITS, PAGE_SIZE, RW), -ERANGE);
	KEXPECT_EQ(pt_map(&s.pt, T_VA, (1UL << PA_BITS) - PAGE_SIZE, 2 * PAGE_SIZE, RW), -ERANGE);
	KEXPECT_EQ(s.pt.nr_tables, 1);
	/* The last page of the lower half and the first of the upper one are fine. */
	KEXPECT_EQ(pt_map(&s.pt, 0x3ffffff000UL, T_PA, PAGE_SIZE, RW), 0);
	KEXPECT_EQ(pt_map(&s.pt, 0xffffffc000000000UL, T_PA, PAGE_SIZE, RW), 0);
	KEXPECT_EQ(q_pa(&s.pt, 0x3fffffffffUL), T_PA + 0xfff);
	KEXPECT_EQ(q_pa(&s.pt, 0xffffffc000000000UL), T_PA);
	SCRATCH_END(s);
}

KTEST(ch3_errors, bad_permissions)
{
	struct scratch s;
	SCRATCH_BEGIN(s);
	KEXPECT_EQ(pt_map(&s.pt, T_VA, T_PA, PAGE_SIZE, PTE_W), -EINVAL);	  /* reserved */
	KEXPECT_EQ(pt_map(&s.pt, T_VA, T_PA, PAGE_SIZE, PTE_W | PTE_X), -EINVAL); /* reserved */
	KEXPECT_EQ(pt_map(&s.pt, T_VA, T_PA, PAGE_SIZE, 0), -EINVAL);		  /* a table pointer */
	KEXPECT_EQ(pt_map(&s.pt, T_VA, T_PA, PAGE_SIZE, PTE_G | PTE_U), -EINVAL);
	KEXPECT_EQ(pt_map(&s.pt, T_VA, T_PA, PAGE_SIZE, PTE_R | PTE_V), -EINVAL); /* not a permission */
	KEXPECT_EQ(pt_map(&s.pt, T_VA, T_PA, PAGE_SIZE, PTE_R | (1u << 8)), -EINVAL);
	KEXPECT_EQ(s.pt.nr_tables, 1);
	KASSERT_EQ(pt_map(&s.pt, T_VA, T_PA, PAGE_SIZE, PTE_X), 0); /* execute-only is allowed */
	KEXPECT_EQ(q_flags(&s.pt, T_VA), LEAF(PTE_X));
	KEXPECT_EQ(pt_protect(&s.pt, T_VA, PAGE_SIZE, PTE_W, NULL), -EINVAL);
	KEXPECT_EQ(pt_protect(&s.pt, T_VA, PAGE_SIZE, 0, NULL), -EINVAL);
	KEXPECT_EQ(q_flags(&s.pt, T_VA), LEAF(PTE_X));
	SCRATCH_END(s);
}

KTEST(ch3_errors, not_mapped)
{
	struct scratch s;
	SCRATCH_BEGIN(s);
	KEXPECT_EQ(pt_unmap(&s.pt, T_VA, PAGE_SIZE, NULL), -ENOENT);
	KEXPECT_EQ(pt_protect(&s.pt, T_VA, PAGE_SIZE, PTE_R, NULL), -ENOENT);
	KASSERT_EQ(pt_map(&s.pt, T_VA, T_PA, 2 * PAGE_SIZE, RW), 0);
	KASSERT_EQ(pt_map(&s.pt, T_VA + 3 * PAGE_SIZE, T_PA, PAGE_SIZE, RW), 0);
	/* A hole in the middle: refused, and nothing changed. */
	KEXPECT_EQ(pt_unmap(&s.pt, T_VA, 4 * PAGE_SIZE, NULL), -ENOENT);
	KEXPECT_EQ(pt_protect(&s.pt, T_VA, 4 * PAGE_SIZE, PTE_R, NULL), -ENOENT);
	KEXPECT_EQ(q_flags(&s.pt, T_VA), LEAF(RW));
	KEXPECT_EQ(q_flags(&s.pt, T_VA + 3 * PAGE_SIZE), LEAF(RW));
	KEXPECT_EQ(pt_unmap(&s.pt, T_VA + GIGAPAGE_SIZE, GIGAPAGE_SIZE, NULL), -ENOENT);
	SCRATCH_END(s);
}

/* A range whose 4 KiB pages need 5 tables: 2 for the end of one gigabyte, 3 for the next. */
#define OOM_VA	   (T_VA + GIGAPAGE_SIZE - PAGE_SIZE)
#define OOM_SIZE   (MEGAPAGE_SIZE + 2 * PAGE_SIZE)
#define OOM_TABLES 5

KTEST(ch3_errors, out_of_memory_rolls_back)
{
	struct scratch s;
	SCRATCH_BEGIN(s);
	uint64_t free_now = frames_nr_free();
	for (unsigned long failat = 1; failat <= OOM_TABLES; failat++) {
		pt_inject_alloc_failure(failat);
		KEXPECT_EQ(pt_map(&s.pt, OOM_VA, T_PA, OOM_SIZE, RW), -ENOMEM);
		pt_inject_alloc_failure(0);
		KEXPECT_TRUE(pt_range_free(&s.pt, OOM_VA, OOM_VA + OOM_SIZE));
		KEXPECT_EQ(s.pt.nr_tables, 1);
		KEXPECT_EQ(frames_nr_free(), free_now);
	}
	pt_inject_alloc_failure(OOM_TABLES + 1);
	KEXPECT_EQ(pt_map(&s.pt, OOM_VA, T_PA, OOM_SIZE, RW), 0);
	pt_inject_alloc_failure(0);
	KEXPECT_EQ(s.pt.nr_tables, 1 + OOM_TABLES);
	SCRATCH_END(s);
}

KTEST(ch3_errors, out_of_memory_keeps_existing_tables)
{
	/* A failed map next to an existing mapping keeps that mapping's tables. */
	struct scratch s;
	SCRATCH_BEGIN(s);
	KASSERT_EQ(pt_map(&s.pt, OOM_VA - PAGE_SIZE, T_PA, PAGE_SIZE, RW), 0);
	KASSERT_EQ(s.pt.nr_tables, 3);
	uint64_t free_now = frames_nr_free();
	for (unsigned long failat = 1; failat <= OOM_TABLES - 2; failat++) {
		pt_inject_alloc_failure(failat);
		KEXPECT_EQ(pt_map(&s.pt, OOM_VA, T_PA, OOM_SIZE, RW), -ENOMEM);
		pt_inject_alloc_failure(0);
		KEXPECT_EQ(s.pt.nr_tables, 3);
		KEXPECT_EQ(frames_nr_free(), free_now);
		KEXPECT_EQ(q_pa(&s.pt, OOM_VA - PAGE_SIZE), T_PA);
		KEXPECT_TRUE(pt_range_free(&s.pt, OOM_VA, OOM_VA + OOM_SIZE));
	}
	SCRATCH_END(s);
}

KTEST(ch3_errors, out_of_memory_for_real)
{
	/* Fill memory but for a few frames, then map a range that needs more tables. */
	struct scratch s;
	SCRATCH_BEGIN(s);
	static struct drain d;
	const uint64_t keep = 3;
	drain_memory(&d, keep);
	uint64_t left = frames_nr_free();
	KEXPECT_EQ(left, keep);
	/* 64 MiB of small pages in a fresh gigabyte: 1 + 32 tables. */
	int err = pt_map(&s.pt, 3 * GIGAPAGE_SIZE, T_PA, 64 * MiB, RW);
	uint64_t after = frames_nr_free();
	size_t tables = s.pt.nr_tables;
	bool range_free = pt_range_free(&s.pt, 3 * GIGAPAGE_SIZE, 3 * GIGAPAGE_SIZE + 64 * MiB);
	/* Two tables are there: a small map still works. */
	int small = pt_map(&s.pt, 3 * GIGAPAGE_SIZE, T_PA, PAGE_SIZE, RW);
	if (!small)
		pt_unmap(&s.pt, 3 * GIGAPAGE_SIZE, PAGE_SIZE, NULL);
	uint64_t after_small = frames_nr_free();
	undrain_memory(&d);
	/* A shrinker (ch2's) may have given frames back meanwhile: never fewer. */
	KEXPECT_EQ(err, -ENOMEM);
	KEXPECT_GE(after, left);
	KEXPECT_EQ(tables, 1);
	KEXPECT_TRUE(range_free);
	KEXPECT_EQ(small, 0);
	KEXPECT_GE(after_small, left);
	pt_destroy(&s.pt);
	KEXPECT_GE(frames_nr_free(), s.free_before);
}
