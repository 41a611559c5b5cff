/**
 * @file ulib.h
 * @brief mmlab's user library: system calls with POSIX names and
 *        signatures, printf over write(2), string functions, threads.
 *
 * Every program links the whole library (ch4/user/lib/). Constants have
 * Linux's values (asm-generic), so a program means on mmlab what it means
 * on Linux, and results can be compared call by call.
 *
 * Two flavours of each system call:
 * - the POSIX one (read(), fork(), ...) returns -1 and sets #errno on error;
 * - the raw one, sys_read(), sys_fork(), ..., returns what the kernel put
 *   in a0: the result or a negative errno. Tests that compare an errno use
 *   these.
 */
#ifndef MMLAB_ULIB_H
#define MMLAB_ULIB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef long ssize_t; /**< A byte count or -1. */
typedef int pid_t;    /**< A process or thread id. */
typedef long off_t;   /**< A file offset. */

/** @name System-call numbers (Linux riscv64, asm-generic/unistd.h)
 * @{ */
#define SYS_dup			23
#define SYS_close		57
#define SYS_pipe2		59
#define SYS_read		63
#define SYS_write		64
#define SYS_exit		93
#define SYS_exit_group		94
#define SYS_nanosleep		101
#define SYS_sched_yield		124
#define SYS_kill		129
#define SYS_getpid		172
#define SYS_getppid		173
#define SYS_gettid		178
#define SYS_brk			214
#define SYS_clone		220
#define SYS_execve		221
#define SYS_wait4		260
#define SYS_mmlab_free_frames	1000
#define SYS_mmlab_maps		1001
#define SYS_mmlab_ptdump	1002
#define SYS_mmlab_test_result	1003
#define SYS_mmlab_test_begin	1004
#define SYS_mmlab_nr_harts	1005
#define SYS_mmlab_hart		1006
#define SYS_mmlab_page_info	1007
#define SYS_mmlab_squeeze	1008
#define SYS_mmlab_eager		1009
#define SYS_mmlab_max_map_count 1010

/** @name The bits of mmlab_page_info()'s result; bits 0-31 are the frame's reference count (0 for the zero page).
 * @{ */
#define MMLAB_PAGE_PRESENT    (1L << 32)	   /**< A leaf maps the page. */
#define MMLAB_PAGE_WRITABLE   (1L << 33)	   /**< Its PTE has W. */
#define MMLAB_PAGE_COW	      (1L << 34)	   /**< Its PTE is marked copy-on-write. */
#define MMLAB_PAGE_ZERO	      (1L << 35)	   /**< It maps the zero page. */
#define MMLAB_PAGE_REFS(info) ((info)&0xffffffffL) /**< The frame's reference count. */
/** @} */
/** @} */

/** @name errno values (asm-generic/errno-base.h)
 * @{ */
#define EPERM	     1
#define ENOENT	     2
#define ESRCH	     3
#define EINTR	     4
#define EIO	     5
#define E2BIG	     7
#define ENOEXEC	     8
#define EBADF	     9
#define ECHILD	     10
#define EAGAIN	     11
#define ENOMEM	     12
#define EACCES	     13
#define EFAULT	     14
#define EBUSY	     16
#define EEXIST	     17
#define ENODEV	     19
#define EINVAL	     22
#define EMFILE	     24
#define ENOSPC	     28
#define EPIPE	     32
#define ERANGE	     34
#define ENAMETOOLONG 36
#define ENOSYS	     38
/** @} */

/** @name Flags
 * @{ */
#define O_CLOEXEC	     02000000 /**< pipe2(): close on exec. */
#define O_NONBLOCK	     04000
#define CLONE_VM	     0x00000100
#define CLONE_FS	     0x00000200
#define CLONE_FILES	     0x00000400
#define CLONE_SIGHAND	     0x00000800
#define CLONE_VFORK	     0x00004000
#define CLONE_PARENT	     0x00008000
#define CLONE_THREAD	     0x00010000
#define CLONE_SETTLS	     0x00080000
#define CLONE_PARENT_SETTID  0x00100000
#define CLONE_CHILD_CLEARTID 0x00200000
#define CLONE_CHILD_SETTID   0x01000000
#define WNOHANG		     1
#define SIGKILL		     9
#define SIGSEGV		     11
#define SIGTERM		     15
#define SIGCHLD		     17
#define STDIN_FILENO	     0
#define STDOUT_FILENO	     1
#define STDERR_FILENO	     2
#define PIPE_BUF	     4096 /**< Writes up to this size are atomic (POSIX). */
#define PAGE_SIZE	     4096UL
/** @} */

/** @name Wait statuses (Linux's encoding: exit code << 8, or the signal in the low 7 bits)
 * @{ */
#define WEXITSTATUS(s) (((s) >> 8) & 0xff)
#define WTERMSIG(s)    ((s)&0x7f)
#define WIFEXITED(s)   (WTERMSIG(s) == 0)
#define WIFSIGNALED(s) (((signed char)(((s)&0x7f) + 1) >> 1) > 0)
/** @} */

/** nanosleep()'s time. */
struct timespec {
	long tv_sec;  /**< Seconds. */
	long tv_nsec; /**< Nanoseconds, 0..999999999. */
};

/** The error of the last failed POSIX-style call (not per thread). */
extern int errno;
/** The environment main() received. */
extern char **environ;

/** @name Raw system calls: the kernel's a0 (a result or -errno)
 * @{ */
