/*
 * ch5.user.file: the file system calls themselves, as Linux has them
 * (open(2), read(2), pread(2), lseek(2), ftruncate(2), fstat(2),
 * unlink(2), fsync(2)): create, write and read back; O_EXCL, O_TRUNC,
 * O_APPEND; lseek past the end makes a hole of zeros; pread and pwrite
 * leave the position alone; ftruncate grows with zeros and shrinks;
 * fstat's sizes and modes; a file unlinked while open lives on for its
 * descriptors; descriptors are shared with a forked child and kept across
 * exec (but not O_CLOEXEC ones); the errors, each as Linux gives it; the
 * seed file pattern.dat and an initramfs program, which is read-only.
 *
 * Each test makes its own files (named uf-*.dat), unlinks them, and
 * closes what it opened, also when a check fails halfway: a name is
 * unlinked before use too, so one failed run leaves nothing behind for
 * the next test.
 */
#include "filetest.h"

KTAP_SUITE("ch5.user.file");

/** A new empty file @p name open O_RDWR (whatever had the name is gone first); a negative errno if not. */
static int fresh(const char *name)
{
	sys_unlink(name);
	return (int)sys_open(name, O_RDWR | O_CREAT | O_EXCL, 0644);
}

/** Write @p len bytes of @p c at @p off with pwrite; the result of the call. */
static long put(int fd, long off, int c, size_t len)
{
	static char buf[16384];
	if (len > sizeof(buf))
		return -E2BIG;
	memset(buf, c, len);
	return sys_pwrite64(fd, buf, len, off);
}

/** The current position of @p fd. */
static long pos(int fd) { return sys_lseek(fd, 0, SEEK_CUR); }

TEST(create_write_and_read_back)
{
	static char out[5000], in[5000];
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (char)(i * 7 + 3);
	int fd = fresh("uf-create.dat");
	ASSERT_GE(fd, 0);
	EXPECT_EQ(size_of(fd), 0);
	EXPECT_EQ(sys_write(fd, out, sizeof(out)), sizeof(out));
	EXPECT_EQ(pos(fd), sizeof(out));
	EXPECT_EQ(size_of(fd), sizeof(out));
	EXPECT_EQ(sys_read(fd, in, sizeof(in)), 0); /* at the end */
	EXPECT_EQ(sys_lseek(fd, 0, SEEK_SET), 0);
	EXPECT_EQ(sys_read(fd, in, sizeof(in)), sizeof(in));
	EXPECT_EQ(memcmp(in, out, sizeof(in)), 0);
	close(fd);

	/* A second open finds the same bytes under the name. */
	fd = (int)sys_open("uf-create.dat", O_RDONLY, 0);
	ASSERT_GE(fd, 0);
	memset(in, 0, sizeof(in));
	EXPECT_EQ(sys_read(fd, in, 3000), 3000); /* in two reads that cross a page */
	EXPECT_EQ(sys_read(fd, in + 3000, 3000), 2000);
	EXPECT_EQ(memcmp(in, out, sizeof(in)), 0);
	done(fd, "uf-create.dat");
	EXPECT_EQ(sys_open("uf-create.dat", O_RDONLY, 0), -ENOENT);
}

TEST(o_creat_opens_an_existing_file_and_o_excl_refuses_it)
{
	int fd = fresh("uf-excl.dat");
	ASSERT_GE(fd, 0);
	EXPECT_EQ(sys_write(fd, "keep", 4), 4);
	EXPECT_EQ(sys_open("uf-excl.dat", O_RDWR | O_CREAT | O_EXCL, 0644), -EEXIST);
	EXPECT_EQ(sys_open(PATTERN_FILE, O_RDONLY | O_CREAT | O_EXCL, 0644), -EEXIST);
	int again = (int)sys_open("uf-excl.dat", O_RDWR | O_CREAT, 0644); /* no O_EXCL: the same file */
	EXPECT_GE(again, 0);
	if (again >= 0) {
		char buf[8] = {0};
		EXPECT_EQ(sys_read(again, buf, sizeof(buf)), 4);
		EXPECT_EQ(memcmp(buf, "keep", 4), 0);
		close(again);
	}
	done(fd, "uf-excl.dat");
}

