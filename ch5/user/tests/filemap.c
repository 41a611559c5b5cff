/*
 * ch5.user.filemap: mmap(2) of files, after xv6's mmaptest and Linux's
 * semantics. A private mapping reads the file and copies on write (the
 * file never sees the copy); a shared mapping is the page cache itself: a
 * store is seen by read() at once, a write() is seen through the mapping,
 * and msync, munmap and the last close put it in the file. Bytes past the
 * end of the file in its last page read as zero; a page wholly past it is
 * SIGBUS (also after ftruncate shrinks a mapped file); a mapping outlives
 * close() and unlink(); a forked child shares the shared pages and not the
 * private ones. The errors: EACCES for a mapping the descriptor does not
 * allow, ENODEV for pipes and the console, EBADF, EINVAL.
 *
 * A check whose failure would kill the test process (a page that should
 * be readable but might be SIGBUS) runs in a forked child first. Each test
 * makes its own files (um-*.dat) and unlinks them; pattern.dat and
 * empty.dat are the image's seed files (ch5plan2.md).
 */
#include "filetest.h"

KTAP_SUITE("ch5.user.filemap");

#ifndef SIGBUS
#define SIGBUS 7 /* Linux's (asm-generic/signal.h) */
#endif

/* A new file @name of @size bytes of @c, open O_RDWR; a negative errno if it could not be made. */
static int make_file(const char *name, long size, int c)
{
	static char buf[4096];
	sys_unlink(name);
	int fd = (int)sys_open(name, O_RDWR | O_CREAT | O_EXCL, 0644);
	if (fd < 0)
		return fd;
	memset(buf, c, sizeof(buf));
	for (long off = 0; off < size;) {
		long n = size - off < (long)sizeof(buf) ? size - off : (long)sizeof(buf);
		if (sys_pwrite64(fd, buf, (size_t)n, off) != n) {
			close(fd);
			sys_unlink(name);
			return -EIO;
		}
		off += n;
	}
	return fd;
}

/* The offset of the first byte of @p[0, @len) that is not @c, -1 if none. */
static long mem_first_not(const char *p, int c, long len)
{
	for (long i = 0; i < len; i++)
		if ((unsigned char)p[i] != (unsigned char)c)
			return i;
	return -1;
}

/* True if page @i of the file holds fill_page(.., @i, @salt)'s pattern. */
static bool file_page_has(int fd, unsigned long i, long salt)
{
	static char buf[PAGE_SIZE * 2];
	char *page = (char *)(((uintptr_t)buf + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)) - PAGES(i);
	if (sys_pread64(fd, page + PAGES(i), PAGE_SIZE, (long)PAGES(i)) != (long)PAGE_SIZE)
		return false;
	return page_has(page, i, salt);
}

/* mmap of a file at a place of the kernel's choosing; NULL if refused (errno in *@err if given). */
static char *fmap(unsigned long len, int prot, int flags, int fd, long off)
{
	long r = sys_mmap(NULL, len, prot, flags, fd, off);
	return mm_err(r) ? NULL : AS_PTR(r);
}

/*
 * Touch @addr (a read or a write of a long) in a forked child.
 * @return 0 if it went through, the signal that killed the child, or -1
 *         if it ended another way.
 */
static int access_signal(const void *addr, enum probe_op op)
{
	uintptr_t arg[2] = {(uintptr_t)addr, (uintptr_t)op};
	int st = ktap_fork_wait(probe_child, arg);
	if (st == -1)
		return -1;
	if (WIFSIGNALED(st))
		return WTERMSIG(st);
	return WEXITSTATUS(st) == 0 ? 0 : -1;
}

TEST(a_private_mapping_reads_the_file)
{
	int fd = (int)sys_open(PATTERN_FILE, O_RDONLY, 0);
	ASSERT_GE(fd, 0);
	char *p = fmap(PAGES(4), PROT_READ, MAP_PRIVATE, fd, 0);
	EXPECT_TRUE(p != NULL);
	if (p) {
		long bad = -1;
		for (long i = 0; i < PATTERN_SIZE && bad < 0; i++)
			if ((unsigned char)p[i] != pattern_byte(i))
				bad = i;
		EXPECT_EQ(bad, -1); /* the first offset that differs */
		/* The last page's bytes past the end of the file read as zero. */
		EXPECT_EQ(mem_first_not(p + PATTERN_SIZE, 0, (long)PAGES(4) - PATTERN_SIZE), -1);
		EXPECT_STREQ(perms_at(p), "r--p");
		EXPECT_EQ(sys_munmap(p, PAGES(4)), 0);
	}
	close(fd);
}

