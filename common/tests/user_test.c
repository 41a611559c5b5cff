/*
 * common.user: the trap vector's way into user mode and back (trap.h), with
 * a stub of U-mode code, before any chapter has processes.
 *
 * The stub is kernel text run in U-mode: a page table made for the test
 * copies the kernel's root entries and adds one user gigapage (PTE_U, RWX)
 * that maps the kernel image's gigabyte at its physical address, so the stub
 * runs at its physical address, with a stack from the kernel's bss. Its
 * traps land on a kernel stack of the test's own, as a thread's would.
 */
#include "errno.h"
#include "ksetjmp.h"
#include "ktest.h"
#include "memlayout.h"
#include "riscv.h"
#include "smp.h"
#include "trap.h"

/* The stub's system calls (a7): a0 += 35, and leave with status a0. */
#define NR_ADD	1
#define NR_EXIT 2

/*
 * user_roundtrips(a0 = n): n times, ecall NR_ADD with a0 = 7 and check the
 * answer is 42; then check that the registers the kernel must keep (s0-s11
 * but s11, tp, gp, sp) are what they were; exit with 0, or 1 at the first
 * difference. user_load(a0 = address): load from it (a kernel address: a
 * page fault from user mode).
 */
void user_roundtrips(void);
void user_load(void);
extern char user_load_insn[];
__asm__(".section .text\n"
	".balign 4\n"
	".globl user_roundtrips\n"
	"user_roundtrips:\n"
	"	mv	s11, a0\n"
	"	mv	s10, sp\n"
	"	li	tp, 0x7470\n"
	"	li	gp, 0x6770\n"
	"	li	s0, 0x5300\n"
	"	li	s1, 0x5301\n"
	"	li	s9, 0x5309\n"
	"1:	li	a7, 1\n" /* NR_ADD */
	"	li	a0, 7\n"
	"	ecall\n"
	"	li	t0, 42\n"
	"	bne	a0, t0, 2f\n"
	"	addi	s11, s11, -1\n"
	"	bnez	s11, 1b\n"
	"	li	t0, 0x7470\n"
	"	bne	tp, t0, 2f\n"
	"	li	t0, 0x6770\n"
	"	bne	gp, t0, 2f\n"
	"	li	t0, 0x5300\n"
	"	bne	s0, t0, 2f\n"
	"	li	t0, 0x5301\n"
	"	bne	s1, t0, 2f\n"
	"	li	t0, 0x5309\n"
	"	bne	s9, t0, 2f\n"
	"	bne	sp, s10, 2f\n"
	"	li	a0, 0\n"
	"	j	3f\n"
	"2:	li	a0, 1\n"
	"3:	li	a7, 2\n" /* NR_EXIT */
	"	ecall\n"
	"	j	.\n"
	".globl user_load, user_load_insn\n"
	"user_load:\n"
	"user_load_insn:\n"
	"	ld	t1, 0(a0)\n"
	"	j	.\n");

/* The test's "thread": its kernel stack, its user stack, its page table. */
static uint8_t kstack[16384] __attribute__((aligned(16)));
static uint8_t ustack[4096] __attribute__((aligned(16)));
static uint64_t user_root[512] __attribute__((aligned(4096)));

static struct {
	uint64_t env[KJMP_REGS];
	int adds, exits_to_user, breakpoints;
	uint64_t status, sscratch, stval, sepc, user_sp;
	int hart;
	bool frame_at_top;
} run;

static uint64_t user_va(const void *kernel_image_va) { return kva_to_pa(kernel_image_va); }

static bool on_breakpoint(struct trap_frame *tf)
{
	if (trap_from_user(tf))
		return false;
	run.breakpoints++;
	tf->sepc += 4;
	return true;
}

static bool on_ecall(struct trap_frame *tf)
{
	if (!trap_from_user(tf))
		return false;
	run.sscratch = csr_read(sscratch);
	run.hart = cpuid();
	run.user_sp = tf->regs[2];
	run.frame_at_top = (uint8_t *)(tf + 1) == kstack + sizeof(kstack);
	if (tf->regs[17] == NR_ADD) {
		/* A trap inside the handling of a user trap: the kernel's way,
		 * on this thread's kernel stack, and back. */
		__asm__ volatile(".option push\n.option norvc\nebreak\n.option pop" ::: "memory");
		run.adds++;
		tf->regs[10] += 35;
		tf->sepc += 4;
		return true;
	}
	run.status = tf->regs[10];
	klongjmp(run.env, 1); /* NR_EXIT: back to the test, on its own stack */
}

static bool on_load_fault(struct trap_frame *tf)
{
	if (!trap_from_user(tf))
		return false;
	run.stval = tf->stval;
	run.sepc = tf->sepc;
	klongjmp(run.env, 1);
}

static void on_exit_to_user(struct trap_frame *tf)
{
	(void)tf;
	run.exits_to_user++;
}

/*
 * Fill user_root: the kernel's upper half as satp has it now, and the one
 * user gigapage that holds the stub @p entry and ustack at their physical
 * addresses. -EINVAL if one gigapage cannot hold both.
 */
