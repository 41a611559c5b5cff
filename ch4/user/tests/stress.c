/*
 * ch4.user.stress: many processes forking, exec-ing and exiting at once,
 * on every hart, for several rounds; at the end the free-frame count is
 * exactly what it was. Sized for 64 MiB: at most about 20 processes live
 * at a time.
 */
#include "utest.h"

KTAP_SUITE("ch4.user.stress");

enum { ROUNDS = 4, WORKERS = 4, GRANDCHILDREN = 4 };

/* One worker: fork GRANDCHILDREN processes that exec "child exit I" and
 * check each came back (the program "child fork N" does the same after an
 * exec of its own, so both paths run). */
static void worker(void *arg)
{
	long w = (long)arg;
	char n[4];
	snprintf(n, sizeof(n), "%d", GRANDCHILDREN);
	char *argv[] = {"child", "fork", n, NULL};
	if (w % 2) {
		char *envp[] = {NULL};
		execve("child", argv, envp);
		_exit(127);
	}
	for (int i = 0; i < GRANDCHILDREN; i++) {
		char code[4];
		snprintf(code, sizeof(code), "%d", 10 + i);
		char *exit_argv[] = {"child", "exit", code, NULL};
		int status = ktap_spawn_wait(exit_argv);
		EXPECT_TRUE(WIFEXITED(status));
		EXPECT_EQ(WEXITSTATUS(status), 10 + i);
	}
}

static int one_round(void)
{
	pid_t pids[WORKERS];
	int bad = 0;
	for (long w = 0; w < WORKERS; w++) {
		pids[w] = fork();
		if (pids[w] < 0)
			return -1;
		if (pids[w] == 0) {
			worker((void *)w);
			ktap_child_exit();
		}
	}
	for (int w = 0; w < WORKERS; w++) {
		int status;
		if (waitpid(pids[w], &status, 0) != pids[w] || status != 0)
			bad++;
	}
	return bad;
}

TEST(fork_exec_exit_rounds_leak_nothing)
{
	ASSERT_EQ(one_round(), 0); /* warm up */
	long before = mmlab_free_frames();
	for (int r = 0; r < ROUNDS; r++)
		EXPECT_EQ(one_round(), 0);
	EXPECT_EQ(mmlab_free_frames(), before);
	printf("# %d rounds of %d workers x %d children on %ld harts\n", ROUNDS, WORKERS, GRANDCHILDREN,
	       mmlab_nr_harts());
}

static long thread_forks(void *arg)
{
	(void)arg;
	for (int i = 0; i < 3; i++) {
		char *argv[] = {"child", "exit", "1", NULL};
		if (WEXITSTATUS(ktap_spawn_wait(argv)) != 1)
			return 1;
	}
	return 0;
}

TEST(threads_fork_and_exec_at_once)
{
	/* Threads of one process forking at the same time: fork copies an
	 * mm while another thread of it changes it. In a child, so its threads' stacks
	 * (heap) and the mm go away with it. */
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct uthread t[3];
		for (int i = 0; i < 3; i++)
			if (thread_create(&t[i], thread_forks, NULL))
				_exit(2);
		long bad = 0;
		for (int i = 0; i < 3; i++)
			bad += thread_join(&t[i]);
		_exit(bad ? 1 : 0);
	}
	int status;
	EXPECT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_EQ(status, 0);
}
