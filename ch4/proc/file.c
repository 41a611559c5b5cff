/*
 * Open files and descriptor tables (Linux's struct file and files_struct,
 * fs/file.c and fs/read_write.c), and the system calls on descriptors:
 * read, write, close, dup. pipe2 is in pipe.c, the console in
 * console_file.c.
 *
 * A descriptor table is shared by the processes a clone(CLONE_FILES) made
 * (files::refs) and guarded by files::lock; each file counts its
 * references (file::refs): one per descriptor that names it, one per call
 * in progress on it, so a close() on one thread while another reads waits
 * for the read to finish before the file goes away.
 */
#include "errno.h"
#include "file.h"
#include "initcall.h"
#include "kmalloc.h"
#include "proc.h"
#include "string.h"
#include "syscall.h"
#include "uaccess.h"

/* A user buffer's pieces end at user page boundaries, so that a bad page
 * ends the copy at its first byte, with every byte before it copied. */
static size_t io_piece(struct io_buf buf, size_t off, size_t n)
{
	if (!buf.user)
		return n;
	size_t to_page_end = PAGE_SIZE - ((buf.base + off) & (PAGE_SIZE - 1));
	return n < to_page_end ? n : to_page_end;
}

size_t io_copy_from(void *dst, struct io_buf buf, size_t off, size_t n)
{
	size_t done = 0;
	while (done < n) {
		size_t piece = io_piece(buf, off + done, n - done);
		if (!buf.user)
			memcpy((char *)dst + done, (const char *)buf.base + off + done, piece);
		else if (copy_from_user((char *)dst + done, buf.base + off + done, piece))
			break;
		done += piece;
	}
	return done;
}

size_t io_copy_to(struct io_buf buf, size_t off, const void *src, size_t n)
{
	size_t done = 0;
	while (done < n) {
		size_t piece = io_piece(buf, off + done, n - done);
		if (!buf.user)
			memcpy((char *)buf.base + off + done, (const char *)src + done, piece);
		else if (copy_to_user(buf.base + off + done, (const char *)src + done, piece))
			break;
		done += piece;
	}
	return done;
}

struct file *file_alloc(const struct file_ops *ops, unsigned mode, void *private_data)
{
	struct file *f = kmalloc(sizeof(*f));
	if (!f)
		return NULL;
	*f = (struct file){.ops = ops, .refs = 1, .mode = mode, .private_data = private_data};
	return f;
}

void file_get(struct file *f) { __atomic_add_fetch(&f->refs, 1, __ATOMIC_RELAXED); }

