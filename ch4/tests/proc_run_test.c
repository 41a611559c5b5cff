/*
 * ch4.proc_run: whole programs from the initramfs, run by the kernel
 * (runner_run_program()): they start, exit with their status, and leave
 * every frame and every kernel stack behind them free.
 */
#include "errno.h"
#include "frame.h"
#include "kmalloc.h"
#include "ktest.h"
#include "proc.h"
#include "runner.h"
#include "sched.h"

KTEST(ch4_proc_run, hello_exits_with_0_and_frees_everything)
{
	uint64_t before = runner_free_frames();
	KEXPECT_EQ(runner_run_program("hello", NULL), wstatus_exited(0));
	KEXPECT_EQ(proc_count(), 0);
	KEXPECT_EQ(kstack_nr_used(), 0);
	KEXPECT_EQ(runner_free_frames(), before);
}

KTEST(ch4_proc_run, missing_program_is_enoent)
{
	KEXPECT_EQ(runner_run_program("no_such_program", NULL), -ENOENT);
	KEXPECT_EQ(proc_count(), 0);
}

/* "child fork 8": eight children, each exits with its number, all reaped. */
KTEST(ch4_proc_run, children_forked_and_reaped)
{
	static const char argv[] = "child\0fork\0"
				   "8";
	struct exec_args a = {argv, sizeof(argv), 3, 0};
	uint64_t before = runner_free_frames();
	KEXPECT_EQ(runner_run_program("child", &a), wstatus_exited(0));
	KEXPECT_EQ(proc_count(), 0);
	KEXPECT_EQ(runner_free_frames(), before);
}

/* "child exit 7" ends with 7 << 8; "child spin" is preempted by the tick
 * (the test would never end otherwise) and killed by the kernel. */
KTEST(ch4_proc_run, exit_status_reaches_the_kernel)
{
	static const char argv[] = "child\0exit\0"
				   "7";
	struct exec_args a = {argv, sizeof(argv), 3, 0};
	KEXPECT_EQ(runner_run_program("child", &a), wstatus_exited(7));
}
