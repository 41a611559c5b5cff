/*
 * ch4.proc_exit: the bookkeeping of a thread's exit (thread_exit_account())
 * in Linux's do_exit() order: the last thread gives up the address space
 * (exit_mm) before the process becomes a zombie (exit_notify), so a parent
 * woken by the exit finds the mm's frames free; the accounting runs once
 * even if called twice (an abandoned hart's thread); the stack and the
 * thread go last (thread_free()), and then every frame is back.
 */
#include "mm_test.h"
#include "proc.h"
#include "runner.h"
#include "sched.h"

#define EXIT_PAGES 16

/* A process of one thread (not running) in an mm with EXIT_PAGES pages present. */
static struct thread *make_exiting_thread(void)
{
	struct mm *mm = mm_create();
	if (!mm)
		return NULL;
	static const char byte = 1;
	int err = add_anon(mm, UP(0), UP(EXIT_PAGES), VM_READ | VM_WRITE);
	for (int i = 0; i < EXIT_PAGES && !err; i++)
		err = mm_write(mm, UP(i), &byte, 1);
	struct proc *p = err ? NULL : proc_alloc("exit", pid_alloc());
	struct thread *t = p ? thread_create(p, mm) : NULL;
	mm_put(mm); /* the thread's reference is the only one */
	if (!t) {
		if (p)
			proc_put(p);
		return NULL;
	}
	p->mm = mm;
	if (proc_link(p, NULL) != 0 || proc_attach_thread(p, t) != 0) {
		thread_free(t);
		proc_put(p);
		return NULL;
	}
	return t;
}

KTEST(ch4_proc_exit, last_thread_frees_its_mm_before_the_zombie)
{
	uint64_t before = runner_free_frames();
	struct thread *t = make_exiting_thread();
	if (!t)
		KTEST_SKIP("no mm or out of memory (the mm layer is not there?)");
	struct proc *p = t->proc;
	uint64_t alive = runner_free_frames();
	thread_exit_account(t, wstatus_exited(3));
	KEXPECT_TRUE(p->zombie);
	KEXPECT_EQ(p->exit_status, wstatus_exited(3));
	KEXPECT_NULL(t->mm);
	KEXPECT_NULL(p->mm);
	/* The pages, the areas and the tables are back already: only the
	 * thread and its kernel stack are left for thread_free(). */
	KEXPECT_GE(runner_free_frames(), alive + EXIT_PAGES);
	thread_free(t); /* the kernel reaped it: this frees the process too */
	KEXPECT_EQ(proc_count(), 0);
	KEXPECT_EQ(kstack_nr_used(), 0);
	KEXPECT_EQ(runner_free_frames(), before);
}

KTEST(ch4_proc_exit, exit_accounting_runs_once)
{
	uint64_t before = runner_free_frames();
	struct thread *t = make_exiting_thread();
	if (!t)
		KTEST_SKIP("no mm or out of memory (the mm layer is not there?)");
	struct proc *p = t->proc;
	thread_exit_account(t, wstatus_exited(3));
	thread_exit_account(t, wstatus_signaled(SIGKILL)); /* as for a lost thread: nothing more */
	KEXPECT_EQ(p->nr_threads, 0);
	KEXPECT_EQ(p->exit_status, wstatus_exited(3));
	KEXPECT_EQ(p->refs, 1); /* the thread's: the kernel's link was dropped once */
	thread_free(t);
	KEXPECT_EQ(proc_count(), 0);
	KEXPECT_EQ(runner_free_frames(), before);
}
