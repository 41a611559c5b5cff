/*
 * ch5.user.mremap: mremap(2) of anonymous memory with Linux's results:
 * growing in place when the pages after the area are free, ENOMEM when
 * they are not and the area may not move, moving (MREMAP_MAYMOVE) or
 * moving to a chosen place (MREMAP_FIXED, which replaces what is there),
 * shrinking; contents kept in every case, the old range empty after a
 * move; and the argument checks (flags, alignment, new length 0, old
 * ranges that are not one area: EFAULT).
 */
#include "utest5.h"

KTAP_SUITE("ch5.user.mremap");

/* [FREE_ADDR, + @pages) mapped rw with each page filled, after clearing the free range. */
static char *filled_at_free(unsigned long pages, long salt)
{
	if (clear_free_range() != 0)
		return NULL;
	char *p = map_at(FREE_ADDR, pages, PROT_RW, MAP_PA);
	if (p)
		for (unsigned long i = 0; i < pages; i++)
			fill_page(p, i, salt);
	return p;
}

TEST(growing_in_place_keeps_the_contents)
{
	char *p = filled_at_free(2, 20);
	ASSERT_TRUE(p != NULL);
	EXPECT_EQ(sys_mremap(p, PAGES(2), PAGES(5), 0, NULL), (long)p);
	EXPECT_TRUE(area_is(FREE_ADDR, FREE_ADDR + PAGES(5)));
	EXPECT_TRUE(page_has(p, 0, 20));
	EXPECT_TRUE(page_has(p, 1, 20));
	for (int i = 2; i < 5; i++)
		EXPECT_TRUE(page_zero(p, i));
	p[PAGES(4)] = 1; /* the new pages are writable */
	EXPECT_EQ(sys_munmap(p, PAGES(5)), 0);
}

TEST(growing_into_a_mapping_without_maymove_is_enomem)
{
	char *p = filled_at_free(2, 21);
	ASSERT_TRUE(p != NULL);
	ASSERT_TRUE(map_at(FREE_ADDR + PAGES(3), 1, PROT_RW, MAP_PA) != NULL);
	EXPECT_EQ(sys_mremap(p, PAGES(2), PAGES(4), 0, NULL), -ENOMEM);
	EXPECT_TRUE(area_is(FREE_ADDR, FREE_ADDR + PAGES(2)));
	EXPECT_TRUE(page_has(p, 1, 21));
	EXPECT_EQ(mremap(p, PAGES(2), PAGES(4), 0, NULL), MAP_FAILED); /* POSIX too */
	EXPECT_EQ(errno, ENOMEM);
	EXPECT_EQ(sys_munmap(p, PAGES(4)), 0);
}

TEST(growing_with_maymove_moves_and_keeps_the_contents)
{
	char *p = filled_at_free(3, 22);
	ASSERT_TRUE(p != NULL);
	ASSERT_TRUE(map_at(FREE_ADDR + PAGES(3), 1, PROT_READ, MAP_PA) != NULL);
	long r = sys_mremap(p, PAGES(3), PAGES(8), MREMAP_MAYMOVE, NULL);
	ASSERT_FALSE(mm_err(r));
	char *q = AS_PTR(r);
	EXPECT_NE(q, p);
	EXPECT_EQ((unsigned long)q % PAGE_SIZE, 0);
	for (int i = 0; i < 3; i++)
		EXPECT_TRUE(page_has(q, i, 22));
	for (int i = 3; i < 8; i++)
		EXPECT_TRUE(page_zero(q, i));
	EXPECT_STREQ(perms_at(q), "rw-p");
	EXPECT_TRUE(area_is((unsigned long)q, (unsigned long)q + PAGES(8)));
	/* The old range is empty; its neighbour stays. */
	EXPECT_EQ(areas_in(FREE_ADDR, FREE_ADDR + PAGES(3)), 0);
	EXPECT_READ_FAULTS(p, 1);
	EXPECT_STREQ(perms_at(p + PAGES(3)), "r--p");
	q[PAGES(7)] = 1;
	EXPECT_EQ(sys_munmap(q, PAGES(8)), 0);
	EXPECT_EQ(sys_munmap(p + PAGES(3), PAGE_SIZE), 0);
}

