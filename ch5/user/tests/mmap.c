/*
 * ch5.user.mmap: mmap(2) of anonymous memory with Linux's results. The
 * rules of rCore-Tutorial's mmap exercise as Linux has them (an unaligned
 * fixed address fails, an unaligned hint is rounded, PROT_NONE is allowed,
 * unknown prot bits are ignored by mmap, a mapping never lands on another
 * unless MAP_FIXED says so); every errno case (len 0, unaligned offset,
 * overflowing lengths, both or neither of MAP_PRIVATE and MAP_SHARED,
 * MAP_SHARED_VALIDATE on anonymous memory, no MAP_ANONYMOUS, ranges above
 * the user half); MAP_FIXED replacing, MAP_FIXED_NOREPLACE's EEXIST,
 * MAP_POPULATE's present pages, hints, the top-down search under the stack,
 * and vm.max_map_count's ENOMEM.
 */
#include "utest5.h"

KTAP_SUITE("ch5.user.mmap");

TEST(anonymous_memory_reads_zero_and_keeps_writes)
{
	char *p = map_anon(4, PROT_RW, MAP_PA);
	ASSERT_TRUE(p != NULL);
	EXPECT_EQ((unsigned long)p % PAGE_SIZE, 0);
	for (int i = 0; i < 4; i++)
		EXPECT_TRUE(page_zero(p, i));
	for (int i = 0; i < 4; i++)
		fill_page(p, i, 11);
	for (int i = 0; i < 4; i++)
		EXPECT_TRUE(page_has(p, i, 11));
	EXPECT_STREQ(perms_at(p), "rw-p");
	EXPECT_EQ(sys_munmap(p, PAGES(4)), 0);
}

