/* common.ksyms: the embedded symbol table names code; the unwinder walks frames and survives bad ones. */
#include "backtrace.h"
#include "errno.h"
#include "ksyms.h"
#include "ktest.h"
#include "memlayout.h"
#include "smp.h"
#include "string.h"
#include "trap.h"

/* Not inlined, cloned, or merged, so each keeps its own symbol and frame. */
#define NOIPA __attribute__((noipa))
/* After a call, so that the call is not a tail call (whose frame would be gone). */
#define KEEP_FRAME() __asm__ volatile("" ::: "memory")

#define THIS_FILE "common/tests/ksyms_test.c"

/* A one-line function: its first instruction is on this line. */
static const int known_line = __LINE__ + 1;
static NOIPA int ksyms_test_known(int x) { return x * 3 + 1; }

/* The pc of an instruction in the middle of a function, and its line: the
 * auipc is on the line of the macro's use, and reads its own address. */
#define PC_AND_LINE(pc, line)                                                                                \
	do {                                                                                                 \
		(line) = __LINE__;                                                                           \
		__asm__ volatile("auipc %0, 0" : "=r"(pc));                                                  \
	} while (0)

static NOIPA vaddr_t ksyms_test_inside(int x, int *line)
{
	vaddr_t pc;
	*line = ksyms_test_known(x);
	KEEP_FRAME();
	PC_AND_LINE(pc, *line);
	return pc;
}

KTEST(common_ksyms, function_start)
{
	struct ksym k;
	KASSERT_TRUE(ksym_lookup((vaddr_t)ksyms_test_known, &k));
	KEXPECT_EQ(strcmp(k.name, "ksyms_test_known"), 0);
	KEXPECT_EQ(k.offset, 0);
	KEXPECT_EQ(k.start, (vaddr_t)ksyms_test_known);
	KASSERT_NOT_NULL(k.file);
	KEXPECT_EQ(strcmp(k.file, THIS_FILE), 0);
	KEXPECT_EQ(k.line, known_line);

	char want[KSYM_BUF_SIZE], got[KSYM_BUF_SIZE];
	snprintf(want, sizeof(want), "ksyms_test_known+0x0 (" THIS_FILE ":%d)", known_line);
	KEXPECT_EQ(ksym_snprint(got, sizeof(got), (vaddr_t)ksyms_test_known), (int)strlen(want));
	KEXPECT_EQ(strcmp(got, want), 0);
	if (strcmp(got, want))
		printk("got \"%s\", want \"%s\"\n", got, want);
}

KTEST(common_ksyms, line_inside_function)
{
	int line = 0;
	vaddr_t pc = ksyms_test_inside(1, &line);
	struct ksym k;
	KASSERT_TRUE(ksym_lookup(pc, &k));
	KEXPECT_EQ(strcmp(k.name, "ksyms_test_inside"), 0);
	KEXPECT_EQ(k.start + k.offset, pc);
	KEXPECT_GT(k.offset, 0);
	KASSERT_NOT_NULL(k.file);
	KEXPECT_EQ(strcmp(k.file, THIS_FILE), 0);
	KEXPECT_EQ(k.line, line);

	/* Another file's function, found through its address too. */
	KASSERT_TRUE(ksym_lookup((vaddr_t)ksym_lookup, &k));
	KEXPECT_EQ(strcmp(k.name, "ksym_lookup"), 0);
	KEXPECT_TRUE(k.file && strcmp(k.file, "common/lib/ksyms.c") == 0);
}

KTEST(common_ksyms, not_kernel_code)
{
	static int data_word;
	struct ksym k;
	KEXPECT_FALSE(ksym_lookup(0, &k));
	KEXPECT_FALSE(ksym_lookup(0x1000, &k));
	KEXPECT_FALSE(ksym_lookup((vaddr_t)&data_word, &k));
	KEXPECT_FALSE(ksym_lookup((vaddr_t)_text_end, &k));
	KEXPECT_FALSE(ksym_lookup(-1UL, &k));

	char buf[KSYM_BUF_SIZE];
	KEXPECT_EQ(ksym_snprint(buf, sizeof(buf), 0x1000), 6);
	KEXPECT_EQ(strcmp(buf, "0x1000"), 0);
	/* Cut like snprintf: the full length back, always NUL-terminated. */
	char small[8];
	int full = ksym_snprint(small, sizeof(small), (vaddr_t)ksyms_test_known);
	KEXPECT_GT(full, (int)sizeof(small));
	KEXPECT_EQ(strlen(small), sizeof(small) - 1);
	KEXPECT_EQ(strncmp(small, "ksyms_t", 7), 0);
}