TEST(moving_to_a_fixed_place_replaces_what_is_there)
{
	char *p = filled_at_free(2, 23);
	ASSERT_TRUE(p != NULL);
	char *dst = (char *)(FREE_ADDR + PAGES(100));
	ASSERT_TRUE(map_at((unsigned long)dst, 4, PROT_READ, MAP_PA) != NULL);
	EXPECT_EQ(sys_mremap(p, PAGES(2), PAGES(2), MREMAP_MAYMOVE | MREMAP_FIXED, dst), (long)dst);
	EXPECT_TRUE(page_has(dst, 0, 23));
	EXPECT_TRUE(page_has(dst, 1, 23));
	EXPECT_STREQ(perms_at(dst), "rw-p");
	EXPECT_STREQ(perms_at(dst + PAGES(2)), "r--p"); /* what was past the moved pages stays */
	EXPECT_EQ(areas_in(FREE_ADDR, FREE_ADDR + PAGES(2)), 0);
	EXPECT_EQ(clear_free_range(), 0);
}

TEST(shrinking_unmaps_the_tail)
{
	char *p = filled_at_free(6, 24);
	ASSERT_TRUE(p != NULL);
	EXPECT_EQ(sys_mremap(p, PAGES(6), PAGES(2), 0, NULL), (long)p);
	EXPECT_TRUE(area_is(FREE_ADDR, FREE_ADDR + PAGES(2)));
	EXPECT_TRUE(page_has(p, 1, 24));
	EXPECT_READ_FAULTS(p + PAGES(2), 1);
	/* An unaligned new length covers its last page. */
	EXPECT_EQ(sys_mremap(p, PAGES(2), PAGE_SIZE + 1, 0, NULL), (long)p);
	EXPECT_TRUE(area_is(FREE_ADDR, FREE_ADDR + PAGES(2)));
	EXPECT_EQ(sys_munmap(p, PAGES(2)), 0);
}

TEST(a_part_of_an_area_can_be_moved)
{
	char *p = filled_at_free(6, 25);
	ASSERT_TRUE(p != NULL);
	char *dst = (char *)(FREE_ADDR + PAGES(50));
	EXPECT_EQ(sys_mremap(p + PAGES(2), PAGES(2), PAGES(2), MREMAP_MAYMOVE | MREMAP_FIXED, dst),
		  (long)dst);
	/* The pages keep their bytes, which name their old index. */
	const long *moved = (const long *)dst;
	EXPECT_EQ(moved[0], (2L << 20) ^ 25);
	EXPECT_EQ(moved[PAGE_SIZE / sizeof(long)], (3L << 20) ^ 25);
	EXPECT_TRUE(area_is(FREE_ADDR, FREE_ADDR + PAGES(2)));
	EXPECT_TRUE(area_is(FREE_ADDR + PAGES(4), FREE_ADDR + PAGES(6)));
	EXPECT_TRUE(page_has(p, 4, 25));
	EXPECT_EQ(clear_free_range(), 0);
}

TEST(populated_pages_move_with_their_frames)
{
	enum { N = 32 };
	char *p = filled_at_free(N, 26);
	ASSERT_TRUE(p != NULL);
	long before = mmlab_free_frames();
	long r = sys_mremap(p, PAGES(N), PAGES(N), MREMAP_MAYMOVE | MREMAP_FIXED,
			    (void *)(FREE_ADDR + PAGES(4096)));
	ASSERT_EQ(r, (long)(FREE_ADDR + PAGES(4096)));
	long cost = before - mmlab_free_frames();
	printf("# moving %d written pages cost %ld frames\n", N, cost);
	EXPECT_LT(cost, N / 2); /* page tables at most: the pages themselves moved */
	for (int i = 0; i < N; i++)
		EXPECT_TRUE(page_has(AS_PTR(r), i, 26));
	EXPECT_EQ(clear_free_range(), 0);
}

TEST(unknown_flags_and_fixed_without_maymove_are_einval)
{
	char *p = filled_at_free(1, 27);
	ASSERT_TRUE(p != NULL);
	EXPECT_EQ(sys_mremap(p, PAGE_SIZE, PAGE_SIZE, 8, NULL), -EINVAL);
	EXPECT_EQ(sys_mremap(p, PAGE_SIZE, PAGES(2), 0x100, NULL), -EINVAL);
	EXPECT_EQ(sys_mremap(p, PAGE_SIZE, PAGES(2), MREMAP_FIXED, (void *)(FREE_ADDR + PAGES(64))), -EINVAL);
	EXPECT_TRUE(page_has(p, 0, 27));
	EXPECT_EQ(sys_munmap(p, PAGE_SIZE), 0);
}