TEST(the_posix_call_returns_map_failed_and_sets_errno)
{
	errno = 0;
	EXPECT_TRUE(mmap(NULL, 0, PROT_RW, MAP_PA, -1, 0) == MAP_FAILED);
	EXPECT_EQ(errno, EINVAL);
	void *p = mmap(NULL, PAGE_SIZE, PROT_RW, MAP_PA, -1, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	EXPECT_EQ(munmap(p, PAGE_SIZE), 0);
}

TEST(a_length_is_rounded_up_to_whole_pages)
{
	char *p = AS_PTR(sys_mmap(NULL, PAGE_SIZE + 1, PROT_RW, MAP_PA, -1, 0));
	ASSERT_FALSE(mm_err((long)p));
	EXPECT_TRUE(area_is((unsigned long)p, (unsigned long)p + PAGES(2)));
	p[PAGES(2) - 1] = 1; /* the rest of the second page is ours */
	EXPECT_EQ(sys_munmap(p, PAGES(2)), 0);
}

TEST(length_zero_is_einval)
{
	ASSERT_EQ(clear_free_range(), 0);
	EXPECT_EQ(sys_mmap(NULL, 0, PROT_RW, MAP_PA, -1, 0), -EINVAL);
	EXPECT_EQ(sys_mmap((void *)FREE_ADDR, 0, PROT_RW, MAP_PA | MAP_FIXED, -1, 0), -EINVAL);
}

TEST(an_unaligned_fixed_address_is_einval)
{
	ASSERT_EQ(clear_free_range(), 0);
	EXPECT_EQ(sys_mmap((void *)(FREE_ADDR + 1), PAGE_SIZE, PROT_RW, MAP_PA | MAP_FIXED, -1, 0), -EINVAL);
	EXPECT_EQ(
		sys_mmap((void *)(FREE_ADDR + 2048), PAGE_SIZE, PROT_RW, MAP_PA | MAP_FIXED_NOREPLACE, -1, 0),
		-EINVAL);
	EXPECT_EQ(areas_in(FREE_ADDR, FREE_ADDR + PAGES(2)), 0);
}

/* riscv's Linux rounds a hint up (mm/mmap.c's generic search); x86-64's rounds it down. */
/* Linux's round_hint_to_min() rounds a hint down to its page (seen on the
 * host's Linux; the generic top-down search's PAGE_ALIGN then changes nothing). */
TEST(an_unaligned_hint_is_rounded_down_to_its_page)
{
	ASSERT_EQ(clear_free_range(), 0);
	unsigned long hint = FREE_ADDR + PAGE_SIZE + 0x123;
	long r = sys_mmap((void *)hint, PAGE_SIZE, PROT_RW, MAP_PA, -1, 0);
	EXPECT_EQ(r, (long)(FREE_ADDR + PAGE_SIZE));
	if (!mm_err(r))
		EXPECT_EQ(sys_munmap(AS_PTR(r), PAGE_SIZE), 0);
}

TEST(an_unaligned_offset_is_einval)
{
	EXPECT_EQ(sys_mmap(NULL, PAGE_SIZE, PROT_RW, MAP_PA, -1, 1), -EINVAL);
	EXPECT_EQ(sys_mmap(NULL, PAGE_SIZE, PROT_RW, MAP_PA, -1, 2048), -EINVAL);
	/* An aligned one is ignored for anonymous memory. */
	long r = sys_mmap(NULL, PAGE_SIZE, PROT_RW, MAP_PA, -1, PAGES(3));
	ASSERT_FALSE(mm_err(r));
	EXPECT_TRUE(page_zero(AS_PTR(r), 0));
	EXPECT_EQ(sys_munmap(AS_PTR(r), PAGE_SIZE), 0);
}

TEST(overflowing_lengths_are_enomem)
{
	ASSERT_EQ(clear_free_range(), 0);
	EXPECT_EQ(sys_mmap(NULL, (size_t)-1, PROT_RW, MAP_PA, -1, 0), -ENOMEM);
	EXPECT_EQ(sys_mmap(NULL, (size_t)-PAGE_SIZE, PROT_RW, MAP_PA, -1, 0), -ENOMEM);
	EXPECT_EQ(sys_mmap(NULL, (size_t)-PAGE_SIZE - 1, PROT_RW, MAP_PA, -1, 0), -ENOMEM);
	EXPECT_EQ(sys_mmap(NULL, 1UL << 62, PROT_RW, MAP_PA, -1, 0), -ENOMEM);
	/* More than the whole user half. */
	EXPECT_EQ(sys_mmap(NULL, USER_TOP_ADDR, PROT_RW, MAP_PA, -1, 0), -ENOMEM);
	EXPECT_EQ(sys_mmap((void *)FREE_ADDR, (size_t)-PAGE_SIZE, PROT_RW, MAP_PA | MAP_FIXED, -1, 0),
		  -ENOMEM);
}

TEST(neither_private_nor_shared_is_einval)
{
	EXPECT_EQ(sys_mmap(NULL, PAGE_SIZE, PROT_RW, MAP_ANONYMOUS, -1, 0), -EINVAL);
	EXPECT_EQ(sys_mmap(NULL, PAGE_SIZE, PROT_RW, MAP_ANONYMOUS | 0x04, -1, 0), -EINVAL);
	EXPECT_EQ(sys_mmap(NULL, PAGE_SIZE, PROT_RW, MAP_ANONYMOUS | 0x0f, -1, 0), -EINVAL);
}

TEST(both_private_and_shared_is_einval)
{
	/* 0x03 is MAP_SHARED_VALIDATE, which Linux takes for files only: anonymous memory gets EINVAL. */
	EXPECT_EQ(sys_mmap(NULL, PAGE_SIZE, PROT_RW, MAP_SHARED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
		  -EINVAL);
	EXPECT_EQ(sys_mmap(NULL, PAGE_SIZE, PROT_RW, MAP_SHARED_VALIDATE | MAP_ANONYMOUS | MAP_SYNC, -1, 0),
		  -EINVAL);
}

TEST(unknown_flag_bits_are_ignored_as_linux_does)
{
	/* Linux's legacy mmap ignores flags it does not know (only MAP_SHARED_VALIDATE checks). */
	long r = sys_mmap(NULL, PAGE_SIZE, PROT_RW, MAP_PA | 0x200 | 0x10000000, -1, 0);
	ASSERT_FALSE(mm_err(r));
	EXPECT_STREQ(perms_at(AS_PTR(r)), "rw-p");
	EXPECT_EQ(sys_munmap(AS_PTR(r), PAGE_SIZE), 0);
}

TEST(unknown_prot_bits_are_ignored_by_mmap)
{
	/* rCore's exercise refuses them; Linux's mmap does not look (mprotect does: see ch5.user.mprotect). */
	long r = sys_mmap(NULL, PAGE_SIZE, PROT_RW | 0x100, MAP_PA, -1, 0);
	ASSERT_FALSE(mm_err(r));
	EXPECT_STREQ(perms_at(AS_PTR(r)), "rw-p");
	AS_PTR(r)[8] = 1;
	EXPECT_EQ(sys_munmap(AS_PTR(r), PAGE_SIZE), 0);
}

TEST(prot_none_is_allowed_and_faults_on_access)
{
	char *p = map_anon(2, PROT_NONE, MAP_PA);
	ASSERT_TRUE(p != NULL);
	EXPECT_STREQ(perms_at(p), "---p");
	EXPECT_READ_FAULTS(p, 1);
	EXPECT_WRITE_FAULTS(p + PAGE_SIZE, 1);
	EXPECT_EQ(sys_munmap(p, PAGES(2)), 0);
}

TEST(read_only_memory_faults_on_write)
{
	char *p = map_anon(1, PROT_READ, MAP_PA);
	ASSERT_TRUE(p != NULL);
	EXPECT_STREQ(perms_at(p), "r--p");
	EXPECT_TRUE(page_zero(p, 0));
	EXPECT_WRITE_FAULTS(p, 1);
	EXPECT_EQ(sys_munmap(p, PAGE_SIZE), 0);
}

TEST(write_only_memory_is_readable_and_listed_as_asked)
{
	/* riscv has no write-only pages: PROT_WRITE maps readable, and the listing shows -w-p as Linux's does. */
	char *p = map_anon(1, PROT_WRITE, MAP_PA);
	ASSERT_TRUE(p != NULL);
	EXPECT_STREQ(perms_at(p), "-w-p");
	p[100] = 42;
	EXPECT_EQ(((volatile char *)p)[100], 42);
	EXPECT_READ_FAULTS(p, 0);
	EXPECT_EQ(sys_munmap(p, PAGE_SIZE), 0);
}

TEST(no_map_anonymous_is_ebadf_for_a_bad_descriptor)
{
	EXPECT_EQ(sys_mmap(NULL, PAGE_SIZE, PROT_RW, MAP_PRIVATE, -1, 0), -EBADF);
	EXPECT_EQ(sys_mmap(NULL, PAGE_SIZE, PROT_RW, MAP_SHARED, 1000, 0), -EBADF);
}

TEST(map_shared_with_map_growsdown_is_einval)
{
	EXPECT_EQ(sys_mmap(NULL, PAGE_SIZE, PROT_RW, MAP_SA | MAP_GROWSDOWN_FLAG, -1, 0), -EINVAL);
}

TEST(a_fixed_range_above_the_user_half_is_enomem)
{
	unsigned long top = USER_TOP_ADDR;
	EXPECT_EQ(sys_mmap((void *)top, PAGE_SIZE, PROT_RW, MAP_PA | MAP_FIXED, -1, 0), -ENOMEM);
	EXPECT_EQ(sys_mmap((void *)(top - PAGE_SIZE), PAGES(2), PROT_RW, MAP_PA | MAP_FIXED, -1, 0), -ENOMEM);
	EXPECT_EQ(sys_mmap((void *)KERNEL_ADDR, PAGE_SIZE, PROT_RW, MAP_PA | MAP_FIXED, -1, 0), -ENOMEM);
	EXPECT_EQ(sys_mmap((void *)-PAGE_SIZE, PAGE_SIZE, PROT_RW, MAP_PA | MAP_FIXED, -1, 0), -ENOMEM);
	EXPECT_EQ(sys_mmap((void *)top, PAGE_SIZE, PROT_RW, MAP_PA | MAP_FIXED_NOREPLACE, -1, 0), -ENOMEM);
	EXPECT_EQ(sys_mmap((void *)top, PAGE_SIZE, PROT_RW, MAP_SA | MAP_FIXED, -1, 0), -ENOMEM);
}

TEST(a_hint_above_the_user_half_is_ignored)
{
	long r = sys_mmap((void *)KERNEL_ADDR, PAGE_SIZE, PROT_RW, MAP_PA, -1, 0);
	ASSERT_FALSE(mm_err(r));
	EXPECT_LT((unsigned long)r, USER_TOP_ADDR);
	AS_PTR(r)[0] = 1;
	EXPECT_EQ(sys_munmap(AS_PTR(r), PAGE_SIZE), 0);
	r = sys_mmap((void *)(USER_TOP_ADDR - PAGE_SIZE), PAGES(2), PROT_RW, MAP_PA, -1, 0);
	ASSERT_FALSE(mm_err(r));
	EXPECT_LE((unsigned long)r + PAGES(2), MMAP_TOP);
	EXPECT_EQ(sys_munmap(AS_PTR(r), PAGES(2)), 0);
}

TEST(a_free_hint_is_used)
{
	ASSERT_EQ(clear_free_range(), 0);
	unsigned long hint = FREE_ADDR + PAGES(16);
	long r = sys_mmap((void *)hint, PAGES(3), PROT_RW, MAP_PA, -1, 0);
	EXPECT_EQ(r, (long)hint);
	if (!mm_err(r))
		EXPECT_EQ(sys_munmap(AS_PTR(r), PAGES(3)), 0);
}

TEST(a_taken_hint_is_not_used_and_nothing_is_overwritten)
{
	ASSERT_EQ(clear_free_range(), 0);
	char *old = map_at(FREE_ADDR, 4, PROT_RW, MAP_PA);
	ASSERT_TRUE(old != NULL);
	for (int i = 0; i < 4; i++)
		fill_page(old, i, 7);
	/* A hint on the area, and one that overlaps only its last page. */
	long r1 = sys_mmap(old, PAGES(2), PROT_RW, MAP_PA, -1, 0);
	long r2 = sys_mmap(old + PAGES(3), PAGES(2), PROT_RW, MAP_PA, -1, 0);
	ASSERT_FALSE(mm_err(r1));
	ASSERT_FALSE(mm_err(r2));
	unsigned long lo = (unsigned long)old, hi = lo + PAGES(4);
	EXPECT_TRUE((unsigned long)r1 + PAGES(2) <= lo || (unsigned long)r1 >= hi);
	EXPECT_TRUE((unsigned long)r2 + PAGES(2) <= lo || (unsigned long)r2 >= hi);
	for (int i = 0; i < 4; i++)
		EXPECT_TRUE(page_has(old, i, 7));
	EXPECT_EQ(sys_munmap(AS_PTR(r1), PAGES(2)), 0);
	EXPECT_EQ(sys_munmap(AS_PTR(r2), PAGES(2)), 0);
	EXPECT_EQ(sys_munmap(old, PAGES(4)), 0);
}

TEST(mappings_are_placed_top_down_under_the_stack)
{
	char *a = map_anon(2, PROT_RW, MAP_PA);
	char *b = map_anon(3, PROT_RW, MAP_PA);
	ASSERT_TRUE(a != NULL);
	ASSERT_TRUE(b != NULL);
	unsigned long ua = (unsigned long)a, ub = (unsigned long)b;
	printf("# first at %lx, second at %lx, search from %lx\n", ua, ub, MMAP_TOP);
	EXPECT_LE(ua + PAGES(2), MMAP_TOP);    /* under the stack and its guard gap */
	EXPECT_GT(ua, MMAP_TOP - (1UL << 30)); /* near the top: nothing else is mapped up there */
	EXPECT_LE(ub + PAGES(3), ua);	       /* the next one lower */
	EXPECT_EQ(sys_munmap(a, PAGES(2)), 0);
	EXPECT_EQ(sys_munmap(b, PAGES(3)), 0);
}

TEST(map_fixed_replaces_what_it_overlaps)
{
	ASSERT_EQ(clear_free_range(), 0);
	char *p = map_at(FREE_ADDR, 6, PROT_RW, MAP_PA);
	ASSERT_TRUE(p != NULL);
	for (int i = 0; i < 6; i++)
		fill_page(p, i, 3);
	long r = sys_mmap(p + PAGES(2), PAGES(2), PROT_READ, MAP_PA | MAP_FIXED, -1, 0);
	EXPECT_EQ(r, (long)(p + PAGES(2)));
	EXPECT_TRUE(page_has(p, 0, 3));
	EXPECT_TRUE(page_has(p, 1, 3));
	EXPECT_TRUE(page_zero(p, 2)); /* new memory */
	EXPECT_TRUE(page_zero(p, 3));
	EXPECT_TRUE(page_has(p, 4, 3));
	EXPECT_TRUE(page_has(p, 5, 3));
	EXPECT_STREQ(perms_at(p + PAGES(1)), "rw-p");
	EXPECT_STREQ(perms_at(p + PAGES(2)), "r--p");
	EXPECT_STREQ(perms_at(p + PAGES(4)), "rw-p");
	EXPECT_EQ(areas_in(FREE_ADDR, FREE_ADDR + PAGES(6)), 3);
	EXPECT_EQ(sys_munmap(p, PAGES(6)), 0);
}

TEST(map_fixed_replaces_several_areas_and_fills_holes)
{
	ASSERT_EQ(clear_free_range(), 0);
	/* Three areas with holes between them: [0,2) rw, [3,4) r, [6,8) shared. */
	char *p = (char *)FREE_ADDR;
	ASSERT_TRUE(map_at(FREE_ADDR, 2, PROT_RW, MAP_PA) != NULL);
	ASSERT_TRUE(map_at(FREE_ADDR + PAGES(3), 1, PROT_READ, MAP_PA) != NULL);
	ASSERT_TRUE(map_at(FREE_ADDR + PAGES(6), 2, PROT_RW, MAP_SA) != NULL);
	fill_page(p, 0, 5);
	fill_page(p, 7, 5);
	EXPECT_EQ(areas_in(FREE_ADDR, FREE_ADDR + PAGES(8)), 3);
	long before = mmlab_free_frames();
	long r = sys_mmap(p + PAGES(1), PAGES(6), PROT_READ | PROT_EXEC, MAP_PA | MAP_FIXED, -1, 0);
	EXPECT_EQ(r, (long)(p + PAGES(1)));
	EXPECT_EQ(areas_in(FREE_ADDR, FREE_ADDR + PAGES(8)), 3); /* rw-p | r-xp over [1,7) | rw-s */
	EXPECT_STREQ(perms_at(p), "rw-p");
	EXPECT_STREQ(perms_at(p + PAGES(4)), "r-xp");
	EXPECT_STREQ(perms_at(p + PAGES(7)), "rw-s");
	EXPECT_TRUE(area_is(FREE_ADDR + PAGES(1), FREE_ADDR + PAGES(7)));
	EXPECT_TRUE(page_has(p, 0, 5));
	EXPECT_TRUE(page_has(p, 7, 5));
	EXPECT_TRUE(page_zero(p, 6)); /* the shared page replaced: zero now */
	if (!mmlab_eager())
		EXPECT_GE(mmlab_free_frames(), before); /* replaced pages were given back, none taken */
	EXPECT_EQ(sys_munmap(p, PAGES(8)), 0);
}

TEST(map_fixed_noreplace_over_an_area_is_eexist)
{
	ASSERT_EQ(clear_free_range(), 0);
	char *p = map_at(FREE_ADDR + PAGES(2), 2, PROT_RW, MAP_PA);
	ASSERT_TRUE(p != NULL);
	fill_page(p, 0, 9);
	EXPECT_EQ(sys_mmap(p, PAGES(2), PROT_RW, MAP_PA | MAP_FIXED_NOREPLACE, -1, 0), -EEXIST);
	/* Any overlap counts, the first page or the last. */
	EXPECT_EQ(sys_mmap((void *)FREE_ADDR, PAGES(3), PROT_RW, MAP_PA | MAP_FIXED_NOREPLACE, -1, 0),
		  -EEXIST);
	EXPECT_EQ(sys_mmap(p + PAGES(1), PAGES(4), PROT_RW, MAP_PA | MAP_FIXED_NOREPLACE, -1, 0), -EEXIST);
	EXPECT_TRUE(page_has(p, 0, 9));
	EXPECT_EQ(areas_in(FREE_ADDR, FREE_ADDR + PAGES(8)), 1);
	/* Right beside it is free. */
	long r = sys_mmap(p + PAGES(2), PAGES(1), PROT_RW, MAP_PA | MAP_FIXED_NOREPLACE, -1, 0);
	EXPECT_EQ(r, (long)(p + PAGES(2)));
	EXPECT_EQ(sys_munmap((void *)FREE_ADDR, PAGES(8)), 0);
}

TEST(map_populate_makes_every_page_present)
{
	enum { N = 16 };
	long before = mmlab_free_frames();
	char *p = map_anon(N, PROT_RW, MAP_PA | MAP_POPULATE);
	ASSERT_TRUE(p != NULL);
	long missing = 0;
	for (int i = 0; i < N; i++) {
		long info = mmlab_page_info(p + PAGES(i));
		missing += !(info & MMLAB_PAGE_PRESENT) || (info & MMLAB_PAGE_ZERO);
	}
	EXPECT_EQ(missing, 0);
	EXPECT_GE(before - mmlab_free_frames(), N); /* a frame for each, before any touch */
	for (int i = 0; i < N; i++)
		EXPECT_TRUE(page_zero(p, i));
	EXPECT_EQ(sys_munmap(p, PAGES(N)), 0);
	/* Shared memory too. */
	p = map_anon(4, PROT_RW, MAP_SA | MAP_POPULATE);
	ASSERT_TRUE(p != NULL);
	for (int i = 0; i < 4; i++)
		EXPECT_TRUE(mmlab_page_info(p + PAGES(i)) & MMLAB_PAGE_PRESENT);
	EXPECT_EQ(sys_munmap(p, PAGES(4)), 0);
}

TEST(without_map_populate_pages_come_on_first_touch)
{
	if (mmlab_eager())
		SKIP("eager: areas are populated when made");
	char *p = map_anon(4, PROT_RW, MAP_PA);
	ASSERT_TRUE(p != NULL);
	EXPECT_EQ(mmlab_page_info(p + PAGES(2)) & MMLAB_PAGE_PRESENT, 0);
	p[PAGES(2)] = 1;
	EXPECT_NE(mmlab_page_info(p + PAGES(2)) & MMLAB_PAGE_PRESENT, 0);
	EXPECT_EQ(mmlab_page_info(p + PAGES(3)) & MMLAB_PAGE_PRESENT, 0);
	EXPECT_EQ(sys_munmap(p, PAGES(4)), 0);
}

TEST(a_large_lazy_mapping_costs_no_frames)
{
	if (mmlab_eager())
		SKIP("eager: areas are populated when made");
	long before = mmlab_free_frames();
	char *p = map_anon(1UL << 18, PROT_RW, MAP_PA | MAP_NORESERVE); /* 1 GiB */
	ASSERT_TRUE(p != NULL);
	EXPECT_LT(before - mmlab_free_frames(), 4);
	p[PAGES(1UL << 17)] = 1; /* one page in the middle: a frame and its tables */
	EXPECT_LT(before - mmlab_free_frames(), 8);
	EXPECT_EQ(sys_munmap(p, PAGES(1UL << 18)), 0);
}

/* Single pages with a hole after each, from FREE_ADDR up, until mmap fails; returns how many. */
static long map_until_refused(long *err)
{
	long n = 0;
	for (;; n++) {
		/* PROT_NONE: no frames even in an eager mm (the `eager` configuration). */
		long r = sys_mmap((void *)(FREE_ADDR + PAGES(2 * n)), PAGE_SIZE, PROT_NONE,
				  MAP_PA | MAP_FIXED, -1, 0);
		if (mm_err(r)) {
			*err = r;
			return n;
		}
	}
}

TEST(the_area_limit_is_enomem)
{
	ASSERT_EQ(clear_free_range(), 0);
	long limit = lower_map_count();
	int start = areas_total();
	long err = 0;
	long made = map_until_refused(&err);
	EXPECT_EQ(err, -ENOMEM);
	printf("# %d areas before, %ld mapped until ENOMEM: %ld areas\n", start, made, start + made);
	/*
	 * Linux refuses a new area once more than max_map_count exist (65531
	 * listed then); an area the listing leaves out (a guard) may count too.
	 */
	EXPECT_GE(start + made, limit - 2);
	EXPECT_LE(start + made, limit + 1);
	EXPECT_EQ(sys_munmap((void *)FREE_ADDR, PAGES(2 * made)), 0);
	EXPECT_EQ(areas_total(), start);
	char *p = map_anon(1, PROT_RW, MAP_PA); /* and mmap works again */
	EXPECT_TRUE(p != NULL);
	if (p)
		EXPECT_EQ(sys_munmap(p, PAGE_SIZE), 0);
}
