/*
 * Trap dispatch: registered handlers first, then probe fix-ups, then the
 * test runner (a test that faults fails, the run goes on), then panic.
 */
#include "errno.h"
#include "panic.h"
#include "probe.h"
#include "riscv.h"
#include "smp.h"
#include "string.h"
#include "trap.h"

/* trapvec.S's offsets (FRAME_SIZE, SEPC .. KERNEL_TP) follow this layout. */
_Static_assert(sizeof(struct trap_frame) == 38 * 8, "trapvec.S FRAME_SIZE");
_Static_assert(__builtin_offsetof(struct trap_frame, sepc) == 32 * 8, "trapvec.S SEPC");
_Static_assert(__builtin_offsetof(struct trap_frame, stval) == 35 * 8, "trapvec.S STVAL");
_Static_assert(__builtin_offsetof(struct trap_frame, kernel_tp) == 36 * 8, "trapvec.S KERNEL_TP");

#define HANDLERS_PER_CAUSE 4

extern char trap_vector[];

/* [0] exceptions, [1] interrupts; each by cause code. */
static trap_handler_fn handlers[2][CAUSE_EXCEPTION_COUNT][HANDLERS_PER_CAUSE];

static trap_handler_fn *slots_for(uint64_t cause)
{
	bool irq = cause & SCAUSE_INTERRUPT;
	uint64_t code = cause & ~SCAUSE_INTERRUPT;
	if (code >= CAUSE_EXCEPTION_COUNT)
		return NULL;
	return handlers[irq][code];
}

int trap_register(uint64_t cause, trap_handler_fn fn)
{
	trap_handler_fn *slots = slots_for(cause);
	if (!slots || !fn)
		return -EINVAL;
	for (int i = 0; i < HANDLERS_PER_CAUSE; i++) {
		if (!slots[i]) {
			__atomic_store_n(&slots[i], fn, __ATOMIC_RELEASE);
			return 0;
		}
	}
	return -ENOSPC;
}

int trap_unregister(uint64_t cause, trap_handler_fn fn)
{
	trap_handler_fn *slots = slots_for(cause);
	if (!slots)
		return -EINVAL;
	for (int i = 0; i < HANDLERS_PER_CAUSE; i++) {
		if (slots[i] == fn) {
			for (int j = i; j + 1 < HANDLERS_PER_CAUSE; j++)
				slots[j] = slots[j + 1];
			slots[HANDLERS_PER_CAUSE - 1] = NULL;
			return 0;
		}
	}
	return -ENOENT;
}

void trap_init_hart(void)
{
	csr_write(stvec, (uint64_t)trap_vector); /* direct mode: low bits 0 */
	csr_write(sscratch, 0);
}

void trap_frame_init_user(struct trap_frame *tf, uint64_t pc, uint64_t sp)
{
	memset(tf, 0, sizeof(*tf));
	tf->regs[2] = sp;
	tf->sepc = pc;
	uint64_t sstatus = csr_read(sstatus);
	sstatus &= ~(SSTATUS_SPP | SSTATUS_SUM | SSTATUS_SIE);
	tf->sstatus = sstatus | SSTATUS_SPIE;
}

static void (*user_exit)(struct trap_frame *tf);

void trap_set_user_exit(void (*fn)(struct trap_frame *tf))
{
	__atomic_store_n(&user_exit, fn, __ATOMIC_RELEASE);
}

/* trapvec.S's bounds of the second stack region; written once, read by every trap. */
extern vaddr_t stack_region_lo, stack_region_hi;

int trap_set_stack_region(vaddr_t lo, vaddr_t hi)
{
	if (!IS_ALIGNED(lo | hi, HART_STACK_STRIDE) || lo > hi)
		return -EINVAL;
	/* Empty first, so that no trap sees a half-written range. */
	__atomic_store_n(&stack_region_hi, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&stack_region_lo, lo, __ATOMIC_RELEASE);
	__atomic_store_n(&stack_region_hi, hi, __ATOMIC_RELEASE);
	return 0;
}

