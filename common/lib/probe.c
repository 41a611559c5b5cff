/* The C side of probe.S: find a fault's fix-up and resume there. */
#include "errno.h"
#include "probe.h"
#include "riscv.h"
#include "smp.h"
#include "trap.h"

struct extable_entry {
	uint64_t insn;	/* the instruction that may fault */
	uint64_t fixup; /* where to resume, with a0 = -EFAULT */
};

extern const struct extable_entry __ex_table_start[], __ex_table_end[];

/* Per hart: where probe_exec() resumes after a fetch fault (0 = no probe). */
uint64_t probe_exec_resume[MAX_HARTS];
static struct fault_info last_fault[MAX_HARTS];

static uint64_t fixup_for(const struct trap_frame *tf)
{
	for (const struct extable_entry *e = __ex_table_start; e < __ex_table_end; e++)
		if (e->insn == tf->sepc)
			return e->fixup;
	bool fetch = tf->scause == CAUSE_FETCH_PAGE_FAULT || tf->scause == CAUSE_FETCH_ACCESS;
	return fetch ? probe_exec_resume[cpuid()] : 0;
}

bool probe_fixup(struct trap_frame *tf)
{
	uint64_t fixup = fixup_for(tf);
	if (!fixup)
		return false;
	last_fault[cpuid()] = (struct fault_info){tf->scause, tf->stval, tf->sepc};
	tf->sepc = fixup;
	return true;
}

struct fault_info probe_last_fault(void) { return last_fault[cpuid()]; }
