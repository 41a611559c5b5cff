/**
 * @file proc.h
 * @brief Processes and threads (given machinery, ch4/proc/).
 *
 * OWNER: the proc helper extends this header; the declarations below are the
 * interface other parts (files and pipes, the mm layer's tests) rely on and
 * must keep their meaning.
 */
#ifndef MMLAB_PROC_H
#define MMLAB_PROC_H

#include "list.h"
#include "spinlock.h"
#include "types.h"

struct mm;
struct files;
struct proc;
struct thread;

/** The thread running on this hart, or NULL on a hart's idle/boot context. */
struct thread *current_thread(void);

/** The process of the running thread, or NULL. */
struct proc *current_proc(void);

/** The address space of the running thread, or NULL. */
struct mm *current_mm(void);

/** The file table of the running process, or NULL. */
struct files *current_files(void);

/** A queue of sleeping threads (Linux's wait_queue_head_t). */
struct wait_queue {
	struct thread *head; /**< Sleepers, linked through the thread. */
};

/** Set up @p wq as an empty queue. */
void wq_init(struct wait_queue *wq);

/**
 * Sleep on @p wq: release @p lk (held by the caller), block until
 * wq_wake_all(), then take @p lk again. Spurious wake-ups happen: callers
 * loop on their condition.
 * @return 0, or -EINTR if the thread was killed (it should return at once).
 */
int wq_sleep(struct wait_queue *wq, struct spinlock *lk);

/** Wake every thread sleeping on @p wq. */
void wq_wake_all(struct wait_queue *wq);

/** True if the running thread has a pending SIGKILL. */
bool current_killed(void);

/** @name Signals (Linux's numbers).
 * @{ */
#define SIGKILL 9  /**< Kill (the only signal kill() sends). */
#define SIGILL	4  /**< Illegal instruction (a user trap the kernel cannot handle). */
#define SIGSEGV 11 /**< A fault the kernel cannot resolve. */
#define SIGCHLD 17 /**< The exit signal of a forked child. */
/** @} */

/** @name clone(2) flags (Linux include/uapi/linux/sched.h).
 * @{ */
#define CSIGNAL		     0x000000ffUL /**< The exit signal's bits. */
#define CLONE_VM	     0x00000100UL /**< Share the address space. */
#define CLONE_FS	     0x00000200UL /**< Share fs info (nothing here: accepted). */
#define CLONE_FILES	     0x00000400UL /**< Share the file table. */
#define CLONE_SIGHAND	     0x00000800UL /**< Share signal handlers (needs CLONE_VM). */
#define CLONE_VFORK	     0x00004000UL /**< Not supported (-EINVAL). */
#define CLONE_THREAD	     0x00010000UL /**< Same process (needs CLONE_SIGHAND). */
#define CLONE_SYSVSEM	     0x00040000UL /**< Share SysV semaphore undo (nothing here: accepted). */
#define CLONE_SETTLS	     0x00080000UL /**< The child's tp is the tls argument. */
#define CLONE_PARENT_SETTID  0x00100000UL /**< Store the child's tid at parent_tid. */
#define CLONE_CHILD_CLEARTID 0x00200000UL /**< Zero child_tid (in its memory) when the child exits. */
#define CLONE_DETACHED	     0x00400000UL /**< Ignored, as Linux ignores it. */
#define CLONE_CHILD_SETTID   0x01000000UL /**< Store the child's tid at child_tid in its memory. */
/** @} */

/** @name wait4(2) options.
 * @{ */
#define WNOHANG	    0x00000001 /**< Return 0 at once if no child has exited. */
#define WUNTRACED   0x00000002 /**< Accepted; no process ever stops. */
#define WCONTINUED  0x00000008 /**< Accepted; no process ever stops. */
#define __WNOTHREAD 0x20000000 /**< Accepted. */
#define __WALL	    0x40000000 /**< Accepted. */
#define __WCLONE    0x80000000 /**< Accepted. */
/** @} */

/** Linux's wait status of a process that called exit(@p code). */
static inline int wstatus_exited(int code) { return (code & 0xff) << 8; }
/** Linux's wait status of a process killed by signal @p sig. */
static inline int wstatus_signaled(int sig) { return sig & 0x7f; }

/** Bytes of a process name (with its NUL), as Linux's TASK_COMM_LEN. */
#define PROC_NAME_LEN 16

/** A process: an address space, a file table, threads, and its place in the tree. */
struct proc {
	int pid;		    /**< Its id (the tid of its first thread). */
	char name[PROC_NAME_LEN];   /**< The program's name (exec). */
	struct proc *parent;	    /**< Who waits for it; NULL: the kernel reaps it. */
	struct list_head children;  /**< Its children (proc::sibling). */
	struct list_head sibling;   /**< Link in parent->children. */
	struct list_head all;	    /**< Link in the list of every process. */
	struct list_head threads;   /**< Its threads (thread::siblings). */
	int nr_threads;		    /**< Threads that have not exited. */
	struct mm *mm;		    /**< Its address space (threads hold references), NULL once ended. */
	struct files *files;	    /**< Its file table (one reference), NULL once exited. */
	int refs;		    /**< One per thread alive or not freed, one for the parent's link. */
	bool zombie;		    /**< Every thread has exited; waiting for wait4(). */
	bool killed;		    /**< SIGKILL pending, or the group is exiting: threads exit. */
	bool group_exit;	    /**< exit_status is set: the process ends with it. */
	int exit_status;	    /**< Linux wait status (exited: code << 8, killed: sig). */
	struct wait_queue child_wq; /**< Its threads waiting in wait4() for a child. */
	struct wait_queue exec_wq;  /**< exec waits here for the other threads to exit (de_thread). */
	bool suite_init;	    /**< The first process of a user suite (runner.c). */
};

