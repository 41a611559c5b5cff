/**
 * @file fcntl.h
 * @brief Files for user programs (ch5): Linux's <fcntl.h>, <sys/stat.h>
 *        and <unistd.h> names, values and signatures for open, pread,
 *        pwrite, lseek, ftruncate, fstat, unlink and fsync.
 *
 * As in ulib.h and mman.h, each call comes in two flavours: the POSIX one
 * (open() and the others return -1 and set errno) and the raw one,
 * sys_openat() and so on, which returns what the kernel put in a0: the
 * result or a negative errno. Tests that compare errno with Linux use the
 * raw ones. The values are asm-generic's (include/uapi/asm-generic/fcntl.h,
 * stat.h, unistd.h), which riscv64 uses unchanged; read, write and close
 * are ulib.h's.
 */
#ifndef MMLAB_USER_FCNTL_H
#define MMLAB_USER_FCNTL_H

#include "ulib.h"

typedef unsigned int mode_t; /**< File type and permission bits. */

/** @name System-call numbers (asm-generic/unistd.h).
 * @{ */
#define SYS_unlinkat  35
#define SYS_ftruncate 46
#define SYS_openat    56
#define SYS_lseek     62
#define SYS_pread64   67
#define SYS_pwrite64  68
#define SYS_fstat     80
#define SYS_fsync     82
/** @} */

/** @name open(2) flags (asm-generic/fcntl.h, octal as there).
 * @{ */
#define O_RDONLY  00
#define O_WRONLY  01
#define O_RDWR	  02
#define O_ACCMODE 03
#define O_CREAT	  0100
#define O_EXCL	  0200
#define O_NOCTTY  0400
#define O_TRUNC	  01000
#define O_APPEND  02000
#ifndef O_NONBLOCK
#define O_NONBLOCK 04000
#endif
#ifndef O_CLOEXEC
#define O_CLOEXEC 02000000
#endif
#define AT_FDCWD     (-100) /**< openat/unlinkat: a path relative to the working directory. */
#define AT_REMOVEDIR 0x200  /**< unlinkat: remove a directory (mmlab has none). */
/** @} */

/** @name lseek(2) whence values.
 * @{ */
#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2
/** @} */

/** @name errno values that ulib.h leaves out (asm-generic/errno-base.h).
 * @{ */
#ifndef ENOTDIR
#define ENOTDIR 20
#endif
#ifndef EISDIR
#define EISDIR 21
#endif
#ifndef ENFILE
#define ENFILE 23
#endif
#ifndef EFBIG
#define EFBIG 27
#endif
#ifndef ESPIPE
#define ESPIPE 29
#endif
#ifndef EROFS
#define EROFS 30
#endif
/** @} */

/** @name st_mode bits (asm-generic/stat.h, linux/stat.h).
 * @{ */
#define S_IFMT	    0170000
#define S_IFSOCK    0140000
#define S_IFLNK	    0120000
#define S_IFREG	    0100000
#define S_IFBLK	    0060000
#define S_IFDIR	    0040000
#define S_IFCHR	    0020000
#define S_IFIFO	    0010000
#define S_ISREG(m)  (((m)&S_IFMT) == S_IFREG)
#define S_ISDIR(m)  (((m)&S_IFMT) == S_IFDIR)
#define S_ISCHR(m)  (((m)&S_IFMT) == S_IFCHR)
#define S_ISFIFO(m) (((m)&S_IFMT) == S_IFIFO)
/** @} */

/**
 * What fstat(2) fills in: asm-generic's struct stat (include/uapi/asm-generic/stat.h),
 * the layout riscv64 uses, 128 bytes.
 */
struct stat {
	unsigned long st_dev;	     /**< Device of the file system. */
	unsigned long st_ino;	     /**< Inode number. */
	unsigned int st_mode;	     /**< S_IF* type and permission bits. */
	unsigned int st_nlink;	     /**< Names of the file (0 once unlinked). */
	unsigned int st_uid;	     /**< Owner. */
	unsigned int st_gid;	     /**< Group. */
	unsigned long st_rdev;	     /**< Device, for a device file. */
	unsigned long __pad1;	     /**< Padding. */
	long st_size;		     /**< Bytes. */
	int st_blksize;		     /**< The block size for I/O, bytes. */
	int __pad2;		     /**< Padding. */
	long st_blocks;		     /**< Space allocated, in 512-byte units. */
	long st_atime;		     /**< Last access, seconds. */
	unsigned long st_atime_nsec; /**< Its nanoseconds. */
	long st_mtime;		     /**< Last modification, seconds. */
	unsigned long st_mtime_nsec; /**< Its nanoseconds. */
	long st_ctime;		     /**< Last status change, seconds. */
	unsigned long st_ctime_nsec; /**< Its nanoseconds. */
	unsigned int __unused4;	     /**< Reserved. */
	unsigned int __unused5;	     /**< Reserved. */
};
_Static_assert(sizeof(struct stat) == 128, "asm-generic's struct stat is 128 bytes");

/** @name POSIX calls (-1 and errno on error)
 * @{ */
/** open(2): a new fd for @p path; @p flags O_*; with O_CREAT, one more argument, the mode_t of a new file. */
int open(const char *path, int flags, ...);
/** openat(2): open() relative to @p dirfd (only AT_FDCWD means anything here). */
int openat(int dirfd, const char *path, int flags, ...);
/** creat(2): open(@p path, O_CREAT | O_WRONLY | O_TRUNC, @p mode). */
int creat(const char *path, mode_t mode);
/** pread(2): read @p len bytes at offset @p off, leaving the file position alone; bytes read. */
ssize_t pread(int fd, void *buf, size_t len, off_t off);
/** pwrite(2): write @p len bytes at offset @p off, leaving the file position alone; bytes written. */
ssize_t pwrite(int fd, const void *buf, size_t len, off_t off);
/** lseek(2): move the file position to @p off from @p whence (SEEK_*); the new position. */
off_t lseek(int fd, off_t off, int whence);
/** ftruncate(2): make the file @p len bytes long (zeros when it grows). */
int ftruncate(int fd, off_t len);
/** fstat(2): fill @p st for @p fd. */
int fstat(int fd, struct stat *st);
/** unlink(2): remove the name @p path (the file goes with its last open file or mapping). */
int unlink(const char *path);
/** unlinkat(2): unlink() relative to @p dirfd; @p flags 0 (AT_REMOVEDIR names a directory). */
int unlinkat(int dirfd, const char *path, int flags);
/** fsync(2): write the file's dirty pages back to the disk. */
int fsync(int fd);
/** @} */

/** @name Raw calls: the result or a negative errno.
 * @{ */
long sys_openat(int dirfd, const char *path, int flags, mode_t mode);
/** sys_openat(AT_FDCWD, ...): what glibc's open() does on riscv64, which has no open(2). */
long sys_open(const char *path, int flags, mode_t mode);
long sys_pread64(int fd, void *buf, size_t len, off_t off);
long sys_pwrite64(int fd, const void *buf, size_t len, off_t off);
long sys_lseek(int fd, off_t off, int whence);
long sys_ftruncate(int fd, off_t len);
long sys_fstat(int fd, struct stat *st);
long sys_unlinkat(int dirfd, const char *path, int flags);
/** sys_unlinkat(AT_FDCWD, @p path, 0). */
long sys_unlink(const char *path);
long sys_fsync(int fd);
/** @} */

#endif
