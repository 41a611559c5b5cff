/*
 * ch4.user.thread: threads (clone with CLONE_VM | CLONE_THREAD |
 * CLONE_SIGHAND | CLONE_FILES) share memory and files, have their own tids
 * and one pid, run on several harts at once, and end with their process:
 * exit_group ends them all, a fault in one kills the process.
 */
#include "utest.h"

KTAP_SUITE("ch4.user.thread");

enum { THREADS = 4, ROUNDS = 20000 };

static long counter;
static volatile int running;
static unsigned long harts_seen; /* bit h: some thread ran on hart h */
static volatile bool stop_spreading;

/* Set bits of @x (no libgcc here for __builtin_popcountl). */
static int bits(unsigned long x)
{
	int n = 0;
	for (; x; x &= x - 1)
		n++;
	return n;
}

static void note_hart(void)
{
	long h = mmlab_hart();
	if (h >= 0 && h < 64)
		__atomic_fetch_or(&harts_seen, 1UL << h, __ATOMIC_RELAXED);
}

static long count(void *arg)
{
	(void)arg;
	__atomic_add_fetch(&running, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < ROUNDS; i++) {
		__atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);
		if (i % 1024 == 0)
			note_hart();
	}
	/* Stay until every thread ran a while, so they overlap in time. */
	for (long spins = 0; !stop_spreading && spins < 2000000; spins++)
		if (spins % 4096 == 0)
			note_hart();
	return gettid();
}

TEST(threads_share_a_counter)
{
	struct uthread t[THREADS];
	counter = 0;
	harts_seen = 0;
	stop_spreading = false;
	for (int i = 0; i < THREADS; i++)
		ASSERT_EQ(thread_create(&t[i], count, NULL), 0);
	long nr_harts = mmlab_nr_harts();
	/* Wait until the threads were seen on two harts (or gave up). */
	for (long spins = 0; nr_harts >= 2 && bits(harts_seen) < 2 && spins < 20000000; spins++)
		;
	stop_spreading = true;
	long tids[THREADS];
	for (int i = 0; i < THREADS; i++)
		tids[i] = thread_join(&t[i]);
	EXPECT_EQ(counter, (long)THREADS * ROUNDS);
	for (int i = 0; i < THREADS; i++) {
		EXPECT_EQ(tids[i], t[i].tid);
		EXPECT_NE(tids[i], getpid());
	}
	printf("# %d threads ran on harts mask 0x%lx of %ld harts\n", THREADS, harts_seen, nr_harts);
}

static long spread(void *arg)
{
	(void)arg;
	for (long spins = 0; !stop_spreading && spins < 50000000; spins++)
		if (spins % 1024 == 0)
			note_hart();
	return 0;
}

TEST(threads_run_on_several_harts)
{
	long nr_harts = mmlab_nr_harts();
	if (nr_harts < 2)
		SKIP("one hart");
	harts_seen = 0;
	stop_spreading = false;
	struct uthread t[THREADS];
	for (int i = 0; i < THREADS; i++)
		ASSERT_EQ(thread_create(&t[i], spread, NULL), 0);
	while (bits(__atomic_load_n(&harts_seen, __ATOMIC_RELAXED)) < 2) {
		note_hart();
		bool all_done = true;
		for (int i = 0; i < THREADS; i++)
			all_done &= t[i].done;
		if (all_done)
			break;
	}
	stop_spreading = true;
	for (int i = 0; i < THREADS; i++)
		thread_join(&t[i]);
	EXPECT_GE(bits(harts_seen), 2);
}

static long ids(void *arg)
{
	long *out = arg;
	out[0] = getpid();
	out[1] = gettid();
	out[2] = getppid();
	return 0;
}

TEST(one_pid_many_tids)
{
	long got[2][3];
	struct uthread t[2];
	for (int i = 0; i < 2; i++)
		ASSERT_EQ(thread_create(&t[i], ids, got[i]), 0);
	for (int i = 0; i < 2; i++)
		thread_join(&t[i]);
	for (int i = 0; i < 2; i++) {
		EXPECT_EQ(got[i][0], getpid());
		EXPECT_EQ(got[i][1], t[i].tid);
		EXPECT_EQ(got[i][2], getppid());
	}
	EXPECT_EQ(gettid(), getpid()); /* the main thread's tid is the pid */
	EXPECT_NE(got[0][1], got[1][1]);
}

static long make_pipe(void *arg)
{
	int *fds = arg;
	return pipe(fds);
}

TEST(threads_share_files)
{
	int fds[2] = {-1, -1};
	struct uthread t;
	ASSERT_EQ(thread_create(&t, make_pipe, fds), 0);
	EXPECT_EQ(thread_join(&t), 0);
	ASSERT_GE(fds[0], 3);
	EXPECT_EQ(write(fds[1], "t", 1), 1); /* the thread's descriptors are ours */
	char c = 0;
	EXPECT_EQ(read(fds[0], &c, 1), 1);
	EXPECT_EQ(c, 't');
	close(fds[0]);
	close(fds[1]);
}

static long forever(void *arg)
{
	(void)arg;
	for (;;)
		sched_yield();
	return 0;
}

static void exit_with_a_thread_running(void *arg)
{
	(void)arg;
	struct uthread t;
	if (thread_create(&t, forever, NULL))
		_exit(1);
	exit(5); /* exit_group: the spinning thread goes too */
}

TEST(exit_ends_every_thread)
{
	int status = ktap_fork_wait(exit_with_a_thread_running, NULL);
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(WEXITSTATUS(status), 5);
}

static int *volatile bad_pointer = (int *)16;

static long faulty(void *arg)
{
	(void)arg;
	*bad_pointer = 1;
	return 0;
}

static void fault_in_a_thread(void *arg)
{
	(void)arg;
	struct uthread t;
	if (thread_create(&t, faulty, NULL))
		_exit(1);
	for (;;) /* the main thread waits to be killed with its process */
		sched_yield();
}

TEST(a_fault_in_a_thread_kills_the_process)
{
	int status = ktap_fork_wait(fault_in_a_thread, NULL);
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(WTERMSIG(status), SIGSEGV);
}

static volatile int quit_flag;

static long quit_thread(void *arg)
{
	(void)arg;
	quit_flag = 1;
	exit_thread(0); /* SYS_exit: this thread only */
}

TEST(a_thread_exit_leaves_the_process)
{
	struct uthread t, u;
	quit_flag = 0;
	ASSERT_EQ(thread_create(&t, quit_thread, NULL), 0);
	while (!quit_flag)
		sched_yield();
	for (int i = 0; i < 50; i++)
		sched_yield();
	/* We live on, and can make and join another thread. */
	long ids_out[3];
	ASSERT_EQ(thread_create(&u, ids, ids_out), 0);
	thread_join(&u);
	EXPECT_EQ(ids_out[0], getpid());
}
