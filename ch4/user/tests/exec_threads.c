/*
 * ch4.user.exec_threads: execve from a process with several threads (Linux's
 * de_thread): the other threads end, wherever they are (running, sleeping,
 * blocked on a pipe), the exec goes on in the thread that called it, the
 * process keeps its pid (that thread becomes the leader: gettid() == pid),
 * and the status the parent sees is the new program's alone.
 */
#include "utest.h"

KTAP_SUITE("ch4.user.exec_threads");

static int block_fds[2]; /* a pipe nobody writes: a reader blocks for good */

static long spin(void *arg)
{
	(void)arg;
	for (volatile long i = 0;; i++)
		;
	return 0;
}

static long sleep_long(void *arg)
{
	(void)arg;
	struct timespec ts = {.tv_sec = 100, .tv_nsec = 0};
	nanosleep(&ts, NULL);
	return 1;
}

static long block_in_read(void *arg)
{
	(void)arg;
	char c;
	read(block_fds[0], &c, 1);
	return 2;
}

/* Start one thread of each kind; @return 0, or the first error. */
static int start_busy_threads(struct uthread t[3])
{
	if (pipe(block_fds))
		return -1;
	int err = thread_create(&t[0], spin, NULL);
	if (!err)
		err = thread_create(&t[1], sleep_long, NULL);
	if (!err)
		err = thread_create(&t[2], block_in_read, NULL);
	return err;
}

/* exec "child pid <our pid>": exits 0 only if the pid and tid are ours. */
static void exec_child_pid(void)
{
	static char *const no_env[] = {NULL};
	char pid[16];
	snprintf(pid, sizeof(pid), "%d", getpid());
	char *const argv[] = {"child", "pid", pid, NULL};
	execve("child", argv, no_env);
	_exit(127); /* exec failed */
}

static void main_thread_execs(void *arg)
{
	(void)arg;
	struct uthread t[3];
	if (start_busy_threads(t))
		_exit(120);
	usleep(20000); /* let them reach their loop, sleep and read */
	exec_child_pid();
}

TEST(exec_ends_running_sleeping_and_blocked_threads)
{
	int status = ktap_fork_wait(main_thread_execs, NULL);
	ASSERT_NE(status, -1);
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(WEXITSTATUS(status), 0); /* 1: pid changed; 127: exec failed; 120: no threads */
}

static long exec_from_here(void *arg)
{
	(void)arg;
	exec_child_pid();
	return 0;
}

static void second_thread_execs(void *arg)
{
	(void)arg;
	struct uthread t[3], execer;
	if (start_busy_threads(t) || thread_create(&execer, exec_from_here, NULL))
		_exit(120);
	/* The leader waits in a blocking read too: exec must end it as well. */
	char c;
	read(block_fds[0], &c, 1);
	_exit(121); /* the exec did not end us */
}

TEST(exec_from_a_second_thread_keeps_the_pid)
{
	int status = ktap_fork_wait(second_thread_execs, NULL);
	ASSERT_NE(status, -1);
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(WEXITSTATUS(status), 0); /* 1: pid or tid wrong; 121: the leader ran on */
}

static long exit_group_now(void *arg)
{
	(void)arg;
	exit(33);
}

static void threads_exit_group_while_exec(void *arg)
{
	(void)arg;
	struct uthread t;
	if (thread_create(&t, exit_group_now, NULL))
		_exit(120);
	exec_child_pid();
}

TEST(exec_racing_exit_group_gives_one_status)
{
	/* Either the exec wins (child exits 0) or the exit_group does (33);
	 * nothing else, and no leak (frames_returned). */
	for (int i = 0; i < 8; i++) {
		int status = ktap_fork_wait(threads_exit_group_while_exec, NULL);
		ASSERT_NE(status, -1);
		ASSERT_TRUE(WIFEXITED(status));
		int code = WEXITSTATUS(status);
		ASSERT_TRUE(code == 0 || code == 33);
	}
}
