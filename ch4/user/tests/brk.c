/*
 * ch4.user.brk: the program break moves up and down a page at a time,
 * the memory between is usable and zeroed, memory above the break is gone,
 * refused requests leave the break where it was, and what the heap held
 * goes back to the free frames.
 */
#include "utest.h"

KTAP_SUITE("ch4.user.brk");

static char in_bss[100];

TEST(starts_after_the_program)
{
	unsigned long cur = (unsigned long)sys_brk(NULL);
	EXPECT_GE(cur, (unsigned long)(in_bss + sizeof(in_bss)));
	EXPECT_EQ(sys_brk(NULL), (long)cur); /* asking changes nothing */
	EXPECT_LT(cur, 0x10000000UL);	     /* near the program, far below the stack */
}

TEST(up_touch_and_down)
{
	unsigned long start = (unsigned long)sys_brk(NULL);
	unsigned long top = start + 3 * PAGE_SIZE + 100;
	ASSERT_EQ(sys_brk((void *)top), (long)top);
	char *p = (char *)start;
	unsigned long zeros = 0;
	for (unsigned long i = 0; i < top - start; i++)
		zeros += p[i] == 0;
	EXPECT_EQ(zeros, top - start); /* new heap memory is zeroed */
	memset(p, 0x77, top - start);
	EXPECT_EQ(p[top - start - 1], 0x77);
	EXPECT_EQ(sys_brk((void *)start), (long)start);
	EXPECT_EQ(sys_brk(NULL), (long)start);
	/* Up again: the old bytes are gone, the pages are fresh. */
	ASSERT_EQ(sys_brk((void *)top), (long)top);
	EXPECT_EQ(p[PAGE_SIZE + 5], 0);
	EXPECT_EQ(sys_brk((void *)start), (long)start);
}

static void touch_above_the_break(void *arg)
{
	(void)arg;
	unsigned long start = (unsigned long)sys_brk(NULL);
	unsigned long page = (start + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	sys_brk((void *)(page + 4 * PAGE_SIZE));
	((volatile char *)page)[2 * PAGE_SIZE] = 1;
	sys_brk((void *)page);
	((volatile char *)page)[2 * PAGE_SIZE] = 2; /* gone: SIGSEGV */
}

TEST(memory_above_the_break_is_gone)
{
	int status = ktap_fork_wait(touch_above_the_break, NULL);
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(WTERMSIG(status), SIGSEGV);
}

TEST(below_the_start_is_refused)
{
	unsigned long start = (unsigned long)sys_brk(NULL);
	EXPECT_EQ(sys_brk((void *)(start - 2 * PAGE_SIZE)), (long)start);
	EXPECT_EQ(sys_brk((void *)0x1000), (long)start);
	EXPECT_EQ(sys_brk((void *)1), (long)start);
	EXPECT_EQ(sys_brk(NULL), (long)start);
	EXPECT_EQ(brk((void *)0x1000), -1);
	EXPECT_EQ(errno, ENOMEM);
}

TEST(beyond_user_space_is_refused)
{
	unsigned long start = (unsigned long)sys_brk(NULL);
	EXPECT_EQ(sys_brk((void *)(1UL << 38)), (long)start);		    /* USER_TOP */
	EXPECT_EQ(sys_brk((void *)((1UL << 38) - PAGE_SIZE)), (long)start); /* into the stack */
	EXPECT_EQ(sys_brk((void *)KERNEL_ADDR), (long)start);
	EXPECT_EQ(sys_brk((void *)-PAGE_SIZE), (long)start);
	EXPECT_EQ(sys_brk(NULL), (long)start);
	EXPECT_EQ(sbrk(1L << 40), (void *)-1);
	EXPECT_EQ(errno, ENOMEM);
}

TEST(sbrk_moves_by_increments)
{
	char *a = sbrk(0);
	char *b = sbrk(8192);
	EXPECT_TRUE(a == b);
	memset(b, 1, 8192);
	EXPECT_TRUE(sbrk(0) == a + 8192);
	char *c = sbrk(100);
	EXPECT_TRUE(c == a + 8192);
	c[99] = 5;
	EXPECT_TRUE(sbrk(-8292) == a + 8292);
	EXPECT_TRUE(sbrk(0) == a);
}

TEST(heap_frames_come_back)
{
	unsigned long start = (unsigned long)sys_brk(NULL);
	unsigned long top = start + 64 * PAGE_SIZE;
	/* Once to make the page tables the heap needs; then measure. */
	ASSERT_EQ(sys_brk((void *)top), (long)top);
	memset((void *)start, 1, top - start);
	ASSERT_EQ(sys_brk((void *)start), (long)start);
	long before = mmlab_free_frames();
	ASSERT_EQ(sys_brk((void *)top), (long)top);
	memset((void *)start, 2, top - start);
	long during = mmlab_free_frames();
	EXPECT_LE(during, before - 63); /* the heap's pages are in use (its first may share a page) */
	ASSERT_EQ(sys_brk((void *)start), (long)start);
	EXPECT_EQ(mmlab_free_frames(), before);
}

TEST(heap_is_private_after_fork)
{
	char *p = sbrk(PAGE_SIZE);
	ASSERT_TRUE(p != (void *)-1);
	strcpy(p, "parent");
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		/* The child's break moves alone. */
		char *q = sbrk(16 * PAGE_SIZE);
		memset(q, 3, 16 * PAGE_SIZE);
		_exit(strcmp(p, "parent") == 0 ? 0 : 1);
	}
	int status;
	EXPECT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_EQ(status, 0);
	EXPECT_TRUE(sbrk(0) == p + PAGE_SIZE);
	sbrk(-(long)PAGE_SIZE);
}