TEST(a_mapping_at_an_offset_starts_there)
{
	int fd = (int)sys_open(PATTERN_FILE, O_RDONLY, 0);
	ASSERT_GE(fd, 0);
	char *p = fmap(PAGES(2), PROT_READ, MAP_SHARED, fd, (long)PAGE_SIZE);
	EXPECT_TRUE(p != NULL);
	if (p) {
		long bad = -1;
		for (long i = 0; i < (long)PAGES(2) && bad < 0; i++)
			if ((unsigned char)p[i] != pattern_byte((long)PAGE_SIZE + i))
				bad = i;
		EXPECT_EQ(bad, -1);
		EXPECT_EQ(sys_munmap(p, PAGES(2)), 0);
	}
	EXPECT_EQ(sys_mmap(NULL, PAGE_SIZE, PROT_READ, MAP_SHARED, fd, 100), -EINVAL); /* not page-aligned */
	EXPECT_EQ(sys_mmap(NULL, 0, PROT_READ, MAP_SHARED, fd, 0), -EINVAL);
	close(fd);
}

TEST(bytes_past_the_end_read_as_zero_and_never_reach_the_file)
{
	int fd = make_file("um-tail.dat", 5000, 'e');
	ASSERT_GE(fd, 0);
	char *p = fmap(PAGES(2), PROT_RW, MAP_SHARED, fd, 0);
	EXPECT_TRUE(p != NULL);
	if (p) {
		EXPECT_EQ(mem_first_not(p, 'e', 5000), -1);
		EXPECT_EQ(mem_first_not(p + 5000, 0, (long)PAGES(2) - 5000), -1);
		p[6000] = 'X'; /* inside the page, outside the file */
		EXPECT_EQ(sys_msync(p, PAGES(2), MS_SYNC), 0);
		EXPECT_EQ(sys_munmap(p, PAGES(2)), 0);
	}
	EXPECT_EQ(size_of(fd), 5000);
	EXPECT_EQ(file_first_not(fd, 0, 'e', 5000), -1);
	char c;
	EXPECT_EQ(sys_pread64(fd, &c, 1, 5000), 0);
	done(fd, "um-tail.dat");
}

TEST(a_private_write_never_reaches_the_file)
{
	int fd = make_file("um-private.dat", (long)PAGES(2), 'f');
	ASSERT_GE(fd, 0);
	char *p = fmap(PAGES(2), PROT_RW, MAP_PRIVATE, fd, 0);
	EXPECT_TRUE(p != NULL);
	if (p) {
		memset(p, 'p', 10);
		memset(p + PAGE_SIZE + 100, 'p', 10);
		EXPECT_EQ(p[0], 'p');
		EXPECT_EQ(file_first_not(fd, 0, 'f', (long)PAGES(2)), -1);
		EXPECT_EQ(sys_msync(p, PAGES(2), MS_SYNC), 0);
		EXPECT_EQ(file_first_not(fd, 0, 'f', (long)PAGES(2)), -1);
		EXPECT_EQ(sys_munmap(p, PAGES(2)), 0);
	}
	close(fd);
	fd = (int)sys_open("um-private.dat", O_RDONLY, 0);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(file_first_not(fd, 0, 'f', (long)PAGES(2)), -1);
	done(fd, "um-private.dat");
}

TEST(an_unwritten_private_page_follows_the_file)
{
	int fd = make_file("um-follow.dat", (long)PAGES(2), 'o');
	ASSERT_GE(fd, 0);
	char *p = fmap(PAGES(2), PROT_RW, MAP_PRIVATE, fd, 0);
	EXPECT_TRUE(p != NULL);
	if (p) {
		EXPECT_EQ(p[0], 'o'); /* faulted in, not written: still the file's page */
		p[PAGE_SIZE] = 'c';   /* this one is a copy now */
		EXPECT_EQ(sys_pwrite64(fd, "ww", 1, 0), 1);
		EXPECT_EQ(sys_pwrite64(fd, "ww", 1, (long)PAGE_SIZE + 1), 1);
		EXPECT_EQ(p[0], 'w');		  /* Linux shows the file's page until the first write */
		EXPECT_EQ(p[PAGE_SIZE + 1], 'o'); /* the copy does not follow */
		EXPECT_EQ(sys_munmap(p, PAGES(2)), 0);
	}
	done(fd, "um-follow.dat");
}

