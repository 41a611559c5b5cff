/*
 * The file system calls (fcntl.h): raw forms that return a0 as the kernel
 * left it, and POSIX forms that turn a negative errno into -1 and errno,
 * as glibc does. riscv64 has no open(2) or unlink(2): glibc's open() is
 * openat(AT_FDCWD, ...), and so are these.
 */
#include "fcntl.h"

long sys_openat(int dirfd, const char *path, int flags, mode_t mode)
{
	return syscall4(SYS_openat, dirfd, path, flags, mode);
}
long sys_open(const char *path, int flags, mode_t mode) { return sys_openat(AT_FDCWD, path, flags, mode); }
long sys_pread64(int fd, void *buf, size_t len, off_t off)
{
	return syscall4(SYS_pread64, fd, buf, len, off);
}
long sys_pwrite64(int fd, const void *buf, size_t len, off_t off)
{
	return syscall4(SYS_pwrite64, fd, buf, len, off);
}
long sys_lseek(int fd, off_t off, int whence) { return syscall3(SYS_lseek, fd, off, whence); }
long sys_ftruncate(int fd, off_t len) { return syscall2(SYS_ftruncate, fd, len); }
long sys_fstat(int fd, struct stat *st) { return syscall2(SYS_fstat, fd, st); }
long sys_unlinkat(int dirfd, const char *path, int flags)
{
	return syscall3(SYS_unlinkat, dirfd, path, flags);
}
long sys_unlink(const char *path) { return sys_unlinkat(AT_FDCWD, path, 0); }
long sys_fsync(int fd) { return syscall1(SYS_fsync, fd); }

/* A raw result as POSIX returns it: -1 with errno set. */
static long posix(long r)
{
	if (r < 0 && r > -4096) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

/* The mode argument exists only with O_CREAT (as glibc reads it). */
#define OPEN_MODE(flags, mode)                                                                               \
	do {                                                                                                 \
		if ((flags)&O_CREAT) {                                                                       \
			va_list ap;                                                                          \
			va_start(ap, flags);                                                                 \
			mode = va_arg(ap, mode_t);                                                           \
			va_end(ap);                                                                          \
		}                                                                                            \
	} while (0)

int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	OPEN_MODE(flags, mode);
	return (int)posix(sys_openat(dirfd, path, flags, mode));
}

int open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	OPEN_MODE(flags, mode);
	return (int)posix(sys_openat(AT_FDCWD, path, flags, mode));
}

int creat(const char *path, mode_t mode) { return open(path, O_CREAT | O_WRONLY | O_TRUNC, mode); }
ssize_t pread(int fd, void *buf, size_t len, off_t off) { return posix(sys_pread64(fd, buf, len, off)); }
ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
	return posix(sys_pwrite64(fd, buf, len, off));
}
off_t lseek(int fd, off_t off, int whence) { return posix(sys_lseek(fd, off, whence)); }
int ftruncate(int fd, off_t len) { return (int)posix(sys_ftruncate(fd, len)); }
int fstat(int fd, struct stat *st) { return (int)posix(sys_fstat(fd, st)); }
int unlink(const char *path) { return (int)posix(sys_unlink(path)); }
int unlinkat(int dirfd, const char *path, int flags) { return (int)posix(sys_unlinkat(dirfd, path, flags)); }
int fsync(int fd) { return (int)posix(sys_fsync(fd)); }