TEST(a_missing_name_is_enoent)
{
	sys_unlink("uf-missing.dat");
	EXPECT_EQ(sys_open("uf-missing.dat", O_RDONLY, 0), -ENOENT);
	EXPECT_EQ(sys_open("uf-missing.dat", O_RDWR | O_TRUNC, 0), -ENOENT);
	EXPECT_EQ(sys_unlink("uf-missing.dat"), -ENOENT);
}

TEST(o_trunc_empties_the_file)
{
	int fd = fresh("uf-trunc.dat");
	ASSERT_GE(fd, 0);
	EXPECT_EQ(put(fd, 0, 'x', 6000), 6000);
	close(fd);
	fd = (int)sys_open("uf-trunc.dat", O_RDWR | O_TRUNC, 0);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(size_of(fd), 0);
	char c;
	EXPECT_EQ(sys_read(fd, &c, 1), 0);
	/* What comes back after a regrow is zeros, not the old bytes. */
	EXPECT_EQ(sys_ftruncate(fd, 6000), 0);
	EXPECT_EQ(file_first_not(fd, 0, 0, 6000), -1);
	done(fd, "uf-trunc.dat");
}

TEST(o_append_writes_at_the_end)
{
	int fd = fresh("uf-append.dat");
	ASSERT_GE(fd, 0);
	EXPECT_EQ(put(fd, 0, 'a', 100), 100);
	close(fd);
	fd = (int)sys_open("uf-append.dat", O_WRONLY | O_APPEND, 0);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(sys_lseek(fd, 0, SEEK_SET), 0);
	EXPECT_EQ(sys_write(fd, "bb", 2), 2); /* at 100, not at 0 */
	EXPECT_EQ(pos(fd), 102);
	EXPECT_EQ(sys_lseek(fd, 10, SEEK_SET), 10);
	EXPECT_EQ(sys_write(fd, "c", 1), 1);
	EXPECT_EQ(pos(fd), 103);
	close(fd);
	fd = (int)sys_open("uf-append.dat", O_RDONLY, 0);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(size_of(fd), 103);
	EXPECT_EQ(file_first_not(fd, 0, 'a', 100), -1);
	char tail[4] = {0};
	EXPECT_EQ(sys_pread64(fd, tail, 4, 100), 3);
	EXPECT_EQ(memcmp(tail, "bbc", 3), 0);
	done(fd, "uf-append.dat");
}

TEST(lseek_from_each_origin_and_a_hole_of_zeros)
{
	int fd = fresh("uf-seek.dat");
	ASSERT_GE(fd, 0);
	EXPECT_EQ(put(fd, 0, 's', 1000), 1000);
	EXPECT_EQ(sys_lseek(fd, 0, SEEK_END), 1000);
	EXPECT_EQ(sys_lseek(fd, -10, SEEK_END), 990);
	EXPECT_EQ(sys_lseek(fd, 5, SEEK_CUR), 995);
	EXPECT_EQ(sys_lseek(fd, -995, SEEK_CUR), 0);
	EXPECT_EQ(sys_lseek(fd, 3 * PAGE_SIZE + 17, SEEK_SET),
		  3 * PAGE_SIZE + 17); /* past the end: allowed */
	EXPECT_EQ(size_of(fd), 1000);  /* a seek alone writes nothing */
	char c;
	EXPECT_EQ(sys_read(fd, &c, 1), 0);
	EXPECT_EQ(sys_write(fd, "E", 1), 1);
	EXPECT_EQ(size_of(fd), 3 * PAGE_SIZE + 18);
	EXPECT_EQ(file_first_not(fd, 1000, 0, 3 * PAGE_SIZE + 17 - 1000), -1); /* the hole reads as zeros */
	EXPECT_EQ(sys_pread64(fd, &c, 1, 3 * PAGE_SIZE + 17), 1);
	EXPECT_EQ(c, 'E');
	/* Errors leave the position where it was. */
	EXPECT_EQ(sys_lseek(fd, 100, SEEK_SET), 100);
	EXPECT_EQ(sys_lseek(fd, -1, SEEK_SET), -EINVAL);
	EXPECT_EQ(sys_lseek(fd, -101, SEEK_CUR), -EINVAL);
	EXPECT_EQ(sys_lseek(fd, 0, 7), -EINVAL); /* no such whence */
	EXPECT_EQ(pos(fd), 100);
	done(fd, "uf-seek.dat");
}

