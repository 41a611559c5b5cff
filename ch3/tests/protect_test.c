/* ch3.protect: changing permissions, splitting huge pages at the edges. */
#include "ch3_test.h"

#define RW (PTE_R | PTE_W)

KTEST(ch3_protect, protect_4k)
{
	struct scratch s;
	SCRATCH_BEGIN(s);
	KASSERT_EQ(pt_map(&s.pt, T_VA, T_PA, 4 * PAGE_SIZE, RW | PTE_G), 0);
	KASSERT_EQ(pt_protect(&s.pt, T_VA + PAGE_SIZE, 2 * PAGE_SIZE, PTE_R | PTE_X | PTE_G, NULL), 0);
	KEXPECT_EQ(q_flags(&s.pt, T_VA), LEAF(RW | PTE_G));
	KEXPECT_EQ(q_flags(&s.pt, T_VA + PAGE_SIZE), LEAF(PTE_R | PTE_X | PTE_G));
	KEXPECT_EQ(q_flags(&s.pt, T_VA + 2 * PAGE_SIZE), LEAF(PTE_R | PTE_X | PTE_G));
	KEXPECT_EQ(q_flags(&s.pt, T_VA + 3 * PAGE_SIZE), LEAF(RW | PTE_G));
	for (int i = 0; i < 4; i++)
		KEXPECT_EQ(q_pa(&s.pt, T_VA + i * PAGE_SIZE), T_PA + i * PAGE_SIZE);
	KASSERT_EQ(pt_protect(&s.pt, T_VA, 4 * PAGE_SIZE, PTE_R | PTE_U, NULL), 0);
	for (int i = 0; i < 4; i++)
		KEXPECT_EQ(q_flags(&s.pt, T_VA + i * PAGE_SIZE), LEAF(PTE_R | PTE_U));
	KEXPECT_EQ(s.pt.nr_tables, 3);
	SCRATCH_END(s);
}

KTEST(ch3_protect, whole_huge_page_stays_huge)
{
	struct scratch s;
	SCRATCH_BEGIN(s);
	KASSERT_EQ(pt_map(&s.pt, T_VA, T_PA, 2 * MEGAPAGE_SIZE, RW | PT_MAP_HUGE), 0);
	KASSERT_EQ(pt_protect(&s.pt, T_VA + MEGAPAGE_SIZE, MEGAPAGE_SIZE, PTE_R, NULL), 0);
	KEXPECT_EQ(s.pt.nr_tables, 2);
	KEXPECT_EQ(q_size(&s.pt, T_VA + MEGAPAGE_SIZE), MEGAPAGE_SIZE);
	KEXPECT_EQ(q_flags(&s.pt, T_VA + MEGAPAGE_SIZE), LEAF(PTE_R));
	KEXPECT_EQ(q_flags(&s.pt, T_VA), LEAF(RW));
	SCRATCH_END(s);
}

KTEST(ch3_protect, splits_2m)
{
	struct scratch s;
	SCRATCH_BEGIN(s);
	KASSERT_EQ(pt_map(&s.pt, T_VA, T_PA, MEGAPAGE_SIZE, RW | PT_MAP_HUGE), 0);
	vaddr_t va = T_VA + 100 * PAGE_SIZE;
	KASSERT_EQ(pt_protect(&s.pt, va, PAGE_SIZE, PTE_R, NULL), 0);
	KEXPECT_EQ(s.pt.nr_tables, 3);
	KEXPECT_EQ(q_flags(&s.pt, va), LEAF(PTE_R));
	KEXPECT_EQ(q_size(&s.pt, va), PAGE_SIZE);
	KEXPECT_EQ(q_pa(&s.pt, va + 1), T_PA + 100 * PAGE_SIZE + 1);
	KEXPECT_EQ(q_flags(&s.pt, va - PAGE_SIZE), LEAF(RW));
	KEXPECT_EQ(q_flags(&s.pt, va + PAGE_SIZE), LEAF(RW));
	KEXPECT_EQ(count_leaves(&s.pt, T_VA, T_VA + MEGAPAGE_SIZE).n[0], 512);
	SCRATCH_END(s);
}

KTEST(ch3_protect, splits_1g_only_as_needed)
{
	struct scratch s;
	SCRATCH_BEGIN(s);
	KASSERT_EQ(pt_map(&s.pt, T_VA, T_PA, GIGAPAGE_SIZE, RW | PT_MAP_HUGE), 0);
	/* A 2 MiB-aligned range: the gigapage splits into megapages, no further. */
	KASSERT_EQ(pt_protect(&s.pt, T_VA + 2 * MEGAPAGE_SIZE, 2 * MEGAPAGE_SIZE, PTE_R, NULL), 0);
	KEXPECT_EQ(s.pt.nr_tables, 2);
	KEXPECT_EQ(q_size(&s.pt, T_VA + 2 * MEGAPAGE_SIZE), MEGAPAGE_SIZE);
	KEXPECT_EQ(q_flags(&s.pt, T_VA + 3 * MEGAPAGE_SIZE), LEAF(PTE_R));
	KEXPECT_EQ(q_flags(&s.pt, T_VA + 4 * MEGAPAGE_SIZE), LEAF(RW));
	KEXPECT_EQ(q_flags(&s.pt, T_VA + MEGAPAGE_SIZE), LEAF(RW));
	KEXPECT_EQ(q_pa(&s.pt, T_VA + 3 * MEGAPAGE_SIZE + 5), T_PA + 3 * MEGAPAGE_SIZE + 5);
	SCRATCH_END(s);
}

KTEST(ch3_protect, flushes_what_changed)
{
	struct scratch s;
	SCRATCH_BEGIN(s);
	KASSERT_EQ(pt_map(&s.pt, T_VA, T_PA, 8 * PAGE_SIZE, RW), 0);
	KASSERT_EQ(pt_map(&s.pt, T_VA + MEGAPAGE_SIZE, T_PA, MEGAPAGE_SIZE, RW | PT_MAP_HUGE), 0);
	struct tlb_flusher fl;
	tlb_flusher_init(&fl, NULL);
	KASSERT_EQ(pt_protect(&s.pt, T_VA + 2 * PAGE_SIZE, 3 * PAGE_SIZE, PTE_R, &fl), 0);
	KEXPECT_EQ(fl.n, 3);
	KEXPECT_FALSE(fl.all);
	KEXPECT_EQ(fl.va[0], T_VA + 2 * PAGE_SIZE);
	KEXPECT_EQ(fl.va[2], T_VA + 4 * PAGE_SIZE);
	tlb_flusher_finish(&fl);
	/* A megapage is one leaf: one flush. Unchanged leaves need none. */
	KASSERT_EQ(pt_protect(&s.pt, T_VA + MEGAPAGE_SIZE, MEGAPAGE_SIZE, PTE_R, &fl), 0);
	KASSERT_EQ(pt_protect(&s.pt, T_VA, PAGE_SIZE, PTE_R | PTE_W, &fl), 0);
	KEXPECT_EQ(fl.n, 1);
	KEXPECT_EQ(fl.va[0], T_VA + MEGAPAGE_SIZE);
	tlb_flusher_finish(&fl);
	SCRATCH_END(s);
}