void file_put(struct file *f)
{
	if (__atomic_sub_fetch(&f->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	if (f->ops->release)
		f->ops->release(f);
	kfree(f);
}

struct files *files_create(void)
{
	struct files *files = kzalloc(sizeof(*files));
	if (!files)
		return NULL;
	spin_init(&files->lock, "files");
	files->refs = 1;
	return files;
}

/* Caller holds files->lock. */
static int lowest_free_fd(struct files *files)
{
	for (int fd = 0; fd < FILES_MAX; fd++)
		if (!files->fd[fd])
			return fd;
	return -EMFILE;
}

int fd_install(struct files *files, struct file *f, bool cloexec)
{
	spin_lock(&files->lock);
	int fd = lowest_free_fd(files);
	if (fd >= 0) {
		files->fd[fd] = f;
		if (cloexec)
			files->cloexec |= 1u << fd;
		else
			files->cloexec &= ~(1u << fd);
	}
	spin_unlock(&files->lock);
	return fd;
}

struct file *fd_get(struct files *files, int fd)
{
	if (fd < 0 || fd >= FILES_MAX)
		return NULL;
	spin_lock(&files->lock);
	struct file *f = files->fd[fd];
	if (f)
		file_get(f);
	spin_unlock(&files->lock);
	return f;
}

int fd_close(struct files *files, int fd)
{
	if (fd < 0 || fd >= FILES_MAX)
		return -EBADF;
	spin_lock(&files->lock);
	struct file *f = files->fd[fd];
	files->fd[fd] = NULL;
	files->cloexec &= ~(1u << fd);
	spin_unlock(&files->lock);
	if (!f)
		return -EBADF;
	file_put(f); /* outside the lock: a pipe's release wakes sleepers */
	return 0;
}

int fd_dup(struct files *files, int fd)
{
	struct file *f = fd_get(files, fd);
	if (!f)
		return -EBADF;
	int nfd = fd_install(files, f, false);
	if (nfd < 0)
		file_put(f);
	return nfd;
}

long fd_read(struct files *files, int fd, struct io_buf buf, size_t len)
{
	struct file *f = fd_get(files, fd);
	if (!f)
		return -EBADF;
	long ret = -EBADF;
	if ((f->mode & FMODE_READ) && f->ops->read)
		ret = len ? f->ops->read(f, buf, len) : 0;
	file_put(f);
	return ret;
}

long fd_write(struct files *files, int fd, struct io_buf buf, size_t len)
{
	struct file *f = fd_get(files, fd);
	if (!f)
		return -EBADF;
	long ret = -EBADF;
	if ((f->mode & FMODE_WRITE) && f->ops->write)
		ret = len ? f->ops->write(f, buf, len) : 0;
	file_put(f);
	return ret;
}

void files_close_on_exec(struct files *files)
{
	for (int fd = 0; fd < FILES_MAX; fd++)
		if (__atomic_load_n(&files->cloexec, __ATOMIC_RELAXED) & (1u << fd))
			fd_close(files, fd);
}

struct files *files_create_console(void)
{
	struct files *files = files_create();
	struct file *con = console_file_create();
	if (!files || !con)
		goto fail;
	/* As Linux's init: one open of the console, then dup twice. */
	for (int fd = 0; fd < 3; fd++) {
		file_get(con);
		fd_install(files, con, false);
	}
	file_put(con);
	return files;
fail:
	if (con)
		file_put(con);
	kfree(files);
	return NULL;
}

struct files *files_dup(struct files *files)
{
	struct files *copy = files_create();
	if (!copy)
		return NULL;
	spin_lock(&files->lock);
	for (int fd = 0; fd < FILES_MAX; fd++) {
		copy->fd[fd] = files->fd[fd];
		if (copy->fd[fd])
			file_get(copy->fd[fd]);
	}
	copy->cloexec = files->cloexec; /* fork keeps close-on-exec (POSIX) */
	spin_unlock(&files->lock);
	return copy;
}

void files_get(struct files *files) { __atomic_add_fetch(&files->refs, 1, __ATOMIC_RELAXED); }

void files_put(struct files *files)
{
	if (__atomic_sub_fetch(&files->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	for (int fd = 0; fd < FILES_MAX; fd++)
		if (files->fd[fd])
			file_put(files->fd[fd]);
	kfree(files);
}

/* ---- system calls (Linux fs/read_write.c, fs/open.c, fs/file.c) ---- */

/** read(2): fd, buf, count. */
static long sys_read(uint64_t fd, uint64_t buf, uint64_t len, uint64_t a3, uint64_t a4, uint64_t a5)
{
	(void)a3, (void)a4, (void)a5;
	struct files *files = current_files(); /* NULL once exiting: every fd is bad */
	return files ? fd_read(files, (int)fd, io_user(buf), len) : -EBADF;
}

/** write(2): fd, buf, count. */
static long sys_write(uint64_t fd, uint64_t buf, uint64_t len, uint64_t a3, uint64_t a4, uint64_t a5)
{
	(void)a3, (void)a4, (void)a5;
	struct files *files = current_files(); /* NULL once exiting: every fd is bad */
	return files ? fd_write(files, (int)fd, io_user(buf), len) : -EBADF;
}

/** close(2): fd. */
static long sys_close(uint64_t fd, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	(void)a1, (void)a2, (void)a3, (void)a4, (void)a5;
	struct files *files = current_files(); /* NULL once exiting: every fd is bad */
	return files ? fd_close(files, (int)fd) : -EBADF;
}

/** dup(2): fd. */
static long sys_dup(uint64_t fd, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	(void)a1, (void)a2, (void)a3, (void)a4, (void)a5;
	struct files *files = current_files(); /* NULL once exiting: every fd is bad */
	return files ? fd_dup(files, (int)fd) : -EBADF;
}

static int file_syscalls_init(void)
{
	int err = syscall_register(SYS_read, sys_read);
	err = err ?: syscall_register(SYS_write, sys_write);
	err = err ?: syscall_register(SYS_close, sys_close);
	err = err ?: syscall_register(SYS_dup, sys_dup);
	return err;
}
initcall(INIT_PROC, file_syscalls_init);
