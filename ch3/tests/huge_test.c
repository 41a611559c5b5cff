/* ch3.huge: huge pages come apart when part of them is unmapped or protected. */
#include "ch3_test.h"

#define RW (PTE_R | PTE_W)

KTEST(ch3_huge, split_2m_unmap_4k)
{
	struct scratch s;
	SCRATCH_BEGIN(s);
	KASSERT_EQ(pt_map(&s.pt, T_VA, T_PA, MEGAPAGE_SIZE, RW | PT_MAP_HUGE), 0);
	KASSERT_EQ(s.pt.nr_tables, 2);
	KASSERT_EQ(pt_unmap(&s.pt, T_VA, PAGE_SIZE, NULL), 0);
	KEXPECT_EQ(s.pt.nr_tables, 3);
	KEXPECT_EQ(q_size(&s.pt, T_VA), -ENOENT);
	for (int i = 1; i < 512; i++) {
		struct pt_mapping m;
		KASSERT_EQ(pt_query(&s.pt, T_VA + i * PAGE_SIZE + 8, &m), 0);
		KEXPECT_EQ(m.pa, T_PA + i * PAGE_SIZE + 8);
		KEXPECT_EQ(m.page_size, PAGE_SIZE);
		KEXPECT_EQ(m.flags, LEAF(RW));
	}
	/* Put the page back, small. */
	KEXPECT_EQ(pt_map(&s.pt, T_VA, T_PA, PAGE_SIZE, RW), 0);
	KEXPECT_EQ(q_pa(&s.pt, T_VA), T_PA);
	SCRATCH_END(s);
}

KTEST(ch3_huge, split_1g_unmap_4k)
{
	struct scratch s;
	SCRATCH_BEGIN(s);
	KASSERT_EQ(pt_map(&s.pt, T_VA, T_PA, GIGAPAGE_SIZE, RW | PT_MAP_HUGE), 0);
	vaddr_t hole = T_VA + 5 * MEGAPAGE_SIZE + 3 * PAGE_SIZE;
	KASSERT_EQ(pt_unmap(&s.pt, hole, PAGE_SIZE, NULL), 0);
	KEXPECT_EQ(s.pt.nr_tables, 3); /* 1 GiB -> 512 x 2 MiB, one of them -> 512 x 4 KiB */
	KEXPECT_EQ(q_size(&s.pt, hole), -ENOENT);
	KEXPECT_EQ(q_size(&s.pt, hole - PAGE_SIZE), PAGE_SIZE);
	KEXPECT_EQ(q_size(&s.pt, hole + PAGE_SIZE), PAGE_SIZE);
	KEXPECT_EQ(q_size(&s.pt, T_VA + 4 * MEGAPAGE_SIZE), MEGAPAGE_SIZE);
	KEXPECT_EQ(q_size(&s.pt, T_VA + 6 * MEGAPAGE_SIZE), MEGAPAGE_SIZE);
	struct leaf_counts c = count_leaves(&s.pt, T_VA, T_VA + GIGAPAGE_SIZE);
	KEXPECT_EQ(c.n[0], 511);
	KEXPECT_EQ(c.n[1], 511);
	KEXPECT_EQ(c.n[2], 0);
	for (vaddr_t off = 0; off < GIGAPAGE_SIZE; off += 7 * MEGAPAGE_SIZE + 5 * PAGE_SIZE)
		if (T_VA + off < hole || T_VA + off >= hole + PAGE_SIZE)
			KEXPECT_EQ(q_pa(&s.pt, T_VA + off), T_PA + off);
	/* Unmapping the rest frees every table. */
	KEXPECT_EQ(pt_unmap(&s.pt, T_VA, hole - T_VA, NULL), 0);
	KEXPECT_EQ(pt_unmap(&s.pt, hole + PAGE_SIZE, T_VA + GIGAPAGE_SIZE - hole - PAGE_SIZE, NULL), 0);
	KEXPECT_EQ(s.pt.nr_tables, 1);
	SCRATCH_END(s);
}

