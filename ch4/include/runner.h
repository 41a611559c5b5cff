/**
 * @file runner.h
 * @brief The user-suite runner (ch4/proc/runner.c): every initramfs program
 *        named "chN.user.TOPIC" is one external KTAP suite.
 *
 * run_user_suite() (the suite's body, ktest.h's ktest_suite_fn): releases
 * the heap's cached frames (kmalloc_shrink()) and counts the free frames,
 * starts the program (proc_spawn(): argv {name}, envp {}, fds 0-2 on the
 * console), runs the scheduler on every hart until the program and every
 * process it made are gone (orphans are reaped by the kernel), shrinks and
 * counts again, and prints the suite's last test:
 *
 *     ok <n> frames_returned
 *
 * or, if the counts differ,
 *
 *     # frames_returned: <before - after> frames leaked
 *     not ok <n> frames_returned
 *
 * where n is one more than the tests the program reported
 * (SYS_mmlab_test_result). If the program itself was killed by a signal it
 * also prints "# <name>: killed by signal <s>" and the suite fails (its
 * body returns -EINTR). If the previous suite was abandoned by the
 * watchdog, its leftover processes are killed and reaped first, with
 * "# cleaning up after an abandoned suite: <p> process(es), <t> lost
 * thread(s)".
 */
#ifndef MMLAB_RUNNER_H
#define MMLAB_RUNNER_H

#include "ktest.h"

/**
 * A user test ended with @p verdict (0 pass, 1 fail, 2 skip): count it in
 * the running suite's ktest_counts.
 * @return 0; -EINVAL for another verdict or when no suite runs.
 */
int runner_test_result(int verdict);

/**
 * The body of a user suite (::ktest_suite_fn): run program @p name (@p arg
 * unused) on every hart until it and all it started are gone, keep @p out
 * up to date, then print the last test, frames_returned.
 * @return 0, or the error that kept the program from starting.
 */
int run_user_suite(const char *name, void *arg, struct ktest_counts *out);

struct exec_args;

/**
 * Run program @p name (with @p args, or NULL for argv {name}, envp {}) as a suite's first process and the scheduler on
 * every hart until every process is gone (no KTAP, no frame check): for
 * benchmarks and kernel tests.
 * @return the program's wait status, or a negative errno if it did not start.
 */
int runner_run_program(const char *name, const struct exec_args *args);

/**
 * The free frames as the runner counts them before and after a user suite:
 * frames_nr_free() once the cached kernel stacks (kstack_cache_drain()) and
 * the heap's empty slabs (kmalloc_shrink()) are given back, since neither is
 * a leak.
 * @return frames free, in frames.
 */
uint64_t runner_free_frames(void);

/**
 * Clean up after an abandoned suite (run_user_suite() and
 * runner_run_program() call it first): hand in the threads the abandoned
 * harts were running, kill every process, run them until nothing is left to
 * run, reap by hand what an abandoned fork or exit left halfway
 * (proc_reap_stuck()), and repeat. A process that cannot be reached is left
 * behind with a console line, and later runs stop waiting for it. Call on
 * the boot hart, with no suite running.
 */
void runner_clean_up(void);

/**
 * Give back every frame a test holds through SYS_mmlab_squeeze
 * (testcalls.c). The runner calls it after each user suite, once the
 * suite's frames_returned is counted, so that a suite that failed before
 * its own release leaks only into its own verdict, not into the next suites.
 * @return the frames given back.
 */
long squeeze_release(void);

/**
 * Put vm.max_map_count back to #MM_DEFAULT_MAX_MAP_COUNT (a test lowers it
 * through SYS_mmlab_max_map_count, testcalls.c). The runner calls it after
 * each user suite, as squeeze_release(), so that no suite runs with the
 * limit another one left.
 * @return the limit before.
 */
long max_map_count_restore(void);

/**
 * A clean-up of kernel objects that outlive every process (ch5's System V
 * segments: Linux keeps one until IPC_RMID): @return how many it removed.
 */
typedef int (*runner_orphans_fn)(void);

/**
 * Have run_user_suite() call @p fn before it counts the frames, both
 * times: before the suite starts (printing "# <n> <what> left behind
 * before this suite, removed" when it removed any: a kernel test that
 * failed halfway) and once its processes are all gone (printing
 * "# <suite>: <n> <what> left behind, removed"). A program killed
 * halfway (a test's page fault, the watchdog) cannot remove what it made,
 * and whether such an object costs a frame depends on the heap's state:
 * without this, frames_returned would pass or fail by chance.
 * A program that cleans up after itself never sees the line.
 * @param what  the objects' name for that line, such as "shm segment(s)".
 * @param fn    the clean-up; it runs on the boot hart with no process left.
 * @return 0; -ENOSPC when #RUNNER_MAX_ORPHAN_FNS are registered.
 * Reference: Linux ipc/shm.c shm_destroy_orphaned() (kernel.shm_rmid_forced).
 */
int runner_register_orphans(const char *what, runner_orphans_fn fn);

/** Most clean-ups runner_register_orphans() keeps. */
#define RUNNER_MAX_ORPHAN_FNS 4
#endif
