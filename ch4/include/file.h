/**
 * @file file.h
 * @brief Open files and file tables (given machinery, ch4/proc/file.c,
 *        pipe.c, console_file.c).
 *
 * OWNER: the files helper extends this header; the declarations below are
 * the interface the process code relies on.
 *
 * A process has a table of #FILES_MAX descriptors; fork copies the table
 * (each file gains a reference), exec keeps it, exit drops it. A file is
 * an object with operations (ch5 adds disk files the same way).
 */
#ifndef MMLAB_FILE_H
#define MMLAB_FILE_H

#include "spinlock.h"
#include "types.h"

/** Descriptors per process. */
#define FILES_MAX 32

/** pipe2() flag: close the descriptors on exec (Linux's value, octal 02000000). */
#define O_CLOEXEC 02000000
/** Bytes a pipe holds: one page. */
#define PIPE_SIZE 4096
/** Writes to a pipe of at most this many bytes are atomic (POSIX; Linux: a page). */
#define PIPE_BUF 4096

/** @name File modes (Linux's FMODE_READ, FMODE_WRITE).
 * @{ */
#define FMODE_READ  0x1u /**< read() is allowed. */
#define FMODE_WRITE 0x2u /**< write() is allowed. */
/** @} */

/**
 * Where the bytes of a read or a write are: user memory (reached only
 * through uaccess.h) or kernel memory (the kernel's own tests). A small
 * iov_iter (Linux's include/linux/uio.h) with one segment.
 */
struct io_buf {
	uintptr_t base; /**< The first byte. */
	bool user;	/**< True: a user address, copied with copy_{from,to}_user. */
};

/** A user buffer at @p uaddr. */
static inline struct io_buf io_user(vaddr_t uaddr) { return (struct io_buf){.base = uaddr, .user = true}; }
/** A kernel buffer at @p p. */
static inline struct io_buf io_kernel(const void *p)
{
	return (struct io_buf){.base = (uintptr_t)p, .user = false};
}

/**
 * Copy @p n bytes from @p buf, @p off bytes in, to @p dst. A user buffer is
 * copied a page at a time (each piece stops at a user page boundary), so a
 * bad page in the middle ends the copy there, as Linux's copy_from_iter.
 * @return the bytes copied (all of them, or those before the bad page).
 */
size_t io_copy_from(void *dst, struct io_buf buf, size_t off, size_t n);

/** The same the other way: @p n bytes from @p src to @p buf at @p off. @return the bytes copied. */
size_t io_copy_to(struct io_buf buf, size_t off, const void *src, size_t n);

struct file;

/** What a kind of file does (Linux's struct file_operations, the part used here). */
struct file_ops {
	/**
	 * Read up to @p len bytes into @p buf. May block.
	 * @return bytes read (0: end of file), -EFAULT if none could be copied, -EINTR if killed.
	 */
	long (*read)(struct file *f, struct io_buf buf, size_t len);
	/**
	 * Write up to @p len bytes from @p buf. May block.
	 * @return bytes written, -EFAULT if none could be copied, -EPIPE, -EINTR.
	 */
	long (*write)(struct file *f, struct io_buf buf, size_t len);
	/** The last reference is gone: free what the file holds (not the file). May be NULL. */
	void (*release)(struct file *f);
};

/** An open file (Linux's struct file). */
struct file {
	const struct file_ops *ops; /**< What it does. */
	int refs;		    /**< Descriptors and calls in progress that hold it (atomic). */
	unsigned mode;		    /**< FMODE_READ | FMODE_WRITE. */
	void *private_data;	    /**< The kind's own (a struct pipe). */
};

/** A process's descriptor table (Linux's files_struct). */
struct files {
	struct spinlock lock; /**< Guards fd[] and cloexec. */
	int refs;	      /**< Processes (and CLONE_FILES threads' processes) sharing it (atomic). */
	uint32_t cloexec;     /**< Bit fd: close descriptor fd at exec. */
	struct file *fd[FILES_MAX]; /**< NULL: a free descriptor. */
};

