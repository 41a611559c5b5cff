/*
 * ch5.user.munmap: munmap(2) with Linux's results. Length 0 and huge
 * lengths are EINVAL and change nothing (they panicked ArceOS and
 * Asterinas); unmapping what is not mapped succeeds (rCore's exercise says
 * otherwise; Linux does not); one call goes over holes and several areas;
 * the middle of an area splits it, the ends trim it; the frames come back;
 * and once munmap returns, no hart can still reach the page: a thread
 * reading it on any hart faults at once.
 */
#include "utest5.h"

KTAP_SUITE("ch5.user.munmap");

TEST(length_zero_is_einval)
{
	char *p = map_anon(1, PROT_RW, MAP_PA);
	ASSERT_TRUE(p != NULL);
	p[0] = 1;
	EXPECT_EQ(sys_munmap(p, 0), -EINVAL);
	EXPECT_EQ(sys_munmap((void *)FREE_ADDR, 0), -EINVAL);
	EXPECT_EQ(p[0], 1);
	EXPECT_EQ(sys_munmap(p, PAGE_SIZE), 0);
}

TEST(a_huge_length_is_einval_and_changes_nothing)
{
	char *p = map_anon(2, PROT_RW, MAP_PA);
	ASSERT_TRUE(p != NULL);
	fill_page(p, 0, 1);
	fill_page(p, 1, 1);
	EXPECT_EQ(sys_munmap(p, (size_t)-1), -EINVAL);
	EXPECT_EQ(sys_munmap(p, (size_t)-PAGE_SIZE), -EINVAL);
	EXPECT_EQ(sys_munmap(p, 1UL << 62), -EINVAL);
	EXPECT_EQ(sys_munmap(p, USER_TOP_ADDR), -EINVAL); /* past the top of the user half */
	EXPECT_EQ(sys_munmap((void *)PAGE_SIZE, USER_TOP_ADDR), -EINVAL);
	EXPECT_TRUE(page_has(p, 0, 1));
	EXPECT_TRUE(page_has(p, 1, 1));
	EXPECT_STREQ(perms_at(p), "rw-p");
	EXPECT_EQ(sys_munmap(p, PAGES(2)), 0);
}

TEST(an_unaligned_address_is_einval)
{
	char *p = map_anon(2, PROT_RW, MAP_PA);
	ASSERT_TRUE(p != NULL);
	EXPECT_EQ(sys_munmap(p + 1, PAGE_SIZE), -EINVAL);
	EXPECT_EQ(sys_munmap(p + PAGE_SIZE / 2, PAGE_SIZE), -EINVAL);
	EXPECT_TRUE(area_is((unsigned long)p, (unsigned long)p + PAGES(2)));
	EXPECT_EQ(sys_munmap(p, PAGES(2)), 0);
}

TEST(an_unaligned_length_takes_the_whole_last_page)
{
	char *p = map_anon(3, PROT_RW, MAP_PA);
	ASSERT_TRUE(p != NULL);
	EXPECT_EQ(sys_munmap(p, PAGE_SIZE + 1), 0);
	EXPECT_TRUE(area_is((unsigned long)p + PAGES(2), (unsigned long)p + PAGES(3)));
	EXPECT_EQ(areas_in((unsigned long)p, (unsigned long)p + PAGES(2)), 0);
	EXPECT_EQ(sys_munmap(p + PAGES(2), 1), 0);
	EXPECT_EQ(areas_in((unsigned long)p, (unsigned long)p + PAGES(3)), 0);
}

TEST(ranges_above_the_user_half_are_einval)
{
	EXPECT_EQ(sys_munmap((void *)USER_TOP_ADDR, PAGE_SIZE), -EINVAL);
	EXPECT_EQ(sys_munmap((void *)(USER_TOP_ADDR - PAGE_SIZE), PAGES(2)), -EINVAL);
	EXPECT_EQ(sys_munmap((void *)KERNEL_ADDR, PAGE_SIZE), -EINVAL);
	EXPECT_EQ(sys_munmap((void *)-PAGE_SIZE, PAGE_SIZE), -EINVAL);
}

TEST(unmapping_what_is_not_mapped_succeeds)
{
	ASSERT_EQ(clear_free_range(), 0);
	int before = areas_total();
	EXPECT_EQ(sys_munmap((void *)FREE_ADDR, PAGES(16)), 0);
	EXPECT_EQ(sys_munmap((void *)FREE_ADDR, FREE_BYTES), 0);
	EXPECT_EQ(munmap((void *)FREE_ADDR, PAGE_SIZE), 0); /* POSIX too */
	EXPECT_EQ(areas_total(), before);
}

