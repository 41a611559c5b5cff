/*
 * Wait queues (proc.h): a list of sleeping threads, guarded by sched_lock
 * like every thread's state. Sleeping releases the caller's lock only once
 * the thread is on the queue with sched_lock held, so a wake-up between the
 * caller's check and the sleep is not lost (xv6's sleep/wakeup).
 *
 * Reference: xv6-riscv kernel/proc.c (sleep, wakeup); Linux
 * include/linux/wait.h (wait_event, wake_up_all).
 */
#include "errno.h"
#include "sched.h"

void wq_init(struct wait_queue *wq) { wq->head = NULL; }

int wq_sleep(struct wait_queue *wq, struct spinlock *lk)
{
	struct thread *t = current_thread();
	if (!t)
		return -EINTR; /* no thread to put to sleep (a kernel test): nothing to wait for */
	bool on = sched_lock_irq();
	if (current_killed()) {
		sched_unlock_irq(on);
		return -EINTR;
	}
	t->next = wq->head;
	wq->head = t;
	t->wq = wq;
	t->state = THREAD_SLEEPING;
	spin_unlock(lk);
	sched();
	sched_unlock_irq(on);
	spin_lock(lk);
	return current_killed() ? -EINTR : 0;
}

void wq_wake_all(struct wait_queue *wq)
{
	bool on = sched_lock_irq();
	while (wq->head) {
		struct thread *t = wq->head;
		wq->head = t->next;
		t->wq = NULL;
		sched_make_runnable(t);
	}
	sched_unlock_irq(on);
}
