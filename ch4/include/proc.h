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

/** Set up an empty queue. */
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

#endif