static int user_root_build(void (*entry)(void))
{
	paddr_t code = user_va(entry), stack_top = user_va(ustack + sizeof(ustack));
	if (code >> 30 != (stack_top - 1) >> 30 || code >> 30 >= 256)
		return -EINVAL;
	const uint64_t *root = pa_to_kva((csr_read(satp) & ((1UL << 44) - 1)) << 12);
	for (int i = 0; i < 512; i++)
		user_root[i] = i < 256 ? 0 : root[i];
	paddr_t giga = code & ~((1UL << 30) - 1);
	user_root[code >> 30] = (giga >> 12 << 10) | PTE_V | PTE_R | PTE_W | PTE_X | PTE_U | PTE_A | PTE_D;
	return 0;
}

/* Switch to user_root and go to user mode at @p entry, with a0 = @p arg. */
static void __attribute__((noinline, noreturn)) enter_user(void (*entry)(void), uint64_t arg)
{
	csr_write(satp, satp_sv39(kva_to_pa(user_root)));
	sfence_vma_all();
	struct trap_frame *tf = (struct trap_frame *)(kstack + sizeof(kstack)) - 1;
	trap_frame_init_user(tf, user_va(entry), user_va(ustack + sizeof(ustack)));
	tf->regs[10] = arg;
	trap_return_to_user(tf);
}

/* Run @p entry in U-mode with a0 = @p arg until a handler jumps back. */
static int run_user(void (*entry)(void), uint64_t arg)
{
	int err = user_root_build(entry);
	if (err)
		return err;
	const uint64_t satp = csr_read(satp);
	const bool intr = intr_off();
	trap_set_user_exit(on_exit_to_user);
	if (ksetjmp(run.env) == 0)
		enter_user(entry, arg);
	csr_write(satp, satp);
	sfence_vma_all();
	trap_set_user_exit(NULL);
	if (intr)
		intr_on();
	return 0;
}

KTEST(common_user, ecall_roundtrips_keep_user_registers)
{
	const int me = cpuid();
	run = (typeof(run)){0};
	KASSERT_EQ(trap_register(CAUSE_USER_ECALL, on_ecall), 0);
	KASSERT_EQ(trap_register(CAUSE_BREAKPOINT, on_breakpoint), 0);
	int err = run_user(user_roundtrips, 3);
	trap_unregister(CAUSE_USER_ECALL, on_ecall);
	trap_unregister(CAUSE_BREAKPOINT, on_breakpoint);
	KASSERT_EQ(err, 0);
	KEXPECT_EQ(run.status, 0); /* the stub found 42 each time, and its registers kept */
	KEXPECT_EQ(run.adds, 3);
	KEXPECT_EQ(run.breakpoints, 3);	  /* a kernel trap nested in each user trap */
	KEXPECT_EQ(run.exits_to_user, 3); /* the hook ran before each return to user mode */
	KEXPECT_EQ(run.sscratch, 0);	  /* 0 while the kernel runs */
	KEXPECT_EQ(run.hart, me);	  /* the kernel's tp is back, not the user's 0x7470 */
	KEXPECT_EQ(cpuid(), me);
	KEXPECT_TRUE(run.frame_at_top);
	KEXPECT_EQ(run.user_sp, user_va(ustack + sizeof(ustack)));
	KEXPECT_EQ(csr_read(sscratch), 0);
}

KTEST(common_user, user_fault_reaches_its_handler)
{
	static uint64_t kernel_word = 1;
	run = (typeof(run)){0};
	KASSERT_EQ(trap_register(CAUSE_LOAD_PAGE_FAULT, on_load_fault), 0);
	/* A kernel address is mapped, but without PTE_U: a fault in U-mode. */
	int err = run_user(user_load, (uint64_t)&kernel_word);
	trap_unregister(CAUSE_LOAD_PAGE_FAULT, on_load_fault);
	KASSERT_EQ(err, 0);
	KEXPECT_EQ(run.stval, (uint64_t)&kernel_word);
	KEXPECT_EQ(run.sepc, user_va(user_load_insn));
	KEXPECT_EQ(run.exits_to_user, 0); /* it never went back */
}

KTEST(common_user, init_user_frame)
{
	struct trap_frame tf;
	trap_frame_init_user(&tf, 0x10000, 0x20000);
	KEXPECT_TRUE(trap_from_user(&tf));
	KEXPECT_EQ(tf.sepc, 0x10000);
	KEXPECT_EQ(tf.regs[2], 0x20000);
	KEXPECT_EQ(tf.regs[10], 0);
	KEXPECT_EQ(tf.sstatus & SSTATUS_SUM, 0);
	KEXPECT_EQ(tf.sstatus & SSTATUS_SPIE, SSTATUS_SPIE);
}

KTEST(common_user, stack_region_checks_alignment)
{
	KEXPECT_EQ(trap_set_stack_region(HART_STACK_STRIDE + 4096, 4 * HART_STACK_STRIDE), -EINVAL);
	KEXPECT_EQ(trap_set_stack_region(4 * HART_STACK_STRIDE, 2 * HART_STACK_STRIDE), -EINVAL);
	KEXPECT_EQ(trap_set_stack_region(0, 0), 0); /* empty: as at boot */
}
