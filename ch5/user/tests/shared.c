/*
 * ch5.user.shared: MAP_SHARED|MAP_ANONYMOUS memory stays shared with
 * children after fork, both ways, down a chain of forks, after the parent
 * has unmapped its view, across mprotect and madvise and a move by
 * mremap; MAP_PRIVATE memory is copy-on-write (ch4): the page is shared
 * read-only until the first write, and neither side sees the other's
 * writes after it.
 */
#include "utest5.h"

KTAP_SUITE("ch5.user.shared");

#define INFO_BITS(i) ((i) & ~0xffffffffL)

static void signal_fd(int fd) { (void)write(fd, "x", 1); }
static bool wait_fd(int fd)
{
	char c;
	return read(fd, &c, 1) == 1;
}

/* Poll a shared long until it holds @want (the other process writes it). */
static bool wait_value(volatile long *p, long want)
{
	for (long i = 0; i < 2000000; i++) {
		if (*p == want)
			return true;
		if (i % 64 == 0)
			sched_yield();
	}
	return *p == want;
}

TEST(a_childs_writes_are_seen_by_the_parent)
{
	volatile long *p = (volatile long *)map_anon(2, PROT_RW, MAP_SA);
	ASSERT_TRUE(p != NULL);
	p[0] = 1;
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		int ok = p[0] == 1;
		p[0] = 2;
		p[PAGE_SIZE / sizeof(long)] = 3; /* a page nobody touched before the fork */
		_exit(ok ? 0 : 1);
	}
	int status = -1;
	EXPECT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_EQ(status, 0);
	EXPECT_EQ(p[0], 2);
	EXPECT_EQ(p[PAGE_SIZE / sizeof(long)], 3);
	EXPECT_EQ(sys_munmap((void *)p, PAGES(2)), 0);
}

TEST(the_parents_writes_are_seen_by_a_running_child)
{
	volatile long *p = (volatile long *)map_anon(1, PROT_RW, MAP_SA);
	ASSERT_TRUE(p != NULL);
	p[1] = 0;
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		bool ok = wait_value(&p[1], 7); /* the parent writes after the fork */
		p[2] = 8;
		_exit(ok ? 0 : 1);
	}
	p[1] = 7;
	EXPECT_TRUE(wait_value(&p[2], 8));
	int status = -1;
	EXPECT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_EQ(status, 0);
	EXPECT_EQ(sys_munmap((void *)p, PAGE_SIZE), 0);
}

TEST(a_shared_page_is_one_frame_not_copy_on_write)
{
	char *p = map_anon(1, PROT_RW, MAP_SA);
	ASSERT_TRUE(p != NULL);
	p[0] = 1;
	int go[2];
	ASSERT_EQ(pipe(go), 0);
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		wait_fd(go[0]);
		_exit(0);
	}
	long info = mmlab_page_info(p);
	EXPECT_EQ(INFO_BITS(info), MMLAB_PAGE_PRESENT | MMLAB_PAGE_WRITABLE); /* writable, no COW mark */
	EXPECT_EQ(MMLAB_PAGE_REFS(info), 2);
	signal_fd(go[1]);
	int status = -1;
	EXPECT_EQ(waitpid(pid, &status, 0), pid);
	close(go[0]);
	close(go[1]);
	EXPECT_EQ(sys_munmap(p, PAGE_SIZE), 0);
}

TEST(private_memory_is_copy_on_write)
{
	volatile long *p = (volatile long *)map_anon(1, PROT_RW, MAP_PA);
	ASSERT_TRUE(p != NULL);
	p[0] = 100;
	int go[2];
	ASSERT_EQ(pipe(go), 0);
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		int bad = p[0] != 100;
		p[0] = 200; /* our copy only */
		bad |= p[0] != 200;
		wait_fd(go[0]);
		bad |= p[0] != 200;
		_exit(bad);
	}
	if (!mmlab_eager()) {
		long info = mmlab_page_info((void *)p);
		EXPECT_NE(info & MMLAB_PAGE_COW, 0);
		EXPECT_EQ(info & MMLAB_PAGE_WRITABLE, 0);
	}
	p[0] = 300;
	signal_fd(go[1]);
	int status = -1;
	EXPECT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_EQ(status, 0);
	EXPECT_EQ(p[0], 300);
	close(go[0]);
	close(go[1]);
	EXPECT_EQ(sys_munmap((void *)p, PAGE_SIZE), 0);
}