/* A chain outer -> middle -> inner; inner collects its own backtrace. */
static NOIPA int ksyms_test_inner(vaddr_t *pcs, int max)
{
	vaddr_t pc, fp, sp;
	BACKTRACE_HERE(pc, fp, sp);
	int n = backtrace_collect(pc, 0, fp, sp, pcs, max);
	KEEP_FRAME();
	return n;
}

static NOIPA int ksyms_test_middle(vaddr_t *pcs, int max)
{
	int n = ksyms_test_inner(pcs, max);
	KEEP_FRAME();
	return n;
}

static NOIPA int ksyms_test_outer(vaddr_t *pcs, int max)
{
	int n = ksyms_test_middle(pcs, max);
	KEEP_FRAME();
	return n;
}

/* The function that the return address @p ra returns into (NULL if none). */
static const char *caller_name(vaddr_t ra)
{
	struct ksym k;
	return ksym_lookup(ra - 1, &k) ? k.name : "(none)";
}

KTEST(common_ksyms, backtrace_chain)
{
	vaddr_t pcs[BACKTRACE_MAX_DEPTH];
	int n = ksyms_test_outer(pcs, BACKTRACE_MAX_DEPTH);
	KEEP_FRAME();
	KASSERT_GE(n, 4);
	struct ksym k;
	KASSERT_TRUE(ksym_lookup(pcs[0], &k));
	KEXPECT_EQ(strcmp(k.name, "ksyms_test_inner"), 0);
	KEXPECT_EQ(strcmp(caller_name(pcs[1]), "ksyms_test_middle"), 0);
	KEXPECT_EQ(strcmp(caller_name(pcs[2]), "ksyms_test_outer"), 0);
	KEXPECT_EQ(strcmp(caller_name(pcs[3]), "ktest_common_ksyms__backtrace_chain"), 0);
	for (int i = 1; i < n; i++)
		KEXPECT_TRUE(ksym_lookup(pcs[i] - 1, &k));
	if (ktest_failed())
		for (int i = 0; i < n; i++)
			printk("pcs[%d] %s\n", i, caller_name(pcs[i] + (i == 0)));

	/* At most max entries. */
	KEXPECT_EQ(ksyms_test_outer(pcs, 2), 2);
	KEXPECT_EQ(ksyms_test_outer(pcs, 0), 0);
}

KTEST(common_ksyms, stack_bounds)
{
	vaddr_t lo, hi, sp;
	__asm__ volatile("mv %0, sp" : "=r"(sp));
	KASSERT_TRUE(backtrace_stack_bounds(sp, &lo, &hi));
	KEXPECT_EQ(lo, (vaddr_t)hart_stacks[cpuid()].stack);
	KEXPECT_EQ(hi, lo + KSTACK_SIZE);
	/* A guard page is no stack: the unwinder must never read it. */
	KEXPECT_FALSE(backtrace_stack_bounds((vaddr_t)hart_stacks[cpuid()].guard + 64, &lo, &hi));
	KEXPECT_FALSE(backtrace_stack_bounds(0x1000, &lo, &hi));
	KEXPECT_TRUE(backtrace_stack_bounds((vaddr_t)overflow_stacks[0] + 100, &lo, &hi));
}

/*
 * A fake stack, registered with the unwinder, in which the tests lay out
 * frame records by hand: frame i's fp is fake_fp(i), and its record, at
 * fp - 16, holds the caller's fp and the return address.
 */
static vaddr_t fake_stack[128] __attribute__((aligned(16)));

static bool fake_stack_lookup(vaddr_t sp, vaddr_t *lo, vaddr_t *hi)
{
	vaddr_t base = (vaddr_t)fake_stack;
	if (sp < base || sp > base + sizeof(fake_stack))
		return false;
	*lo = base;
	*hi = base + sizeof(fake_stack);
	return true;
}

static vaddr_t fake_fp(int i) { return (vaddr_t)&fake_stack[8 + 4 * i]; }

static void fake_record(vaddr_t fp, vaddr_t caller_fp, vaddr_t ra)
{
	((vaddr_t *)fp)[-2] = caller_fp;
	((vaddr_t *)fp)[-1] = ra;
}

/* Return addresses: anywhere in the kernel's code will do. */
#define RA(i) ((vaddr_t)ksyms_test_known + 2 * (i))

