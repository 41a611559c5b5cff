/* ch3.pte: PTE encoding, virtual-address fields, and the walk (spec 4.3.2, 4.4.1). */
#include "ch3_test.h"

KTEST(ch3_pte, encode_decode)
{
	pte_t leaf = pte_make_leaf(0x80201000, PTE_R | PTE_W | PTE_G);
	KEXPECT_EQ(leaf >> PTE_PPN_SHIFT, 0x80201);
	KEXPECT_EQ(pte_pa(leaf), 0x80201000);
	KEXPECT_EQ(pte_pfn(leaf), 0x80201);
	KEXPECT_EQ(pte_flags(leaf), LEAF(PTE_R | PTE_W | PTE_G));
	KEXPECT_TRUE(pte_valid(leaf));
	KEXPECT_TRUE(pte_is_leaf(leaf));
	KEXPECT_FALSE(pte_is_table(leaf));

	pte_t table = pte_make_table(0x80300000);
	KEXPECT_EQ(table, (0x80300UL << 10) | PTE_V);
	KEXPECT_TRUE(pte_is_table(table));
	KEXPECT_FALSE(pte_is_leaf(table));
	KEXPECT_FALSE(pte_valid(0));
	KEXPECT_TRUE(pte_is_leaf(pte_make_leaf(0x1000, PTE_X))); /* execute-only is a leaf */
	/* A PPN of 44 bits: the top physical frame below 2^56. */
	KEXPECT_EQ(pte_pa(pte_make_leaf((1UL << 56) - PAGE_SIZE, PTE_R)), (1UL << 56) - PAGE_SIZE);
}

KTEST(ch3_pte, va_fields)
{
	vaddr_t va = (5UL << 30) | (7UL << 21) | (9UL << 12) | 0x123;
	KEXPECT_EQ(vpn_index(va, 2), 5);
	KEXPECT_EQ(vpn_index(va, 1), 7);
	KEXPECT_EQ(vpn_index(va, 0), 9);
	KEXPECT_EQ(vpn_index(KERNEL_BASE, 2), 510);
	KEXPECT_EQ(vpn_index(KERNEL_BASE, 1), 1);
	KEXPECT_EQ(vpn_index(KERNEL_BASE, 0), 0);
	KEXPECT_EQ(vpn_index(DIRECT_MAP_BASE, 2), 256);
	KEXPECT_EQ(level_size(0), PAGE_SIZE);
	KEXPECT_EQ(level_size(1), MEGAPAGE_SIZE);
	KEXPECT_EQ(level_size(2), GIGAPAGE_SIZE);
}

KTEST(ch3_pte, canonical)
{
	KEXPECT_TRUE(va_is_canonical(0));
	KEXPECT_TRUE(va_is_canonical(0x3fffffffffUL));
	KEXPECT_FALSE(va_is_canonical(0x4000000000UL));
	KEXPECT_FALSE(va_is_canonical(0xffffffbfffffffffUL));
	KEXPECT_TRUE(va_is_canonical(0xffffffc000000000UL));
	KEXPECT_TRUE(va_is_canonical(~0UL));
	KEXPECT_FALSE(va_is_canonical(0x8000000000000000UL));
	KEXPECT_EQ(va_sign_extend(0x4000000000UL), 0xffffffc000000000UL);
}

KTEST(ch3_pte, walk_allocates_tables)
{
	struct scratch s;
	SCRATCH_BEGIN(s);
	int level = 0;
	KEXPECT_NULL(pt_walk(&s.pt, T_VA, &level, false));
	KEXPECT_EQ(s.pt.nr_tables, 1);
	level = 0;
	pte_t *pte = pt_walk(&s.pt, T_VA + 0x5000, &level, true);
	KASSERT_NOT_NULL(pte);
	KEXPECT_EQ(level, 0);
	KEXPECT_EQ(*pte, 0);
	KEXPECT_EQ(s.pt.nr_tables, 3); /* root, a level-1 and a level-0 table */
	KEXPECT_EQ(frames_nr_free(), s.free_before - 3);
	/* The same slot again, now without allocating. */
	level = 0;
	KEXPECT_TRUE(pt_walk(&s.pt, T_VA + 0x5fff, &level, false) == pte);
	/* The level-1 entry above it points to a table. */
	level = 1;
	pte_t *pde = pt_walk(&s.pt, T_VA, &level, false);
	KASSERT_NOT_NULL(pde);
	KEXPECT_TRUE(pte_is_table(*pde));
	/* The root entry for T_VA is entry 1 of the root table. */
	pte_t *root = pa_to_kva(s.pt.root);
	KEXPECT_TRUE(pte_is_table(root[1]));
	SCRATCH_END(s);
}

