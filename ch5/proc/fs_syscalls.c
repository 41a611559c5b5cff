/*
 * The file system calls (Linux riscv64 numbers, asm-generic errno): openat,
 * pread64, pwrite64, lseek, ftruncate, fstat, unlinkat, fsync. read, write
 * and close are ch4's (a disk file's file_ops do the work). Registered in
 * ch4's table at INIT_PROC, as ch4 registers its own.
 *
 * Reference: Linux fs/open.c (do_sys_openat2, do_sys_ftruncate), fs/namei.c
 * (do_unlinkat), fs/read_write.c (ksys_lseek, ksys_pread64), fs/stat.c,
 * fs/sync.c.
 */
#include "errno.h"
#include "file.h"
#include "fs.h"
#include "initcall.h"
#include "proc.h"
#include "syscall.h"
#include "uaccess.h"

/* Longest path taken from the user, its NUL included. Linux's PATH_MAX is
 * 4096, but a name here is at most 59 bytes (MMFS_NAME_MAX) and the
 * namespace is flat: a longer path is ENAMETOOLONG either way. */
#define PATH_MAX 256

/* ch4's kinds of files, told apart by their ops (fstat's st_mode). */
static const struct file_ops *console_ops, *pipe_ops;

/* Copy the user path at @upath into @buf (PATH_MAX bytes). */
static long get_path(uint64_t upath, char *buf)
{
	long n = strncpy_from_user(buf, upath, PATH_MAX);
	return n < 0 ? n : 0;
}

/* A relative path needs dirfd AT_FDCWD: mmlab has no directory to open. */
static long check_dirfd(int64_t dirfd, const char *path)
{
	if (path[0] == '/' || dirfd == AT_FDCWD)
		return 0;
	struct file *f = fd_get(current_files(), (int)dirfd);
	if (!f)
		return -EBADF;
	file_put(f);
	return -ENOTDIR;
}

/** openat(2): dirfd, path, flags, mode (ignored: no permissions). */
static long sys_openat(uint64_t dirfd, uint64_t upath, uint64_t flags, uint64_t mode, uint64_t a4,
		       uint64_t a5)
{
	(void)mode, (void)a4, (void)a5;
	struct files *files = current_files();
	if (!files)
		return -EBADF;
	char path[PATH_MAX];
	long err = get_path(upath, path);
	err = err ?: check_dirfd((int64_t)dirfd, path);
	struct file *f = NULL;
	if (!err)
		err = fs_open(path, (int)flags, &f);
	if (err)
		return err;
	int fd = fd_install(files, f, flags & O_CLOEXEC);
	if (fd < 0)
		file_put(f);
	return fd;
}

/* The disk or initramfs file at @fd with a reference, into *@f; -EBADF
 * without one, -ESPIPE for the console and pipes (no position). */
static long get_seekable(int fd, struct file **f)
{
	struct files *files = current_files();
	*f = files ? fd_get(files, fd) : NULL;
	if (!*f)
		return -EBADF;
	if (!file_inode(*f)) {
		file_put(*f);
		return -ESPIPE;
	}
	return 0;
}

/* pread64 and pwrite64 (@write): the checks both make, then the I/O at
 * byte @off of the file; the file position stays. */
static long positioned_io(uint64_t fd, uint64_t buf, uint64_t len, uint64_t off, bool write)
{
	struct file *f;
	long err = get_seekable((int)fd, &f);
	if (err)
		return err;
	if (!(f->mode & (write ? FMODE_WRITE : FMODE_READ)))
		err = -EBADF;
	else if ((int64_t)off < 0)
		err = -EINVAL;
	else if (write)
		err = fs_write_at(f, &off, io_user(buf), len);
	else
		err = len ? filemap_read(&file_inode(f)->mapping, off, io_user(buf), len) : 0;
	file_put(f);
	return err;
}

/** pread64(2): fd, buf, count, offset; the file position stays. */
static long sys_pread64(uint64_t fd, uint64_t buf, uint64_t len, uint64_t off, uint64_t a4, uint64_t a5)
{
	(void)a4, (void)a5;
	return positioned_io(fd, buf, len, off, false);
}

/** pwrite64(2): fd, buf, count, offset; O_APPEND still appends (Linux's behaviour, see BUGS in pwrite(2)). */
static long sys_pwrite64(uint64_t fd, uint64_t buf, uint64_t len, uint64_t off, uint64_t a4, uint64_t a5)
{
	(void)a4, (void)a5;
	return positioned_io(fd, buf, len, off, true);
}