TEST(a_chain_of_forks_shares_one_page)
{
	volatile long *p = (volatile long *)map_anon(1, PROT_RW, MAP_SA);
	ASSERT_TRUE(p != NULL);
	p[0] = 0;
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		pid_t grandchild = fork();
		if (grandchild == 0) {
			__atomic_add_fetch(&p[0], 10, __ATOMIC_SEQ_CST);
			_exit(0);
		}
		int st = -1;
		bool ok = grandchild > 0 && waitpid(grandchild, &st, 0) == grandchild && st == 0;
		ok &= p[0] == 10; /* the grandchild's write */
		__atomic_add_fetch(&p[0], 1, __ATOMIC_SEQ_CST);
		_exit(ok ? 0 : 1);
	}
	int status = -1;
	EXPECT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_EQ(status, 0);
	EXPECT_EQ(p[0], 11);
	EXPECT_EQ(sys_munmap((void *)p, PAGE_SIZE), 0);
}

TEST(the_child_keeps_the_memory_after_the_parent_unmaps_it)
{
	volatile long *p = (volatile long *)map_anon(1, PROT_RW, MAP_SA);
	ASSERT_TRUE(p != NULL);
	p[0] = 5;
	int go[2], back[2];
	ASSERT_EQ(pipe(go), 0);
	ASSERT_EQ(pipe(back), 0);
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		wait_fd(go[0]);
		int bad = p[0] != 5;
		p[0] = 6; /* still our memory */
		bad |= p[0] != 6;
		_exit(bad);
	}
	EXPECT_EQ(sys_munmap((void *)p, PAGE_SIZE), 0);
	signal_fd(go[1]);
	int status = -1;
	EXPECT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_EQ(status, 0);
	for (int i = 0; i < 2; i++) {
		close(go[i]);
		close(back[i]);
	}
}

TEST(sharing_survives_mprotect_and_madvise)
{
	volatile long *p = (volatile long *)map_anon(1, PROT_RW, MAP_SA);
	ASSERT_TRUE(p != NULL);
	p[0] = 1;
	int go[2];
	ASSERT_EQ(pipe(go), 0);
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		/* Read-only and back, then dropped: the pages are still the parent's. */
		int bad = sys_mprotect((void *)p, PAGE_SIZE, PROT_READ) != 0;
		bad |= sys_mprotect((void *)p, PAGE_SIZE, PROT_RW) != 0;
		bad |= sys_madvise((void *)p, PAGE_SIZE, MADV_DONTNEED) != 0;
		bad |= p[0] != 1;
		p[0] = 2;
		wait_fd(go[0]);
		bad |= p[1] != 3;
		_exit(bad);
	}
	EXPECT_TRUE(wait_value(&p[0], 2));
	EXPECT_STREQ(perms_at((void *)p), "rw-s"); /* the child's mprotect was its own */
	p[1] = 3;
	signal_fd(go[1]);
	int status = -1;
	EXPECT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_EQ(status, 0);
	close(go[0]);
	close(go[1]);
	EXPECT_EQ(sys_munmap((void *)p, PAGE_SIZE), 0);
}

TEST(sharing_survives_a_move_by_mremap)
{
	ASSERT_EQ(clear_free_range(), 0);
	volatile long *p = (volatile long *)map_at(FREE_ADDR, 2, PROT_RW, MAP_SA);
	ASSERT_TRUE(p != NULL);
	p[0] = 1;
	int go[2];
	ASSERT_EQ(pipe(go), 0);
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		wait_fd(go[0]);
		int bad = p[0] != 2; /* written by the parent at its new address */
		p[1] = 4;
		_exit(bad);
	}
	long r = sys_mremap((void *)p, PAGES(2), PAGES(2), MREMAP_MAYMOVE | MREMAP_FIXED,
			    (void *)(FREE_ADDR + PAGES(64)));
	EXPECT_EQ(r, (long)(FREE_ADDR + PAGES(64)));
	volatile long *q = (volatile long *)AS_PTR(r);
	if (!mm_err(r)) {
		EXPECT_EQ(q[0], 1);
		q[0] = 2;
	}
	signal_fd(go[1]);
	int status = -1;
	EXPECT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_EQ(status, 0);
	if (!mm_err(r))
		EXPECT_EQ(q[1], 4);
	close(go[0]);
	close(go[1]);
	EXPECT_EQ(clear_free_range(), 0);
}

TEST(shared_frames_come_back_when_the_last_process_lets_go)
{
	enum { N = 8 };
	long before = mmlab_free_frames();
	char *p = map_anon(N, PROT_RW, MAP_SA);
	ASSERT_TRUE(p != NULL);
	for (int i = 0; i < N; i++)
		fill_page(p, i, 50);
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		int bad = 0;
		for (int i = 0; i < N; i++)
			bad |= !page_has(p, i, 50);
		_exit(bad);
	}
	int status = -1;
	EXPECT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_EQ(status, 0);
	EXPECT_EQ(sys_munmap(p, PAGES(N)), 0);
	EXPECT_LE(before - mmlab_free_frames(), 3); /* page tables at most */
}