KTEST(ch3_pte, walk_stops_at_huge_leaf)
{
	struct scratch s;
	SCRATCH_BEGIN(s);
	KASSERT_EQ(pt_map(&s.pt, T_VA, T_PA, MEGAPAGE_SIZE, PTE_R | PTE_W | PT_MAP_HUGE), 0);
	int level = 0;
	pte_t *pte = pt_walk(&s.pt, T_VA + 0x12345, &level, true);
	KASSERT_NOT_NULL(pte);
	KEXPECT_EQ(level, 1);
	KEXPECT_TRUE(pte_is_leaf(*pte));
	KEXPECT_EQ(pte_pa(*pte), T_PA);
	KEXPECT_EQ(s.pt.nr_tables, 2); /* the walk allocated nothing under the leaf */
	SCRATCH_END(s);
}

/* What pt_visit() called its function on: up to 8 entries, in order. */
struct visited {
	int n;
	vaddr_t va[8];
	int level[8];
	bool leaf[8];
};

static int record_entry(pte_t *pte, int level, vaddr_t va, void *arg)
{
	struct visited *v = arg;
	if (v->n < 8) {
		v->va[v->n] = va;
		v->level[v->n] = level;
		v->leaf[v->n] = pte_is_leaf(*pte);
	}
	v->n++;
	return 0;
}

static struct visited visit(struct pagetable *pt, vaddr_t start, vaddr_t end)
{
	struct visited v = {0};
	pt_visit(pt, start, end, record_entry, &v);
	return v;
}

KTEST(ch3_pte, visit_meets_partial_pages)
{
	/* pt_visit() takes any byte range: every leaf and hole with a byte in
	 * [start, end) is visited once, the one holding the last byte too. */
	struct scratch s;
	SCRATCH_BEGIN(s);
	KASSERT_EQ(pt_map(&s.pt, T_VA, T_PA, 2 * PAGE_SIZE, PTE_R | PTE_W), 0);
	struct visited v = visit(&s.pt, T_VA, T_VA + 1); /* the first byte */
	KEXPECT_EQ(v.n, 1);
	KEXPECT_EQ(v.va[0], T_VA);
	KEXPECT_TRUE(v.leaf[0]);
	v = visit(&s.pt, T_VA + PAGE_SIZE - 1, T_VA + PAGE_SIZE + 1); /* across a page boundary */
	KEXPECT_EQ(v.n, 2);
	KEXPECT_EQ(v.va[1], T_VA + PAGE_SIZE);
	v = visit(&s.pt, T_VA + PAGE_SIZE, T_VA + 2 * PAGE_SIZE + 1); /* a leaf and one byte of a hole */
	KEXPECT_EQ(v.n, 2);
	KEXPECT_TRUE(v.leaf[0]);
	KEXPECT_FALSE(v.leaf[1]);
	KEXPECT_EQ(v.va[1], T_VA + 2 * PAGE_SIZE);
	KEXPECT_EQ(v.level[1], 0);
	v = visit(&s.pt, T_VA + MEGAPAGE_SIZE, T_VA + MEGAPAGE_SIZE + 1); /* a missing level-0 table */
	KEXPECT_EQ(v.n, 1);
	KEXPECT_FALSE(v.leaf[0]);
	KEXPECT_EQ(v.va[0], T_VA + MEGAPAGE_SIZE);
	KEXPECT_EQ(v.level[0], 1);
	SCRATCH_END(s);
}