/* Map a new 3-page file shared, fill every page through the mapping (salt @salt); NULL if any step failed. */
static char *filled_shared(const char *name, long salt, int *fd)
{
	*fd = make_file(name, (long)PAGES(3), 0);
	if (*fd < 0)
		return NULL;
	char *p = fmap(PAGES(3), PROT_RW, MAP_SHARED, *fd, 0);
	if (p)
		for (unsigned long i = 0; i < 3; i++)
			fill_page(p, i, salt);
	return p;
}

TEST(shared_writes_reach_the_file_after_msync)
{
	int fd;
	char *p = filled_shared("um-msync.dat", 11, &fd);
	ASSERT_TRUE(p != NULL);
	EXPECT_EQ(sys_msync(p, PAGES(3), MS_SYNC), 0);
	for (unsigned long i = 0; i < 3; i++)
		EXPECT_TRUE(file_page_has(fd, i, 11));
	EXPECT_EQ(size_of(fd), (long)PAGES(3));
	EXPECT_EQ(sys_munmap(p, PAGES(3)), 0);
	close(fd);
	fd = (int)sys_open("um-msync.dat", O_RDONLY, 0);
	ASSERT_GE(fd, 0);
	for (unsigned long i = 0; i < 3; i++)
		EXPECT_TRUE(file_page_has(fd, i, 11));
	done(fd, "um-msync.dat");
}

TEST(shared_writes_reach_the_file_after_munmap)
{
	int fd;
	char *p = filled_shared("um-munmap.dat", 12, &fd);
	ASSERT_TRUE(p != NULL);
	EXPECT_EQ(sys_munmap(p, PAGES(3)), 0);
	close(fd);
	fd = (int)sys_open("um-munmap.dat", O_RDONLY, 0);
	ASSERT_GE(fd, 0);
	for (unsigned long i = 0; i < 3; i++)
		EXPECT_TRUE(file_page_has(fd, i, 12));
	EXPECT_EQ(size_of(fd), (long)PAGES(3));
	done(fd, "um-munmap.dat");
}

TEST(a_store_through_a_shared_mapping_is_seen_by_read_at_once)
{
	int fd = make_file("um-store.dat", 100, 's');
	ASSERT_GE(fd, 0);
	char *p = fmap(PAGE_SIZE, PROT_RW, MAP_SHARED, fd, 0);
	EXPECT_TRUE(p != NULL);
	if (p) {
		memcpy(p + 10, "mapped", 6); /* no msync: one page, seen by both */
		char buf[8] = {0};
		EXPECT_EQ(sys_pread64(fd, buf, 6, 10), 6);
		EXPECT_EQ(memcmp(buf, "mapped", 6), 0);
		EXPECT_EQ(sys_munmap(p, PAGE_SIZE), 0);
	}
	done(fd, "um-store.dat");
}

TEST(a_write_after_mmap_is_seen_through_the_mapping)
{
	int fd = make_file("um-write.dat", (long)PAGES(2), 'r');
	ASSERT_GE(fd, 0);
	int ro = (int)sys_open("um-write.dat", O_RDONLY, 0);
	EXPECT_GE(ro, 0);
	char *p = fmap(PAGES(2), PROT_READ, MAP_SHARED, ro, 0);
	EXPECT_TRUE(p != NULL);
	if (p) {
		EXPECT_EQ(p[0], 'r'); /* page 0 mapped before the write, page 1 not yet */
		EXPECT_EQ(sys_pwrite64(fd, "written", 7, 0), 7);
		EXPECT_EQ(sys_pwrite64(fd, "written", 7, (long)PAGE_SIZE), 7);
		EXPECT_EQ(memcmp(p, "written", 7), 0);
		EXPECT_EQ(memcmp(p + PAGE_SIZE, "written", 7), 0);
		EXPECT_EQ(sys_munmap(p, PAGES(2)), 0);
	}
	if (ro >= 0)
		close(ro);
	done(fd, "um-write.dat");
}

