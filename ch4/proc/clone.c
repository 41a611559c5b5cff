/*
 * clone(2), riscv64 argument order (flags, newsp, parent_tid, child_tid,
 * tls): a new process (fork: no CLONE_VM, an eager copy of the address
 * space with mm_fork() and of the file table with files_dup()) or a new
 * thread of this process (CLONE_VM | CLONE_THREAD | CLONE_SIGHAND |
 * CLONE_FILES, sharing the mm through mm_get()). The child starts with the
 * parent's user registers, a0 = 0, and newsp / tls if given.
 *
 * Flags: CLONE_SETTLS, CLONE_PARENT_SETTID, CLONE_CHILD_SETTID and
 * CLONE_CHILD_CLEARTID work as on Linux (the clear is a plain store: there
 * is no futex to wake); CLONE_FS, CLONE_SYSVSEM and CLONE_DETACHED are
 * accepted and mean nothing here; CLONE_VM without CLONE_THREAD makes a
 * process that shares the mm. Anything else (CLONE_VFORK, namespaces, ...),
 * CLONE_THREAD without CLONE_SIGHAND or CLONE_FILES, CLONE_SIGHAND without
 * CLONE_VM, and a process's exit signal other than 0 or SIGCHLD are -EINVAL.
 *
 * Reference: Linux kernel/fork.c (copy_process, kernel_clone).
 */
#include "errno.h"
#include "file.h"
#include "initcall.h"
#include "mm.h"
#include "sched.h"
#include "syscall.h"
#include "uaccess.h"

#define CLONE_KNOWN                                                                                          \
	(CSIGNAL | CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |        \
	 CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID | CLONE_DETACHED | CLONE_CHILD_SETTID)

static int check_flags(uint64_t flags)
{
	if (flags & ~CLONE_KNOWN)
		return -EINVAL;
	if ((flags & CLONE_SIGHAND) && !(flags & CLONE_VM))
		return -EINVAL;
	if ((flags & CLONE_THREAD) && (!(flags & CLONE_SIGHAND) || !(flags & CLONE_FILES)))
		return -EINVAL;
	uint64_t sig = flags & CSIGNAL;
	if (!(flags & CLONE_THREAD) && sig != 0 && sig != SIGCHLD)
		return -EINVAL;
	return 0;
}

/* A new thread of the caller's process. */
static struct thread *new_thread(void)
{
	struct thread *t = thread_create(current_proc(), current_mm());
	if (t && proc_attach_thread(current_proc(), t) != 0) {
		thread_free(t);
		return NULL;
	}
	return t;
}

/* A new process, child of the caller's, with its first thread (tid @pid). */
static struct thread *new_process(uint64_t flags, int pid, int *err)
{
	struct proc *parent = current_proc();
	struct mm *mm = NULL;
	struct files *files = NULL;
	struct thread *t = NULL;
	struct proc *p = proc_alloc(parent->name, pid);
	*err = -ENOMEM;
	if (!p)
		return NULL;
	if (flags & CLONE_VM) {
		mm = current_mm();
		mm_get(mm);
	} else {
		mm = mm_fork(current_mm());
	}
	if (mm && (flags & CLONE_FILES)) {
		files = parent->files;
		files_get(files);
	} else if (mm) {
		files = files_dup(parent->files);
	}
	if (files)
		t = thread_create(p, mm);
	if (mm)
		mm_put(mm); /* the thread holds its own */
	if (t) {
		p->mm = t->mm;
		p->files = files;
		*err = proc_link(p, parent);
		if (!*err)
			*err = proc_attach_thread(p, t);
		if (!*err)
			return t;
		/* Linked but never ran: undo it as a reap. */
		spin_lock(&proc_lock);
		proc_reap_locked(p);
		spin_unlock(&proc_lock);
		p->files = NULL;
		p = NULL;
	}
	if (files)
		files_put(files);
	if (t)
		thread_free(t);
	if (p)
		proc_put(p);
	return NULL;
}

static long sys_clone(uint64_t flags, uint64_t newsp, uint64_t ptid, uint64_t ctid, uint64_t tls, uint64_t a5)
{
	(void)a5;
	int err = check_flags(flags);
	if (err)
		return err;
	int tid = pid_alloc();
	if ((flags & CLONE_PARENT_SETTID) && copy_to_user(ptid, &tid, sizeof(tid)))
		return -EFAULT;
	struct thread *t = (flags & CLONE_THREAD) ? new_thread() : new_process(flags, tid, &err);
	if (!t)
		return (flags & CLONE_THREAD) ? -ENOMEM : err;
	t->tid = tid;
	struct trap_frame *tf = thread_frame(t);
	*tf = *thread_frame(current_thread());
	tf->regs[10] = 0;
	if (newsp)
		tf->regs[2] = newsp;
	if (flags & CLONE_SETTLS)
		tf->regs[4] = tls;
	if (flags & CLONE_CHILD_SETTID)
		mm_write(t->mm, ctid, &tid, sizeof(tid)); /* errors ignored, as Linux's schedule_tail */
	if (flags & CLONE_CHILD_CLEARTID)
		t->clear_child_tid = ctid;
	bool on = sched_lock_irq();
	sched_make_runnable(t);
	sched_unlock_irq(on);
	return tid;
}

static int clone_init(void) { return syscall_register(SYS_clone, sys_clone); }
initcall(INIT_PROC, clone_init);