TEST(pread_and_pwrite_leave_the_position_alone)
{
	int fd = fresh("uf-pread.dat");
	ASSERT_GE(fd, 0);
	EXPECT_EQ(sys_write(fd, "0123456789", 10), 10);
	EXPECT_EQ(sys_lseek(fd, 3, SEEK_SET), 3);
	EXPECT_EQ(sys_pwrite64(fd, "xyz", 3, 5000), 3); /* past the end: grows the file */
	EXPECT_EQ(pos(fd), 3);
	EXPECT_EQ(size_of(fd), 5003);
	char buf[8] = {0};
	EXPECT_EQ(sys_pread64(fd, buf, sizeof(buf), 4998), 5);
	EXPECT_EQ(memcmp(buf, "\0\0xyz", 5), 0);
	EXPECT_EQ(sys_pread64(fd, buf, 4, 6), 4);
	EXPECT_EQ(memcmp(buf, "6789", 4), 0);
	EXPECT_EQ(pos(fd), 3);
	EXPECT_EQ(sys_read(fd, buf, 2), 2); /* read() starts where lseek left it */
	EXPECT_EQ(memcmp(buf, "34", 2), 0);
	EXPECT_EQ(sys_pread64(fd, buf, 4, 5003), 0); /* at the end */
	EXPECT_EQ(sys_pread64(fd, buf, 4, 1 << 20), 0);
	EXPECT_EQ(sys_pread64(fd, buf, 4, -1), -EINVAL);
	EXPECT_EQ(sys_pwrite64(fd, buf, 4, -1), -EINVAL);
	EXPECT_EQ(size_of(fd), 5003);
	done(fd, "uf-pread.dat");
}

TEST(ftruncate_grows_with_zeros_and_shrinks)
{
	int fd = fresh("uf-ftrunc.dat");
	ASSERT_GE(fd, 0);
	EXPECT_EQ(put(fd, 0, 0xab, 6000), 6000);
	EXPECT_EQ(sys_lseek(fd, 50, SEEK_SET), 50);
	EXPECT_EQ(sys_ftruncate(fd, 5 * PAGE_SIZE), 0);
	EXPECT_EQ(size_of(fd), 5 * PAGE_SIZE);
	EXPECT_EQ(file_first_not(fd, 0, 0xab, 6000), -1);
	EXPECT_EQ(file_first_not(fd, 6000, 0, 5 * PAGE_SIZE - 6000), -1);
	/* Shrink into the middle of a page, then grow again: the cut-off bytes do not come back. */
	EXPECT_EQ(sys_ftruncate(fd, 100), 0);
	EXPECT_EQ(size_of(fd), 100);
	EXPECT_EQ(file_first_not(fd, 0, 0xab, 100), -1);
	EXPECT_EQ(file_first_not(fd, 100, 0, 1), -2); /* the file ends at 100 */
	EXPECT_EQ(sys_ftruncate(fd, 6000), 0);
	EXPECT_EQ(file_first_not(fd, 100, 0, 5900), -1);
	EXPECT_EQ(sys_ftruncate(fd, 0), 0);
	EXPECT_EQ(size_of(fd), 0);
	EXPECT_EQ(pos(fd), 50); /* ftruncate does not move the position */
	EXPECT_EQ(sys_ftruncate(fd, -1), -EINVAL);
	done(fd, "uf-ftrunc.dat");
}

