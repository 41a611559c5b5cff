/* ch4.vma_tree: the AVL area tree against a simple reference (the areas in slot order). */
#include "mm_test.h"

enum { SLOTS = 128, SLOT_PAGES = 16, ROUNDS = 4000 };

static struct vma pool[SLOTS];
static bool in_tree[SLOTS];

static uint64_t rng_state;
static uint64_t rnd(void)
{
	rng_state = rng_state * 6364136223846793005UL + 1442695040888963407UL;
	return rng_state >> 33;
}

/* Slot i's window: areas of slot i lie in [base(i), base(i + 1)), so order is slot order. */
static vaddr_t base(int i) { return U_VA + (vaddr_t)i * SLOT_PAGES * PAGE_SIZE; }

/* The reference's answer to vma_tree_find(va). */
static struct vma *ref_find(vaddr_t va)
{
	for (int i = 0; i < SLOTS; i++)
		if (in_tree[i] && va >= pool[i].start && va < pool[i].end)
			return &pool[i];
	return NULL;
}

/* The reference's answer to vma_tree_find_after(va). */
static struct vma *ref_find_after(vaddr_t va)
{
	for (int i = 0; i < SLOTS; i++)
		if (in_tree[i] && pool[i].end > va)
			return &pool[i];
	return NULL;
}

/* Walk the tree both ways and compare with the slots in order; @return mismatches. */
static int compare_order(struct vma_tree *t)
{
	int bad = 0;
	struct vma *v = vma_tree_first(t);
	for (int i = 0; i < SLOTS; i++) {
		if (!in_tree[i])
			continue;
		bad += v != &pool[i];
		v = v ? vma_tree_next(v) : NULL;
	}
	bad += v != NULL;
	v = vma_tree_last(t);
	for (int i = SLOTS - 1; i >= 0; i--) {
		if (!in_tree[i])
			continue;
		bad += v != &pool[i];
		v = v ? vma_tree_prev(v) : NULL;
	}
	return bad + (v != NULL);
}

KTEST(ch4_vma_tree, random_against_reference)
{
	struct vma_tree t = {0};
	memset(in_tree, 0, sizeof(in_tree));
	rng_state = 42;
	long n = 0;
	for (int r = 0; r < ROUNDS; r++) {
		int i = rnd() % SLOTS;
		if (in_tree[i]) {
			vma_tree_remove(&t, &pool[i]);
			in_tree[i] = false;
			n--;
		} else {
			unsigned first = rnd() % SLOT_PAGES, pages = 1 + rnd() % (SLOT_PAGES - first);
			pool[i].start = base(i) + first * PAGE_SIZE;
			pool[i].end = pool[i].start + pages * PAGE_SIZE;
			KASSERT_EQ(vma_tree_insert(&t, &pool[i]), 0);
			in_tree[i] = true;
			n++;
		}
		KASSERT_EQ(vma_tree_check(&t), n);
		vaddr_t va = U_VA - PAGE_SIZE + rnd() % ((SLOTS * SLOT_PAGES + 2) * PAGE_SIZE);
		KASSERT_TRUE(vma_tree_find(&t, va) == ref_find(va));
		KASSERT_TRUE(vma_tree_find_after(&t, va) == ref_find_after(va));
		if (r % 64 == 0)
			KASSERT_EQ(compare_order(&t), 0);
	}
	KEXPECT_EQ(compare_order(&t), 0);
}

KTEST(ch4_vma_tree, overlap_refused_and_tree_unchanged)
{
	struct vma_tree t = {0};
	struct vma a = {.start = UP(2), .end = UP(5)}, b = {.start = UP(8), .end = UP(9)};
	KASSERT_EQ(vma_tree_insert(&t, &a), 0);
	KASSERT_EQ(vma_tree_insert(&t, &b), 0);
	vaddr_t clash[][2] = {
		{UP(1), UP(3)}, {UP(4), UP(6)}, {UP(3), UP(4)}, {UP(0), UP(10)}, {UP(8), UP(9)}};
	for (unsigned i = 0; i < ARRAY_SIZE(clash); i++) {
		struct vma c = {.start = clash[i][0], .end = clash[i][1]};
		KEXPECT_EQ(vma_tree_insert(&t, &c), -EEXIST);
	}
	KEXPECT_EQ(vma_tree_check(&t), 2);
	/* Touching is not overlapping. */
	struct vma d = {.start = UP(5), .end = UP(8)};
	KEXPECT_EQ(vma_tree_insert(&t, &d), 0);
	KEXPECT_EQ(vma_tree_check(&t), 3);
	KEXPECT_TRUE(vma_tree_find(&t, UP(5)) == &d);
	KEXPECT_TRUE(vma_tree_find(&t, UP(5) - 1) == &a);
	KEXPECT_TRUE(vma_tree_find(&t, UP(9)) == NULL);
	KEXPECT_TRUE(vma_tree_find_after(&t, UP(9)) == NULL);
	KEXPECT_TRUE(vma_tree_find_after(&t, 0) == &a);
}

KTEST(ch4_vma_tree, ascending_inserts_stay_balanced)
{
	/* Sorted inserts make a plain binary tree a list; AVL keeps it log n deep. */
	struct vma_tree t = {0};
	for (int i = 0; i < SLOTS; i++) {
		pool[i].start = base(i);
		pool[i].end = base(i) + PAGE_SIZE;
		KASSERT_EQ(vma_tree_insert(&t, &pool[i]), 0);
	}
	KEXPECT_EQ(vma_tree_check(&t), SLOTS);
	KEXPECT_LE(t.root->height, 10); /* AVL: at most 1.44 log2(n + 2) = 10.1; a list would be 128 */
	for (int i = 0; i < SLOTS; i += 2)
		vma_tree_remove(&t, &pool[i]);
	KEXPECT_EQ(vma_tree_check(&t), SLOTS / 2);
	KEXPECT_TRUE(vma_tree_first(&t) == &pool[1]);
	KEXPECT_TRUE(vma_tree_last(&t) == &pool[SLOTS - 1]);
}
