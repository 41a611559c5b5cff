/*
 * ch4.user.cow: fork shares private pages copy-on-write. After fork a page
 * is read-only and marked COW in both processes, its frame has one
 * reference per process, and the fork cost page tables, not a frame per
 * page. The first write gives the writer its own copy (or, for the last
 * holder, the same frame made writable again), so neither process sees the
 * other's writes; user copies (a pipe's read()) break the sharing as a
 * store does; exec and exit drop the references; and a thread of the writer
 * on another hart sees the new page at once (the break flushes every hart
 * of the mm).
 *
 * In the `eager` config fork copies every page: the checks of COW bits,
 * reference counts and frames SKIP there; isolation is checked in both.
 */
#include "utest.h"

KTAP_SUITE("ch4.user.cow");

#define INFO_BITS(i) ((i) & ~0xffffffffL)
#define COW_INFO     (MMLAB_PAGE_PRESENT | MMLAB_PAGE_COW)
#define PRIVATE_INFO (MMLAB_PAGE_PRESENT | MMLAB_PAGE_WRITABLE)

#define SKIP_IF_EAGER()                                                                                      \
	do {                                                                                                 \
		if (mmlab_eager())                                                                           \
			SKIP("eager: fork copies every page, nothing is shared");                            \
	} while (0)

/* @pages fresh page-aligned heap pages, each written; *@old gets the break to go back to. */
static char *heap_pages(unsigned long pages, unsigned long *old)
{
	*old = (unsigned long)sys_brk(NULL);
	unsigned long start = (*old + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1), end = start + pages * PAGE_SIZE;
	if ((unsigned long)sys_brk((void *)end) != end) {
		sys_brk((void *)*old);
		return NULL;
	}
	for (unsigned long i = 0; i < pages; i++)
		((volatile long *)(start + i * PAGE_SIZE))[0] = (long)(i + 1);
	return (char *)start;
}

/* One byte through a pipe (the other processes' go-ahead). */
static void signal_fd(int fd) { (void)write(fd, "x", 1); }
static bool wait_fd(int fd)
{
	char c;
	return read(fd, &c, 1) == 1;
}

/* Poll until the page at @p has @refs references (others exit asynchronously). */
static long wait_refs(const void *p, long refs)
{
	long info = 0;
	for (int i = 0; i < 20000; i++) {
		info = mmlab_page_info(p);
		if (MMLAB_PAGE_REFS(info) == refs)
			break;
		sched_yield();
	}
	return MMLAB_PAGE_REFS(info);
}

TEST(fork_shares_pages_copy_on_write)
{
	SKIP_IF_EAGER();
	enum { PAGES = 256 };
	unsigned long old;
	char *heap = heap_pages(PAGES, &old);
	ASSERT_TRUE(heap != NULL);
	int go[2], ready[2];
	ASSERT_EQ(pipe(go), 0);
	ASSERT_EQ(pipe(ready), 0);
	long before = mmlab_free_frames();
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		long info = mmlab_page_info(heap + 7 * PAGE_SIZE);
		EXPECT_EQ(INFO_BITS(info), COW_INFO); /* read-only, COW */
		EXPECT_EQ(MMLAB_PAGE_REFS(info), 2);  /* one reference per process */
		EXPECT_EQ(((long *)heap)[7 * PAGE_SIZE / sizeof(long)], 8);
		signal_fd(ready[1]);
		wait_fd(go[0]);
		ktap_child_exit();
	}
	ASSERT_TRUE(wait_fd(ready[0]));
	long cost = before - mmlab_free_frames();
	long bad = 0;
	for (int i = 0; i < PAGES; i++) {
		long info = mmlab_page_info(heap + i * PAGE_SIZE);
		bad += INFO_BITS(info) != COW_INFO || MMLAB_PAGE_REFS(info) != 2;
	}
	printf("# fork of a process with %d touched heap pages cost %ld frames\n", PAGES, cost);
	EXPECT_EQ(bad, 0);
	EXPECT_LT(cost,
		  PAGES / 4); /* tables, a kernel stack, a few stack pages copied: not a frame per page */
	signal_fd(go[1]);
	int status;
	EXPECT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_EQ(status, 0);
	long info = mmlab_page_info(heap);
	EXPECT_EQ(INFO_BITS(info), COW_INFO); /* still marked, now the only holder */
	EXPECT_EQ(MMLAB_PAGE_REFS(info), 1);
	for (int fd = 0; fd < 2; fd++) {
		close(go[fd]);
		close(ready[fd]);
	}
	sys_brk((void *)old);
}