const char *trap_cause_name(uint64_t scause)
{
	static const char *const exc[CAUSE_EXCEPTION_COUNT] = {
		"instruction address misaligned",
		"instruction access fault",
		"illegal instruction",
		"breakpoint",
		"load address misaligned",
		"load access fault",
		"store address misaligned",
		"store access fault",
		"ecall from U-mode",
		"ecall from S-mode",
		"reserved (10)",
		"reserved (11)",
		"instruction page fault",
		"load page fault",
		"reserved (14)",
		"store page fault",
	};
	uint64_t code = scause & ~SCAUSE_INTERRUPT;
	if (scause & SCAUSE_INTERRUPT)
		return code == IRQ_S_SOFT    ? "software interrupt"
		       : code == IRQ_S_TIMER ? "timer interrupt"
		       : code == IRQ_S_EXT   ? "external interrupt"
					     : "interrupt";
	return code < CAUSE_EXCEPTION_COUNT ? exc[code] : "unknown exception";
}

/* Where trapvec.S panics from when a hart's stack has overflowed. */
uint8_t overflow_stacks[MAX_HARTS][4096] __attribute__((aligned(16)));

/* panic_regs() names sepc and unwinds the overflowed stack from fp: sp
 * itself is in the guard page, which the unwinder must not read. */
void kernel_stack_overflow(uint64_t sepc, uint64_t stval, uint64_t scause, uint64_t sp, uint64_t ra,
			   uint64_t fp);
void kernel_stack_overflow(uint64_t sepc, uint64_t stval, uint64_t scause, uint64_t sp, uint64_t ra,
			   uint64_t fp)
{
	panic_regs(sepc, ra, fp, fp - 16,
		   "kernel stack overflow: sp 0x%lx ran into the guard page below its stack on hart %d "
		   "(%s at sepc 0x%lx, stval 0x%lx); look for deep recursion or a large local array",
		   sp, cpuid(), trap_cause_name(scause), sepc, stval);
}

/* The handlers, the fix-ups and the test runner: true if one took the trap. */
static bool handle(struct trap_frame *tf)
{
	trap_handler_fn *slots = slots_for(tf->scause);
	for (int i = 0; slots && i < HANDLERS_PER_CAUSE; i++) {
		trap_handler_fn fn = __atomic_load_n(&slots[i], __ATOMIC_ACQUIRE);
		if (fn && fn(tf))
			return true;
	}
	if (tf->scause == (SCAUSE_INTERRUPT | IRQ_S_SOFT)) {
		csr_clear(sip, SIE_SSIE); /* a stray IPI: nothing to do */
		return true;
	}
	if (!(tf->scause & SCAUSE_INTERRUPT)) {
		if (!trap_from_user(tf) && probe_fixup(tf))
			return true;
		ktest_on_fault(tf); /* returns only if no test was running */
	}
	return false;
}

/* Called from trapvec.S with the saved registers. */
void trap_dispatch(struct trap_frame *tf)
{
	bool from_user = trap_from_user(tf);
	if (!handle(tf)) {
		/* The backtrace starts at the trapped code (sepc), not in this
		 * handler; for user code there is no kernel stack to unwind. */
		panic_regs(tf->sepc, from_user ? 0 : tf->regs[1], from_user ? 0 : tf->regs[8], tf->regs[2],
			   "unexpected %s %s: sepc 0x%lx, stval 0x%lx, scause 0x%lx",
			   trap_cause_name(tf->scause),
			   from_user ? "from user mode, and no handler for it" : "in the kernel", tf->sepc,
			   tf->stval, tf->scause);
	}
	void (*exit_fn)(struct trap_frame *) = __atomic_load_n(&user_exit, __ATOMIC_ACQUIRE);
	if (from_user && exit_fn)
		exit_fn(tf);
}
