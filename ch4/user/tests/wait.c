/*
 * ch4.user.wait: wait4 and its Linux status encoding: exit codes, death by
 * SIGKILL and SIGSEGV, WNOHANG, a chosen child, ECHILD.
 */
#include "utest.h"

KTAP_SUITE("ch4.user.wait");

static int exit_status_of(int code)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(code);
	int status = -1;
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

TEST(exit_codes)
{
	int codes[] = {0, 1, 42, 127, 255};
	for (unsigned i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		int status = exit_status_of(codes[i]);
		EXPECT_TRUE(WIFEXITED(status));
		EXPECT_FALSE(WIFSIGNALED(status));
		EXPECT_EQ(WEXITSTATUS(status), codes[i]);
		EXPECT_EQ(status, codes[i] << 8);
	}
	EXPECT_EQ(exit_status_of(256), 0);	 /* only the low 8 bits */
	EXPECT_EQ(exit_status_of(-1), 255 << 8); /* as Linux */
}

TEST(killed_by_sigkill)
{
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0)
		for (volatile int i = 0;; i++)
			;
	EXPECT_EQ(kill(pid, SIGKILL), 0);
	int status;
	EXPECT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_FALSE(WIFEXITED(status));
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(WTERMSIG(status), SIGKILL);
	EXPECT_EQ(status, SIGKILL);
}

TEST(killed_by_sigsegv)
{
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		*(volatile int *)0 = 1;
		_exit(0);
	}
	int status;
	EXPECT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(WTERMSIG(status), SIGSEGV);
	EXPECT_EQ(status, SIGSEGV); /* no core-dump bit */
}

TEST(wnohang)
{
	int fds[2];
	ASSERT_EQ(pipe(fds), 0);
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		char c;
		close(fds[1]);
		_exit(read(fds[0], &c, 1) == 0 ? 7 : 8); /* waits for the parent's close */
	}
	close(fds[0]);
	int status = 12345;
	EXPECT_EQ(waitpid(pid, &status, WNOHANG), 0); /* still running */
	EXPECT_EQ(waitpid(-1, &status, WNOHANG), 0);
	EXPECT_EQ(status, 12345); /* untouched */
	close(fds[1]);
	EXPECT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_EQ(WEXITSTATUS(status), 7);
}

TEST(wnohang_reaps_a_zombie)
{
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0)
		_exit(9);
	int status = 0;
	pid_t got;
	while ((got = waitpid(pid, &status, WNOHANG)) == 0)
		sched_yield();
	EXPECT_EQ(got, pid);
	EXPECT_EQ(WEXITSTATUS(status), 9);
}

TEST(echild)
{
	int status;
	EXPECT_EQ(sys_wait4(-1, &status, 0, NULL), -ECHILD);
	EXPECT_EQ(sys_wait4(-1, &status, WNOHANG, NULL), -ECHILD);
	EXPECT_EQ(sys_wait4(getpid(), &status, 0, NULL), -ECHILD); /* not our child */
	EXPECT_EQ(sys_wait4(1 << 20, &status, 0, NULL), -ECHILD);
	EXPECT_EQ(wait(&status), -1);
	EXPECT_EQ(errno, ECHILD);
}

TEST(reaped_once)
{
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0)
		_exit(1);
	int status;
	EXPECT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_EQ(sys_wait4(pid, &status, 0, NULL), -ECHILD);
}

TEST(waits_for_the_chosen_child)
{
	pid_t pids[3];
	int fds[2];
	ASSERT_EQ(pipe(fds), 0);
	for (int i = 0; i < 3; i++) {
		pids[i] = fork();
		ASSERT_GE(pids[i], 0);
		if (pids[i] == 0) {
			char c;
			close(fds[1]);
			if (i != 1)
				read(fds[0], &c, 1); /* 0 and 2 wait for the close */
			_exit(20 + i);
		}
	}
	close(fds[0]);
	int status;
	EXPECT_EQ(waitpid(pids[1], &status, 0), pids[1]);
	EXPECT_EQ(WEXITSTATUS(status), 21);
	EXPECT_EQ(waitpid(pids[0], &status, WNOHANG), 0);
	close(fds[1]);
	EXPECT_EQ(waitpid(pids[2], &status, 0), pids[2]);
	EXPECT_EQ(WEXITSTATUS(status), 22);
	EXPECT_EQ(wait(&status), pids[0]);
	EXPECT_EQ(WEXITSTATUS(status), 20);
}

TEST(null_status_is_allowed)
{
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0)
		_exit(0);
	EXPECT_EQ(sys_wait4(pid, NULL, 0, NULL), pid);
}

TEST(grandchildren_are_not_ours)
{
	/* The child forks a grandchild and exits at once: we can wait for
	 * the child only; the orphan is reaped by the kernel. */
	int fds[2];
	ASSERT_EQ(pipe(fds), 0);
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		pid_t g = fork();
		if (g == 0) {
			char c;
			close(fds[1]);
			read(fds[0], &c, 1);
			_exit(0);
		}
		_exit(g > 0 ? 0 : 1);
	}
	close(fds[0]);
	int status;
	EXPECT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_EQ(status, 0);
	EXPECT_EQ(sys_wait4(-1, &status, WNOHANG, NULL), -ECHILD);
	close(fds[1]); /* let the grandchild go */
}