/*
 * One page, value 100, shared by fork. @child_first: the child writes 200
 * first, then the parent 300; else the parent first. Each checks it sees
 * the other's write never.
 */
static void isolation(bool child_first)
{
	unsigned long old;
	volatile long *p = (long *)heap_pages(1, &old);
	ASSERT_TRUE(p != NULL);
	p[1] = 100;
	int to_child[2], to_parent[2];
	ASSERT_EQ(pipe(to_child), 0);
	ASSERT_EQ(pipe(to_parent), 0);
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		if (!child_first)
			wait_fd(to_child[0]); /* the parent has written */
		EXPECT_EQ(p[1], 100);
		p[1] = 200;
		EXPECT_EQ(p[1], 200);
		signal_fd(to_parent[1]);
		if (child_first)
			wait_fd(to_child[0]);
		EXPECT_EQ(p[1], 200);
		ktap_child_exit();
	}
	if (child_first)
		EXPECT_TRUE(wait_fd(to_parent[0]));
	EXPECT_EQ(p[1], 100);
	p[1] = 300;
	EXPECT_EQ(p[1], 300);
	signal_fd(to_child[1]);
	if (!child_first)
		EXPECT_TRUE(wait_fd(to_parent[0]));
	int status;
	EXPECT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_EQ(status, 0); /* the child's checks held */
	EXPECT_EQ(p[1], 300);
	for (int fd = 0; fd < 2; fd++) {
		close(to_child[fd]);
		close(to_parent[fd]);
	}
	sys_brk((void *)old);
}

TEST(child_write_is_not_seen_by_the_parent) { isolation(true); }

TEST(parent_write_is_not_seen_by_the_child) { isolation(false); }

TEST(last_holder_reuses_its_frame)
{
	SKIP_IF_EAGER();
	unsigned long old;
	volatile long *p = (long *)heap_pages(1, &old);
	ASSERT_TRUE(p != NULL);
	p[0] = 42;
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0)
		_exit(p[0] == 42 ? 0 : 1);
	int status;
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_EQ(status, 0);
	long info = mmlab_page_info((void *)p);
	EXPECT_EQ(INFO_BITS(info), COW_INFO); /* still read-only: the next write decides */
	EXPECT_EQ(MMLAB_PAGE_REFS(info), 1);
	long before = mmlab_free_frames();
	p[0] = 43;
	EXPECT_EQ(mmlab_free_frames(), before); /* the same frame made writable: no copy */
	info = mmlab_page_info((void *)p);
	EXPECT_EQ(INFO_BITS(info), PRIVATE_INFO);
	EXPECT_EQ(MMLAB_PAGE_REFS(info), 1);
	EXPECT_EQ(p[0], 43);
	sys_brk((void *)old);
}

enum { CHAIN_DEPTH = 3 };

/*
 * Level @d of the chain (1..CHAIN_DEPTH): check the page has d + 1
 * references (levels 0..d hold it, the next is not forked yet), report on
 * @up, fork level d + 1, reap it, then wait for the test's go-ahead on
 * @go[d] and exit (0 if every check held).
 */
static __attribute__((noreturn)) void chain_level(int d, const long *page, int up, int go[][2])
{
	long refs = MMLAB_PAGE_REFS(mmlab_page_info(page));
	write(up, &refs, sizeof(refs));
	int bad = refs != d + 1;
	if (d < CHAIN_DEPTH) {
		pid_t pid = fork();
		if (pid == 0)
			chain_level(d + 1, page, up, go);
		int status = 1;
		bad |= pid < 0 || waitpid(pid, &status, 0) != pid || status != 0;
	}
	bad |= !wait_fd(go[d][0]);
	_exit(bad);
}

