/*
 * The system-call table and its dispatch: an ecall from user mode (scause
 * CAUSE_USER_ECALL) with the number in a7 and arguments in a0..a5; the
 * result, or a negative errno, goes back in a0, and sepc steps over the
 * ecall. Calls run with interrupts on (the timer and the watchdog must
 * reach a long call), on the calling thread's kernel stack.
 *
 * Reference: Linux arch/riscv/kernel/traps.c (do_trap_ecall_u) and
 * include/uapi/asm-generic/unistd.h; xv6-riscv kernel/syscall.c.
 */
#include "errno.h"
#include "initcall.h"
#include "riscv.h"
#include "sched.h"
#include "syscall.h"
#include "trap.h"

static syscall_fn table[NR_SYSCALLS];

int syscall_register(unsigned nr, syscall_fn fn)
{
	if (nr >= NR_SYSCALLS || !fn)
		return -EINVAL;
	syscall_fn none = NULL;
	if (!__atomic_compare_exchange_n(&table[nr], &none, fn, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		return -EEXIST;
	return 0;
}

static bool on_user_ecall(struct trap_frame *tf)
{
	if (!trap_from_user(tf) || !current_thread())
		return false; /* not one of our threads (common.user's test runs its own) */
	uint64_t nr = tf->regs[17];
	tf->sepc += 4; /* before the call: execve replaces the frame, clone copies it */
	syscall_fn fn = nr < NR_SYSCALLS ? __atomic_load_n(&table[nr], __ATOMIC_ACQUIRE) : NULL;
	long ret = -ENOSYS;
	if (fn) {
		intr_on();
		ret = fn(tf->regs[10], tf->regs[11], tf->regs[12], tf->regs[13], tf->regs[14], tf->regs[15]);
		intr_off();
	}
	tf->regs[10] = (uint64_t)ret;
	return true;
}

static int syscall_init(void) { return trap_register(CAUSE_USER_ECALL, on_user_ecall); }
initcall(INIT_PROC, syscall_init);
