/*
 * ch5.user.madvise: madvise(2) and msync(2) on anonymous memory with
 * Linux's results. MADV_DONTNEED drops private pages (they read zero
 * afterwards and their frames come back) and keeps shared ones (as Linux's
 * shmem does); the other advice changes nothing; a hole is ENOMEM after
 * the mapped parts were advised. msync has its argument checks only: there
 * is no file behind anonymous memory.
 */
#include "utest5.h"

KTAP_SUITE("ch5.user.madvise");

TEST(dontneed_zeroes_private_pages_and_frees_their_frames)
{
	enum { N = 16 };
	char *p = map_anon(N, PROT_RW, MAP_PA);
	ASSERT_TRUE(p != NULL);
	for (int i = 0; i < N; i++)
		fill_page(p, i, 40);
	long before = mmlab_free_frames();
	EXPECT_EQ(sys_madvise(p + PAGES(2), PAGES(N - 4), MADV_DONTNEED), 0);
	EXPECT_GE(mmlab_free_frames() - before, N - 4);
	EXPECT_TRUE(page_has(p, 0, 40));
	EXPECT_TRUE(page_has(p, 1, 40));
	for (int i = 2; i < N - 2; i++)
		EXPECT_TRUE(page_zero(p, i));
	EXPECT_TRUE(page_has(p, N - 1, 40));
	EXPECT_TRUE(
		area_is((unsigned long)p, (unsigned long)p + PAGES(N))); /* still one area, still mapped */
	p[PAGES(5)] = 1;
	EXPECT_EQ(sys_munmap(p, PAGES(N)), 0);
}

TEST(dontneed_keeps_shared_pages)
{
	char *p = map_anon(4, PROT_RW, MAP_SA);
	ASSERT_TRUE(p != NULL);
	for (int i = 0; i < 4; i++)
		fill_page(p, i, 41);
	EXPECT_EQ(sys_madvise(p, PAGES(4), MADV_DONTNEED), 0);
	for (int i = 0; i < 4; i++)
		EXPECT_TRUE(page_has(p, i, 41));
	EXPECT_EQ(sys_munmap(p, PAGES(4)), 0);
}

TEST(dontneed_after_fork_drops_only_our_copy)
{
	char *p = map_anon(2, PROT_RW, MAP_PA);
	ASSERT_TRUE(p != NULL);
	fill_page(p, 0, 42);
	fill_page(p, 1, 42);
	int go[2];
	ASSERT_EQ(pipe(go), 0);
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		char c;
		read(go[0], &c, 1);
		_exit(page_has(p, 0, 42) && page_has(p, 1, 42) ? 0 : 1);
	}
	EXPECT_EQ(sys_madvise(p, PAGES(2), MADV_DONTNEED), 0);
	EXPECT_TRUE(page_zero(p, 0));
	EXPECT_TRUE(page_zero(p, 1));
	write(go[1], "g", 1);
	int status = -1;
	EXPECT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_EQ(status, 0); /* the child kept the pages as at fork */
	close(go[0]);
	close(go[1]);
	EXPECT_EQ(sys_munmap(p, PAGES(2)), 0);
}

TEST(other_advice_changes_nothing)
{
	char *p = map_anon(2, PROT_RW, MAP_PA);
	ASSERT_TRUE(p != NULL);
	fill_page(p, 0, 43);
	static const int advice[] = {MADV_NORMAL, 1 /* RANDOM */, 2 /* SEQUENTIAL */, MADV_WILLNEED};
	for (unsigned i = 0; i < sizeof(advice) / sizeof(advice[0]); i++)
		EXPECT_EQ(sys_madvise(p, PAGES(2), advice[i]), 0);
	EXPECT_TRUE(page_has(p, 0, 43));
	EXPECT_TRUE(page_zero(p, 1));
	EXPECT_EQ(sys_munmap(p, PAGES(2)), 0);
}