TEST(reference_counts_follow_a_chain_of_forks)
{
	SKIP_IF_EAGER();
	unsigned long old;
	const long *page = (long *)heap_pages(1, &old);
	ASSERT_TRUE(page != NULL);
	int up[2], go[CHAIN_DEPTH + 1][2];
	ASSERT_EQ(pipe(up), 0);
	for (int d = 1; d <= CHAIN_DEPTH; d++)
		ASSERT_EQ(pipe(go[d]), 0);
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0)
		chain_level(1, page, up[1], go);
	for (int d = 1; d <= CHAIN_DEPTH; d++) {
		long refs = -1;
		EXPECT_EQ(read(up[0], &refs, sizeof(refs)), (long)sizeof(refs));
		EXPECT_EQ(refs, d + 1); /* level d saw the processes 0..d */
	}
	EXPECT_EQ(MMLAB_PAGE_REFS(mmlab_page_info(page)), CHAIN_DEPTH + 1);
	/* The deepest goes first; its parent reaps it; the count drops by one each time. */
	for (int d = CHAIN_DEPTH; d >= 2; d--) {
		signal_fd(go[d][1]);
		EXPECT_EQ(wait_refs(page, d), d);
	}
	signal_fd(go[1][1]);
	int status;
	EXPECT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_EQ(status, 0);
	EXPECT_EQ(MMLAB_PAGE_REFS(mmlab_page_info(page)), 1);
	close(up[0]);
	close(up[1]);
	for (int d = 1; d <= CHAIN_DEPTH; d++) {
		close(go[d][0]);
		close(go[d][1]);
	}
	sys_brk((void *)old);
}

enum { STRESS_ROUNDS = 6, STRESS_PAGES = 4 };

static long pattern(long pid, long round, long i) { return (pid << 32) ^ (round << 16) ^ i; }

static bool fill_check(long *buf, long pid, long round, bool fill)
{
	bool ok = true;
	for (long i = 0; i < STRESS_PAGES * (long)(PAGE_SIZE / sizeof(long)); i += 61) {
		if (fill)
			buf[i] = pattern(pid, round, i);
		else
			ok &= buf[i] == pattern(pid, round, i);
	}
	return ok;
}

/* A worker: fork STRESS_ROUNDS children, each checks the inherited pattern then writes and checks its own while the worker rewrites its own. */
static __attribute__((noreturn)) void stress_worker(void)
{
	long me = getpid();
	long *buf = sbrk(STRESS_PAGES * PAGE_SIZE);
	if (buf == (void *)-1)
		_exit(10);
	int bad = 0;
	for (long r = 0; r < STRESS_ROUNDS; r++) {
		fill_check(buf, me, r, true);
		pid_t pid = fork();
		if (pid < 0)
			_exit(11);
		if (pid == 0) {
			long child = getpid();
			int cbad = !fill_check(buf, me, r, false); /* the parent's data as at fork */
			fill_check(buf, child, r, true);
			for (int i = 0; i < 50; i++)
				sched_yield();
			cbad |= !fill_check(buf, child, r, false);
			_exit(cbad);
		}
		fill_check(buf, me, r + 100, true);
		bad |= !fill_check(buf, me, r + 100, false);
		int status;
		bad |= waitpid(pid, &status, 0) != pid || status != 0;
		bad |= !fill_check(buf, me, r + 100, false);
	}
	_exit(bad ? 12 : 0);
}

TEST(fork_and_write_on_every_hart)
{
	long harts = mmlab_nr_harts();
	long workers = harts < 2 ? 2 : harts;
	enum { MAX_WORKERS = 16 };
	if (workers > MAX_WORKERS)
		workers = MAX_WORKERS;
	pid_t pids[MAX_WORKERS];
	long before = mmlab_free_frames();
	for (long w = 0; w < workers; w++) {
		pids[w] = fork();
		ASSERT_GE(pids[w], 0);
		if (pids[w] == 0)
			stress_worker();
	}
	for (long w = 0; w < workers; w++) {
		int status = -1;
		EXPECT_EQ(waitpid(pids[w], &status, 0), pids[w]);
		EXPECT_EQ(status, 0);
	}
	EXPECT_EQ(mmlab_free_frames(), before); /* everything shared or copied came back */
	printf("# %ld workers x %d forks on %ld harts\n", workers, STRESS_ROUNDS, harts);
}

static const char parents_bytes[] = "the parent's bytes, not to be overwritten";
static const char childs_bytes[] = "the child's bytes from the pipe!!!!!!!!!!";