KTEST(ch3_huge, unmap_across_huge_pages)
{
	struct scratch s;
	SCRATCH_BEGIN(s);
	KASSERT_EQ(pt_map(&s.pt, T_VA, T_PA, 2 * GIGAPAGE_SIZE, RW | PT_MAP_HUGE), 0);
	vaddr_t start = T_VA + GIGAPAGE_SIZE - MEGAPAGE_SIZE - PAGE_SIZE;
	vaddr_t end = T_VA + GIGAPAGE_SIZE + MEGAPAGE_SIZE + PAGE_SIZE;
	KASSERT_EQ(pt_unmap(&s.pt, start, end - start, NULL), 0);
	KEXPECT_EQ(s.pt.nr_tables, 5); /* each gigapage split, then one megapage of each */
	KEXPECT_EQ(q_size(&s.pt, start - PAGE_SIZE), PAGE_SIZE);
	KEXPECT_EQ(q_size(&s.pt, start), -ENOENT);
	KEXPECT_EQ(q_size(&s.pt, T_VA + GIGAPAGE_SIZE), -ENOENT);
	KEXPECT_EQ(q_size(&s.pt, end - PAGE_SIZE), -ENOENT);
	KEXPECT_EQ(q_pa(&s.pt, end), T_PA + (end - T_VA));
	KEXPECT_EQ(q_size(&s.pt, end), PAGE_SIZE);
	KEXPECT_EQ(q_size(&s.pt, end + MEGAPAGE_SIZE), MEGAPAGE_SIZE);
	KEXPECT_EQ(q_size(&s.pt, T_VA), MEGAPAGE_SIZE);
	KEXPECT_TRUE(pt_range_free(&s.pt, start, end));
	SCRATCH_END(s);
}

KTEST(ch3_huge, split_keeps_translation)
{
	struct scratch s;
	SCRATCH_BEGIN(s);
	KASSERT_EQ(pt_map(&s.pt, T_VA, T_PA, GIGAPAGE_SIZE, RW | PTE_G | PT_MAP_HUGE), 0);
	int level = 2;
	pte_t *pte = pt_walk(&s.pt, T_VA, &level, false);
	KASSERT_NOT_NULL(pte);
	KASSERT_EQ(pt_split(&s.pt, pte, 2), 0);
	KEXPECT_TRUE(pte_is_table(*pte));
	KEXPECT_EQ(s.pt.nr_tables, 2);
	level = 1;
	pte = pt_walk(&s.pt, T_VA + 9 * MEGAPAGE_SIZE, &level, false);
	KASSERT_NOT_NULL(pte);
	KASSERT_EQ(pt_split(&s.pt, pte, 1), 0);
	KEXPECT_EQ(s.pt.nr_tables, 3);
	for (vaddr_t off = 0; off < GIGAPAGE_SIZE; off += 3 * MEGAPAGE_SIZE + 0x1234) {
		struct pt_mapping m;
		KASSERT_EQ(pt_query(&s.pt, T_VA + off, &m), 0);
		KEXPECT_EQ(m.pa, T_PA + off);
		KEXPECT_EQ(m.flags, LEAF(RW | PTE_G));
	}
	for (vaddr_t off = 9 * MEGAPAGE_SIZE; off < 10 * MEGAPAGE_SIZE; off += PAGE_SIZE)
		KEXPECT_EQ(q_pa(&s.pt, T_VA + off + 1), T_PA + off + 1);
	KEXPECT_EQ(pt_split(&s.pt, pte, 0), -EINVAL);
	SCRATCH_END(s);
}

