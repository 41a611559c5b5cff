/* ch3.map: map, query and unmap round trips at every page size; tables freed; no leaks. */
#include "ch3_test.h"

#define RW (PTE_R | PTE_W)

KTEST(ch3_map, roundtrip_4k)
{
	struct scratch s;
	SCRATCH_BEGIN(s);
	KASSERT_EQ(pt_map(&s.pt, T_VA, T_PA, PAGE_SIZE, RW), 0);
	struct pt_mapping m;
	KASSERT_EQ(pt_query(&s.pt, T_VA + 0x123, &m), 0);
	KEXPECT_EQ(m.pa, T_PA + 0x123);
	KEXPECT_EQ(m.page_va, T_VA);
	KEXPECT_EQ(m.page_pa, T_PA);
	KEXPECT_EQ(m.page_size, PAGE_SIZE);
	KEXPECT_EQ(m.level, 0);
	KEXPECT_EQ(m.flags, LEAF(RW));
	KEXPECT_EQ(pt_query(&s.pt, T_VA + PAGE_SIZE, &m), -ENOENT);
	KEXPECT_EQ(pt_query(&s.pt, T_VA - 1, &m), -ENOENT);
	KEXPECT_EQ(s.pt.nr_tables, 3);
	KEXPECT_EQ(pt_unmap(&s.pt, T_VA, PAGE_SIZE, NULL), 0);
	KEXPECT_EQ(pt_query(&s.pt, T_VA, &m), -ENOENT);
	KEXPECT_EQ(s.pt.nr_tables, 1);
	SCRATCH_END(s);
}

KTEST(ch3_map, roundtrip_2m)
{
	struct scratch s;
	SCRATCH_BEGIN(s);
	vaddr_t va = T_VA + 3 * MEGAPAGE_SIZE;
	KASSERT_EQ(pt_map(&s.pt, va, T_PA, MEGAPAGE_SIZE, RW | PT_MAP_HUGE), 0);
	struct pt_mapping m;
	KASSERT_EQ(pt_query(&s.pt, va + 0x1ff123, &m), 0);
	KEXPECT_EQ(m.pa, T_PA + 0x1ff123);
	KEXPECT_EQ(m.page_va, va);
	KEXPECT_EQ(m.page_size, MEGAPAGE_SIZE);
	KEXPECT_EQ(m.level, 1);
	KEXPECT_EQ(s.pt.nr_tables, 2);
	KEXPECT_EQ(q_size(&s.pt, va + MEGAPAGE_SIZE), -ENOENT);
	KEXPECT_EQ(pt_unmap(&s.pt, va, MEGAPAGE_SIZE, NULL), 0);
	KEXPECT_EQ(q_size(&s.pt, va), -ENOENT);
	KEXPECT_EQ(s.pt.nr_tables, 1);
	/* Without PT_MAP_HUGE the same range takes 512 small pages. */
	KASSERT_EQ(pt_map(&s.pt, va, T_PA, MEGAPAGE_SIZE, RW), 0);
	KEXPECT_EQ(q_size(&s.pt, va + 0x1ff123), PAGE_SIZE);
	KEXPECT_EQ(q_pa(&s.pt, va + 0x1ff123), T_PA + 0x1ff123);
	KEXPECT_EQ(count_leaves(&s.pt, va, va + MEGAPAGE_SIZE).n[0], 512);
	KEXPECT_EQ(s.pt.nr_tables, 3);
	KEXPECT_EQ(pt_unmap(&s.pt, va, MEGAPAGE_SIZE, NULL), 0);
	KEXPECT_EQ(s.pt.nr_tables, 1);
	SCRATCH_END(s);
}

