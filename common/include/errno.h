/**
 * @file errno.h
 * @brief Error numbers. Functions that can fail return the negative of one.
 *
 * The values are Linux's (include/uapi/asm-generic/errno-base.h), so that a
 * number seen in a log means what a reader already knows it to mean.
 */
#ifndef MMLAB_ERRNO_H
#define MMLAB_ERRNO_H

#define EPERM	     1	/**< Operation not permitted. */
#define ENOENT	     2	/**< No such entry. */
#define ESRCH	     3	/**< No such process. */
#define EINTR	     4	/**< Interrupted. */
#define EIO	     5	/**< I/O error. */
#define E2BIG	     7	/**< Argument list too long. */
#define ENOEXEC	     8	/**< Exec format error. */
#define EBADF	     9	/**< Bad file descriptor. */
#define ECHILD	     10 /**< No child processes. */
#define EAGAIN	     11 /**< Try again. */
#define ENOMEM	     12 /**< Out of memory. */
#define EACCES	     13 /**< Permission denied. */
#define EFAULT	     14 /**< Bad address. */
#define EBUSY	     16 /**< Resource busy (already allocated, already mapped). */
#define EEXIST	     17 /**< Already exists. */
#define ENODEV	     19 /**< No such device. */
#define ENOTDIR	     20 /**< Not a directory. */
#define EISDIR	     21 /**< Is a directory. */
#define EINVAL	     22 /**< Invalid argument. */
#define EMFILE	     24 /**< Too many open files. */
#define EFBIG	     27 /**< File too large. */
#define ENOSPC	     28 /**< No space left. */
#define ESPIPE	     29 /**< Illegal seek (a pipe, the console). */
#define EROFS	     30 /**< Read-only file system (the initramfs). */
#define EPIPE	     32 /**< Broken pipe: no reader. */
#define ERANGE	     34 /**< Out of range. */
#define ENAMETOOLONG 36 /**< File name too long. */
#define ENOSYS	     38 /**< Not implemented (also: a handout stub). */
#define EIDRM	     43 /**< Identifier removed (System V IPC). */
#define EOVERFLOW    75 /**< Value too large. */
#define EOPNOTSUPP   95 /**< Operation not supported (mmap: a flag MAP_SHARED_VALIDATE does not know). */

#ifndef __ASSEMBLER__
/** Name of error number @p err, positive or negative ("ENOMEM"), or "E?" if unknown. */
const char *errno_name(int err);
#endif

#endif
