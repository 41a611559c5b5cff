/*
 * ch4.user.pressure: running out of memory. With mmlab_squeeze() holding
 * all but a few frames: a process whose page fault finds no frame is killed
 * with SIGKILL (and its parent goes on); fork fails with ENOMEM and gives
 * back what it took; every frame comes back once the processes are reaped
 * and the squeeze is released.
 *
 * Under pressure any write to a page shared copy-on-write needs a frame, so
 * before squeezing, the test process breaks the sharing of its own pages
 * (break_shared_pages) and has its stack mapped deep enough
 * (prefault_stack): it must not be the one killed.
 */
#include "pressure.h"
#include "utest.h"

KTAP_SUITE("ch4.user.pressure");

#define MIB	     (1024UL * 1024)
#define L0_SPAN	     (2 * MIB) /* what one level-0 table maps */
#define USABLE	     512       /* frames a squeeze leaves for allocations: 2 MiB */
#define INFO_BITS(i) ((i) & ~0xffffffffL)

/*
 * The floor: what is free when squeeze can take no more (the min
 * watermark's emergency reserve, which user memory never gets; about 2000
 * frames in a 2 GiB machine, 250 in 256 MiB).
 */
/*
 * Squeeze to the floor; return the frames held. Counting the free frames
 * drains the kernel's caches into them: a second squeeze takes those too.
 */
static long squeeze_all(void)
{
	mmlab_squeeze(0);
	mmlab_free_frames();
	return mmlab_squeeze(0);
}

static volatile long floor_seen = -1; /* set by the first test that squeezes to 0 */

static long squeeze_floor(void)
{
	if (floor_seen < 0) {
		squeeze_all();
		floor_seen = mmlab_free_frames();
		mmlab_squeeze(-1);
	}
	return floor_seen;
}

/* Squeeze so that @usable frames can still be allocated above the floor; return the frames held. */
static long squeeze_to(long usable) { return mmlab_squeeze(squeeze_floor() + usable); }

/*
 * The squeezed run of @pid: make the caller's own pages private, squeeze
 * to @usable frames above the floor, let @pid go (a byte on @go_fd), wait
 * for it and give the frames back, expecting the wait to reap @pid and the
 * release to give back what the squeeze held. *@status gets its wait
 * status; *@left (unless NULL) the free frames the squeeze left. Returns
 * the frames held.
 */
static long run_squeezed(pid_t pid, int go_fd, long usable, int *status, long *left)
{
	break_shared_pages();
	long held = squeeze_to(usable);
	if (left)
		*left = mmlab_free_frames();
	(void)write(go_fd, "g", 1);
	pid_t got = waitpid(pid, status, 0);
	long released = mmlab_squeeze(-1);
	EXPECT_EQ(got, pid);
	EXPECT_EQ(released, held);
	return held;
}

/*
 * The child of the next test: a page of its own, shared with a grandchild
 * that is gone again, so every page it has is copy-on-write with one
 * reference. With no frame to be had it writes them all: reuse needs none.
 */
static __attribute__((noreturn)) void last_holder(int ready_fd, int go_fd)
{
	volatile long *p = sbrk(PAGE_SIZE);
	if (p == (void *)-1)
		_exit(2);
	p[0] = 1;
	prefault_stack();
	pid_t gc = fork();
	if (gc == 0)
		_exit(0);
	if (gc < 0 || waitpid(gc, NULL, 0) != gc)
		_exit(3);
	long info = mmlab_page_info((void *)p);
	char c = 'r';
	(void)write(ready_fd, &c, 1);
	if (read(go_fd, &c, 1) != 1) /* into a COW page of the stack: reused in place too */
		_exit(4);
	p[0] = 2; /* a copy would need a frame: SIGKILL */
	if (!(info & MMLAB_PAGE_COW) || MMLAB_PAGE_REFS(info) != 1)
		_exit(5);
	_exit(p[0] == 2 && (mmlab_page_info((void *)p) & MMLAB_PAGE_WRITABLE) ? 0 : 6);
}