KTEST(ch3_map, roundtrip_1g)
{
	struct scratch s;
	SCRATCH_BEGIN(s);
	vaddr_t va = 5 * GIGAPAGE_SIZE;
	KASSERT_EQ(pt_map(&s.pt, va, T_PA, GIGAPAGE_SIZE, PTE_R | PTE_X | PT_MAP_HUGE), 0);
	struct pt_mapping m;
	KASSERT_EQ(pt_query(&s.pt, va + 0x3fedc123, &m), 0);
	KEXPECT_EQ(m.pa, T_PA + 0x3fedc123);
	KEXPECT_EQ(m.page_va, va);
	KEXPECT_EQ(m.page_size, GIGAPAGE_SIZE);
	KEXPECT_EQ(m.level, 2);
	KEXPECT_EQ(m.flags, LEAF(PTE_R | PTE_X));
	KEXPECT_EQ(s.pt.nr_tables, 1); /* a gigapage lives in the root itself */
	KEXPECT_EQ(pt_unmap(&s.pt, va, GIGAPAGE_SIZE, NULL), 0);
	KEXPECT_EQ(q_size(&s.pt, va), -ENOENT);
	SCRATCH_END(s);
}

KTEST(ch3_map, upper_half)
{
	struct scratch s;
	SCRATCH_BEGIN(s);
	vaddr_t va = KSPACE_VMAP_BASE + GIGAPAGE_SIZE;
	KASSERT_EQ(pt_map(&s.pt, va, T_PA, 2 * GIGAPAGE_SIZE + PAGE_SIZE, RW | PTE_G | PT_MAP_HUGE), 0);
	KEXPECT_EQ(q_size(&s.pt, va), GIGAPAGE_SIZE);
	KEXPECT_EQ(q_pa(&s.pt, va + GIGAPAGE_SIZE + 5), T_PA + GIGAPAGE_SIZE + 5);
	KEXPECT_EQ(q_size(&s.pt, va + 2 * GIGAPAGE_SIZE), PAGE_SIZE);
	KEXPECT_EQ(q_flags(&s.pt, va), LEAF(RW | PTE_G));
	KEXPECT_EQ(vpn_index(va, 2), 385);
	KEXPECT_TRUE(pte_is_leaf(((pte_t *)pa_to_kva(s.pt.root))[385]));
	KEXPECT_EQ(pt_unmap(&s.pt, va, 2 * GIGAPAGE_SIZE + PAGE_SIZE, NULL), 0);
	KEXPECT_EQ(s.pt.nr_tables, 1);
	SCRATCH_END(s);
}

KTEST(ch3_map, largest_pages)
{
	/* 8 KiB below a gigabyte boundary, up to 2 MiB + 12 KiB past the next one. */
	struct scratch s;
	SCRATCH_BEGIN(s);
	vaddr_t va = 2 * GIGAPAGE_SIZE - 2 * PAGE_SIZE;
	paddr_t pa = T_PA + GIGAPAGE_SIZE - 2 * PAGE_SIZE;
	size_t size = 2 * PAGE_SIZE + GIGAPAGE_SIZE + MEGAPAGE_SIZE + 3 * PAGE_SIZE;
	KASSERT_EQ(pt_map(&s.pt, va, pa, size, RW | PT_MAP_HUGE), 0);
	struct leaf_counts c = count_leaves(&s.pt, va, va + size);
	KEXPECT_EQ(c.n[0], 5);
	KEXPECT_EQ(c.n[1], 1);
	KEXPECT_EQ(c.n[2], 1);
	KEXPECT_EQ(q_size(&s.pt, va), PAGE_SIZE);
	KEXPECT_EQ(q_size(&s.pt, 2 * GIGAPAGE_SIZE), GIGAPAGE_SIZE);
	KEXPECT_EQ(q_size(&s.pt, 3 * GIGAPAGE_SIZE), MEGAPAGE_SIZE);
	KEXPECT_EQ(q_size(&s.pt, 3 * GIGAPAGE_SIZE + MEGAPAGE_SIZE), PAGE_SIZE);
	for (vaddr_t off = 0; off < size; off += size / 7 & ~(PAGE_SIZE - 1))
		KEXPECT_EQ(q_pa(&s.pt, va + off + 8), pa + off + 8);
	KEXPECT_EQ(q_pa(&s.pt, va + size - 1), pa + size - 1);
	KEXPECT_EQ(q_size(&s.pt, va + size), -ENOENT);
	KEXPECT_EQ(pt_unmap(&s.pt, va, size, NULL), 0);
	KEXPECT_EQ(s.pt.nr_tables, 1);
	SCRATCH_END(s);
}