/** lseek(2): fd, offset, whence. */
static long sys_lseek(uint64_t fd, uint64_t off, uint64_t whence, uint64_t a3, uint64_t a4, uint64_t a5)
{
	(void)a3, (void)a4, (void)a5;
	struct file *f;
	long err = get_seekable((int)fd, &f);
	if (err)
		return err;
	if ((err = fs_file_lock_pos(f))) {
		file_put(f);
		return err;
	}
	int64_t base;
	if (whence == SEEK_SET)
		base = 0;
	else if (whence == SEEK_CUR)
		base = (int64_t)fs_file_pos(f);
	else if (whence == SEEK_END)
		base = (int64_t)__atomic_load_n(&file_inode(f)->mapping.size, __ATOMIC_RELAXED);
	else
		base = -1;
	int64_t pos;
	if (base < 0 || __builtin_add_overflow(base, (int64_t)off, &pos) || pos < 0 ||
	    (uint64_t)pos > MMFS_MAX_FILE_SIZE)
		err = -EINVAL;
	else {
		fs_file_set_pos(f, (uint64_t)pos);
		err = pos;
	}
	fs_file_unlock_pos(f);
	file_put(f);
	return err;
}

/** ftruncate(2): fd, length. */
static long sys_ftruncate(uint64_t fd, uint64_t length, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	(void)a2, (void)a3, (void)a4, (void)a5;
	if ((int64_t)length < 0)
		return -EINVAL;
	struct files *files = current_files();
	struct file *f = files ? fd_get(files, (int)fd) : NULL;
	if (!f)
		return -EBADF;
	struct inode *ip = file_inode(f);
	long err;
	if (!ip || !(f->mode & FMODE_WRITE))
		err = -EINVAL;
	else
		err = inode_truncate(ip, length);
	file_put(f);
	return err;
}

/** fstat(2): fd, statbuf. */
static long sys_fstat(uint64_t fd, uint64_t ubuf, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	(void)a2, (void)a3, (void)a4, (void)a5;
	struct files *files = current_files();
	struct file *f = files ? fd_get(files, (int)fd) : NULL;
	if (!f)
		return -EBADF;
	struct stat st;
	fs_stat(f, &st);
	if (!file_inode(f)) {
		if (f->ops == console_ops)
			st.st_mode = S_IFCHR | 0620;
		else if (f->ops == pipe_ops)
			st.st_mode = S_IFIFO | 0600;
		else
			st.st_mode = S_IFREG | 0600; /* shm's files, say */
		st.st_nlink = 1;
	}
	file_put(f);
	return copy_to_user(ubuf, &st, sizeof(st));
}

/** unlinkat(2): dirfd, path, flags (0 only: no directories to remove). */
static long sys_unlinkat(uint64_t dirfd, uint64_t upath, uint64_t flags, uint64_t a3, uint64_t a4,
			 uint64_t a5)
{
	(void)a3, (void)a4, (void)a5;
	if (flags)
		return -EINVAL;
	char path[PATH_MAX];
	long err = get_path(upath, path);
	err = err ?: check_dirfd((int64_t)dirfd, path);
	return err ?: fs_unlink(path);
}

/** fsync(2): fd. */
static long sys_fsync(uint64_t fd, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	(void)a1, (void)a2, (void)a3, (void)a4, (void)a5;
	struct files *files = current_files();
	struct file *f = files ? fd_get(files, (int)fd) : NULL;
	if (!f)
		return -EBADF;
	struct inode *ip = file_inode(f);
	long err = ip ? inode_fsync(ip) : -EINVAL;
	file_put(f);
	return err;
}

/* Learn the ops of ch4's console and pipe files by making one of each. */
static void learn_kinds(void)
{
	struct file *con = console_file_create(), *rd, *wr;
	if (con) {
		console_ops = con->ops;
		file_put(con);
	}
	if (pipe_create(&rd, &wr) == 0) {
		pipe_ops = rd->ops;
		file_put(rd);
		file_put(wr);
	}
}

static int fs_syscalls_init(void)
{
	static const struct {
		unsigned nr;
		syscall_fn fn;
	} calls[] = {
		{SYS_openat, sys_openat},     {SYS_pread64, sys_pread64},     {SYS_pwrite64, sys_pwrite64},
		{SYS_lseek, sys_lseek},	      {SYS_ftruncate, sys_ftruncate}, {SYS_fstat, sys_fstat},
		{SYS_unlinkat, sys_unlinkat}, {SYS_fsync, sys_fsync},
	};
	learn_kinds();
	for (size_t i = 0; i < ARRAY_SIZE(calls); i++) {
		int err = syscall_register(calls[i].nr, calls[i].fn);
		if (err)
			return err;
	}
	return 0;
}
initcall(INIT_PROC, fs_syscalls_init);