TEST(last_holder_writes_with_no_frame_free)
{
	if (mmlab_eager())
		SKIP("eager: fork copies every page, nothing is shared");
	prefault_stack();
	floor_seen = floor_seen; /* its page present and ours before we squeeze */
	int go[2], ready[2];
	ASSERT_EQ(pipe(go), 0);
	ASSERT_EQ(pipe(ready), 0);
	long before = mmlab_free_frames();
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0)
		last_holder(ready[1], go[0]);
	char c;
	EXPECT_EQ(read(ready[0], &c, 1), 1);
	break_shared_pages(); /* the child's pages are its alone now */
	long held = squeeze_all();
	floor_seen = mmlab_free_frames(); /* the floor, for the later tests: no squeeze just to measure it */
	(void)write(go[1], "g", 1);
	int status = -1;
	pid_t got = waitpid(pid, &status, 0);
	long released = mmlab_squeeze(-1);
	EXPECT_EQ(got, pid);
	EXPECT_EQ(released, held);
	EXPECT_EQ(status, 0); /* not killed: its writes took no frame */
	EXPECT_EQ(mmlab_free_frames(), before);
	for (int fd = 0; fd < 2; fd++) {
		close(go[fd]);
		close(ready[fd]);
	}
}

/* A process that writes page after page of a lazy heap; exit 1 if it got @limit pages without being killed. */
static __attribute__((noreturn)) void hog(int go_fd, long limit)
{
	char c;
	if (read(go_fd, &c, 1) != 1)
		_exit(2);
	char *heap = sbrk(limit * PAGE_SIZE);
	if (heap == (void *)-1)
		_exit(3);
	printf("# hog: heap at %p, %ld free\n", heap, mmlab_free_frames());
	for (long i = 0; i < limit; i++)
		heap[i * PAGE_SIZE] = 1;
	_exit(1);
}

TEST(memory_hog_is_killed_with_sigkill)
{
	if (mmlab_eager())
		SKIP("eager: brk maps every page, so it refuses instead of a fault failing");
	prefault_stack();
	squeeze_floor(); /* measured now, before anything is shared */
	int go[2];
	ASSERT_EQ(pipe(go), 0);
	long before = mmlab_free_frames();
	long limit = before + 1024; /* more than the machine has */
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0)
		hog(go[0], limit);
	int status = 0;
	long left;
	long held = run_squeezed(pid, go[1], USABLE, &status, &left);
	printf("# %ld frames held, %ld left: the hog was stopped with status 0x%x\n", held, left, status);
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(WTERMSIG(status), SIGKILL); /* out of memory in a fault: SIGKILL, not SIGSEGV */
	EXPECT_EQ(mmlab_free_frames(), before);
	close(go[0]);
	close(go[1]);
}

/* What the bomber reports. */
struct bomb_report {
	long forks;    /* children made */
	long fork_err; /* errno of the fork that failed, 0 if none did */
	long exited;   /* children that exited 0 */
	long killed;   /* children killed with SIGKILL (out of memory in a fault) */
	long other;    /* children that ended otherwise */
};

enum { BOMB_MAX = 4000 };

/* Fork children (each waits for the pipe to close, then exits) until fork fails; then let them go and reap them. */
static __attribute__((noreturn)) void bomber(int go_fd, int report_fd)
{
	struct bomb_report r = {0, 0, 0, 0, 0};
	char c;
	if (read(go_fd, &c, 1) != 1)
		_exit(2);
	int hold[2];
	if (pipe(hold))
		_exit(3);
	while (r.forks < BOMB_MAX) {
		pid_t pid = fork();
		if (pid < 0) {
			r.fork_err = errno;
			break;
		}
		if (pid == 0) {
			close(hold[1]);
			read(hold[0], &c, 1); /* 0 at EOF: the bomber let go */
			_exit(0);
		}
		r.forks++;
	}
	close(hold[1]);
	int status;
	while (wait(&status) > 0) {
		if (status == 0)
			r.exited++;
		else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
			r.killed++;
		else
			r.other++;
	}
	write(report_fd, &r, sizeof(r));
	_exit(0);
}

TEST(fork_bomb_ends_in_enomem)
{
	prefault_stack();
	squeeze_floor(); /* measured now, before anything is shared */
	int go[2], rep[2];
	ASSERT_EQ(pipe(go), 0);
	ASSERT_EQ(pipe(rep), 0);
	long before = mmlab_free_frames();
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0)
		bomber(go[0], rep[1]);
	close(rep[1]); /* the report's read sees EOF if the bomber died */
	int status = -1;
	long held = run_squeezed(pid, go[1], USABLE, &status, NULL);
	EXPECT_EQ(status, 0); /* the bomber itself survived */
	struct bomb_report r = {-1, -1, -1, -1, -1};
	EXPECT_EQ(read(rep[0], &r, sizeof(r)), (long)sizeof(r));
	printf("# %ld frames held: %ld forks, then errno %ld; children: %ld exited, %ld killed, %ld other\n",
	       held, r.forks, r.fork_err, r.exited, r.killed, r.other);
	EXPECT_GT(r.forks, 0);
	EXPECT_LT(r.forks, BOMB_MAX);
	EXPECT_EQ(r.fork_err, ENOMEM);
	EXPECT_EQ(r.exited + r.killed, r.forks); /* every child reaped, exited or killed for memory */
	EXPECT_EQ(r.other, 0);
	EXPECT_EQ(mmlab_free_frames(), before);
	close(go[0]);
	close(go[1]);
	close(rep[0]);
}

