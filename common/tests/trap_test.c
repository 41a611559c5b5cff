/* common.trap: handlers per cause, and probes that survive faults. */
#include "errno.h"
#include "ktest.h"
#include "memlayout.h"
#include "probe.h"
#include "riscv.h"
#include "trap.h"

static int breakpoints;

static bool on_breakpoint(struct trap_frame *tf)
{
	breakpoints++;
	tf->sepc += 4; /* skip the (uncompressed) ebreak */
	return true;
}

KTEST(common_trap, handler_per_cause)
{
	breakpoints = 0;
	KASSERT_EQ(trap_register(CAUSE_BREAKPOINT, on_breakpoint), 0);
	__asm__ volatile(".option push\n.option norvc\nebreak\n.option pop" ::: "memory");
	KEXPECT_EQ(breakpoints, 1);
	KEXPECT_EQ(trap_unregister(CAUSE_BREAKPOINT, on_breakpoint), 0);
	KEXPECT_EQ(trap_unregister(CAUSE_BREAKPOINT, on_breakpoint), -ENOENT);
	KEXPECT_EQ(trap_register(99, on_breakpoint), -EINVAL);
}

KTEST(common_trap, probe_read_unmapped)
{
	uint64_t v = 0;
	/* Low virtual addresses are unmapped once the boot identity entry is gone. */
	KEXPECT_EQ(probe_read64((void *)0x1000, &v), -EFAULT);
	struct fault_info fi = probe_last_fault();
	KEXPECT_EQ(fi.scause, CAUSE_LOAD_PAGE_FAULT);
	KEXPECT_EQ(fi.stval, 0x1000);
	KEXPECT_EQ(probe_read64((void *)0x80000000UL, &v), -EFAULT); /* identity map removed */
}

KTEST(common_trap, probe_success)
{
	static uint64_t word = 0x1122334455667788;
	uint64_t v = 0;
	KEXPECT_EQ(probe_read64(&word, &v), 0);
	KEXPECT_EQ(v, 0x1122334455667788);
	KEXPECT_EQ(probe_write8(&word, 0xff), 0);
	KEXPECT_EQ(word & 0xff, 0xff);
}

/* A function that only returns, in .text: executable under every chapter's page table. */
void probe_test_ret(void);
__asm__(".section .text\n.globl probe_test_ret\n.balign 4\nprobe_test_ret: ret\n");

KTEST(common_trap, probe_exec)
{
	/* The same instruction seen through the direct map, which is never
	 * executable, faults; at its link address it runs. */
	KEXPECT_EQ(probe_exec((const void *)probe_test_ret), 0);
	KEXPECT_EQ(probe_exec(pa_to_kva(kva_to_pa((const void *)probe_test_ret))), -EFAULT);
	KEXPECT_EQ(probe_last_fault().scause, CAUSE_FETCH_PAGE_FAULT);
}