TEST(fstat_reports_type_size_and_blocks)
{
	struct stat st;
	int fd = (int)sys_open(PATTERN_FILE, O_RDONLY, 0);
	ASSERT_GE(fd, 0);
	memset(&st, 0x55, sizeof(st));
	EXPECT_EQ(sys_fstat(fd, &st), 0);
	EXPECT_EQ(st.st_mode, S_IFREG | 0644);
	EXPECT_EQ(st.st_size, PATTERN_SIZE);
	EXPECT_EQ(st.st_nlink, 1);
	EXPECT_EQ(st.st_blksize, 4096);
	EXPECT_EQ(st.st_blocks, 4 * 8); /* 4 blocks of 4096 bytes, in 512-byte units */
	unsigned long ino = st.st_ino;
	EXPECT_NE(ino, 0);
	close(fd);

	/* A second file is another inode; an empty one has no blocks. */
	fd = (int)sys_open(EMPTY_FILE, O_RDONLY, 0);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(sys_fstat(fd, &st), 0);
	EXPECT_EQ(st.st_size, 0);
	EXPECT_EQ(st.st_blocks, 0);
	EXPECT_NE(st.st_ino, ino);
	EXPECT_TRUE(S_ISREG(st.st_mode));
	close(fd);

	/* A pipe is a FIFO, both ends. */
	int p[2];
	ASSERT_EQ(pipe(p), 0);
	EXPECT_EQ(sys_fstat(p[0], &st), 0);
	EXPECT_TRUE(S_ISFIFO(st.st_mode));
	EXPECT_EQ(sys_fstat(p[1], &st), 0);
	EXPECT_TRUE(S_ISFIFO(st.st_mode));
	close(p[0]);
	close(p[1]);
}

TEST(fstat_follows_writes_and_truncates)
{
	struct stat st;
	int fd = fresh("uf-stat.dat");
	ASSERT_GE(fd, 0);
	EXPECT_EQ(sys_fstat(fd, &st), 0);
	EXPECT_EQ(st.st_mode, S_IFREG | 0644);
	EXPECT_EQ(st.st_size, 0);
	EXPECT_EQ(st.st_nlink, 1);
	EXPECT_EQ(put(fd, 0, 1, 4097), 4097);
	EXPECT_EQ(sys_fstat(fd, &st), 0);
	EXPECT_EQ(st.st_size, 4097);
	EXPECT_EQ(sys_ftruncate(fd, 10), 0);
	EXPECT_EQ(sys_fstat(fd, &st), 0);
	EXPECT_EQ(st.st_size, 10);
	done(fd, "uf-stat.dat");
}

TEST(an_unlinked_file_lives_on_for_its_descriptors)
{
	int fd = fresh("uf-unlink.dat");
	ASSERT_GE(fd, 0);
	EXPECT_EQ(sys_write(fd, "still here", 10), 10);
	int other = (int)sys_open("uf-unlink.dat", O_RDONLY, 0);
	EXPECT_GE(other, 0);
	EXPECT_EQ(sys_unlink("uf-unlink.dat"), 0);
	EXPECT_EQ(sys_open("uf-unlink.dat", O_RDONLY, 0), -ENOENT);
	EXPECT_EQ(sys_unlink("uf-unlink.dat"), -ENOENT);
	struct stat st;
	EXPECT_EQ(sys_fstat(fd, &st), 0);
	EXPECT_EQ(st.st_nlink, 0);
	EXPECT_EQ(st.st_size, 10);
	char buf[16] = {0};
	EXPECT_EQ(sys_pread64(fd, buf, sizeof(buf), 0), 10);
	EXPECT_EQ(memcmp(buf, "still here", 10), 0);
	EXPECT_EQ(sys_pwrite64(fd, "STILL", 5, 0), 5); /* and writable */
	if (other >= 0) {
		memset(buf, 0, sizeof(buf));
		EXPECT_EQ(sys_read(other, buf, sizeof(buf)), 10);
		EXPECT_EQ(memcmp(buf, "STILL here", 10), 0);
	}

	/* The name is free again: a new file under it is empty, the old one unchanged. */
	int fresh_fd = (int)sys_open("uf-unlink.dat", O_RDWR | O_CREAT | O_EXCL, 0644);
	EXPECT_GE(fresh_fd, 0);
	EXPECT_EQ(size_of(fresh_fd), 0);
	EXPECT_EQ(size_of(fd), 10);
	if (other >= 0)
		close(other);
	close(fd);
	done(fresh_fd, "uf-unlink.dat");
}

