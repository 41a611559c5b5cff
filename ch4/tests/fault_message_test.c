/*
 * ch4.fault_message: a user fault the kernel cannot resolve kills the process
 * with one console line, as Linux prints it, that names the program, the
 * address and the reason (mm_fault()'s outcome), and a wait status of
 * SIGSEGV. Each test runs ch4/user/fault.c in one of its modes and reads the
 * console (common/tests/capture.h).
 */
#include "../../ch3/tests/ch3_test.h" /* drain_memory() */
#include "../../common/tests/capture.h"
#include "cow.h"
#include "frame.h"
#include "kmalloc.h"
#include "ktest.h"
#include "proc.h"
#include "runner.h"

/* Run "fault <mode>" with the console captured; its wait status. */
static int run_fault(const char *argv, size_t bytes)
{
	struct exec_args a = {argv, bytes, 2, 0};
	capture_start();
	int status = runner_run_program("fault", &a);
	capture_stop();
	return status;
}

/* One mode: killed by SIGSEGV, one line saying "segfault at @p at" and (@p reason), no frame lost. */
#define EXPECT_KILLED(mode, at, reason)                                                                      \
	do {                                                                                                 \
		static const char argv[] = "fault\0" mode;                                                   \
		uint64_t before = runner_free_frames();                                                      \
		KEXPECT_EQ(run_fault(argv, sizeof(argv)), wstatus_signaled(SIGSEGV));                        \
		KEXPECT_TRUE(said("]: segfault at " at));                                                    \
		KEXPECT_TRUE(said("(" reason ")\n"));                                                        \
		KEXPECT_TRUE(said("fault["));                                                                \
		KEXPECT_EQ(runner_free_frames(), before);                                                    \
	} while (0)

KTEST(ch4_fault_message, null_read_is_no_area) { EXPECT_KILLED("null-read", "0x0 pc 0x", "no area"); }

KTEST(ch4_fault_message, unmapped_read_is_no_area)
{
	EXPECT_KILLED("unmapped-read", "0x40000000 pc 0x", "no area");
}

KTEST(ch4_fault_message, kernel_read_is_kernel_address)
{
	EXPECT_KILLED("kernel-read", "0xffffffc000000000 pc 0x", "kernel address");
}

KTEST(ch4_fault_message, kernel_write_is_kernel_address)
{
	EXPECT_KILLED("kernel-write", "0xffffffc000000000 pc 0x", "kernel address");
}

KTEST(ch4_fault_message, kernel_jump_is_kernel_address)
{
	EXPECT_KILLED("kernel-jump", "0xffffffc000000000 pc 0x", "kernel address");
}

KTEST(ch4_fault_message, text_write_is_permission) { EXPECT_KILLED("text-write", "0x1", "permission"); }

KTEST(ch4_fault_message, data_exec_is_permission) { EXPECT_KILLED("data-exec", "0x1", "permission"); }

KTEST(ch4_fault_message, stack_overflow_is_stack_guard)
{
	EXPECT_KILLED("stack-overflow", "0x3f", "stack guard");
}

KTEST(ch4_fault_message, out_of_memory_kills_with_sigkill)
{
	static const char argv[] = "fault\0oom";
	static struct drain d;
	if (vm_eager_default())
		KTEST_SKIP("eager: the heap is mapped when it grows, and brk fails instead");
	uint64_t before = runner_free_frames();
	/* Leave the program 1 MiB above the min watermark: it runs, then its
	 * faults find nothing, while the reserve stays for the kernel. */
	struct frame_watermarks wm = frames_watermarks();
	drain_memory(&d, wm.min + 256);
	frames_set_watermarks(d.wm);
	int status = run_fault(argv, sizeof(argv));
	undrain_memory(&d);
	KEXPECT_EQ(status, wstatus_signaled(SIGKILL));
	KEXPECT_TRUE(said("Out of memory: killed process "));
	KEXPECT_TRUE(said(" (fault) at 0x"));
	KEXPECT_FALSE(said("segfault"));
	KEXPECT_EQ(runner_free_frames(), before);
}