TEST(fork_without_frames_for_its_tables_fails_and_frees)
{
	enum { PAGES = 64 };
	/* Lazy: a page per 2 MiB, a level-0 table each for the child to make; eager: contiguous pages to copy. */
	unsigned long spread = mmlab_eager() ? PAGE_SIZE : L0_SPAN;
	unsigned long old = (unsigned long)sys_brk(NULL);
	unsigned long start = (old + L0_SPAN - 1) & ~(L0_SPAN - 1), end = start + PAGES * spread;
	ASSERT_EQ(sys_brk((void *)end), (long)end);
	for (int i = 0; i < PAGES; i++)
		*(volatile long *)(start + i * spread) = i + 1;
	prefault_stack();
	long floor = squeeze_floor(); /* measured now, before anything is shared */
	break_shared_pages();
	/* Leave a few frames above the floor: enough to start a fork, not for 64 tables. */
	long held = squeeze_to(16);
	long before = mmlab_free_frames();
	pid_t pid = fork();
	int err = errno;
	long after = mmlab_free_frames();
	long released = mmlab_squeeze(-1);
	if (pid == 0)
		_exit(0);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	printf("# floor %ld free, %ld held, %ld free before the fork\n", floor, held, before);
	EXPECT_EQ(released, held);
	EXPECT_EQ(pid, -1);
	EXPECT_EQ(err, ENOMEM);
	EXPECT_EQ(after, before); /* what the failed fork took, it gave back */
	long bad = 0;
	for (int i = 0; i < PAGES; i++) {
		volatile long *p = (long *)(start + i * spread);
		bad += *p != i + 1;
		*p = 0; /* ours alone again: no copy needed */
		bad += MMLAB_PAGE_REFS(mmlab_page_info((void *)p)) != 1;
	}
	EXPECT_EQ(bad, 0);
	ASSERT_EQ(sys_brk((void *)old), (long)old);
}

static volatile int hogs_go;

static long thread_hog(void *arg)
{
	char *heap = arg;
	while (!hogs_go)
		;
	for (long i = 0;; i++)
		heap[i * PAGE_SIZE] = 2;
	return 0;
}

/* Two threads write a lazy heap each until a fault of one finds no frame. */
static __attribute__((noreturn)) void hog_with_threads(int ready_fd, int go_fd, long limit)
{
	char *heap = sbrk(2 * limit * PAGE_SIZE);
	if (heap == (void *)-1)
		_exit(3);
	struct uthread t;
	if (thread_create(&t, thread_hog, heap + limit * PAGE_SIZE))
		_exit(4);
	char c = 'r';
	(void)write(ready_fd, &c, 1);
	if (read(go_fd, &c, 1) != 1)
		_exit(2);
	hogs_go = 1;
	thread_hog(heap);
	_exit(1);
}

TEST(oom_kill_ends_every_thread_of_the_process)
{
	if (mmlab_eager())
		SKIP("eager: brk maps every page, so it refuses instead of a fault failing");
	prefault_stack();
	squeeze_floor(); /* measured now, before anything is shared */
	int go[2], ready[2];
	ASSERT_EQ(pipe(go), 0);
	ASSERT_EQ(pipe(ready), 0);
	long before = mmlab_free_frames();
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0)
		hog_with_threads(ready[1], go[0], before + 1024);
	char c;
	EXPECT_EQ(read(ready[0], &c, 1), 1); /* its second thread is running */
	int status = 0;
	run_squeezed(pid, go[1], USABLE, &status, NULL);
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(WTERMSIG(status), SIGKILL);
	EXPECT_EQ(mmlab_free_frames(), before);
	for (int fd = 0; fd < 2; fd++) {
		close(go[fd]);
		close(ready[fd]);
	}
}

TEST(the_kernel_goes_on_after_the_kills)
{
	/* A fresh child forks, touches memory and exits as usual. */
	char *argv[] = {"child", "fork", "3", NULL};
	long before = mmlab_free_frames();
	int status = ktap_spawn_wait(argv);
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(WEXITSTATUS(status), 0);
	EXPECT_EQ(mmlab_free_frames(), before);
}
