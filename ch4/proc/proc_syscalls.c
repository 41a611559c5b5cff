/*
 * The small process calls: exit, exit_group, getpid, getppid, gettid,
 * set_tid_address, sched_yield, kill, brk. Linux semantics and errno
 * values; kill sends SIGKILL only (any other signal number 1..64 is
 * -EINVAL here, out of range is -EINVAL as on Linux; 0 checks that the
 * process exists), to a pid > 0 only (process groups do not exist:
 * pid <= 0 is -EINVAL).
 *
 * Reference: Linux kernel/exit.c, kernel/sys.c, kernel/signal.c
 * (kill_something_info), mm/mmap.c (brk).
 */
#include "errno.h"
#include "initcall.h"
#include "mm.h"
#include "sched.h"
#include "syscall.h"

#define UNUSED6(a, b, c, d, e, f) (void)(a), (void)(b), (void)(c), (void)(d), (void)(e), (void)(f)

static long sys_exit(uint64_t code, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	UNUSED6(0, a1, a2, a3, a4, a5);
	intr_off();
	thread_exit(wstatus_exited((int)code));
}

static long sys_exit_group(uint64_t code, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	UNUSED6(0, a1, a2, a3, a4, a5);
	intr_off();
	proc_exit_group(wstatus_exited((int)code));
}

static long sys_getpid(uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	UNUSED6(a0, a1, a2, a3, a4, a5);
	return current_proc()->pid;
}

static long sys_getppid(uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	UNUSED6(a0, a1, a2, a3, a4, a5);
	spin_lock(&proc_lock);
	struct proc *parent = current_proc()->parent;
	int ppid = parent ? parent->pid : 0; /* the kernel's children: 0, as init's */
	spin_unlock(&proc_lock);
	return ppid;
}

static long sys_gettid(uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	UNUSED6(a0, a1, a2, a3, a4, a5);
	return current_thread()->tid;
}

static long sys_set_tid_address(uint64_t uaddr, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
				uint64_t a5)
{
	UNUSED6(0, a1, a2, a3, a4, a5);
	current_thread()->clear_child_tid = uaddr;
	return current_thread()->tid;
}

static long sys_sched_yield(uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	UNUSED6(a0, a1, a2, a3, a4, a5);
	sched_yield_now();
	return 0;
}

static long sys_kill(uint64_t upid, uint64_t usig, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	UNUSED6(0, 0, a2, a3, a4, a5);
	int pid = (int)upid, sig = (int)usig;
	if (sig < 0 || sig > 64 || (sig != 0 && sig != SIGKILL) || pid <= 0)
		return -EINVAL;
	struct proc *p = proc_find(pid);
	if (!p)
		return -ESRCH;
	if (sig == SIGKILL) {
		spin_lock(&proc_lock);
		if (!p->zombie)
			proc_kill_locked(p, SIGKILL);
		spin_unlock(&proc_lock);
	}
	proc_put(p);
	return 0;
}

static long sys_brk(uint64_t addr, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	UNUSED6(0, a1, a2, a3, a4, a5);
	return (long)mm_brk(current_mm(), addr);
}

static int proc_syscalls_init(void)
{
	static const struct {
		unsigned nr;
		syscall_fn fn;
	} calls[] = {
		{SYS_exit, sys_exit},
		{SYS_exit_group, sys_exit_group},
		{SYS_getpid, sys_getpid},
		{SYS_getppid, sys_getppid},
		{SYS_gettid, sys_gettid},
		{SYS_set_tid_address, sys_set_tid_address},
		{SYS_sched_yield, sys_sched_yield},
		{SYS_kill, sys_kill},
		{SYS_brk, sys_brk},
	};
	for (size_t i = 0; i < ARRAY_SIZE(calls); i++) {
		int err = syscall_register(calls[i].nr, calls[i].fn);
		if (err)
			return err;
	}
	return 0;
}
initcall(INIT_PROC, proc_syscalls_init);