KTEST(common_ksyms, registered_stack)
{
	KEXPECT_EQ(backtrace_register_stack_lookup(NULL), -EINVAL);
	KEXPECT_EQ(backtrace_unregister_stack_lookup(fake_stack_lookup), -ENOENT);
	KASSERT_EQ(backtrace_register_stack_lookup(fake_stack_lookup), 0);
	memset(fake_stack, 0, sizeof(fake_stack));
	for (int i = 0; i < 3; i++)
		fake_record(fake_fp(i), i < 2 ? fake_fp(i + 1) : 0, RA(i + 1));
	vaddr_t pcs[BACKTRACE_MAX_DEPTH];
	int n = backtrace_collect(RA(0), 0, fake_fp(0), fake_fp(0) - 32, pcs, BACKTRACE_MAX_DEPTH);
	KEXPECT_EQ(n, 4);
	for (int i = 0; i < n && i < 4; i++)
		KEXPECT_EQ(pcs[i], RA(i));

	/* A leaf first frame keeps only the caller's fp, at fp - 8: the
	 * caller's pc is the ra register's. */
	fake_record(fake_fp(0), 0, fake_fp(1));
	n = backtrace_collect(RA(0), RA(7), fake_fp(0), fake_fp(0) - 32, pcs, BACKTRACE_MAX_DEPTH);
	KEXPECT_EQ(n, 4);
	KEXPECT_EQ(pcs[1], RA(7));
	KEXPECT_EQ(pcs[2], RA(2));
	/* Without ra, fp - 8 holds no code address: stop there. */
	KEXPECT_EQ(backtrace_collect(RA(0), 0, fake_fp(0), fake_fp(0) - 32, pcs, BACKTRACE_MAX_DEPTH), 1);

	/* A long chain stops at BACKTRACE_MAX_DEPTH. */
	for (int i = 0; i < 24; i++)
		fake_record(fake_fp(i), fake_fp(i + 1), RA(i + 1));
	KEXPECT_EQ(backtrace_collect(RA(0), 0, fake_fp(0), fake_fp(0) - 32, pcs, 100), BACKTRACE_MAX_DEPTH);
	KEXPECT_EQ(backtrace_unregister_stack_lookup(fake_stack_lookup), 0);
	/* Unregistered, the fake stack is no stack. */
	KEXPECT_EQ(backtrace_collect(RA(0), 0, fake_fp(0), fake_fp(0) - 32, pcs, 100), 1);
}

KTEST(common_ksyms, corrupt_frames_stop)
{
	KASSERT_EQ(backtrace_register_stack_lookup(fake_stack_lookup), 0);
	memset(fake_stack, 0, sizeof(fake_stack));
	vaddr_t pcs[BACKTRACE_MAX_DEPTH], sp = fake_fp(0) - 32;
	vaddr_t base = (vaddr_t)fake_stack, top = base + sizeof(fake_stack);

	/* fp that loops to itself, or goes down: one step, then stop. */
	fake_record(fake_fp(1), fake_fp(1), RA(1));
	KEXPECT_EQ(backtrace_collect(RA(0), 0, fake_fp(1), sp, pcs, 100), 2);
	fake_record(fake_fp(1), fake_fp(0), RA(1));
	KEXPECT_EQ(backtrace_collect(RA(0), 0, fake_fp(1), sp, pcs, 100), 2);
	/* fp out of the stack, misaligned, below sp, NULL, just past the top. */
	const vaddr_t bad_fps[] = {
		0,	  0x1000,   fake_fp(1) + 4, sp,
		base + 8, top + 16, -16UL,	    (vaddr_t)hart_stacks[cpuid()].guard + 4096};
	for (size_t i = 0; i < ARRAY_SIZE(bad_fps); i++)
		KEXPECT_EQ(backtrace_collect(RA(0), 0, bad_fps[i], sp, pcs, 100), 1);
	/* The next fp points out of the stack: the frame is taken, the walk stops. */
	fake_record(fake_fp(1), 0xdead0000, RA(1));
	KEXPECT_EQ(backtrace_collect(RA(0), 0, fake_fp(1), sp, pcs, 100), 2);
	/* A return address that is not code: stop before it. */
	fake_record(fake_fp(1), fake_fp(2), 0xdead0000);
	KEXPECT_EQ(backtrace_collect(RA(0), 0, fake_fp(1), sp, pcs, 100), 1);
	/* An sp on no known stack: nothing is read. */
	KEXPECT_EQ(backtrace_collect(RA(0), 0, fake_fp(1), 0x1000, pcs, 100), 1);
	/* A frame record that would straddle the top of the stack. */
	KEXPECT_EQ(backtrace_collect(RA(0), 0, top + 8, sp, pcs, 100), 1);
	KEXPECT_EQ(backtrace_unregister_stack_lookup(fake_stack_lookup), 0);

	/* And printing a corrupt chain: the same bounded walk. */
	backtrace_print("backtrace of a bad fp: ", RA(0), 0, 0xdead0000, sp);
}
