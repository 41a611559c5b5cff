/*
 * ch4.user.uaccess: every system call that takes a pointer refuses a bad
 * one with EFAULT, as Linux does, and the process lives on: NULL, a kernel
 * address, an unmapped page, a read-only page (this program's code) where
 * the kernel must write, and a buffer that straddles from a good page into
 * an unmapped one. Where Linux gives a partial result, so do we.
 */
#include "utest.h"

KTAP_SUITE("ch4.user.uaccess");

/* The bad places for @len bytes that the kernel reads. */
static int bad_sources(unsigned long out[5], size_t len)
{
	char *edge = heap_edge(2);
	if (!edge)
		return 0;
	out[0] = 0;
	out[1] = KERNEL_ADDR;
	out[2] = HOLE_ADDR;
	out[3] = (unsigned long)edge - len / 2; /* half good, half not */
	out[4] = KERNEL_ADDR - len / 2;		/* straddling into the kernel half */
	return 5;
}

/* ... and @len bytes that the kernel writes: the same, and read-only code. */
static int bad_destinations(unsigned long out[6], size_t len)
{
	int n = bad_sources(out, len);
	out[n++] = TEXT_ADDR;
	return n;
}

static const char data16[] = "0123456789abcdef";

TEST(read_into_a_bad_buffer)
{
	int fds[2];
	ASSERT_EQ(pipe(fds), 0);
	ASSERT_EQ(write(fds[1], data16, 16), 16);
	unsigned long bad[6];
	int n = bad_destinations(bad, 16);
	ASSERT_EQ(n, 6);
	for (int i = 0; i < n; i++)
		EXPECT_EQ(sys_read(fds[0], (void *)bad[i], 16), -EFAULT);
	/* Linux's pipe consumes nothing it could not copy: the 16 bytes wait. */
	char buf[17] = {0};
	EXPECT_EQ(read(fds[0], buf, sizeof(buf)), 16);
	EXPECT_STREQ(buf, data16);
	close(fds[0]);
	close(fds[1]);
}

TEST(write_from_a_bad_buffer)
{
	int fds[2];
	ASSERT_EQ(pipe(fds), 0);
	unsigned long bad[5];
	int n = bad_sources(bad, 16);
	ASSERT_EQ(n, 5);
	for (int i = 0; i < n; i++) {
		EXPECT_EQ(sys_write(fds[1], (void *)bad[i], 16), -EFAULT);
		EXPECT_EQ(sys_write(1, (void *)bad[i], 16), -EFAULT); /* the console too */
	}
	/* Read-only memory is a fine source. */
	EXPECT_EQ(sys_write(fds[1], (void *)TEXT_ADDR, 16), 16);
	char buf[16];
	EXPECT_EQ(read(fds[0], buf, sizeof(buf)), 16); /* the failed writes left nothing */
	EXPECT_EQ(memcmp(buf, (void *)TEXT_ADDR, 16), 0);
	EXPECT_EQ(sys_write(fds[1], NULL, 0), 0); /* nothing to copy: no fault */
	close(fds[0]);
	close(fds[1]);
}

TEST(big_write_stops_at_the_bad_page)
{
	/* 8192 bytes from a buffer whose second page is unmapped: Linux's
	 * pipe takes the first page and returns 4096. A reader child drains. */
	char *edge = heap_edge(1);
	ASSERT_TRUE(edge != NULL);
	char *buf = edge - PAGE_SIZE;
	memset(buf, 'b', PAGE_SIZE);
	int fds[2];
	ASSERT_EQ(pipe(fds), 0);
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		close(fds[1]);
		char in[512];
		long n, total = 0, bad = 0;
		while ((n = read(fds[0], in, sizeof(in))) > 0) {
			for (long i = 0; i < n; i++)
				bad += in[i] != 'b';
			total += n;
		}
		_exit(total == PAGE_SIZE && !bad ? 0 : 1);
	}
	close(fds[0]);
	EXPECT_EQ(sys_write(fds[1], buf, 2 * PAGE_SIZE), PAGE_SIZE);
	close(fds[1]);
	int status;
	EXPECT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_EQ(status, 0);
}

TEST(pipe2_into_a_bad_array)
{
	unsigned long bad[6];
	int n = bad_destinations(bad, 2 * sizeof(int));
	ASSERT_EQ(n, 6);
	for (int i = 0; i < n; i++)
		EXPECT_EQ(sys_pipe2((int *)bad[i], 0), -EFAULT);
	/* No descriptor leaked: the lowest free one is still 3. */
	int fd = dup(0);
	EXPECT_EQ(fd, 3);
	close(fd);
	int fds[2];
	EXPECT_EQ(sys_pipe2(fds, 0x1234), -EINVAL);
	EXPECT_EQ(sys_pipe2(fds, O_NONBLOCK << 1), -EINVAL);
}

