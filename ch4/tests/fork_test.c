/* ch4.fork: the eager fork copies every present page into new frames; shared areas share. */
#include "mm_test.h"

#define RW (VM_READ | VM_WRITE)

KTEST(ch4_fork, child_has_the_same_bytes_in_new_frames)
{
	MM_BEGIN(mm, before);
	KASSERT_EQ(add_anon(mm, UP(0), UP(4), RW), 0);
	KASSERT_EQ(add_anon(mm, UP(10), UP(11), VM_READ | VM_EXEC), 0);
	KASSERT_EQ(add_area(mm, UP(20), UP(22), VM_NONE, VM_GUARD, &anon_backend, 0), 0);
	for (int i = 0; i < 4; i++)
		KASSERT_TRUE(poke(mm, UP(i) + i, 0x40 + i));
	KASSERT_TRUE(poke(mm, UP(10), 0x13));
	mm->brk_start = UP(30);
	mm->brk = UP(30) + 5;
	struct mm *child = mm_fork(mm);
	KASSERT_NOT_NULL(child);
	KEXPECT_EQ(child->nr_vmas, 3);
	KEXPECT_EQ(nr_areas(child), 3);
	KEXPECT_EQ(child->nr_pages, 5);
	KEXPECT_EQ(child->brk_start, UP(30));
	KEXPECT_EQ(child->brk, UP(30) + 5);
	for (int i = 0; i < 4; i++) {
		KEXPECT_EQ(peek(child, UP(i) + i), 0x40 + i);
		KEXPECT_NE(user_pa(child, UP(i)), user_pa(mm, UP(i)));
		KEXPECT_EQ(user_flags(child, UP(i)), user_flags(mm, UP(i)));
	}
	KEXPECT_EQ(peek(child, UP(10)), 0x13);
	KEXPECT_EQ(user_flags(child, UP(10)), user_flags(mm, UP(10)));
	KEXPECT_EQ(peek(child, UP(20)), -1);
	spin_lock(&child->lock);
	struct vma *g = mm_find_vma(child, UP(21));
	spin_unlock(&child->lock);
	KEXPECT_TRUE(g && g->flags == VM_GUARD && g->mm == child && g->start == UP(20));
	mm_put(child);
	MM_END(mm, before);
}

KTEST(ch4_fork, writes_are_isolated)
{
	MM_BEGIN(mm, before);
	KASSERT_EQ(add_anon(mm, UP(0), UP(2), RW), 0);
	KASSERT_TRUE(poke(mm, UP(1), 1));
	struct mm *child = mm_fork(mm);
	KASSERT_NOT_NULL(child);
	char two = 2, three = 3;
	KEXPECT_EQ(mm_write(child, UP(1), &two, 1), 0);
	KEXPECT_EQ(mm_write(mm, UP(1) + 1, &three, 1), 0);
	KEXPECT_EQ(peek(mm, UP(1)), 1);
	KEXPECT_EQ(peek(child, UP(1)), 2);
	KEXPECT_EQ(peek(child, UP(1) + 1), 0);
	KEXPECT_EQ(peek(mm, UP(1) + 1), 3);
	/* The parent goes first: the child's pages are its own. */
	mm_put(mm);
	KEXPECT_EQ(peek(child, UP(1)), 2);
	KEXPECT_EQ(child->nr_pages, 2);
	MM_END(child, before);
}

KTEST(ch4_fork, shared_areas_share_frames)
{
	MM_BEGIN(mm, before);
	KASSERT_EQ(add_area(mm, UP(0), UP(3), RW, VM_SHARED, &anon_backend, 0), 0);
	struct mm *child = mm_fork(mm);
	KASSERT_NOT_NULL(child);
	for (int i = 0; i < 3; i++) {
		KEXPECT_EQ(user_pa(child, UP(i)), user_pa(mm, UP(i)));
		KEXPECT_EQ(page_ref_count(pa_to_page(user_pa(mm, UP(i)))), 2);
	}
	char v = 9;
	KEXPECT_EQ(mm_write(child, UP(2) + 5, &v, 1), 0);
	KEXPECT_EQ(peek(mm, UP(2) + 5), 9);
	/* Each side's unmap drops one reference: the frames outlive the first. */
	KEXPECT_EQ(mm_remove_range(mm, UP(0), UP(3)), 0);
	KEXPECT_EQ(peek(child, UP(2) + 5), 9);
	KEXPECT_EQ(page_ref_count(pa_to_page(user_pa(child, UP(2)))), 1);
	mm_put(child);
	MM_END(mm, before);
}

KTEST(ch4_fork, of_a_fork_and_of_an_empty_mm)
{
	MM_BEGIN(mm, before);
	struct mm *empty = mm_fork(mm);
	KASSERT_NOT_NULL(empty);
	KEXPECT_EQ(empty->nr_vmas, 0);
	KEXPECT_EQ(empty->nr_pages, 0);
	mm_put(empty);
	KASSERT_EQ(add_anon(mm, UP(0), UP(64), RW), 0);
	KASSERT_TRUE(poke(mm, UP(63), 0x77));
	struct mm *c1 = mm_fork(mm);
	KASSERT_NOT_NULL(c1);
	struct mm *c2 = mm_fork(c1);
	KASSERT_NOT_NULL(c2);
	KEXPECT_EQ(peek(c2, UP(63)), 0x77);
	KEXPECT_EQ(c2->nr_pages, 64);
	mm_put(c1);
	mm_put(c2);
	MM_END(mm, before);
}

KTEST(ch4_fork, out_of_memory_gives_everything_back)
{
	static struct drain d;
	MM_BEGIN(mm, before);
	/* Two runs of pages, 1 GiB apart: the child needs new level-1 and
	 * level-0 tables in the middle of its copy, not only at the start. */
	KASSERT_EQ(add_anon(mm, U_VA, U_VA + 8 * PAGE_SIZE, RW), 0);
	KASSERT_EQ(add_anon(mm, U_VA + GIGAPAGE_SIZE, U_VA + GIGAPAGE_SIZE + 8 * PAGE_SIZE, RW), 0);
	/* Run out at every point of the fork in turn: a copy's frame, the
	 * child's root, a table under a page whose copy was taken already... */
	for (uint64_t keep = 0; keep < 24; keep++) {
		kmalloc_shrink();
		drain_memory(&d, keep);
		uint64_t mid = free_frames_settled();
		struct mm *child = mm_fork(mm);
		uint64_t after = free_frames_settled();
		undrain_memory(&d);
		if (child) {
			KEXPECT_GE(keep, 16); /* 16 copies at least */
			mm_put(child);
			continue;
		}
		if (after != mid)
			printk("a fork that ran out with %lu frames free kept %ld of them\n", keep,
			       (long)(mid - after));
		KEXPECT_EQ(after, mid);
	}
	KEXPECT_EQ(mm->nr_pages, 16);
	MM_END(mm, before);
}