/** Guards the process tree, every process's fields but mm pointers of threads. */
extern struct spinlock proc_lock;

/** Processes that exist (zombies included): the runner waits for 0. */
int proc_count(void);

/**
 * A new process named @p name with pid @p pid (> 0): no thread, no mm, no
 * files, in no tree yet (proc_link()).
 * @return the process (one reference: the parent's link, or the kernel's
 *         for an orphan), or NULL if out of memory.
 */
struct proc *proc_alloc(const char *name, int pid);

/**
 * Put @p p into the tree as a child of @p parent (NULL: the kernel's, which
 * reaps it when it ends).
 * @return 0, or -EINTR if @p parent is being killed (then nothing changed).
 */
int proc_link(struct proc *p, struct proc *parent);

/**
 * Count @p t as a thread of @p p (its exit is then accounted).
 * @return 0, or -EINTR if @p p is being killed or has ended.
 */
int proc_attach_thread(struct proc *p, struct thread *t);

/** Take zombie @p c out of the tree and drop its parent's reference. Caller holds proc_lock. */
void proc_reap_locked(struct proc *c);

/** The wait status of the last suite-init process that ended; -1 before one did. */
extern int proc_init_status;

/** A new pid (or tid). */
int pid_alloc(void);

/** Take a reference to @p p. */
void proc_get(struct proc *p);
/** Drop a reference to @p p; the last frees it (its files and mm must be gone). */
void proc_put(struct proc *p);

/** The process with pid @p pid, with a reference taken, or NULL. */
struct proc *proc_find(int pid);

/**
 * End the process of the running thread with wait status @p status (if
 * none is set yet) and make all its threads exit; then exit this thread.
 * Does not return.
 */
void proc_exit_group(int status) __attribute__((noreturn));

/** Exit the running thread; the last one ends its process with @p status. Does not return. */
void thread_exit(int status) __attribute__((noreturn));

/**
 * The bookkeeping of a thread's exit with wait status @p status, done for @p t by whoever calls it
 * (once only: a second call does nothing): unlink it from its process and
 * drop its mm (Linux's exit_mm: the hart @p t runs on goes to the kernel's
 * space first); if it was the last thread, put the files, then end the
 * process (zombie, parent told, children handed to the kernel), in Linux's
 * do_exit() order, so that the parent finds the mm's frames free. For
 * thread_exit(), and for a thread whose hart abandoned it
 * (sched_recover_hart()).
 */
void thread_exit_account(struct thread *t, int status);

/** Kill every process (the runner, after an abandoned suite). */
void proc_kill_all(void);
/**
 * After an abandoned suite, with no thread running anywhere: end and reap
 * every process that has no thread left but is no zombie (its exit, or the
 * fork that made it, was cut off halfway: its files are put, its children
 * go to the kernel), and queue the threads that a cut-off clone made but
 * never queued (they exit at once: their processes are killed). Leaks what
 * only the lost kernel context knew (a half-built mm, say), never panics.
 * @return how many processes it reaped and threads it queued.
 */
int proc_reap_stuck(void);

/**
 * Kill process @p p with signal @p sig (its status, unless set), waking its
 * sleeping threads so they see it. Caller holds proc_lock.
 */
void proc_kill_locked(struct proc *p, int sig);

/** Arguments and environment of an exec, in the kernel. */
struct exec_args {
	const char
		*strings; /**< argc argument strings, then envc environment strings, each NUL-terminated. */
	size_t bytes;	  /**< Bytes of @p strings, every NUL included. */
	int argc;	  /**< Argument strings. */
	int envc;	  /**< Environment strings. */
};

/** Most bytes of argument and environment strings exec takes (Linux: a quarter of the stack). */
#define EXEC_ARGS_MAX (32 * 1024)
/** Most argument plus environment strings. */
#define EXEC_STRINGS_MAX 1024

/**
 * Run program @p path (in the initramfs) with arguments and environment
 * @p args in the running thread's process,
 * replacing its address space (execve(2) after the arguments were copied
 * in): the new mm is built completely first, so on an error the caller
 * still has its own. Other threads of the process exit first, and exec
 * waits until they have (Linux's de_thread).
 * @return 0 (the thread's frame now enters the program); -ENOENT, -ENOEXEC,
 *         -ENOMEM, -E2BIG; -EINTR if the process is killed meanwhile or
 *         another thread's exec won (the caller then exits).
 */
int proc_exec(const char *path, const struct exec_args *args);

/**
 * Make the first process of a user suite: its parent is the kernel (it is
 * reaped when it ends; proc_init_status gets its status), fds 0-2 on the
 * console, running program @p name with argv {name, NULL}, envp {NULL};
 * its thread is made runnable.
 * @return 0, or a negative errno (nothing is left behind).
 */
int proc_spawn(const char *name);

/** proc_spawn() of program @p name with the arguments and environment @p a (argv[0] included). */
int proc_spawn_args(const char *name, const struct exec_args *a);

#ifndef ENAMETOOLONG
#define ENAMETOOLONG 36 /**< File name too long (Linux's value). */
#endif
#ifndef E2BIG
#define E2BIG 7 /**< Argument list too long. */
#endif

#endif