TEST(wait4_into_a_bad_status)
{
	unsigned long bad[6];
	int n = bad_destinations(bad, sizeof(int));
	ASSERT_EQ(n, 6);
	for (int i = 1; i < n; i++) { /* not bad[0]: a NULL status means "not wanted" (ch4.user.wait) */
		pid_t pid = fork();
		ASSERT_GE(pid, 0);
		if (pid == 0)
			_exit(5);
		long r = sys_wait4(pid, (int *)bad[i], 0, NULL);
		if (r != -EFAULT)
			printf("# status pointer 0x%lx: wait4 gave %ld\n", bad[i], r);
		EXPECT_EQ(r, -EFAULT);
		/* Linux reaped the child before the copy failed. */
		int status;
		EXPECT_EQ(sys_wait4(pid, &status, 0, NULL), -ECHILD);
	}
}

/* In a child (so that an exec that wrongly succeeds cannot replace us):
 * the raw execve's result, negated, as the exit code. */
static int execve_error(const char *path, char *const *argv, char *const *envp)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit((int)-sys_execve(path, argv, envp));
	int status;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

TEST(execve_with_bad_pointers)
{
	char *edge = heap_edge(1);
	ASSERT_TRUE(edge != NULL);
	memcpy(edge - 5, "child", 5); /* no NUL before the unmapped page */
	char *good_argv[] = {"child", "exit", "0", NULL};
	char *good_envp[] = {NULL};
	unsigned long bad[5] = {0, KERNEL_ADDR, HOLE_ADDR, (unsigned long)(edge - 5), KERNEL_ADDR - 2};
	for (int i = 0; i < 5; i++)
		EXPECT_EQ(execve_error((const char *)bad[i], good_argv, good_envp), EFAULT);
	/* argv and envp arrays that are bad, or hold a bad string. (A NULL
	 * argv or envp is an empty list on Linux, not an error.) */
	char **edge_array = (char **)(edge - sizeof(char *)); /* its NULL would be past the edge */
	edge_array[0] = "child";
	unsigned long bad_arrays[3] = {KERNEL_ADDR, HOLE_ADDR, (unsigned long)edge_array};
	for (int i = 0; i < 3; i++) {
		EXPECT_EQ(execve_error("child", (char **)bad_arrays[i], good_envp), EFAULT);
		EXPECT_EQ(execve_error("child", good_argv, (char **)bad_arrays[i]), EFAULT);
	}
	char *bad_string_argv[] = {"child", (char *)KERNEL_ADDR, NULL};
	char *bad_string_envp[] = {"A=1", (char *)HOLE_ADDR, NULL};
	EXPECT_EQ(execve_error("child", bad_string_argv, good_envp), EFAULT);
	EXPECT_EQ(execve_error("child", good_argv, bad_string_envp), EFAULT);
	/* And the good call works. */
	EXPECT_EQ(execve_error("child", good_argv, good_envp), 0);
}

TEST(nanosleep_with_bad_pointers)
{
	unsigned long bad[5];
	int n = bad_sources(bad, sizeof(struct timespec));
	ASSERT_EQ(n, 5);
	for (int i = 0; i < n; i++)
		EXPECT_EQ(sys_nanosleep((struct timespec *)bad[i], NULL), -EFAULT);
	struct timespec ts = {.tv_sec = 0, .tv_nsec = 1000};
	/* Linux writes rem only when a signal cuts the sleep short: a bad rem is not looked at. */
	EXPECT_EQ(sys_nanosleep(&ts, (struct timespec *)KERNEL_ADDR), 0);
	struct timespec bad_ns = {.tv_sec = 0, .tv_nsec = 1000000000};
	EXPECT_EQ(sys_nanosleep(&bad_ns, NULL), -EINVAL);
	struct timespec neg = {.tv_sec = -1, .tv_nsec = 0};
	EXPECT_EQ(sys_nanosleep(&neg, NULL), -EINVAL);
}

TEST(maps_into_a_bad_buffer)
{
	unsigned long bad[6];
	int n = bad_destinations(bad, 64);
	ASSERT_EQ(n, 6);
	for (int i = 0; i < n; i++)
		EXPECT_EQ(sys_mmlab_maps((char *)bad[i], 4096), -EFAULT);
	static char maps[4096];
	long len = sys_mmlab_maps(maps, sizeof(maps) - 1);
	ASSERT_GT(len, 0);
	maps[len] = '\0';
	EXPECT_TRUE(strstr(maps, "00010000-") == maps); /* the program's code comes first */
	EXPECT_TRUE(strstr(maps, " r-xp ") != NULL);
	EXPECT_TRUE(strstr(maps, " rw-p ") != NULL);
}