TEST(two_shared_mappings_of_one_file_are_one_memory)
{
	int fd = make_file("um-twice.dat", (long)PAGE_SIZE, 0);
	ASSERT_GE(fd, 0);
	volatile long *a = (volatile long *)fmap(PAGE_SIZE, PROT_RW, MAP_SHARED, fd, 0);
	volatile long *b = (volatile long *)fmap(PAGE_SIZE, PROT_RW, MAP_SHARED, fd, 0);
	EXPECT_TRUE(a != NULL);
	EXPECT_TRUE(b != NULL);
	if (a && b) {
		EXPECT_NE((long)a, (long)b);
		a[3] = 0x1234;
		EXPECT_EQ(b[3], 0x1234);
		b[4] = 0x5678;
		EXPECT_EQ(a[4], 0x5678);
	}
	if (a)
		EXPECT_EQ(sys_munmap((void *)a, PAGE_SIZE), 0);
	if (b)
		EXPECT_EQ(sys_munmap((void *)b, PAGE_SIZE), 0);
	done(fd, "um-twice.dat");
}

TEST(the_mapping_outlives_close_and_unlink)
{
	int fd = make_file("um-close.dat", (long)PAGES(2), 'c');
	ASSERT_GE(fd, 0);
	char *p = fmap(PAGES(2), PROT_RW, MAP_SHARED, fd, 0);
	close(fd);
	ASSERT_TRUE(p != NULL);
	EXPECT_EQ(p[PAGE_SIZE], 'c'); /* a page first touched after close */
	memcpy(p + PAGE_SIZE, "after close", 11);
	EXPECT_EQ(sys_munmap(p, PAGES(2)), 0);
	fd = (int)sys_open("um-close.dat", O_RDONLY, 0);
	ASSERT_GE(fd, 0);
	char buf[12] = {0};
	EXPECT_EQ(sys_pread64(fd, buf, 11, (long)PAGE_SIZE), 11);
	EXPECT_EQ(memcmp(buf, "after close", 11), 0);

	/* Unlinked and closed: the mapping still has the file. */
	p = fmap(PAGES(2), PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_TRUE(p != NULL);
	done(fd, "um-close.dat");
	EXPECT_EQ(sys_open("um-close.dat", O_RDONLY, 0), -ENOENT);
	EXPECT_EQ(p[0], 'c');
	EXPECT_EQ(memcmp(p + PAGE_SIZE, "after close", 11), 0);
	EXPECT_EQ(sys_munmap(p, PAGES(2)), 0);
}

TEST(a_shared_writable_mapping_needs_a_descriptor_open_for_both)
{
	int fd = make_file("um-acces.dat", (long)PAGE_SIZE, 'a');
	ASSERT_GE(fd, 0);
	int ro = (int)sys_open("um-acces.dat", O_RDONLY, 0);
	int wo = (int)sys_open("um-acces.dat", O_WRONLY, 0);
	EXPECT_GE(ro, 0);
	EXPECT_GE(wo, 0);
	EXPECT_EQ(sys_mmap(NULL, PAGE_SIZE, PROT_RW, MAP_SHARED, ro, 0), -EACCES);
	EXPECT_EQ(sys_mmap(NULL, PAGE_SIZE, PROT_WRITE, MAP_SHARED, ro, 0), -EACCES);
	/* Every file mapping reads the file: a write-only descriptor maps nothing. */
	EXPECT_EQ(sys_mmap(NULL, PAGE_SIZE, PROT_READ, MAP_SHARED, wo, 0), -EACCES);
	EXPECT_EQ(sys_mmap(NULL, PAGE_SIZE, PROT_READ, MAP_PRIVATE, wo, 0), -EACCES);
	EXPECT_EQ(sys_mmap(NULL, PAGE_SIZE, PROT_RW, MAP_SHARED, wo, 0), -EACCES);
	/* Read-only and shared is fine, but it cannot be made writable later. */
	char *p = fmap(PAGE_SIZE, PROT_READ, MAP_SHARED, ro, 0);
	EXPECT_TRUE(p != NULL);
	if (p) {
		EXPECT_EQ(p[0], 'a');
		EXPECT_EQ(sys_mprotect(p, PAGE_SIZE, PROT_RW), -EACCES);
		EXPECT_STREQ(perms_at(p), "r--s");
		EXPECT_EQ(sys_munmap(p, PAGE_SIZE), 0);
	}
	if (ro >= 0)
		close(ro);
	if (wo >= 0)
		close(wo);
	done(fd, "um-acces.dat");
}

TEST(a_private_writable_mapping_of_a_read_only_file_is_copy_on_write)
{
	int fd = (int)sys_open(PATTERN_FILE, O_RDONLY, 0);
	ASSERT_GE(fd, 0);
	char *p = fmap(PAGES(4), PROT_RW, MAP_PRIVATE, fd, 0);
	EXPECT_TRUE(p != NULL);
	if (p) {
		for (unsigned long i = 0; i < 4; i++)
			p[PAGES(i) + 7] = (char)~pattern_byte((long)PAGES(i) + 7);
		EXPECT_EQ((unsigned char)p[8], pattern_byte(8)); /* the rest of the page copied */
		EXPECT_EQ((unsigned char)p[PAGES(3) + 7], (unsigned char)~pattern_byte((long)PAGES(3) + 7));
		EXPECT_STREQ(perms_at(p), "rw-p");
		EXPECT_EQ(sys_munmap(p, PAGES(4)), 0);
	}
	unsigned char c;
	EXPECT_EQ(sys_pread64(fd, &c, 1, 7), 1);
	EXPECT_EQ(c, pattern_byte(7));
	EXPECT_EQ(sys_pread64(fd, &c, 1, (long)PAGES(3) + 7), 1);
	EXPECT_EQ(c, pattern_byte((long)PAGES(3) + 7));
	close(fd);
}

TEST(an_initramfs_program_maps_private_and_read_only)
{
	long self = sys_open("/proc/self/exe", O_RDONLY, 0); /* opens on Linux only (a host run) */
	if (self >= 0) {
		close((int)self);
		SKIP("not mmlab: no initramfs");
	}
	int fd = (int)sys_open(PROGRAM_FILE, O_RDONLY, 0);
	ASSERT_GE(fd, 0);
	char *p = fmap(PAGE_SIZE, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	EXPECT_TRUE(p != NULL);
	if (p) {
		EXPECT_EQ(memcmp(p, "\177ELF", 4), 0);
		EXPECT_EQ(sys_munmap(p, PAGE_SIZE), 0);
	}
	EXPECT_EQ(sys_mmap(NULL, PAGE_SIZE, PROT_RW, MAP_SHARED, fd, 0), -EACCES);
	p = fmap(PAGE_SIZE, PROT_RW, MAP_PRIVATE, fd, 0);
	EXPECT_TRUE(p != NULL);
	if (p) {
		p[0] = 'X'; /* our copy */
		char magic[4];
		EXPECT_EQ(sys_pread64(fd, magic, 4, 0), 4);
		EXPECT_EQ(memcmp(magic, "\177ELF", 4), 0);
		EXPECT_EQ(sys_munmap(p, PAGE_SIZE), 0);
	}
	close(fd);
}

TEST(a_partial_munmap_keeps_the_rest_mapped)
{
	int fd;
	char *p = filled_shared("um-partial.dat", 13, &fd);
	ASSERT_TRUE(p != NULL);
	EXPECT_EQ(sys_munmap(p + PAGE_SIZE, PAGE_SIZE), 0);
	EXPECT_TRUE(file_page_has(fd, 1, 13)); /* the unmapped page is in the file */
	EXPECT_READ_FAULTS(p + PAGE_SIZE, 1);
	EXPECT_TRUE(page_has(p, 0, 13)); /* the others still mapped, still shared */
	EXPECT_TRUE(page_has(p, 2, 13));
	fill_page(p, 2, 14);
	EXPECT_TRUE(file_page_has(fd, 2, 14));
	EXPECT_EQ(sys_munmap(p, PAGES(3)), 0);
	close(fd);
	fd = (int)sys_open("um-partial.dat", O_RDONLY, 0);
	ASSERT_GE(fd, 0);
	EXPECT_TRUE(file_page_has(fd, 0, 13));
	EXPECT_TRUE(file_page_has(fd, 1, 13));
	EXPECT_TRUE(file_page_has(fd, 2, 14));
	done(fd, "um-partial.dat");
}

TEST(a_forked_child_shares_the_shared_pages_and_not_the_private_ones)
{
	int fd = make_file("um-fork.dat", (long)PAGE_SIZE, 0);
	ASSERT_GE(fd, 0);
	volatile long *s = (volatile long *)fmap(PAGE_SIZE, PROT_RW, MAP_SHARED, fd, 0);
	volatile long *q = (volatile long *)fmap(PAGE_SIZE, PROT_RW, MAP_PRIVATE, fd, 0);
	int to_child[2], to_parent[2];
	if (!s || !q || pipe(to_child) || pipe(to_parent)) {
		EXPECT_TRUE(s && q);
		done(fd, "um-fork.dat");
		return;
	}
	s[0] = 1;
	q[0] = 2; /* the parent's private copy, before the fork */
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		int bad = s[0] != 1 || q[0] != 2;
		s[1] = 10; /* the parent sees this one */
		q[1] = 20; /* and not this one */
		bad |= write(to_parent[1], "c", 1) != 1;
		bad |= read(to_child[0], &c, 1) != 1;
		bad |= (s[2] != 30) << 1; /* the parent's shared write */
		bad |= (q[2] != 0) << 2;  /* its private one is not ours */
		_exit(bad);
	}
	EXPECT_GE(pid, 0);
	char c;
	if (pid > 0)
		EXPECT_EQ(read(to_parent[0], &c, 1), 1);
	EXPECT_EQ(s[1], 10);
	EXPECT_EQ(q[1], 0);
	s[2] = 30;
	q[2] = 40;
	EXPECT_EQ(write(to_child[1], "p", 1), 1);
	int status = -1;
	if (pid > 0)
		EXPECT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_EQ(status, 0); /* exit code bits: 1 before the fork, 2 shared, 4 private */
	/* The file has the shared writes only. */
	long file[3] = {-1, -1, -1};
	EXPECT_EQ(sys_pread64(fd, file, sizeof(file), 0), (long)sizeof(file));
	EXPECT_EQ(file[0], 1);
	EXPECT_EQ(file[1], 10);
	EXPECT_EQ(file[2], 30);
	for (int i = 0; i < 2; i++) {
		close(to_child[i]);
		close(to_parent[i]);
	}
	EXPECT_EQ(sys_munmap((void *)s, PAGE_SIZE), 0);
	EXPECT_EQ(sys_munmap((void *)q, PAGE_SIZE), 0);
	done(fd, "um-fork.dat");
}

TEST(two_files_mapped_at_once_stay_apart)
{
	int fd1 = make_file("um-one.dat", (long)PAGES(2), 0);
	int fd2 = make_file("um-two.dat", (long)PAGES(2), 0);
	EXPECT_GE(fd1, 0);
	EXPECT_GE(fd2, 0);
	char *a = fd1 >= 0 ? fmap(PAGES(2), PROT_RW, MAP_SHARED, fd1, 0) : NULL;
	char *b = fd2 >= 0 ? fmap(PAGES(2), PROT_RW, MAP_SHARED, fd2, 0) : NULL;
	EXPECT_TRUE(a && b);
	if (a && b) {
		for (unsigned long i = 0; i < 2; i++) {
			fill_page(a, i, 21);
			fill_page(b, i, 22);
		}
		EXPECT_EQ(sys_munmap(a, PAGES(2)), 0);
		EXPECT_EQ(sys_munmap(b, PAGES(2)), 0);
		for (unsigned long i = 0; i < 2; i++) {
			EXPECT_TRUE(file_page_has(fd1, i, 21));
			EXPECT_TRUE(file_page_has(fd2, i, 22));
		}
	}
	done(fd1, "um-one.dat");
	done(fd2, "um-two.dat");
}

TEST(an_access_after_munmap_faults)
{
	int fd = make_file("um-gone.dat", (long)PAGE_SIZE, 'g');
	ASSERT_GE(fd, 0);
	char *p = fmap(PAGE_SIZE, PROT_RW, MAP_SHARED, fd, 0);
	ASSERT_TRUE(p != NULL);
	EXPECT_EQ(p[0], 'g');
	EXPECT_EQ(sys_munmap(p, PAGE_SIZE), 0);
	EXPECT_READ_FAULTS(p, 1);
	EXPECT_WRITE_FAULTS(p, 1);
	done(fd, "um-gone.dat");
}

TEST(a_page_wholly_past_the_end_is_sigbus)
{
	int fd = make_file("um-sigbus.dat", 5000, 'b');
	ASSERT_GE(fd, 0);
	char *s = fmap(PAGES(3), PROT_RW, MAP_SHARED, fd, 0);
	char *q = fmap(PAGES(3), PROT_READ, MAP_PRIVATE, fd, 0);
	EXPECT_TRUE(s && q);
	if (s && q) {
		EXPECT_EQ(access_signal(s + PAGE_SIZE, PROBE_READ), 0); /* 5000 is in page 1 */
		EXPECT_EQ(access_signal(s + PAGES(2), PROBE_READ), SIGBUS);
		EXPECT_EQ(access_signal(s + PAGES(2), PROBE_WRITE), SIGBUS);
		EXPECT_EQ(access_signal(q + PAGES(2), PROBE_READ), SIGBUS);
		EXPECT_EQ(size_of(fd), 5000); /* nothing grew the file */
	}
	if (s)
		EXPECT_EQ(sys_munmap(s, PAGES(3)), 0);
	if (q)
		EXPECT_EQ(sys_munmap(q, PAGES(3)), 0);

	/* An empty file maps, but every page is past its end. */
	int empty = (int)sys_open(EMPTY_FILE, O_RDONLY, 0);
	EXPECT_GE(empty, 0);
	char *e = empty >= 0 ? fmap(PAGE_SIZE, PROT_READ, MAP_PRIVATE, empty, 0) : NULL;
	EXPECT_TRUE(e != NULL);
	if (e) {
		EXPECT_EQ(access_signal(e, PROBE_READ), SIGBUS);
		EXPECT_EQ(sys_munmap(e, PAGE_SIZE), 0);
	}
	if (empty >= 0)
		close(empty);
	done(fd, "um-sigbus.dat");
}

TEST(a_file_that_grows_under_a_mapping_makes_its_pages_valid)
{
	int fd = make_file("um-grow.dat", 100, 'h');
	ASSERT_GE(fd, 0);
	char *p = fmap(PAGES(2), PROT_RW, MAP_SHARED, fd, 0);
	ASSERT_TRUE(p != NULL);
	EXPECT_EQ(access_signal(p + PAGE_SIZE, PROBE_READ), SIGBUS);
	EXPECT_EQ(sys_pwrite64(fd, "grown", 5, (long)PAGE_SIZE + 10), 5);
	EXPECT_EQ(access_signal(p + PAGE_SIZE, PROBE_READ), 0);
	if (!ktap_failed()) {
		EXPECT_EQ(memcmp(p + PAGE_SIZE + 10, "grown", 5), 0);
		EXPECT_EQ(p[PAGE_SIZE], 0);
		EXPECT_EQ(mem_first_not(p + 100, 0, (long)PAGE_SIZE - 100), -1); /* the old tail: zeros */
	}
	EXPECT_EQ(sys_munmap(p, PAGES(2)), 0);
	done(fd, "um-grow.dat");
}

TEST(ftruncate_cuts_the_mappings_view_and_a_regrow_reads_zeros)
{
	int fd = make_file("um-ftrunc.dat", (long)PAGES(3), 'z');
	ASSERT_GE(fd, 0);
	char *p = fmap(PAGES(3), PROT_RW, MAP_SHARED, fd, 0);
	ASSERT_TRUE(p != NULL);
	EXPECT_EQ(mem_first_not(p, 'z', (long)PAGES(3)), -1); /* every page mapped now */
	EXPECT_EQ(sys_ftruncate(fd, (long)PAGE_SIZE + 10), 0);
	EXPECT_EQ(access_signal(p + PAGES(2), PROBE_READ), SIGBUS);
	EXPECT_EQ(access_signal(p + PAGE_SIZE, PROBE_READ), 0);
	if (!ktap_failed()) {
		EXPECT_EQ(mem_first_not(p + PAGE_SIZE, 'z', 10), -1);
		EXPECT_EQ(mem_first_not(p + PAGE_SIZE + 10, 0, (long)PAGE_SIZE - 10), -1); /* cut: zeros */
	}
	EXPECT_EQ(sys_ftruncate(fd, (long)PAGES(3)), 0);
	EXPECT_EQ(access_signal(p + PAGES(2), PROBE_READ), 0);
	if (!ktap_failed()) {
		EXPECT_EQ(mem_first_not(p + PAGE_SIZE + 10, 0, (long)PAGES(2) - 10), -1);
		p[PAGES(2) + 1] = 'n'; /* and it is the file again */
		char c = 0;
		EXPECT_EQ(sys_pread64(fd, &c, 1, (long)PAGES(2) + 1), 1);
		EXPECT_EQ(c, 'n');
	}
	EXPECT_EQ(sys_munmap(p, PAGES(3)), 0);
	done(fd, "um-ftrunc.dat");
}

TEST(pipes_and_the_console_cannot_be_mapped_nor_bad_descriptors)
{
	int p[2];
	ASSERT_EQ(pipe(p), 0);
	EXPECT_EQ(sys_mmap(NULL, PAGE_SIZE, PROT_READ, MAP_SHARED, p[0], 0), -ENODEV);
	EXPECT_EQ(sys_mmap(NULL, PAGE_SIZE, PROT_READ, MAP_PRIVATE, p[0], 0), -ENODEV);
	EXPECT_EQ(sys_mmap(NULL, PAGE_SIZE, PROT_WRITE, MAP_SHARED, p[1], 0),
		  -EACCES); /* no read: checked first */
	struct stat st;
	if (sys_fstat(STDIN_FILENO, &st) == 0 && S_ISCHR(st.st_mode)) { /* the console */
		EXPECT_EQ(sys_mmap(NULL, PAGE_SIZE, PROT_READ, MAP_PRIVATE, STDIN_FILENO, 0), -ENODEV);
	}
	close(p[0]);
	close(p[1]);
	int closed = p[0];
	EXPECT_EQ(sys_mmap(NULL, PAGE_SIZE, PROT_READ, MAP_SHARED, closed, 0), -EBADF);
	EXPECT_EQ(sys_mmap(NULL, PAGE_SIZE, PROT_READ, MAP_PRIVATE, 999, 0), -EBADF);
	EXPECT_EQ(sys_mmap(NULL, PAGE_SIZE, PROT_READ, MAP_SHARED, -1, 0), -EBADF); /* no MAP_ANONYMOUS */
}

TEST(msync_takes_one_of_sync_and_async)
{
	int fd = make_file("um-flags.dat", (long)PAGES(2), 'm');
	ASSERT_GE(fd, 0);
	char *p = fmap(PAGES(2), PROT_RW, MAP_SHARED, fd, 0);
	ASSERT_TRUE(p != NULL);
	p[0] = 'M';
	EXPECT_EQ(sys_msync(p, PAGES(2), MS_SYNC | MS_ASYNC), -EINVAL);
	EXPECT_EQ(sys_msync(p, PAGES(2), 8), -EINVAL); /* no such flag */
	EXPECT_EQ(sys_msync(p + 1, PAGE_SIZE, MS_SYNC), -EINVAL);
	EXPECT_EQ(sys_msync(p, PAGES(2), MS_ASYNC), 0);
	EXPECT_EQ(sys_msync(p, PAGES(2), MS_INVALIDATE), 0);
	EXPECT_EQ(sys_msync(p, PAGES(2), MS_SYNC | MS_INVALIDATE), 0);
	EXPECT_EQ(sys_msync(p, 1, MS_SYNC), 0); /* the length rounds up to the page */
	EXPECT_EQ(p[0], 'M');			/* MS_INVALIDATE keeps a shared page's data */
	char c = 0;
	EXPECT_EQ(sys_pread64(fd, &c, 1, 0), 1);
	EXPECT_EQ(c, 'M');
	EXPECT_EQ(sys_munmap(p + PAGE_SIZE, PAGE_SIZE), 0);
	EXPECT_EQ(sys_msync(p, PAGES(2), MS_SYNC), -ENOMEM); /* a hole in the range */
	EXPECT_EQ(sys_munmap(p, PAGE_SIZE), 0);
	done(fd, "um-flags.dat");
}
