/*
 * ch4.file: descriptor tables and pipes, called directly (no process):
 * the table's lowest-free rule, dup, fork's copy, close-on-exec, the
 * pipe's ring buffer across its wrap, end of file, EPIPE, modes, user
 * copies that fail, the console's line buffer, and the frames a pipe
 * gives back. Blocking needs threads: the user suite ch4.user.pipe
 * covers it.
 */
#include "errno.h"
#include "file.h"
#include "frame.h"
#include "kmalloc.h"
#include "ktest.h"
#include "string.h"
#include "../../common/tests/capture.h"

/* A kernel address: every user copy of it must fail. */
#define KERNEL_UADDR 0xffffffc000000000UL

static const struct file_ops dummy_ops = {0};

static struct file *dummy(void) { return file_alloc(&dummy_ops, FMODE_READ | FMODE_WRITE, NULL); }

KTEST(ch4_file, console_table_has_0_1_2_on_one_file)
{
	struct files *files = files_create_console();
	KASSERT_NOT_NULL(files);
	KEXPECT_NOT_NULL(files->fd[0]);
	KEXPECT_TRUE(files->fd[0] == files->fd[1] && files->fd[1] == files->fd[2]);
	KEXPECT_EQ(files->fd[0]->refs, 3);
	KEXPECT_EQ(files->fd[0]->mode, FMODE_READ | FMODE_WRITE);
	for (int fd = 3; fd < FILES_MAX; fd++)
		KEXPECT_NULL(files->fd[fd]);
	files_put(files);
}

KTEST(ch4_file, install_takes_the_lowest_free_fd)
{
	struct files *files = files_create();
	KASSERT_NOT_NULL(files);
	struct file *f = dummy();
	KASSERT_NOT_NULL(f);
	for (int i = 0; i < 5; i++) {
		file_get(f);
		KEXPECT_EQ(fd_install(files, f, false), i);
	}
	KEXPECT_EQ(fd_close(files, 1), 0);
	KEXPECT_EQ(fd_close(files, 3), 0);
	file_get(f);
	KEXPECT_EQ(fd_install(files, f, false), 1);
	KEXPECT_EQ(fd_dup(files, 0), 3);
	KEXPECT_EQ(fd_dup(files, 4), 5);
	KEXPECT_EQ(f->refs, 7); /* ours and six descriptors */
	files_put(files);
	KEXPECT_EQ(f->refs, 1);
	file_put(f);
}

KTEST(ch4_file, full_table_is_emfile)
{
	struct files *files = files_create();
	KASSERT_NOT_NULL(files);
	struct file *f = dummy();
	KASSERT_NOT_NULL(f);
	for (int i = 0; i < FILES_MAX; i++) {
		file_get(f);
		KASSERT_EQ(fd_install(files, f, false), i);
	}
	KEXPECT_EQ(fd_install(files, f, false), -EMFILE); /* the reference stays ours */
	KEXPECT_EQ(fd_dup(files, 0), -EMFILE);
	KEXPECT_EQ(f->refs, FILES_MAX + 1);
	files_put(files);
	KEXPECT_EQ(f->refs, 1);
	file_put(f);
}

KTEST(ch4_file, bad_descriptors_are_ebadf)
{
	struct files *files = files_create();
	KASSERT_NOT_NULL(files);
	char c = 0;
	int bad[] = {-1, 0, 5, FILES_MAX, FILES_MAX + 1, 1 << 30};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		KEXPECT_EQ(fd_close(files, bad[i]), -EBADF);
		KEXPECT_EQ(fd_dup(files, bad[i]), -EBADF);
		KEXPECT_EQ(fd_read(files, bad[i], io_kernel(&c), 1), -EBADF);
		KEXPECT_EQ(fd_write(files, bad[i], io_kernel(&c), 1), -EBADF);
		KEXPECT_NULL(fd_get(files, bad[i]));
	}
	struct file *f = dummy();
	KASSERT_NOT_NULL(f);
	KASSERT_EQ(fd_install(files, f, false), 0);
	KEXPECT_EQ(fd_close(files, 0), 0);
	KEXPECT_EQ(fd_close(files, 0), -EBADF); /* twice */
	files_put(files);
}

