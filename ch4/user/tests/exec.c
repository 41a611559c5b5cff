/*
 * ch4.user.exec: execve runs programs from the initramfs with their
 * arguments and environment, keeps descriptors but the close-on-exec ones,
 * reports a missing program, and exec with exit gives back every frame.
 */
#include "utest.h"

KTAP_SUITE("ch4.user.exec");

TEST(runs_a_program)
{
	char *argv[] = {"hello", NULL};
	int status = ktap_spawn_wait(argv);
	ASSERT_NE(status, -1);
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(exit_code_reaches_the_parent)
{
	char *argv[] = {"child", "exit", "42", NULL};
	int status = ktap_spawn_wait(argv);
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(WEXITSTATUS(status), 42);
}

/* Run child with @argv and @envp, its fd 1 on a pipe; read what it prints into @out. */
static int run_capturing(char *const argv[], char *const envp[], char *out, size_t size, int *status)
{
	int fds[2];
	if (pipe(fds))
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		close(1);
		if (dup(fds[1]) != 1)
			_exit(120);
		close(fds[0]);
		close(fds[1]);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	close(fds[1]);
	size_t len = 0;
	long n;
	while (len + 1 < size && (n = read(fds[0], out + len, size - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(fds[0]);
	return waitpid(pid, status, 0) == pid ? (int)len : -1;
}

TEST(argv_and_envp_arrive)
{
	char *argv[] = {"child", "args", "two words", "", NULL};
	char *envp[] = {"A=1", "MMLAB=yes", NULL};
	static char out[512];
	int status;
	ASSERT_GT(run_capturing(argv, envp, out, sizeof(out), &status), 0);
	EXPECT_STREQ(out, "argc=4\nargv[0]=child\nargv[1]=args\nargv[2]=two words\nargv[3]=\n"
			  "envp[0]=A=1\nenvp[1]=MMLAB=yes\n");
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(WEXITSTATUS(status), 4);
}

TEST(empty_environment)
{
	char *argv[] = {"child", "args", NULL};
	char *envp[] = {NULL};
	static char out[256];
	int status;
	ASSERT_GT(run_capturing(argv, envp, out, sizeof(out), &status), 0);
	EXPECT_STREQ(out, "argc=2\nargv[0]=child\nargv[1]=args\n");
}

TEST(missing_program_is_enoent)
{
	char *argv[] = {"no-such-program", NULL};
	char *envp[] = {NULL};
	EXPECT_EQ(sys_execve("no-such-program", argv, envp), -ENOENT);
	EXPECT_EQ(sys_execve("", argv, envp), -ENOENT);
	/* We are still here, still ourselves: */
	EXPECT_GT(getpid(), 0);
}

TEST(exec_keeps_fds_but_closes_cloexec)
{
	int keep[2], drop[2];
	ASSERT_EQ(pipe(keep), 0);
	ASSERT_EQ(pipe2(drop, O_CLOEXEC), 0);
	char fd_keep[8], fd_drop[8];
	snprintf(fd_keep, sizeof(fd_keep), "%d", keep[1]);
	snprintf(fd_drop, sizeof(fd_drop), "%d", drop[1]);
	char *kept[] = {"child", "fdstate", fd_keep, NULL};
	char *dropped[] = {"child", "fdstate", fd_drop, NULL};
	int status = ktap_spawn_wait(kept);
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(WEXITSTATUS(status), 1); /* still open in the new program */
	status = ktap_spawn_wait(dropped);
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(WEXITSTATUS(status), 0); /* closed by exec */
	if (WEXITSTATUS(status) != 0)
		printf("# known: execve does not call files_close_on_exec() (ch4/proc/exec.c)\n");
	/* fork alone closes nothing: the parent's close-on-exec fd is open. */
	EXPECT_EQ(sys_write(drop[1], "", 0), 0);
	close(keep[0]);
	close(keep[1]);
	close(drop[0]);
	close(drop[1]);
}

/* See ch4.user.fault faults_leak_nothing: may fail until proc frees the mm before waking the parent. */
TEST(fork_exec_exit_wait_leaks_nothing)
{
	char *argv[] = {"child", "exit", "3", NULL};
	ASSERT_EQ(WEXITSTATUS(ktap_spawn_wait(argv)), 3); /* warm the kernel's caches */
	long before = mmlab_free_frames();
	for (int i = 0; i < 4; i++)
		EXPECT_EQ(WEXITSTATUS(ktap_spawn_wait(argv)), 3);
	long after = mmlab_free_frames();
	EXPECT_GT(before, 0);
	EXPECT_EQ(after, before);
}

TEST(exec_over_a_grown_process_leaks_nothing)
{
	char *argv[] = {"child", "exit", "0", NULL};
	ASSERT_EQ(ktap_spawn_wait(argv), 0);
	long before = mmlab_free_frames();
	pid_t pid = fork();
	if (pid == 0) {
		char *heap = sbrk(64 * PAGE_SIZE); /* a process with more pages than the program it becomes */
		if (heap == (void *)-1)
			_exit(121);
		memset(heap, 0x5a, 64 * PAGE_SIZE);
		char *envp[] = {NULL};
		execve("child", argv, envp);
		_exit(127);
	}
	int status;
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_EQ(status, 0);
	EXPECT_EQ(mmlab_free_frames(), before);
}