KTEST(ch3_map, huge_leaf_never_over_a_table)
{
	/* pt_walk() with alloc links tables in with nothing mapped under them.
	 * A huge leaf may not take the slot of such a table (the table would be
	 * cut off and lost): PT_MAP_HUGE takes smaller pages there. */
	struct scratch s;
	SCRATCH_BEGIN(s);
	int level = 0;
	KASSERT_NOT_NULL(pt_walk(&s.pt, T_VA, &level, true));
	KASSERT_EQ(s.pt.nr_tables, 3);
	KASSERT_EQ(pt_map(&s.pt, T_VA, T_PA, GIGAPAGE_SIZE, RW | PT_MAP_HUGE), 0);
	struct leaf_counts c = count_leaves(&s.pt, T_VA, T_VA + GIGAPAGE_SIZE);
	KEXPECT_EQ(c.n[2], 0);
	KEXPECT_EQ(c.n[1], 511);
	KEXPECT_EQ(c.n[0], 512);
	KEXPECT_EQ(q_size(&s.pt, T_VA), PAGE_SIZE);
	KEXPECT_EQ(q_size(&s.pt, T_VA + MEGAPAGE_SIZE), MEGAPAGE_SIZE);
	KEXPECT_EQ(q_pa(&s.pt, T_VA + GIGAPAGE_SIZE - 1), T_PA + GIGAPAGE_SIZE - 1);
	KEXPECT_EQ(s.pt.nr_tables, 3);
	/* An empty level-1 table alone: megapages in it, no gigapage over it. */
	level = 1;
	KASSERT_NOT_NULL(pt_walk(&s.pt, 2 * GIGAPAGE_SIZE, &level, true));
	KASSERT_EQ(s.pt.nr_tables, 4);
	KASSERT_EQ(pt_map(&s.pt, 2 * GIGAPAGE_SIZE, T_PA, GIGAPAGE_SIZE, RW | PT_MAP_HUGE), 0);
	KEXPECT_EQ(q_size(&s.pt, 2 * GIGAPAGE_SIZE), MEGAPAGE_SIZE);
	KEXPECT_EQ(count_leaves(&s.pt, 2 * GIGAPAGE_SIZE, 3 * GIGAPAGE_SIZE).n[1], 512);
	KEXPECT_EQ(s.pt.nr_tables, 4);
	SCRATCH_END(s); /* every table is still linked in: pt_destroy() gives all back */
}

KTEST(ch3_map, alignment_limits_page_size)
{
	struct scratch s;
	SCRATCH_BEGIN(s);
	/* va 2 MiB aligned, pa only 4 KiB aligned: small pages only. */
	KASSERT_EQ(pt_map(&s.pt, T_VA, T_PA + PAGE_SIZE, MEGAPAGE_SIZE, RW | PT_MAP_HUGE), 0);
	KEXPECT_EQ(count_leaves(&s.pt, T_VA, T_VA + MEGAPAGE_SIZE).n[0], 512);
	KEXPECT_EQ(pt_unmap(&s.pt, T_VA, MEGAPAGE_SIZE, NULL), 0);
	/* va 1 GiB aligned, pa only 2 MiB aligned: megapages. */
	KASSERT_EQ(pt_map(&s.pt, T_VA, T_PA + MEGAPAGE_SIZE, GIGAPAGE_SIZE, RW | PT_MAP_HUGE), 0);
	struct leaf_counts c = count_leaves(&s.pt, T_VA, T_VA + GIGAPAGE_SIZE);
	KEXPECT_EQ(c.n[1], 512);
	KEXPECT_EQ(c.n[2], 0);
	KEXPECT_EQ(s.pt.nr_tables, 2);
	KEXPECT_EQ(pt_unmap(&s.pt, T_VA, GIGAPAGE_SIZE, NULL), 0);
	KEXPECT_EQ(s.pt.nr_tables, 1);
	SCRATCH_END(s);
}