TEST(one_call_unmaps_several_areas_and_the_holes_between)
{
	ASSERT_EQ(clear_free_range(), 0);
	char *p = (char *)FREE_ADDR;
	ASSERT_TRUE(map_at(FREE_ADDR + PAGES(1), 2, PROT_RW, MAP_PA) != NULL);
	ASSERT_TRUE(map_at(FREE_ADDR + PAGES(4), 1, PROT_READ, MAP_PA) != NULL);
	ASSERT_TRUE(map_at(FREE_ADDR + PAGES(6), 3, PROT_RW, MAP_SA) != NULL);
	ASSERT_TRUE(map_at(FREE_ADDR + PAGES(12), 1, PROT_RW, MAP_PA) != NULL);
	fill_page(p, 1, 2);
	fill_page(p, 7, 2);
	fill_page(p, 12, 2);
	EXPECT_EQ(areas_in(FREE_ADDR, FREE_ADDR + PAGES(13)), 4);
	/* From a hole into the middle of the third area. */
	EXPECT_EQ(sys_munmap(p, PAGES(8)), 0);
	EXPECT_EQ(areas_in(FREE_ADDR, FREE_ADDR + PAGES(8)), 0);
	EXPECT_TRUE(area_is(FREE_ADDR + PAGES(8), FREE_ADDR + PAGES(9)));
	EXPECT_STREQ(perms_at(p + PAGES(8)), "rw-s");
	EXPECT_TRUE(page_has(p, 12, 2));
	EXPECT_READ_FAULTS(p + PAGES(1), 1);
	EXPECT_READ_FAULTS(p + PAGES(7), 1);
	EXPECT_READ_FAULTS(p + PAGES(8), 0);
	EXPECT_EQ(sys_munmap(p, PAGES(16)), 0);
	EXPECT_EQ(areas_in(FREE_ADDR, FREE_ADDR + PAGES(16)), 0);
}

TEST(unmapping_the_middle_splits_the_area)
{
	ASSERT_EQ(clear_free_range(), 0);
	char *p = map_at(FREE_ADDR, 5, PROT_RW, MAP_PA);
	ASSERT_TRUE(p != NULL);
	for (int i = 0; i < 5; i++)
		fill_page(p, i, 4);
	EXPECT_EQ(sys_munmap(p + PAGES(2), PAGE_SIZE), 0);
	EXPECT_EQ(areas_in(FREE_ADDR, FREE_ADDR + PAGES(5)), 2);
	EXPECT_TRUE(area_is(FREE_ADDR, FREE_ADDR + PAGES(2)));
	EXPECT_TRUE(area_is(FREE_ADDR + PAGES(3), FREE_ADDR + PAGES(5)));
	EXPECT_STREQ(perms_at(p + PAGES(4)), "rw-p");
	for (int i = 0; i < 5; i++)
		if (i != 2)
			EXPECT_TRUE(page_has(p, i, 4));
	EXPECT_READ_FAULTS(p + PAGES(2), 1);
	/* Both halves still write. */
	p[PAGES(1)] = 1;
	p[PAGES(3)] = 1;
	EXPECT_EQ(sys_munmap(p, PAGES(5)), 0);
}

TEST(unmapping_the_ends_trims_the_area)
{
	ASSERT_EQ(clear_free_range(), 0);
	char *p = map_at(FREE_ADDR, 6, PROT_RW, MAP_PA);
	ASSERT_TRUE(p != NULL);
	for (int i = 0; i < 6; i++)
		fill_page(p, i, 6);
	EXPECT_EQ(sys_munmap(p, PAGES(2)), 0);
	EXPECT_EQ(sys_munmap(p + PAGES(5), PAGE_SIZE), 0);
	EXPECT_TRUE(area_is(FREE_ADDR + PAGES(2), FREE_ADDR + PAGES(5)));
	for (int i = 2; i < 5; i++)
		EXPECT_TRUE(page_has(p, i, 6));
	EXPECT_EQ(sys_munmap(p, PAGES(6)), 0);
}

TEST(access_after_munmap_faults)
{
	char *p = map_anon(2, PROT_RW, MAP_PA);
	ASSERT_TRUE(p != NULL);
	p[0] = 1;
	p[PAGE_SIZE] = 1;
	EXPECT_EQ(sys_munmap(p, PAGES(2)), 0);
	EXPECT_READ_FAULTS(p, 1);
	EXPECT_WRITE_FAULTS(p + PAGE_SIZE, 1);
	EXPECT_EQ(mmlab_page_info(p), 0);
	EXPECT_STREQ(perms_at(p), "none");
}

TEST(munmap_gives_the_frames_back)
{
	enum { N = 64 };
	long before = mmlab_free_frames();
	char *p = map_anon(N, PROT_RW, MAP_PA);
	ASSERT_TRUE(p != NULL);
	for (int i = 0; i < N; i++)
		fill_page(p, i, 8);
	long used = before - mmlab_free_frames();
	EXPECT_GE(used, N);
	EXPECT_EQ(sys_munmap(p, PAGES(N)), 0);
	long kept = before - mmlab_free_frames();
	printf("# %d pages written took %ld frames; %ld kept after munmap (page tables)\n", N, used, kept);
	EXPECT_LE(kept, 3);
}

