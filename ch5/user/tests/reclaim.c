/*
 * ch5.user.reclaim: under memory pressure the kernel gives back clean
 * page-cache pages (and writes dirty ones back first) instead of failing.
 *
 * With mmlab_squeeze() holding all but USABLE frames above the floor (the
 * emergency reserve, which user memory never gets), a child writes a file
 * FILE_PAGES pages long, several times what is free, through write(),
 * reads it back, writes it again through a shared mapping, a window at a
 * time (a page that a mapping holds cannot be given back), reads it back,
 * then touches anonymous memory: all of it must succeed, which is only
 * possible if the kernel takes back the file's pages as it goes, and the
 * file must still hold what was written. The child does the work so that
 * a kernel that fails (a SIGKILL for a fault that found no frame) fails
 * the test, not the suite; it prints what it measured as "# " lines.
 *
 * As in ch4.user.pressure, the parent first gives each of its pages shared
 * copy-on-write with the child a frame of its own, so that it needs none
 * while squeezed.
 */
#include "fcntl.h"
#include "pressure.h"
#include "utest5.h"

KTAP_SUITE("ch5.user.reclaim");

/* Three times as many file pages as frames: no page cache could hold the
 * file. Small, because each page is disk requests (about 1,000 a test), and
 * the grade boots five kernels that run this at once with other work. */
#define USABLE	   64  /* frames above the floor while squeezed: 256 KiB */
#define FILE_PAGES 192 /* 768 KiB: three times USABLE */
#define WINDOW	   16  /* pages of the file mapped at a time */
#define ANON_PAGES (USABLE * 3 / 4)
#define BIG_FILE   "ur-big.dat"

/* What is free when squeeze can take no more (counting drains the kernel's caches: squeeze twice). */
static long squeeze_floor(void)
{
	mmlab_squeeze(0);
	mmlab_free_frames();
	mmlab_squeeze(0);
	long floor = mmlab_free_frames();
	mmlab_squeeze(-1);
	return floor;
}

/* Page @i of the file's content for pass @salt, into @buf (one page). */
static void make_page(long *buf, long i, long salt)
{
	for (unsigned long k = 0; k < PAGE_SIZE / sizeof(long); k++)
		buf[k] = (i << 20) ^ (salt << 12) ^ (long)k;
}

/* The first page of the file (every @step-th) that does not hold pass
 * @salt's content, -1 if all do. */
static long first_bad_page(int fd, long salt, long step)
{
	static long buf[PAGE_SIZE / sizeof(long)], want[PAGE_SIZE / sizeof(long)];
	for (long i = 0; i < FILE_PAGES; i += step) {
		make_page(want, i, salt);
		if (sys_pread64(fd, buf, PAGE_SIZE, i * (long)PAGE_SIZE) != (long)PAGE_SIZE ||
		    memcmp(buf, want, PAGE_SIZE) != 0)
			return i;
	}
	return -1;
}

/*
 * The child's work, once the parent has squeezed: with @sync_every > 0 an
 * fsync after every @sync_every pages written (the cache then holds clean
 * pages only), with 0 none (the kernel must write dirty pages back itself).
 * Its exit code says which step failed.
 */