long syscall6(long nr, long a0, long a1, long a2, long a3, long a4, long a5);
#define syscall0(nr)		    syscall6(nr, 0, 0, 0, 0, 0, 0)
#define syscall1(nr, a)		    syscall6(nr, (long)(a), 0, 0, 0, 0, 0)
#define syscall2(nr, a, b)	    syscall6(nr, (long)(a), (long)(b), 0, 0, 0, 0)
#define syscall3(nr, a, b, c)	    syscall6(nr, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define syscall4(nr, a, b, c, d)    syscall6(nr, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define syscall5(nr, a, b, c, d, e) syscall6(nr, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)
long sys_read(int fd, void *buf, size_t len);
long sys_write(int fd, const void *buf, size_t len);
long sys_close(int fd);
long sys_dup(int fd);
long sys_pipe2(int fds[2], int flags);
long sys_clone(unsigned long flags, void *stack, int *ptid, int *ctid, unsigned long tls);
long sys_fork(void);
long sys_execve(const char *path, char *const argv[], char *const envp[]);
long sys_wait4(pid_t pid, int *status, int options, void *rusage);
long sys_kill(pid_t pid, int sig);
long sys_brk(void *addr); /**< Linux's brk: returns the new break, or the old one if refused. */
long sys_nanosleep(const struct timespec *req, struct timespec *rem);
long sys_mmlab_maps(char *buf, size_t len);
/** @} */

/** @name POSIX calls (-1 and errno on error)
 * @{ */
ssize_t read(int fd, void *buf, size_t len);
ssize_t write(int fd, const void *buf, size_t len);
int close(int fd);
int dup(int fd);
int pipe(int fds[2]);
int pipe2(int fds[2], int flags);
pid_t fork(void);
/** glibc's clone(): run @p fn(@p arg) in a new thread or process on @p stack (its top). */
int clone(int (*fn)(void *), void *stack, int flags, void *arg);
int execve(const char *path, char *const argv[], char *const envp[]);
void exit(int status) __attribute__((noreturn));	/**< End the process (exit_group). */
void _exit(int status) __attribute__((noreturn));	/**< The same: no stdio to flush here. */
void exit_thread(int status) __attribute__((noreturn)); /**< SYS_exit: this thread only. */
pid_t wait(int *status);
pid_t waitpid(pid_t pid, int *status, int options);
pid_t wait4(pid_t pid, int *status, int options, void *rusage);
pid_t getpid(void);
pid_t getppid(void);
pid_t gettid(void);
int sched_yield(void);
int kill(pid_t pid, int sig);
int brk(void *addr);
void *sbrk(long incr);
int nanosleep(const struct timespec *req, struct timespec *rem);
unsigned sleep(unsigned seconds);
int usleep(unsigned long usec);
/** @} */

/** @name mmlab's test calls
 * @{ */
long mmlab_free_frames(void);		/**< Free frames in the machine now. */
long mmlab_maps(char *buf, size_t len); /**< This process's maps listing; bytes copied or -1. */
long mmlab_ptdump(pid_t pid);		/**< Print @p pid's page table on the console. */
long mmlab_nr_harts(void);		/**< Harts online. */
long mmlab_hart(void);			/**< The hart the caller runs on now. */
long mmlab_page_info(
	const void *va); /**< The state of the page holding @p va (MMLAB_PAGE_*), 0 if unmapped. */
long mmlab_squeeze(
	long leave);	/**< Hold frames so that @p leave stay free (-1: give them back); frames held. */
long mmlab_eager(void); /**< 1 if this process's memory is eager (`eager` bootarg). */
long mmlab_max_map_count(
	long n); /**< Set vm.max_map_count to @p n (> 0; 0 only reads) until the suite ends; the limit before. */
long mmlab_test_begin(void);	     /**< KTAP protocol: a test begins. */
long mmlab_test_result(int verdict); /**< KTAP protocol: 0 pass, 1 fail, 2 skip. */
/** @} */

/** @name Strings (as the C library's)
 * @{ */
void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strcpy(char *dst, const char *src);
char *strncpy(char *dst, const char *src, size_t n);
char *strchr(const char *s, int c);
char *strstr(const char *hay, const char *needle);
long strtol(const char *s, char **end, int base);
int atoi(const char *s);
const char *strerror(int err); /**< "EFAULT" for 14 (the name, not a sentence). */
/** @} */

/** @name Formatted output (no floating point)
 * %d %i %u %x %X %o %p %s %c %%, flags - 0 and a width, lengths l ll z h hh.
 * printf() writes its whole output with one write(1): lines do not mix.
 * @{ */
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int dprintf(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int vdprintf(int fd, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int puts(const char *s); /**< @p s and a newline, in one write. */
/** @} */

/** @name Threads: clone(CLONE_VM|CLONE_THREAD|CLONE_SIGHAND|CLONE_FILES) on a stack of their own
 * @{ */
/** A thread made by thread_create(); keep it alive until thread_join(). */
struct uthread {
	long result;	   /**< What fn returned (valid once done). */
	volatile int done; /**< Set to 1 by the thread as its last act. */
	pid_t tid;	   /**< Its thread id. */
	void *stack;	   /**< The bottom of its stack (sbrk'd; not given back). */
};
/** Flags thread_create() clones with. */
#define THREAD_CLONE_FLAGS (CLONE_VM | CLONE_THREAD | CLONE_SIGHAND | CLONE_FILES)
/** Bytes of stack each thread gets. */
#define THREAD_STACK_SIZE (16 * 1024)
/**
 * Start @p fn(@p arg) in a new thread of this process.
 * @return 0, or a negative errno (the raw clone's, or -ENOMEM for the stack).
 */
int thread_create(struct uthread *t, long (*fn)(void *), void *arg);
/** Wait (yielding) until @p t has finished. @return what its fn returned. */
long thread_join(struct uthread *t);
/** @} */

#endif
