/*
 * wait4(2): reap a child that has ended and report its status as Linux
 * encodes it (exited: code << 8; killed: the signal). pid -1 (and, as there
 * are no process groups, 0 and < -1) means any child; pid > 0 that child.
 * WNOHANG returns 0 when children exist but none has ended; WUNTRACED,
 * WCONTINUED, __WALL, __WCLONE and __WNOTHREAD are accepted (no process
 * ever stops); other options are -EINVAL. rusage, if given, is zeroed (no
 * accounting). As on Linux, the child is reaped before the status is
 * stored: a bad status pointer gives -EFAULT and the child is gone.
 *
 * Reference: Linux kernel/exit.c (kernel_wait4, do_wait, wait_task_zombie).
 */
#include "errno.h"
#include "initcall.h"
#include "sched.h"
#include "syscall.h"
#include "uaccess.h"

#define WAIT_KNOWN   (WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WALL | __WCLONE)
#define RUSAGE_BYTES 144 /* sizeof(struct rusage) on riscv64 */

/* The first child matching @pid: a zombie if one matches, else any (proc_lock held). */
static struct proc *find_child(struct proc *me, int pid, bool *any)
{
	struct proc *c;
	*any = false;
	list_for_each_entry(c, &me->children, sibling)
	{
		if (pid > 0 && c->pid != pid)
			continue;
		*any = true;
		/* Reapable once its threads are freed too: only the parent's
		 * reference is left (proc_put() wakes us then). */
		if (c->zombie && __atomic_load_n(&c->refs, __ATOMIC_ACQUIRE) == 1)
			return c;
	}
	return NULL;
}

static long sys_wait4(uint64_t upid, uint64_t ustatus, uint64_t options, uint64_t urusage, uint64_t a4,
		      uint64_t a5)
{
	(void)a4, (void)a5;
	int pid = (int)upid;
	if (options & ~(uint64_t)WAIT_KNOWN)
		return -EINVAL;
	struct proc *me = current_proc();
	spin_lock(&proc_lock);
	for (;;) {
		bool any;
		struct proc *c = find_child(me, pid, &any);
		if (c) {
			int cpid = c->pid, status = c->exit_status;
			proc_reap_locked(c);
			spin_unlock(&proc_lock);
			if (ustatus && copy_to_user(ustatus, &status, sizeof(status)))
				return -EFAULT;
			if (urusage && clear_user(urusage, RUSAGE_BYTES))
				return -EFAULT;
			return cpid;
		}
		if (!any || (options & WNOHANG)) {
			spin_unlock(&proc_lock);
			return any ? 0 : -ECHILD;
		}
		if (wq_sleep(&me->child_wq, &proc_lock) == -EINTR) {
			spin_unlock(&proc_lock);
			return -EINTR;
		}
	}
}

static int wait_init(void) { return syscall_register(SYS_wait4, sys_wait4); }
initcall(INIT_PROC, wait_init);