static int squeezed_work(int sync_every)
{
	static long page[PAGE_SIZE / sizeof(long)];
	long start = mmlab_free_frames();
	int fd = (int)sys_open(BIG_FILE, O_RDWR | O_CREAT | O_EXCL, 0644);
	if (fd < 0) {
		printf("# open: %s\n", strerror(-fd));
		return 10;
	}
	for (long i = 0; i < FILE_PAGES; i++) {
		make_page(page, i, 1);
		long r = sys_write(fd, page, PAGE_SIZE);
		if (r != (long)PAGE_SIZE) {
			printf("# write of page %ld: %ld (%s), %ld frames free\n", i, r,
			       r < 0 ? strerror((int)-r) : "short", mmlab_free_frames());
			return 11;
		}
		if (sync_every && (i + 1) % sync_every == 0 && (r = sys_fsync(fd)) != 0) {
			printf("# fsync after page %ld: %s\n", i, strerror((int)-r));
			return 19;
		}
	}
	long after_write = mmlab_free_frames();
	long bad = first_bad_page(fd, 1, 1);
	if (bad >= 0) {
		printf("# read back after write(): page %ld differs\n", bad);
		return 12;
	}
	for (long w = 0; w < FILE_PAGES; w += WINDOW) {
		long r = sys_mmap(NULL, PAGES(WINDOW), PROT_RW, MAP_SHARED, fd, w * (long)PAGE_SIZE);
		if (mm_err(r)) {
			printf("# mmap of pages %ld..: %s\n", w, strerror((int)-r));
			return 13;
		}
		for (long i = 0; i < WINDOW; i++)
			make_page((long *)(AS_PTR(r) + PAGES(i)), w + i, 2);
		if (sys_munmap(AS_PTR(r), PAGES(WINDOW)) != 0)
			return 14;
	}
	long after_map = mmlab_free_frames();
	bad = first_bad_page(fd, 2, 1);
	if (bad >= 0) {
		printf("# read back after the shared mapping: page %ld differs\n", bad);
		return 15;
	}
	char *anon = map_anon(ANON_PAGES, PROT_RW, MAP_PA);
	if (!anon) {
		printf("# anonymous mmap of %d pages failed\n", ANON_PAGES);
		return 16;
	}
	long before_anon = mmlab_free_frames();
	for (long i = 0; i < ANON_PAGES; i++)
		fill_page(anon, (unsigned long)i, 3);
	long after_anon = mmlab_free_frames();
	for (long i = 0; i < ANON_PAGES; i++)
		if (!page_has(anon, (unsigned long)i, 3))
			return 17;
	sys_munmap(anon, PAGES(ANON_PAGES));
	bad = first_bad_page(fd, 2, 7); /* a sample: every page was read back just before */
	if (bad >= 0) {
		printf("# read back after the anonymous pages: page %ld differs\n", bad);
		return 18;
	}
	close(fd);
	printf("# %s: frames free: %ld squeezed, %ld after writing %d pages, %ld after rewriting them "
	       "mapped, "
	       "%ld before and %ld after touching %d anonymous pages\n",
	       sync_every ? "fsync'd" : "never fsync'd", start, after_write, FILE_PAGES, after_map,
	       before_anon, after_anon, ANON_PAGES);
	return 0;
}

/* Run squeezed_work(@sync_every) in a child while the machine is squeezed to USABLE frames above the floor. */
static void run_squeezed(int sync_every)
{
	if (mmlab_free_frames() <= 0)
		SKIP("not mmlab: no free-frame count to squeeze");
	prefault_stack();
	sys_unlink(BIG_FILE);
	long floor = squeeze_floor();
	int go[2];
	ASSERT_EQ(pipe(go), 0);
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		prefault_stack();
		char c;
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		_exit(squeezed_work(sync_every));
	}
	break_shared_pages(); /* our pages our own: we need no frame while squeezed */
	long held = mmlab_squeeze(floor + USABLE);
	long left = mmlab_free_frames();
	EXPECT_EQ(write(go[1], "g", 1), 1);
	int status = -1;
	pid_t got = waitpid(pid, &status, 0);
	long released = mmlab_squeeze(-1);
	printf("# floor %ld frames, squeezed to %ld free (%ld held), file of %d pages\n", floor, left, held,
	       FILE_PAGES);
	EXPECT_EQ(got, pid);
	EXPECT_EQ(released, held);
	EXPECT_FALSE(WIFSIGNALED(status)); /* SIGKILL: a fault found no frame */
	EXPECT_EQ(WEXITSTATUS(status), 0); /* 10..19: the step that failed (see squeezed_work) */
	close(go[0]);
	close(go[1]);
	EXPECT_EQ(sys_unlink(BIG_FILE), 0);
}

TEST(clean_file_pages_are_given_back_under_pressure) { run_squeezed(WINDOW); }

TEST(dirty_file_pages_are_written_back_under_pressure) { run_squeezed(0); }