TEST(pipe_read_into_a_shared_page_copies_it)
{
	unsigned long old;
	char *buf = heap_pages(1, &old);
	ASSERT_TRUE(buf != NULL);
	memcpy(buf + 500, parents_bytes, sizeof(parents_bytes));
	int fds[2];
	ASSERT_EQ(pipe(fds), 0);
	ASSERT_EQ(write(fds[1], childs_bytes, sizeof(childs_bytes)), (long)sizeof(childs_bytes));
	bool lazy = !mmlab_eager();
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		if (lazy)
			EXPECT_EQ(INFO_BITS(mmlab_page_info(buf)), COW_INFO);
		/* The kernel writes the page for us: it must break the sharing, not write the parent's frame. */
		EXPECT_EQ(read(fds[0], buf + 500, sizeof(childs_bytes)), (long)sizeof(childs_bytes));
		EXPECT_STREQ(buf + 500, childs_bytes);
		long info = mmlab_page_info(buf);
		EXPECT_EQ(INFO_BITS(info), PRIVATE_INFO);
		EXPECT_EQ(MMLAB_PAGE_REFS(info), 1);
		ktap_child_exit();
	}
	int status;
	EXPECT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_EQ(status, 0);
	EXPECT_STREQ(buf + 500, parents_bytes);
	close(fds[0]);
	close(fds[1]);
	sys_brk((void *)old);
}

TEST(exec_after_fork_drops_the_shared_pages)
{
	SKIP_IF_EAGER();
	enum { PAGES = 16 };
	unsigned long old;
	char *heap = heap_pages(PAGES, &old);
	ASSERT_TRUE(heap != NULL);
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		static char *const argv[] = {"child", "spin", NULL};
		static char *const envp[] = {NULL};
		execve("child", argv, envp);
		_exit(127);
	}
	/* Shared until the child's exec replaces its address space; it spins on, holding none of ours. */
	long refs = wait_refs(heap + (PAGES - 1) * PAGE_SIZE, 1);
	EXPECT_EQ(refs, 1);
	int status = 0;
	EXPECT_EQ(waitpid(pid, &status, WNOHANG), 0); /* still running: exec, not exit, gave them back */
	long shared = 0;
	for (int i = 0; i < PAGES; i++)
		shared += MMLAB_PAGE_REFS(mmlab_page_info(heap + i * PAGE_SIZE)) != 1;
	EXPECT_EQ(shared, 0);
	EXPECT_EQ(kill(pid, SIGKILL), 0);
	EXPECT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_TRUE(WIFSIGNALED(status));
	sys_brk((void *)old);
}

/* The reader thread's state: on a page of its own, private to us after the fork (we write it first). */
struct reader {
	volatile long *page;
	volatile long hart;
	volatile int started;
	volatile int written; /* the writer's store is done */
	volatile long spins;  /* reads after that before the new value showed; -1 never */
};

/* Reads allowed after the store before the reader must see it: a flush takes far fewer. */
enum { READER_SPINS = 10000000 };

static long read_until_new(void *arg)
{
	struct reader *r = arg;
	r->hart = mmlab_hart();
	long v = *r->page; /* in this hart's TLB now */
	r->started = 1;
	long after = 0;
	while ((v = *r->page) != 2)
		if (r->written && ++after > READER_SPINS)
			break;
	r->spins = v == 2 ? after : -1;
	return v;
}

TEST(thread_on_another_hart_sees_a_cow_break)
{
	if (mmlab_nr_harts() < 2)
		SKIP("one hart");
	unsigned long old;
	char *heap = heap_pages(2, &old);
	ASSERT_TRUE(heap != NULL);
	volatile long *page = (long *)heap;
	*page = 1;
	int go[2];
	ASSERT_EQ(pipe(go), 0);
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		wait_fd(go[0]);
		_exit(*page == 1 ? 0 : 1); /* its copy never changed */
	}
	struct reader *r = (struct reader *)(heap + PAGE_SIZE);
	r->page = page; /* our own copy of this page now (the child keeps the old) */
	r->hart = -1;
	r->started = 0;
	r->written = 0;
	r->spins = -2;
	if (!mmlab_eager())
		EXPECT_EQ(MMLAB_PAGE_REFS(mmlab_page_info((void *)page)), 2);
	struct uthread t;
	ASSERT_EQ(thread_create(&t, read_until_new, r), 0);
	while (!r->started)
		;
	long mine = mmlab_hart();
	for (int i = 0; i < 1000 && mine == r->hart; i++) {
		sched_yield();
		mine = mmlab_hart();
	}
	bool apart = mine != r->hart;
	*page = 2; /* copy-on-write break: a new frame while the reader spins */
	r->written = 1;
	long seen = thread_join(&t);
	printf("# reader on hart %ld, writer on hart %ld; saw the write %ld reads after it\n", r->hart, mine,
	       r->spins);
	EXPECT_EQ(seen, 2);
	EXPECT_GE(r->spins, 0);
	signal_fd(go[1]);
	int status;
	EXPECT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_EQ(status, 0);
	close(go[0]);
	close(go[1]);
	if (!apart)
		SKIP("the two threads never ran on different harts");
}