KTEST(ch4_file, dup_of_files_shares_the_open_files)
{
	struct files *parent = files_create();
	KASSERT_NOT_NULL(parent);
	struct file *f = dummy();
	KASSERT_NOT_NULL(f);
	KASSERT_EQ(fd_install(parent, f, true), 0);
	struct files *child = files_dup(parent);
	KASSERT_NOT_NULL(child);
	KEXPECT_TRUE(child->fd[0] == f);
	KEXPECT_EQ(f->refs, 2);
	KEXPECT_EQ(child->cloexec, 1u); /* fork keeps close-on-exec */
	KEXPECT_EQ(child->refs, 1);
	KEXPECT_EQ(fd_close(child, 0), 0); /* the child's close leaves the parent's fd */
	KEXPECT_TRUE(parent->fd[0] == f);
	KEXPECT_EQ(f->refs, 1);
	files_get(child); /* a CLONE_FILES sharer */
	files_put(child);
	KEXPECT_EQ(child->refs, 1);
	files_put(child);
	files_put(parent);
}

KTEST(ch4_file, exec_closes_only_cloexec_fds)
{
	struct files *files = files_create();
	KASSERT_NOT_NULL(files);
	struct file *f = dummy();
	KASSERT_NOT_NULL(f);
	file_get(f);
	file_get(f);
	KASSERT_EQ(fd_install(files, f, false), 0);
	KASSERT_EQ(fd_install(files, f, true), 1);
	KASSERT_EQ(fd_install(files, f, true), 2);
	KEXPECT_EQ(fd_dup(files, 1), 3); /* dup's copy is not close-on-exec */
	files_close_on_exec(files);
	KEXPECT_TRUE(files->fd[0] == f);
	KEXPECT_NULL(files->fd[1]);
	KEXPECT_NULL(files->fd[2]);
	KEXPECT_TRUE(files->fd[3] == f);
	KEXPECT_EQ(files->cloexec, 0u);
	KEXPECT_EQ(f->refs, 2);
	files_put(files);
}

/* A pipe in a table: fds[0] read end, fds[1] write end. */
static struct files *pipe_table(int fds[2])
{
	struct files *files = files_create();
	struct file *rd, *wr;
	if (!files || pipe_create(&rd, &wr)) {
		kfree(files);
		return NULL;
	}
	fds[0] = fd_install(files, rd, false);
	fds[1] = fd_install(files, wr, false);
	return files;
}

KTEST(ch4_file, pipe_carries_bytes_in_order)
{
	int fds[2];
	struct files *files = pipe_table(fds);
	KASSERT_NOT_NULL(files);
	KEXPECT_EQ(fd_write(files, fds[1], io_kernel("hello, "), 7), 7);
	KEXPECT_EQ(fd_write(files, fds[1], io_kernel("pipe"), 4), 4);
	char buf[32] = {0};
	KEXPECT_EQ(fd_read(files, fds[0], io_kernel(buf), 5), 5);
	KEXPECT_EQ(memcmp(buf, "hello", 5), 0);
	KEXPECT_EQ(fd_read(files, fds[0], io_kernel(buf), sizeof(buf)), 6); /* what is there, no more */
	KEXPECT_EQ(memcmp(buf, ", pipe", 6), 0);
	KEXPECT_EQ(fd_read(files, fds[0], io_kernel(buf), 0), 0);
	files_put(files);
}

KTEST(ch4_file, pipe_ring_wraps)
{
	int fds[2];
	struct files *files = pipe_table(fds);
	KASSERT_NOT_NULL(files);
	static char in[PIPE_SIZE], out[PIPE_SIZE];
	for (int round = 0; round < 5; round++) { /* 3000 * 5: the ring wraps three times */
		for (int i = 0; i < 3000; i++)
			in[i] = (char)(i * 7 + round);
		KEXPECT_EQ(fd_write(files, fds[1], io_kernel(in), 3000), 3000);
		memset(out, 0, sizeof(out));
		KEXPECT_EQ(fd_read(files, fds[0], io_kernel(out), sizeof(out)), 3000);
		KEXPECT_EQ(memcmp(in, out, 3000), 0);
	}
	/* Exactly full: the whole page. */
	KEXPECT_EQ(fd_write(files, fds[1], io_kernel(in), PIPE_SIZE), PIPE_SIZE);
	struct file *rd = fd_get(files, fds[0]);
	KASSERT_NOT_NULL(rd);
	KEXPECT_EQ(pipe_bytes(rd), PIPE_SIZE);
	file_put(rd);
	KEXPECT_EQ(fd_read(files, fds[0], io_kernel(out), sizeof(out)), PIPE_SIZE);
	KEXPECT_EQ(memcmp(in, out, PIPE_SIZE), 0);
	files_put(files);
}

