/*
 * Page faults and other exceptions. From user mode: a page fault goes to
 * the mm layer (mm_fault()); one it cannot resolve kills the process with
 * SIGSEGV (SIGKILL when out of memory) and one console line,
 *
 *     <name>[<pid>]: segfault at 0x<addr> pc 0x<pc> (<reason>)
 *
 * reason being fault_result_name(): "no area", "permission", "stack guard",
 * "kernel address". A fault on a page its area's object does not have (ch5:
 * a file's page past its end) kills with SIGBUS and the line
 *
 *     <name>[<pid>]: bus error at 0x<addr> pc 0x<pc> (past the end of the object)
 *
 * A fault that found no frame kills with SIGKILL instead,
 * and the line Linux's OOM killer prints (the process that faulted is the
 * one killed: there is no choosing of a victim here),
 *
 *     Out of memory: killed process <pid> (<name>) at 0x<addr> pc 0x<pc>
 *
 * Any other exception from user mode
 * (illegal instruction, ebreak, misaligned access) kills with Linux's
 * signal for it (SIGILL, SIGTRAP, SIGBUS) and one line
 *
 *     <name>[<pid>]: <cause> at 0x<stval> pc 0x<pc> (signal <n>)
 *
 * From the kernel: a fault at a user address while sstatus.SUM is set is a
 * user copy (uaccess.h); it goes to mm_fault() the same way, and if that
 * cannot resolve it the handler declines, so that probe_fixup() ends the
 * copy with -EFAULT. The kernel never panics on what a user program does.
 *
 * Reference: Linux arch/riscv/mm/fault.c (do_page_fault, bad_area,
 * show_signal_msg), arch/riscv/kernel/traps.c (do_trap_insn_illegal ...).
 */
#include "initcall.h"
#include "mm.h"
#include "printk.h"
#include "riscv.h"
#include "sched.h"
#include "trap.h"

#define SIGTRAP 5
#define SIGBUS	7

static enum vm_access access_of(uint64_t scause)
{
	switch (scause) {
	case CAUSE_FETCH_PAGE_FAULT:
	case CAUSE_FETCH_ACCESS:
		return ACCESS_EXEC;
	case CAUSE_STORE_PAGE_FAULT:
	case CAUSE_STORE_ACCESS:
		return ACCESS_WRITE;
	default:
		return ACCESS_READ;
	}
}

/*
 * Kill the running thread's process with @sig; it exits on its way out to
 * user mode. @return false if its end was decided already (another of its
 * threads faulted first, or it was killed): then the caller says nothing,
 * so that one death is one line, with the status it reports.
 */
static bool kill_current(int sig)
{
	struct proc *p = current_proc();
	spin_lock(&proc_lock);
	bool first = !p->group_exit;
	proc_kill_locked(p, sig);
	spin_unlock(&proc_lock);
	return first;
}

static bool on_page_fault(struct trap_frame *tf)
{
	struct thread *t = current_thread();
	if (!t || !t->mm)
		return false; /* not one of our threads, or one past exit_mm: the copy's fix-up */
	vaddr_t va = tf->stval;
	if (!trap_from_user(tf)) {
		/* A user copy (SUM set) that touched a page not mapped yet. */
		if (!(tf->sstatus & SSTATUS_SUM) || va >= USER_TOP)
			return false;
		return mm_fault(t->mm, va, access_of(tf->scause)) == FAULT_RESOLVED;
	}
	enum fault_result r = va >= USER_TOP ? FAULT_KERNEL : mm_fault(t->mm, va, access_of(tf->scause));
	if (r == FAULT_RESOLVED)
		return true;
	if (r == FAULT_OOM) {
		if (kill_current(SIGKILL))
			printk("Out of memory: killed process %d (%s) at 0x%lx pc 0x%lx\n", t->proc->pid,
			       t->proc->name, va, tf->sepc);
		return true;
	}
	if (r == FAULT_SIGBUS) {
		if (kill_current(SIGBUS))
			printk("%s[%d]: bus error at 0x%lx pc 0x%lx (%s)\n", t->proc->name, t->proc->pid, va,
			       tf->sepc, fault_result_name(r));
		return true;
	}
	if (kill_current(SIGSEGV))
		printk("%s[%d]: segfault at 0x%lx pc 0x%lx (%s)\n", t->proc->name, t->proc->pid, va, tf->sepc,
		       fault_result_name(r));
	return true;
}

static bool on_user_exception(struct trap_frame *tf)
{
	struct thread *t = current_thread();
	if (!t || !trap_from_user(tf))
		return false;
	int sig = tf->scause == CAUSE_ILLEGAL_INSTRUCTION ? SIGILL
		  : tf->scause == CAUSE_BREAKPOINT	  ? SIGTRAP
							  : SIGBUS;
	if (kill_current(sig))
		printk("%s[%d]: %s at 0x%lx pc 0x%lx (signal %d)\n", t->proc->name, t->proc->pid,
		       trap_cause_name(tf->scause), tf->stval, tf->sepc, sig);
	return true;
}

static int fault_init(void)
{
	static const uint64_t faults[] = {CAUSE_FETCH_PAGE_FAULT, CAUSE_LOAD_PAGE_FAULT,
					  CAUSE_STORE_PAGE_FAULT, CAUSE_FETCH_ACCESS,
					  CAUSE_LOAD_ACCESS,	  CAUSE_STORE_ACCESS};
	static const uint64_t others[] = {CAUSE_ILLEGAL_INSTRUCTION, CAUSE_BREAKPOINT, CAUSE_MISALIGNED_FETCH,
					  CAUSE_MISALIGNED_LOAD, CAUSE_MISALIGNED_STORE};
	for (size_t i = 0; i < ARRAY_SIZE(faults); i++) {
		int err = trap_register(faults[i], on_page_fault);
		if (err)
			return err;
	}
	for (size_t i = 0; i < ARRAY_SIZE(others); i++) {
		int err = trap_register(others[i], on_user_exception);
		if (err)
			return err;
	}
	return 0;
}
initcall(INIT_PROC, fault_init);
