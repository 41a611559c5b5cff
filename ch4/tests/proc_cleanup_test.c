/*
 * ch4.proc_cleanup: the clean-up after an abandoned suite (runner_clean_up())
 * reaps what a fork cut off halfway leaves: a process linked into the tree
 * with no thread (never a zombie, so nobody would reap it), and a thread
 * attached to its process but never queued (it would never run to exit).
 * Before the clean-up knew them, it waited for them forever.
 */
#include "file.h"
#include "mm_test.h"
#include "proc.h"
#include "runner.h"
#include "sched.h"

KTEST(ch4_proc_cleanup, threadless_process_is_reaped)
{
	int before = proc_count();
	struct proc *p = proc_alloc("cut", pid_alloc());
	KASSERT_NOT_NULL(p);
	p->files = files_create_console();
	KASSERT_EQ(proc_link(p, NULL), 0);
	runner_clean_up(); /* a hang here is the bug */
	KEXPECT_EQ(proc_count(), before);
}

KTEST(ch4_proc_cleanup, unqueued_thread_runs_to_its_exit)
{
	int before = proc_count();
	uint64_t frames = runner_free_frames();
	struct mm *mm = mm_create();
	if (!mm)
		KTEST_SKIP("no mm (the mm layer is not there?)");
	struct proc *p = proc_alloc("cut", pid_alloc());
	struct thread *t = p ? thread_create(p, mm) : NULL;
	mm_put(mm); /* the thread's reference is the only one */
	if (!t) {
		if (p)
			proc_put(p);
		KTEST_SKIP("out of memory");
	}
	p->mm = mm;
	KASSERT_EQ(proc_link(p, NULL), 0);
	KASSERT_EQ(proc_attach_thread(p, t), 0);
	/* As a clone cut off before sched_make_runnable(): on no queue. */
	runner_clean_up();
	KEXPECT_EQ(proc_count(), before);
	KEXPECT_EQ(kstack_nr_used(), 0);
	KEXPECT_EQ(runner_free_frames(), frames);
}