TEST(a_forked_child_shares_the_descriptor_and_its_position)
{
	int fd = fresh("uf-fork.dat");
	ASSERT_GE(fd, 0);
	EXPECT_EQ(sys_write(fd, "abc", 3), 3);
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		int bad = sys_lseek(fd, 0, SEEK_CUR) != 3; /* the parent's position */
		bad |= sys_write(fd, "def", 3) != 3;
		_exit(bad);
	}
	int status = -1;
	EXPECT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_EQ(status, 0);
	EXPECT_EQ(pos(fd), 6); /* one open file: the child's write moved our position */
	char buf[8] = {0};
	EXPECT_EQ(sys_pread64(fd, buf, sizeof(buf), 0), 6);
	EXPECT_EQ(memcmp(buf, "abcdef", 6), 0);
	done(fd, "uf-fork.dat");
}

/* Spawn filepeer on @fd, expecting @expect to be read and @put written; its wait status. */
static int peer(int fd, const char *expect, const char *put_text)
{
	char num[16];
	snprintf(num, sizeof(num), "%d", fd);
	char *argv[] = {PROGRAM_FILE, num, (char *)expect, (char *)put_text, NULL};
	return ktap_spawn_wait(argv);
}

TEST(a_descriptor_is_kept_across_exec)
{
	int fd = fresh("uf-exec.dat");
	ASSERT_GE(fd, 0);
	EXPECT_EQ(sys_write(fd, "hello world", 11), 11);
	EXPECT_EQ(sys_lseek(fd, 6, SEEK_SET), 6);
	int status = peer(fd, "world", "!!");
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(WEXITSTATUS(status), 0); /* 2: read other bytes, 3: fd not open, 4: write failed */
	EXPECT_EQ(pos(fd), 13);
	char buf[16] = {0};
	EXPECT_EQ(sys_pread64(fd, buf, sizeof(buf), 0), 13);
	EXPECT_EQ(memcmp(buf, "hello world!!", 13), 0);
	done(fd, "uf-exec.dat");
}

TEST(an_o_cloexec_descriptor_is_closed_by_exec)
{
	sys_unlink("uf-cloexec.dat");
	int fd = (int)sys_open("uf-cloexec.dat", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	ASSERT_GE(fd, 0);
	int status = peer(fd, "-", "-");
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(WEXITSTATUS(status), 3); /* 3: not open in the new program */
	done(fd, "uf-cloexec.dat");
}

TEST(a_bad_descriptor_is_ebadf)
{
	char buf[8];
	struct stat st;
	int fd = fresh("uf-ebadf.dat");
	ASSERT_GE(fd, 0);
	close(fd);
	int bad[] = {fd, 999, -1};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(sys_read(bad[i], buf, 1), -EBADF);
		EXPECT_EQ(sys_write(bad[i], buf, 1), -EBADF);
		EXPECT_EQ(sys_pread64(bad[i], buf, 1, 0), -EBADF);
		EXPECT_EQ(sys_pwrite64(bad[i], buf, 1, 0), -EBADF);
		EXPECT_EQ(sys_lseek(bad[i], 0, SEEK_SET), -EBADF);
		EXPECT_EQ(sys_ftruncate(bad[i], 0), -EBADF);
		EXPECT_EQ(sys_fstat(bad[i], &st), -EBADF);
		EXPECT_EQ(sys_fsync(bad[i]), -EBADF);
	}
	/* Open for the other direction only. */
	fd = (int)sys_open("uf-ebadf.dat", O_RDONLY, 0);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(sys_write(fd, "x", 1), -EBADF);
	EXPECT_EQ(sys_pwrite64(fd, "x", 1, 0), -EBADF);
	close(fd);
	fd = (int)sys_open("uf-ebadf.dat", O_WRONLY, 0);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(sys_read(fd, buf, 1), -EBADF);
	EXPECT_EQ(sys_pread64(fd, buf, 1, 0), -EBADF);
	done(fd, "uf-ebadf.dat");
}

