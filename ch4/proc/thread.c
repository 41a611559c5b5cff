/*
 * Threads: creation with a kernel stack whose top holds the user frame,
 * the first run (from the scheduler straight to user mode), and freeing.
 * current_proc(), current_mm() and current_files() read the running thread.
 *
 * Reference: xv6-riscv kernel/proc.c (allocproc, forkret, freeproc).
 */
#include "kmalloc.h"
#include "mm.h"
#include "sched.h"
#include "string.h"

struct trap_frame *thread_frame(struct thread *t) { return (struct trap_frame *)kstack_top(t->kstack) - 1; }

/* Where a new thread starts: the scheduler switched here holding
 * sched_lock, interrupts off (xv6's forkret). Off to user mode. */
static void __attribute__((noreturn)) thread_first_run(void)
{
	spin_unlock(&sched_lock);
	struct thread *t = current_thread();
	if (current_killed())
		thread_exit(0);
	trap_return_to_user(thread_frame(t));
}

struct thread *thread_create(struct proc *proc, struct mm *mm)
{
	struct thread *t = kzalloc(sizeof(*t));
	if (!t)
		return NULL;
	t->kstack = kstack_alloc(&t->kstack_pa);
	if (!t->kstack) {
		kfree(t);
		return NULL;
	}
	memset(thread_frame(t), 0, sizeof(struct trap_frame));
	t->ctx.ra = (uint64_t)thread_first_run;
	t->ctx.sp = (uint64_t)thread_frame(t); /* 16-byte aligned: the frame's size is */
	t->state = THREAD_RUNNABLE;
	t->hart = -1;
	list_init(&t->sleepers);
	list_init(&t->siblings);
	mm_get(mm);
	t->mm = mm;
	proc_get(proc);
	t->proc = proc;
	return t;
}

void thread_free(struct thread *t)
{
	struct proc *p = t->proc;
	kstack_free(t->kstack, t->kstack_pa);
	mm_put(t->mm); /* NULL once it exited (exit_mm); a thread that never ran still has it */
	kfree(t);
	/* Last: once only the parent's reference is left, wait4 may reap the
	 * process and count frames, so everything of the thread is gone. */
	proc_put(p);
}

struct proc *current_proc(void)
{
	struct thread *t = current_thread();
	return t ? t->proc : NULL;
}

struct mm *current_mm(void)
{
	struct thread *t = current_thread();
	return t ? t->mm : NULL;
}

struct files *current_files(void)
{
	struct proc *p = current_proc();
	return p ? p->files : NULL;
}