KTEST(ch3_map, unmap_frees_empty_tables)
{
	struct scratch s;
	SCRATCH_BEGIN(s);
	KASSERT_EQ(pt_map(&s.pt, T_VA, T_PA, PAGE_SIZE, RW), 0);
	KASSERT_EQ(pt_map(&s.pt, T_VA + MEGAPAGE_SIZE, T_PA, PAGE_SIZE, RW), 0);
	KASSERT_EQ(pt_map(&s.pt, T_VA + MEGAPAGE_SIZE + PAGE_SIZE, T_PA, PAGE_SIZE, RW), 0);
	KEXPECT_EQ(s.pt.nr_tables, 4); /* root, one level-1, two level-0 */
	KEXPECT_EQ(pt_unmap(&s.pt, T_VA, PAGE_SIZE, NULL), 0);
	KEXPECT_EQ(s.pt.nr_tables, 3);
	KEXPECT_EQ(pt_unmap(&s.pt, T_VA + MEGAPAGE_SIZE, PAGE_SIZE, NULL), 0);
	KEXPECT_EQ(s.pt.nr_tables, 3); /* its neighbour still needs the table */
	KEXPECT_EQ(q_pa(&s.pt, T_VA + MEGAPAGE_SIZE + PAGE_SIZE), T_PA);
	KEXPECT_EQ(pt_unmap(&s.pt, T_VA + MEGAPAGE_SIZE + PAGE_SIZE, PAGE_SIZE, NULL), 0);
	KEXPECT_EQ(s.pt.nr_tables, 1);
	KEXPECT_EQ(frames_nr_free(), s.free_before - 1);
	SCRATCH_END(s);
}

KTEST(ch3_map, unmap_part_of_range)
{
	struct scratch s;
	SCRATCH_BEGIN(s);
	KASSERT_EQ(pt_map(&s.pt, T_VA, T_PA, 16 * PAGE_SIZE, RW), 0);
	KASSERT_EQ(pt_unmap(&s.pt, T_VA + 4 * PAGE_SIZE, 4 * PAGE_SIZE, NULL), 0);
	for (int i = 0; i < 16; i++) {
		bool gone = i >= 4 && i < 8;
		KEXPECT_EQ(q_pa(&s.pt, T_VA + i * PAGE_SIZE), gone ? -ENOENT : (long)(T_PA + i * PAGE_SIZE));
	}
	SCRATCH_END(s);
}

KTEST(ch3_map, no_leak_over_cycles)
{
	struct scratch s;
	SCRATCH_BEGIN(s);
	uint64_t free_now = frames_nr_free();
	for (int i = 0; i < 40; i++) {
		vaddr_t va = T_VA + (i % 8) * 3 * MEGAPAGE_SIZE - (i % 3) * PAGE_SIZE + GIGAPAGE_SIZE;
		size_t size = (i % 5 + 1) * MEGAPAGE_SIZE + (i % 4) * PAGE_SIZE;
		unsigned flags = RW | (i & 1 ? PT_MAP_HUGE : 0);
		KASSERT_EQ(pt_map(&s.pt, va, T_PA + (va & (GIGAPAGE_SIZE - 1)), size, flags), 0);
		KASSERT_EQ(pt_map(&s.pt, 8 * GIGAPAGE_SIZE, T_PA, GIGAPAGE_SIZE, RW | PT_MAP_HUGE), 0);
		KASSERT_EQ(pt_unmap(&s.pt, va, size, NULL), 0);
		KASSERT_EQ(pt_unmap(&s.pt, 8 * GIGAPAGE_SIZE, GIGAPAGE_SIZE, NULL), 0);
		KASSERT_EQ(s.pt.nr_tables, 1);
		KASSERT_EQ(frames_nr_free(), free_now);
	}
	SCRATCH_END(s);
}