TEST(unaligned_addresses_and_length_zero_are_einval_and_no_room_is_enomem)
{
	char *p = filled_at_free(2, 28);
	ASSERT_TRUE(p != NULL);
	EXPECT_EQ(sys_mremap(p + 1, PAGE_SIZE, PAGES(2), MREMAP_MAYMOVE, NULL), -EINVAL);
	EXPECT_EQ(sys_mremap(p, PAGES(2), 0, MREMAP_MAYMOVE, NULL), -EINVAL);
	EXPECT_EQ(sys_mremap(p, PAGES(2), PAGES(2), MREMAP_MAYMOVE | MREMAP_FIXED,
			     (void *)(FREE_ADDR + PAGES(64) + 1)),
		  -EINVAL);
	/* A new range above the user half. */
	EXPECT_EQ(sys_mremap(p, PAGES(2), PAGES(2), MREMAP_MAYMOVE | MREMAP_FIXED, (void *)USER_TOP_ADDR),
		  -EINVAL);
	/* Growing in place past the user half: no room. (A length longer
	 * than the user half itself is EINVAL on Linux 6.18: the next check.) */
	EXPECT_EQ(sys_mremap(p, PAGES(2), USER_TOP_ADDR - PAGE_SIZE, 0, NULL), -ENOMEM);
	EXPECT_EQ(sys_mremap(p, PAGES(2), USER_TOP_ADDR + PAGE_SIZE, MREMAP_MAYMOVE, NULL), -EINVAL);
	EXPECT_TRUE(area_is(FREE_ADDR, FREE_ADDR + PAGES(2)));
	EXPECT_EQ(sys_munmap(p, PAGES(2)), 0);
}

TEST(overlapping_old_and_new_ranges_are_einval)
{
	char *p = filled_at_free(4, 29);
	ASSERT_TRUE(p != NULL);
	EXPECT_EQ(sys_mremap(p, PAGES(2), PAGES(2), MREMAP_MAYMOVE | MREMAP_FIXED, p + PAGES(1)), -EINVAL);
	EXPECT_EQ(sys_mremap(p + PAGES(2), PAGES(2), PAGES(2), MREMAP_MAYMOVE | MREMAP_FIXED, p + PAGES(1)),
		  -EINVAL);
	EXPECT_TRUE(page_has(p, 2, 29));
	EXPECT_EQ(sys_munmap(p, PAGES(4)), 0);
}

TEST(an_old_range_that_is_not_one_area_is_efault)
{
	char *p = filled_at_free(2, 30);
	ASSERT_TRUE(p != NULL);
	/* Nothing mapped there. */
	EXPECT_EQ(sys_mremap((void *)(FREE_ADDR + PAGES(10)), PAGE_SIZE, PAGES(2), MREMAP_MAYMOVE, NULL),
		  -EFAULT);
	/* Past the end of the area into a hole. */
	EXPECT_EQ(sys_mremap(p, PAGES(3), PAGES(4), MREMAP_MAYMOVE, NULL), -EFAULT);
	/* Across two areas. */
	ASSERT_TRUE(map_at(FREE_ADDR + PAGES(2), 1, PROT_READ, MAP_PA) != NULL);
	EXPECT_EQ(sys_mremap(p, PAGES(3), PAGES(4), MREMAP_MAYMOVE, NULL), -EFAULT);
	EXPECT_TRUE(area_is(FREE_ADDR, FREE_ADDR + PAGES(2)));
	EXPECT_EQ(clear_free_range(), 0);
}

TEST(a_read_only_area_moves_read_only)
{
	char *p = filled_at_free(2, 31);
	ASSERT_TRUE(p != NULL);
	EXPECT_EQ(sys_mprotect(p, PAGES(2), PROT_READ), 0);
	char *dst = (char *)(FREE_ADDR + PAGES(30));
	EXPECT_EQ(sys_mremap(p, PAGES(2), PAGES(3), MREMAP_MAYMOVE | MREMAP_FIXED, dst), (long)dst);
	EXPECT_STREQ(perms_at(dst), "r--p");
	EXPECT_TRUE(page_has(dst, 1, 31));
	EXPECT_WRITE_FAULTS(dst, 1);
	EXPECT_TRUE(page_zero(dst, 2));
	EXPECT_EQ(clear_free_range(), 0);
}