TEST(a_bad_user_pointer_is_efault)
{
	int fd = fresh("uf-efault.dat");
	ASSERT_GE(fd, 0);
	EXPECT_EQ(sys_write(fd, "data", 4), 4);
	EXPECT_EQ(sys_pwrite64(fd, NULL, 4, 0), -EFAULT);
	EXPECT_EQ(sys_write(fd, (void *)KERNEL_ADDR, 4), -EFAULT);
	EXPECT_EQ(sys_pread64(fd, NULL, 4, 0), -EFAULT);
	EXPECT_EQ(sys_pread64(fd, (void *)KERNEL_ADDR, 4, 0), -EFAULT);
	EXPECT_EQ(sys_fstat(fd, NULL), -EFAULT);
	EXPECT_EQ(sys_fstat(fd, (void *)KERNEL_ADDR), -EFAULT);
	EXPECT_EQ(sys_open(NULL, O_RDONLY, 0), -EFAULT);
	EXPECT_EQ(sys_open((void *)KERNEL_ADDR, O_RDONLY, 0), -EFAULT);
	EXPECT_EQ(sys_unlink(NULL), -EFAULT);
	EXPECT_EQ(size_of(fd), 4); /* nothing half-written */
	done(fd, "uf-efault.dat");
}

TEST(bad_arguments_are_einval_and_bad_names_say_why)
{
	int fd = fresh("uf-einval.dat");
	ASSERT_GE(fd, 0);
	EXPECT_EQ(sys_unlinkat(AT_FDCWD, "uf-einval.dat", 1), -EINVAL); /* flags other than AT_REMOVEDIR */
	EXPECT_EQ(size_of(fd), 0);
	close(fd);
	fd = (int)sys_open("uf-einval.dat", O_RDONLY, 0);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(sys_ftruncate(fd, 0), -EINVAL); /* not open for writing */
	close(fd);

	static char long_name[300];
	memset(long_name, 'n', sizeof(long_name) - 1);
	EXPECT_EQ(sys_open(long_name, O_RDWR | O_CREAT, 0644), -ENAMETOOLONG);
	EXPECT_EQ(sys_open("", O_RDONLY, 0), -ENOENT);
	EXPECT_EQ(sys_open("/", O_RDWR, 0), -EISDIR);
	done(-1, "uf-einval.dat");
}

TEST(pipes_and_the_console_do_not_seek)
{
	int p[2];
	char buf[4];
	ASSERT_EQ(pipe(p), 0);
	for (int i = 0; i < 2; i++) {
		EXPECT_EQ(sys_lseek(p[i], 0, SEEK_SET), -ESPIPE);
		EXPECT_EQ(sys_lseek(p[i], 0, SEEK_CUR), -ESPIPE);
		EXPECT_EQ(sys_ftruncate(p[i], 0), -EINVAL);
		EXPECT_EQ(sys_fsync(p[i]), -EINVAL);
	}
	EXPECT_EQ(sys_pread64(p[0], buf, 1, 0), -ESPIPE);
	EXPECT_EQ(sys_pwrite64(p[1], "x", 1, 0), -ESPIPE);
	close(p[0]);
	close(p[1]);
	struct stat st;
	EXPECT_EQ(sys_fstat(STDOUT_FILENO, &st), 0);
	if (S_ISCHR(st.st_mode)) { /* the console (a terminal on Linux) */
		EXPECT_EQ(sys_lseek(STDOUT_FILENO, 0, SEEK_CUR), -ESPIPE);
		EXPECT_EQ(sys_pwrite64(STDOUT_FILENO, "x", 1, 0), -ESPIPE);
	}
}

