/*
 * ch4.user.kill: SIGKILL ends a child whatever it does (spinning, blocked
 * on a pipe, asleep); kill of no process is ESRCH, of a bad signal EINVAL.
 */
#include "utest.h"

KTAP_SUITE("ch4.user.kill");

static int kill_and_wait(pid_t pid)
{
	if (kill(pid, SIGKILL) != 0)
		return -1;
	int status;
	return waitpid(pid, &status, 0) == pid ? status : -1;
}

TEST(spinning_child)
{
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0)
		for (volatile int i = 0;; i++)
			;
	EXPECT_EQ(kill_and_wait(pid), SIGKILL);
}

TEST(spinning_exec_child)
{
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		char *argv[] = {"child", "spin", NULL};
		char *envp[] = {NULL};
		execve("child", argv, envp);
		_exit(127);
	}
	usleep(30000); /* long enough to be spinning in "child" */
	EXPECT_EQ(kill_and_wait(pid), SIGKILL);
}

TEST(child_blocked_on_a_pipe)
{
	int fds[2];
	ASSERT_EQ(pipe(fds), 0);
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		char c;
		read(fds[0], &c, 1); /* we keep fds[1] open: no EOF ever */
		_exit(0);
	}
	usleep(20000);
	EXPECT_EQ(kill_and_wait(pid), SIGKILL);
	close(fds[0]);
	close(fds[1]);
}

TEST(child_blocked_writing_a_full_pipe)
{
	int fds[2];
	ASSERT_EQ(pipe(fds), 0);
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		static char buf[2 * PIPE_BUF];
		write(fds[1], buf, sizeof(buf)); /* nobody reads: blocks when full */
		_exit(0);
	}
	usleep(20000);
	EXPECT_EQ(kill_and_wait(pid), SIGKILL);
	close(fds[0]);
	close(fds[1]);
}

TEST(sleeping_child)
{
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct timespec ts = {.tv_sec = 1000, .tv_nsec = 0};
		nanosleep(&ts, NULL);
		_exit(0);
	}
	usleep(10000);
	EXPECT_EQ(kill_and_wait(pid), SIGKILL);
}

TEST(signal_zero_probes)
{
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0)
		for (volatile int i = 0;; i++)
			;
	EXPECT_EQ(sys_kill(pid, 0), 0); /* Linux: exists, nothing sent */
	EXPECT_EQ(sys_kill(getpid(), 0), 0);
	EXPECT_EQ(kill_and_wait(pid), SIGKILL);
}

TEST(no_such_process_is_esrch)
{
	EXPECT_EQ(sys_kill(1 << 22, SIGKILL), -ESRCH);
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0)
		_exit(0);
	int status;
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_EQ(sys_kill(pid, SIGKILL), -ESRCH); /* reaped: gone */
}

TEST(bad_signal_is_einval)
{
	EXPECT_EQ(sys_kill(getpid(), 65), -EINVAL); /* past _NSIG (64) */
	EXPECT_EQ(sys_kill(getpid(), -1), -EINVAL);
	EXPECT_EQ(sys_kill(getpid(), 1000), -EINVAL);
}