TEST(memory_mapped_again_reads_zero)
{
	ASSERT_EQ(clear_free_range(), 0);
	char *p = map_at(FREE_ADDR, 2, PROT_RW, MAP_PA);
	ASSERT_TRUE(p != NULL);
	fill_page(p, 0, 10);
	fill_page(p, 1, 10);
	EXPECT_EQ(sys_munmap(p, PAGES(2)), 0);
	ASSERT_TRUE(map_at(FREE_ADDR, 2, PROT_RW, MAP_PA) == p);
	EXPECT_TRUE(page_zero(p, 0));
	EXPECT_TRUE(page_zero(p, 1));
	EXPECT_EQ(sys_munmap(p, PAGES(2)), 0);
}

/* The reader thread: warms its TLB with the page, then reads it forever (until the process dies). */
struct reader {
	volatile long *page;
	volatile long want_hart; /* the hart to read on, or -1 */
	volatile long hart;	 /* where it reads */
	volatile int started;
	volatile long reads;
};

/* How long the reader looks for its hart: at most HART_TRIES naps of a millisecond. */
enum { HART_TRIES = 200 };

static long read_forever(void *arg)
{
	struct reader *r = arg;
	/* A thread that wakes from a nap goes back on the run queue and whichever
	 * hart takes it first runs it, an idle one included: naps walk the reader
	 * over the harts. Yielding would keep it on the harts already busy, and
	 * costs more the slower the host (every yield takes the scheduler's lock):
	 * naps bound the search in time, a small part of the test watchdog's. */
	struct timespec nap = {0, 1000000};
	for (int i = 0; i < HART_TRIES && r->want_hart >= 0 && mmlab_hart() != r->want_hart; i++)
		nanosleep(&nap, NULL);
	r->hart = mmlab_hart();
	(void)*r->page;
	r->started = 1;
	for (;;) {
		(void)*r->page;
		r->reads++;
	}
	return 0;
}

/* Spins after munmap before the child gives up on being killed. */
enum { KILL_SPINS = 100000000 };

/*
 * The child for one hart: a reader on hart @p hart (if it can get there),
 * this thread on another, munmap, then wait to be killed. Exits 3 if
 * nothing killed it, 4 if the reader went on reading after munmap
 * returned, 5 if it could not start.
 */
static void unmap_under_a_reader(long hart, int report)
{
	char *p = map_anon(1, PROT_RW, MAP_PA);
	static struct reader r; /* ours after fork */
	if (!p)
		child_gives_up(report);
	p[0] = 1;
	r.page = (volatile long *)p;
	r.want_hart = hart;
	r.hart = -1;
	r.started = 0;
	r.reads = 0;
	struct uthread t;
	if (thread_create(&t, read_forever, &r))
		child_gives_up(report);
	while (!r.started)
		sched_yield();
	long mine = mmlab_hart();
	for (int i = 0; i < 1000 && mmlab_nr_harts() > 1 && mine == r.hart; i++) {
		sched_yield();
		mine = mmlab_hart();
	}
	long line[2] = {r.hart, mine};
	write(report, line, sizeof(line));
	if (sys_munmap(p, PAGE_SIZE) != 0)
		_exit(5);
	__sync_synchronize();
	long reads = r.reads;
	for (long i = 0; i < KILL_SPINS; i++)
		if (r.reads > reads + 1) /* one read may have been under way */
			_exit(4);
	_exit(3);
}

TEST(access_after_munmap_faults_on_every_hart)
{
	long harts = mmlab_nr_harts();
	int fds[2];
	ASSERT_EQ(pipe(fds), 0);
	unsigned long seen = 0;
	for (long h = 0; h < harts && h < 64; h++) {
		pid_t pid = fork();
		ASSERT_GE(pid, 0);
		if (pid == 0)
			unmap_under_a_reader(h, fds[1]);
		int status = 0;
		EXPECT_EQ(waitpid(pid, &status, 0), pid);
		/* The signal that ended the child, or 100 + its exit status: 103 it
		 * never faulted, 104 the reader read after munmap, 105 it could not
		 * start or munmap failed. */
		int outcome = WIFSIGNALED(status) ? WTERMSIG(status) : 100 + WEXITSTATUS(status);
		EXPECT_EQ(outcome, SIGSEGV);
		long line[2] = {-1, -1};
		if (read(fds[0], line, sizeof(line)) == sizeof(line)) {
			printf("# reader on hart %ld, munmap on hart %ld\n", line[0], line[1]);
			if (line[0] >= 0 && line[0] < 64)
				seen |= 1UL << line[0];
		}
	}
	close(fds[0]);
	close(fds[1]);
	int n = 0;
	for (unsigned long s = seen; s; s &= s - 1)
		n++;
	if (n < harts)
		printf("# the reader reached %d of %ld harts\n", n, harts);
}