KTEST(ch3_huge, split_out_of_memory)
{
	struct scratch s;
	SCRATCH_BEGIN(s);
	KASSERT_EQ(pt_map(&s.pt, T_VA, T_PA, GIGAPAGE_SIZE, RW | PT_MAP_HUGE), 0);
	uint64_t free_now = frames_nr_free();
	/* The first split (1 GiB -> 2 MiB) works, the second fails: both undone. */
	for (unsigned long failat = 1; failat <= 2; failat++) {
		pt_inject_alloc_failure(failat);
		KEXPECT_EQ(pt_unmap(&s.pt, T_VA + 3 * PAGE_SIZE, PAGE_SIZE, NULL), -ENOMEM);
		pt_inject_alloc_failure(0);
		KEXPECT_EQ(q_size(&s.pt, T_VA + 3 * PAGE_SIZE), GIGAPAGE_SIZE);
		KEXPECT_EQ(s.pt.nr_tables, 1);
		KEXPECT_EQ(frames_nr_free(), free_now);
		pt_inject_alloc_failure(failat);
		KEXPECT_EQ(pt_protect(&s.pt, T_VA + MEGAPAGE_SIZE + PAGE_SIZE, PAGE_SIZE, PTE_R, NULL),
			   -ENOMEM);
		pt_inject_alloc_failure(0);
		KEXPECT_EQ(q_flags(&s.pt, T_VA + MEGAPAGE_SIZE + PAGE_SIZE), LEAF(RW));
		KEXPECT_EQ(s.pt.nr_tables, 1);
		KEXPECT_EQ(frames_nr_free(), free_now);
	}
	SCRATCH_END(s);
}

/* The leaf that maps @p va in @p pt and its level, or 0 if none. */
static pte_t leaf_of(struct pagetable *pt, vaddr_t va, int *level)
{
	*level = 0;
	pte_t *pte = pt_walk(pt, va, level, false);
	return pte && pte_is_leaf(*pte) ? *pte : 0;
}

KTEST(ch3_huge, split_both_edges_out_of_memory)
{
	/*
	 * Both ends of the range fall inside 2 MiB pages of one gigapage: the
	 * start takes two splits (1 GiB, then its 2 MiB page, which is entry 0
	 * of the first new table), the end one more. When the third table
	 * cannot be had, the first two splits are undone newest first (the
	 * second table hangs in the first), their tables freed by the flush.
	 */
	struct scratch s;
	SCRATCH_BEGIN(s);
	KASSERT_EQ(pt_map(&s.pt, T_VA, T_PA, GIGAPAGE_SIZE, RW | PT_MAP_HUGE), 0);
	int level;
	pte_t leaf = leaf_of(&s.pt, T_VA, &level);
	KASSERT_EQ(level, 2);
	uint64_t free_now = frames_nr_free();
	vaddr_t start = T_VA + 3 * PAGE_SIZE, end = T_VA + 5 * MEGAPAGE_SIZE + 7 * PAGE_SIZE;
	for (unsigned long failat = 1; failat <= 3; failat++) {
		for (int protect = 0; protect <= 1; protect++) {
			struct tlb_flusher fl;
			tlb_flusher_init(&fl, NULL);
			pt_inject_alloc_failure(failat);
			int err = protect ? pt_protect(&s.pt, start, end - start, PTE_R, &fl)
					  : pt_unmap(&s.pt, start, end - start, &fl);
			pt_inject_alloc_failure(0);
			tlb_flusher_finish(&fl);
			KEXPECT_EQ(err, -ENOMEM);
			/* Exactly as before: the same gigapage leaf, every frame back. */
			KEXPECT_EQ(leaf_of(&s.pt, start, &level), leaf);
			KEXPECT_EQ(level, 2);
			KEXPECT_EQ(leaf_of(&s.pt, end, &level), leaf);
			KEXPECT_EQ(q_pa(&s.pt, end - PAGE_SIZE + 8), T_PA + (end - T_VA) - PAGE_SIZE + 8);
			KEXPECT_EQ(s.pt.nr_tables, 1);
			KEXPECT_EQ(frames_nr_free(), free_now);
		}
	}
	/* With memory the same unmap takes those three tables, no more. */
	pt_inject_alloc_failure(4);
	KEXPECT_EQ(pt_unmap(&s.pt, start, end - start, NULL), 0);
	pt_inject_alloc_failure(0);
	KEXPECT_EQ(s.pt.nr_tables, 4);
	KEXPECT_EQ(q_size(&s.pt, start - PAGE_SIZE), PAGE_SIZE);
	KEXPECT_EQ(q_size(&s.pt, start), -ENOENT);
	KEXPECT_EQ(q_size(&s.pt, end - PAGE_SIZE), -ENOENT);
	KEXPECT_EQ(q_pa(&s.pt, end), T_PA + (end - T_VA));
	SCRATCH_END(s);
}
