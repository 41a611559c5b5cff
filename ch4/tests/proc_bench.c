/*
 * ch4 benchmarks of the process machinery, in guest instructions (exact
 * under `make bench`: -icount shift=0 -smp 1). The kernel runs the user
 * program "child" (ch4/user/child.c) as a suite's first process:
 *
 * - ch4.spawn: "child exit 0": exec of a small program, its exit and its
 *   reaping (the kernel's proc_spawn(), the program's crt0 and exit);
 * - ch4.fork_exec_exit_wait: "child fork 8" minus "child exit 0", over 8:
 *   one fork (an eager mm_fork of the small program), the child's exec of
 *   "child exit I", its exit, and the parent's wait4.
 */
#include "ktest.h"
#include "proc.h"
#include "riscv.h"
#include "runner.h"

enum { ROUNDS = 8, FORKS = 8 };

/* Instructions per run of "child" with @argv (@size bytes, @argc strings). */
static uint64_t cost(const char *argv, size_t size, int argc)
{
	struct exec_args a = {argv, size, argc, 0};
	if (runner_run_program("child", &a) != 0)
		return 0; /* no "child" program, or it failed: report 0 */
	uint64_t start = rdinstret();
	for (int i = 0; i < ROUNDS; i++)
		runner_run_program("child", &a);
	return (rdinstret() - start) / ROUNDS;
}

KBENCH(ch4_fork_exec)
{
	static const char exit0[] = "child\0exit\0"
				    "0";
	static const char fork8[] = "child\0fork\0"
				    "8";
	uint64_t spawn = cost(exit0, sizeof(exit0), 3);
	uint64_t forks = cost(fork8, sizeof(fork8), 3);
	/* "child fork 8" forks eight children that each exec "child exit I":
	 * what it costs beyond one spawn, per child, is one fork+exec+exit+wait. */
	uint64_t per_child = forks > spawn ? (forks - spawn) / FORKS : 0;
	kbench_report("ch4_spawn", spawn,
		      "instructions per exec+exit+reap of a small program (child exit 0)");
	kbench_report("ch4_fork_exec_exit_wait", per_child,
		      "instructions per fork+exec+exit+wait4 of a small program (child fork 8, per child)");
}