TEST(fsync_of_a_file_succeeds)
{
	int fd = fresh("uf-fsync.dat");
	ASSERT_GE(fd, 0);
	EXPECT_EQ(put(fd, 0, 'f', 5000), 5000);
	EXPECT_EQ(sys_fsync(fd), 0);
	EXPECT_EQ(sys_fsync(fd), 0); /* nothing dirty: still 0 */
	EXPECT_EQ(file_first_not(fd, 0, 'f', 5000), -1);
	close(fd);
	fd = (int)sys_open(PATTERN_FILE, O_RDONLY, 0);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(sys_fsync(fd), 0); /* read-only: fine too */
	done(fd, "uf-fsync.dat");
}

TEST(the_seed_file_holds_its_pattern)
{
	int fd = (int)sys_open("/" PATTERN_FILE, O_RDONLY, 0); /* a leading "/" means the same file */
	ASSERT_GE(fd, 0);
	static unsigned char buf[PATTERN_SIZE + 100];
	long got = 0, r;
	while ((r = sys_read(fd, buf + got, 999)) > 0) /* odd chunks that straddle pages */
		got += r;
	EXPECT_EQ(r, 0);
	EXPECT_EQ(got, PATTERN_SIZE);
	long bad = -1;
	for (long i = 0; i < got && bad < 0; i++)
		if (buf[i] != pattern_byte(i))
			bad = i;
	EXPECT_EQ(bad, -1); /* the first offset that differs */
	unsigned char two[2];
	EXPECT_EQ(sys_pread64(fd, two, 2, 4095), 2); /* across a page boundary */
	EXPECT_EQ(two[0], pattern_byte(4095));
	EXPECT_EQ(two[1], pattern_byte(4096));
	EXPECT_EQ(sys_pread64(fd, two, 2, PATTERN_SIZE - 1), 1);
	EXPECT_EQ(two[0], pattern_byte(PATTERN_SIZE - 1));
	close(fd);

	fd = (int)sys_open(EMPTY_FILE, O_RDONLY, 0);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(sys_read(fd, buf, sizeof(buf)), 0);
	close(fd);
}

TEST(an_initramfs_program_is_a_read_only_file)
{
	long self =
		sys_open("/proc/self/exe", O_RDONLY, 0); /* opens on Linux only (a host run of this file) */
	if (self >= 0) {
		close((int)self);
		SKIP("not mmlab: no initramfs");
	}
	int fd = (int)sys_open(PROGRAM_FILE, O_RDONLY, 0);
	ASSERT_GE(fd, 0);
	struct stat st;
	EXPECT_EQ(sys_fstat(fd, &st), 0);
	EXPECT_EQ(st.st_mode, S_IFREG | 0555);
	EXPECT_GT(st.st_size, 0);
	char magic[4];
	EXPECT_EQ(sys_read(fd, magic, 4), 4);
	EXPECT_EQ(memcmp(magic, "\177ELF", 4), 0);
	static char buf[4096];
	long got = 4, r;
	while ((r = sys_read(fd, buf, sizeof(buf))) > 0)
		got += r;
	EXPECT_EQ(r, 0);
	EXPECT_EQ(got, st.st_size);
	EXPECT_EQ(sys_write(fd, "x", 1), -EBADF);
	EXPECT_EQ(sys_ftruncate(fd, 0), -EINVAL);
	close(fd);

	EXPECT_EQ(sys_open(PROGRAM_FILE, O_WRONLY, 0), -EROFS);
	EXPECT_EQ(sys_open(PROGRAM_FILE, O_RDWR, 0), -EROFS);
	EXPECT_EQ(sys_open(PROGRAM_FILE, O_RDONLY | O_TRUNC, 0), -EROFS);
	EXPECT_EQ(sys_open(PROGRAM_FILE, O_RDWR | O_CREAT | O_EXCL, 0644), -EEXIST);
	EXPECT_EQ(sys_unlink(PROGRAM_FILE), -EROFS);
	fd = (int)sys_open("/" PROGRAM_FILE, O_RDONLY | O_CREAT, 0644); /* exists: O_CREAT just opens it */
	EXPECT_GE(fd, 0);
	if (fd >= 0)
		close(fd);
}