KTEST(ch4_file, pipe_eof_after_the_data_when_writers_close)
{
	int fds[2];
	struct files *files = pipe_table(fds);
	KASSERT_NOT_NULL(files);
	int wr2 = fd_dup(files, fds[1]);
	KASSERT_GE(wr2, 0);
	KEXPECT_EQ(fd_write(files, fds[1], io_kernel("ab"), 2), 2);
	KEXPECT_EQ(fd_close(files, fds[1]), 0);
	KEXPECT_EQ(fd_close(files, wr2), 0);
	char buf[8];
	KEXPECT_EQ(fd_read(files, fds[0], io_kernel(buf), sizeof(buf)), 2);
	KEXPECT_EQ(fd_read(files, fds[0], io_kernel(buf), sizeof(buf)), 0);
	KEXPECT_EQ(fd_read(files, fds[0], io_kernel(buf), sizeof(buf)), 0);
	files_put(files);
}

KTEST(ch4_file, pipe_write_without_reader_is_epipe)
{
	int fds[2];
	struct files *files = pipe_table(fds);
	KASSERT_NOT_NULL(files);
	KEXPECT_EQ(fd_close(files, fds[0]), 0);
	KEXPECT_EQ(fd_write(files, fds[1], io_kernel("x"), 1), -EPIPE);
	KEXPECT_EQ(fd_write(files, fds[1], io_kernel("x"), 0), 0); /* Linux: nothing to write, no error */
	files_put(files);
}

KTEST(ch4_file, pipe_ends_have_one_direction)
{
	int fds[2];
	struct files *files = pipe_table(fds);
	KASSERT_NOT_NULL(files);
	char c = 'c';
	KEXPECT_EQ(fd_write(files, fds[0], io_kernel(&c), 1), -EBADF);
	KEXPECT_EQ(fd_read(files, fds[1], io_kernel(&c), 1), -EBADF);
	files_put(files);
}

KTEST(ch4_file, pipe_bad_user_buffer_is_efault_and_moves_nothing)
{
	int fds[2];
	struct files *files = pipe_table(fds);
	KASSERT_NOT_NULL(files);
	KEXPECT_EQ(fd_write(files, fds[1], io_user(KERNEL_UADDR), 16), -EFAULT);
	struct file *rd = fd_get(files, fds[0]);
	KASSERT_NOT_NULL(rd);
	KEXPECT_EQ(pipe_bytes(rd), 0);
	KEXPECT_EQ(fd_write(files, fds[1], io_kernel("data"), 4), 4);
	KEXPECT_EQ(fd_read(files, fds[0], io_user(KERNEL_UADDR), 4), -EFAULT);
	KEXPECT_EQ(pipe_bytes(rd), 4); /* nothing consumed */
	file_put(rd);
	files_put(files);
}

KTEST(ch4_file, pipe_gives_its_frames_back)
{
	kmalloc_shrink();
	uint64_t before = frames_nr_free();
	for (int i = 0; i < 20; i++) {
		int fds[2];
		struct files *files = pipe_table(fds);
		KASSERT_NOT_NULL(files);
		KEXPECT_EQ(fd_write(files, fds[1], io_kernel("x"), 1), 1);
		files_put(files);
	}
	kmalloc_shrink();
	KEXPECT_EQ(frames_nr_free(), before);
}

KTEST(ch4_file, console_prints_whole_lines)
{
	struct file *con = console_file_create();
	KASSERT_NOT_NULL(con);
	capture_start();
	long a = con->ops->write(con, io_kernel("user says "), 10);
	bool early = captured_holds("user says");
	long b = con->ops->write(con, io_kernel("hi\nnext"), 7);
	long c = con->ops->write(con, io_kernel("\n"), 1);
	long bad = con->ops->write(con, io_user(KERNEL_UADDR), 4);
	capture_stop();
	KEXPECT_EQ(a, 10);
	KEXPECT_EQ(b, 7);
	KEXPECT_EQ(c, 1);
	KEXPECT_EQ(bad, -EFAULT);
	KEXPECT_FALSE(early); /* an unfinished line waits for its newline */
	KEXPECT_TRUE(said("user says hi\n"));
	KEXPECT_TRUE(said("next\n"));
	file_put(con);
}