/**
 * A new file of kind @p ops with @p mode and @p private_data, one reference.
 * @return the file, or NULL if out of memory.
 */
struct file *file_alloc(const struct file_ops *ops, unsigned mode, void *private_data);

/** Take a reference to @p f. */
void file_get(struct file *f);

/** Drop a reference to @p f; the last calls ops->release and frees it. */
void file_put(struct file *f);

/** An empty descriptor table, one reference. @return it, or NULL if out of memory. */
struct files *files_create(void);

/**
 * Put @p f at the lowest free descriptor of @p files (POSIX), taking over
 * the caller's reference; @p cloexec marks it close-on-exec.
 * @return the descriptor, or -EMFILE if the table is full (the reference
 *         stays the caller's).
 */
int fd_install(struct files *files, struct file *f, bool cloexec);

/** The file at descriptor @p fd of @p files with one more reference (file_put() it), or NULL. */
struct file *fd_get(struct files *files, int fd);

/** close(2): free descriptor @p fd of @p files. @return 0, or -EBADF. */
int fd_close(struct files *files, int fd);

/** dup(2): the lowest free descriptor of @p files, on the file of @p fd, not close-on-exec.
 *  @return it, -EBADF or -EMFILE. */
int fd_dup(struct files *files, int fd);

/** read(2) of at most @p len bytes into @p buf on descriptor @p fd of @p files. @return bytes read, or -EBADF (no such fd, or not readable) and the file's errors. */
long fd_read(struct files *files, int fd, struct io_buf buf, size_t len);

/** write(2) of at most @p len bytes from @p buf on descriptor @p fd of @p files. @return bytes written, or -EBADF and the file's errors. */
long fd_write(struct files *files, int fd, struct io_buf buf, size_t len);

/**
 * Close every close-on-exec descriptor of @p files (pipe2(O_CLOEXEC)): for execve,
 * once the new program is certain to run (Linux's do_close_on_exec).
 */
void files_close_on_exec(struct files *files);

/**
 * A pipe: a ring buffer of #PIPE_SIZE bytes, with a read end (@p rd,
 * FMODE_READ) and a write end (@p wr, FMODE_WRITE), one reference each.
 * Reading an empty pipe blocks while a write end is open and returns 0
 * (end of file) once none is; writing blocks while it is full and fails
 * with -EPIPE once no read end is open (no SIGPIPE: mmlab has no signal
 * handlers to run). Writes of at most #PIPE_BUF bytes are atomic.
 * Reference: POSIX write(2) on pipes, Linux fs/pipe.c.
 * @return 0, or -ENOMEM (nothing is left allocated).
 */
int pipe_create(struct file **rd, struct file **wr);

/** Bytes waiting in the pipe of @p f (either end): for tests. */
size_t pipe_bytes(struct file *f);

/**
 * The console as a file (read and write): write prints through printk,
 * a line at a time (the test runner's indentation applies); read returns
 * the bytes the UART has waiting, and 0 (end of file) when it has none:
 * the console has no interrupt-driven input path to sleep on.
 * @return the file (one reference), or NULL if out of memory.
 */
struct file *console_file_create(void);

/**
 * A file table with 0, 1 and 2 open on the console (read: the UART,
 * write: the console, as printk writes).
 * @return the table, or NULL if out of memory.
 */
struct files *files_create_console(void);

/**
 * A copy of @p files for a child (fork): the same open files, each with one
 * more reference.
 * @return the copy, or NULL if out of memory (nothing taken).
 */
struct files *files_dup(struct files *files);

/** Take a reference to @p files (a thread created with CLONE_FILES). */
void files_get(struct files *files);

/** Drop a reference to @p files; the last closes every descriptor and frees the table. */
void files_put(struct files *files);

#endif
