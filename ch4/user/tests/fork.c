/*
 * ch4.user.fork: fork copies the address space: the child sees the
 * parent's data, heap and stack as they were, and neither sees the other's
 * writes afterwards. The two share open files. fork returns twice.
 */
#include "utest.h"

static int global = 1;
static char bss_page[PAGE_SIZE];

TEST(returns_twice)
{
	pid_t parent = getpid();
	int fds[2];
	ASSERT_EQ(pipe(fds), 0);
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		pid_t me[2] = {getpid(), getppid()};
		write(fds[1], me, sizeof(me));
		_exit(0);
	}
	pid_t seen[2] = {0, 0};
	EXPECT_EQ(read(fds[0], seen, sizeof(seen)), (long)sizeof(seen));
	EXPECT_EQ(seen[0], pid);    /* the child's getpid() is what fork returned */
	EXPECT_EQ(seen[1], parent); /* and its parent is us */
	EXPECT_NE(pid, parent);
	int status;
	EXPECT_EQ(waitpid(pid, &status, 0), pid);
	close(fds[0]);
	close(fds[1]);
}

/* The child checks it sees @before at *p, writes @child_value, and tells
 * through the pipe; the parent then writes its own value and checks. */
static void check_isolation(volatile long *p, long before)
{
	int to_child[2], to_parent[2];
	ASSERT_EQ(pipe(to_child), 0);
	ASSERT_EQ(pipe(to_parent), 0);
	*p = before;
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		char c;
		EXPECT_EQ(*p, before);
		*p = 222;
		write(to_parent[1], "w", 1);
		read(to_child[0], &c, 1); /* the parent has written its value */
		EXPECT_EQ(*p, 222);
		ktap_child_exit();
	}
	char c;
	EXPECT_EQ(read(to_parent[0], &c, 1), 1); /* the child has written */
	EXPECT_EQ(*p, before);
	*p = 333;
	write(to_child[1], "p", 1);
	int status;
	EXPECT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_EQ(status, 0); /* the child's checks held */
	EXPECT_EQ(*p, 333);
	close(to_child[0]);
	close(to_child[1]);
	close(to_parent[0]);
	close(to_parent[1]);
}

TEST(data_is_copied)
{
	static long data_var = 7;
	check_isolation(&data_var, 111);
	EXPECT_EQ(global, 1);
}

TEST(bss_is_copied) { check_isolation((volatile long *)(bss_page + 64), 111); }

TEST(heap_is_copied)
{
	long *heap = sbrk(PAGE_SIZE);
	ASSERT_TRUE(heap != (void *)-1);
	check_isolation(heap + 10, 111);
	sbrk(-(long)PAGE_SIZE);
}

TEST(stack_is_copied)
{
	volatile long on_stack[64];
	check_isolation(&on_stack[33], 111);
}

TEST(every_page_of_a_big_heap_is_copied)
{
	const unsigned long pages = 128; /* 512 KiB */
	unsigned long *heap = sbrk(pages * PAGE_SIZE);
	ASSERT_TRUE(heap != (void *)-1);
	unsigned long words = pages * PAGE_SIZE / sizeof(long);
	for (unsigned long i = 0; i < words; i++)
		heap[i] = i * 2654435761UL;
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		unsigned long bad = 0;
		for (unsigned long i = 0; i < words; i++) {
			bad += heap[i] != i * 2654435761UL;
			heap[i] = ~0UL;
		}
		_exit(bad ? 1 : 0);
	}
	int status;
	EXPECT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_EQ(status, 0);
	unsigned long bad = 0;
	for (unsigned long i = 0; i < words; i++)
		bad += heap[i] != i * 2654435761UL;
	EXPECT_EQ(bad, 0);
	sbrk(-(long)(pages * PAGE_SIZE));
}

TEST(many_children)
{
	enum { N = 16 };
	pid_t pids[N];
	for (int i = 0; i < N; i++) {
		pids[i] = fork();
		ASSERT_GE(pids[i], 0);
		if (pids[i] == 0)
			_exit(i + 1);
	}
	for (int i = N - 1; i >= 0; i--) {
		int status;
		EXPECT_EQ(waitpid(pids[i], &status, 0), pids[i]);
		EXPECT_EQ(WEXITSTATUS(status), i + 1);
	}
	for (int i = 1; i < N; i++)
		EXPECT_NE(pids[i], pids[i - 1]);
}

TEST(open_files_are_shared)
{
	int fds[2];
	ASSERT_EQ(pipe(fds), 0);
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		close(fds[0]);
		_exit(write(fds[1], "from the child", 14) == 14 ? 0 : 1);
	}
	close(fds[1]);
	char buf[32] = {0};
	EXPECT_EQ(read(fds[0], buf, sizeof(buf)), 14);
	EXPECT_STREQ(buf, "from the child");
	EXPECT_EQ(read(fds[0], buf, sizeof(buf)), 0); /* the child's end closed at exit */
	int status;
	EXPECT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_EQ(status, 0);
	close(fds[0]);
}

KTAP_SUITE("ch4.user.fork");