TEST(madvise_argument_checks)
{
	char *p = map_anon(2, PROT_RW, MAP_PA);
	ASSERT_TRUE(p != NULL);
	fill_page(p, 0, 44);
	EXPECT_EQ(sys_madvise(p + 1, PAGE_SIZE, MADV_DONTNEED), -EINVAL);
	EXPECT_EQ(sys_madvise(p, PAGE_SIZE, 999), -EINVAL);
	EXPECT_EQ(sys_madvise(p, (size_t)-PAGE_SIZE, MADV_DONTNEED), -EINVAL); /* wraps */
	EXPECT_EQ(sys_madvise(p, 0, MADV_DONTNEED), 0);
	EXPECT_TRUE(page_has(p, 0, 44));
	ASSERT_EQ(clear_free_range(), 0);
	EXPECT_EQ(sys_madvise((void *)FREE_ADDR, PAGE_SIZE, MADV_DONTNEED), -ENOMEM);
	EXPECT_EQ(sys_madvise((void *)FREE_ADDR, PAGE_SIZE, MADV_WILLNEED), -ENOMEM);
	EXPECT_EQ(sys_madvise((void *)FREE_ADDR, PAGE_SIZE, 999), -EINVAL); /* advice is checked first */
	EXPECT_EQ(sys_madvise((void *)USER_TOP_ADDR, PAGE_SIZE, MADV_DONTNEED), -ENOMEM);
	EXPECT_EQ(madvise((void *)FREE_ADDR, PAGE_SIZE, MADV_DONTNEED), -1); /* POSIX too */
	EXPECT_EQ(errno, ENOMEM);
	EXPECT_EQ(sys_munmap(p, PAGES(2)), 0);
}

TEST(dontneed_over_a_hole_is_enomem_after_advising_the_rest)
{
	ASSERT_EQ(clear_free_range(), 0);
	char *p = map_at(FREE_ADDR, 3, PROT_RW, MAP_PA);
	ASSERT_TRUE(p != NULL);
	fill_page(p, 0, 45);
	fill_page(p, 2, 45);
	EXPECT_EQ(sys_munmap(p + PAGES(1), PAGE_SIZE), 0);
	EXPECT_EQ(sys_madvise(p, PAGES(3), MADV_DONTNEED), -ENOMEM);
	EXPECT_TRUE(page_zero(p, 0)); /* both mapped parts were dropped, as on Linux */
	EXPECT_TRUE(page_zero(p, 2));
	EXPECT_EQ(sys_munmap(p, PAGES(3)), 0);
}

TEST(msync_accepts_its_flags_on_anonymous_memory)
{
	char *p = map_anon(2, PROT_RW, MAP_SA);
	ASSERT_TRUE(p != NULL);
	fill_page(p, 0, 46);
	EXPECT_EQ(sys_msync(p, PAGES(2), MS_SYNC), 0);
	EXPECT_EQ(sys_msync(p, PAGES(2), MS_ASYNC), 0);
	EXPECT_EQ(sys_msync(p, PAGES(2), MS_INVALIDATE), 0);
	EXPECT_EQ(sys_msync(p, PAGES(2), MS_SYNC | MS_INVALIDATE), 0);
	EXPECT_EQ(sys_msync(p, PAGES(2), 0), 0);
	EXPECT_EQ(sys_msync(p, 0, MS_SYNC), 0);
	EXPECT_EQ(sys_msync(p, 1, MS_SYNC), 0); /* a length is rounded up */
	EXPECT_EQ(msync(p, PAGE_SIZE, MS_SYNC), 0);
	EXPECT_TRUE(page_has(p, 0, 46));
	EXPECT_EQ(sys_munmap(p, PAGES(2)), 0);
}

TEST(msync_argument_checks)
{
	ASSERT_EQ(clear_free_range(), 0);
	char *p = map_at(FREE_ADDR, 2, PROT_RW, MAP_PA);
	ASSERT_TRUE(p != NULL);
	EXPECT_EQ(sys_msync(p + 1, PAGE_SIZE, MS_SYNC), -EINVAL);
	EXPECT_EQ(sys_msync(p, PAGE_SIZE, MS_SYNC | MS_ASYNC), -EINVAL);
	EXPECT_EQ(sys_msync(p, PAGE_SIZE, 8), -EINVAL);
	EXPECT_EQ(sys_msync(p, (size_t)-PAGE_SIZE, MS_SYNC), -ENOMEM); /* wraps */
	EXPECT_EQ(sys_msync(p, PAGES(8), MS_SYNC), -ENOMEM);	       /* runs past the area */
	EXPECT_EQ(sys_msync(p + PAGES(4), PAGE_SIZE, MS_SYNC), -ENOMEM);
	EXPECT_EQ(msync(p + PAGES(4), PAGE_SIZE, MS_ASYNC), -1); /* POSIX too */
	EXPECT_EQ(errno, ENOMEM);
	EXPECT_EQ(sys_munmap(p, PAGES(2)), 0);
}
