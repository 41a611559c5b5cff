/*
 * The user-suite runner (runner.h): one external KTAP suite per user test
 * program of the initramfs, with the free-frame check as its last test.
 *
 * The scheduler runs as on_each_hart() work, so every hart takes threads
 * while a suite runs and returns when the suite's processes are gone. If
 * the ktest watchdog abandons a suite, it stops that work on every hart
 * (smp_stop_work()) and longjmps the boot hart out: each hart's running
 * thread is then lost (its context is gone) and the others stay queued.
 * The next suite cleans that up before it counts frames: each hart drops
 * its address space and hands in its lost thread (sched_recover_hart()),
 * the lost threads are accounted as exited, every leftover process is
 * killed, and the scheduler runs until they are gone or nothing is left to
 * run; then what a lost thread left halfway is reaped by hand
 * (proc_reap_stuck()), and again. A process only a lost context knew is
 * left behind (leaked), and no later run waits for it.
 */
#include "cpio.h"
#include "errno.h"
#include "frame.h"
#include "initcall.h"
#include "initramfs.h"
#include "kmalloc.h"
#include "printk.h"
#include "runner.h"
#include "sched.h"
#include "string.h"

static struct ktest_counts *volatile counts; /* the running suite's, or NULL */

int runner_test_result(int verdict)
{
	struct ktest_counts *c = counts;
	if (!c)
		return -EINVAL;
	int *field = verdict == 0 ? &c->pass : verdict == 1 ? &c->fail : verdict == 2 ? &c->skip : NULL;
	if (!field)
		return -EINVAL;
	__atomic_add_fetch(field, 1, __ATOMIC_RELAXED);
	return 0;
}

/* Processes a clean-up could not reap (only a lost kernel context knew
 * them: one cut off before proc_link(), say): they never go, so the runner
 * stops waiting for them. */
static int procs_left_behind;

static bool no_process_left(void *arg)
{
	(void)arg;
	return proc_count() <= procs_left_behind;
}

/* The clean-up's end condition: no process left, or nothing left to run
 * (what is left then is stuck: proc_reap_stuck()). sched_lock is held. */
static bool nothing_to_run(void *arg) { return no_process_left(arg) || sched_idle_locked(); }

static void schedule_work(void *arg, int hart)
{
	(void)hart;
	sched_loop(no_process_left, arg);
}

static void clean_up_work(void *arg, int hart)
{
	(void)hart;
	sched_loop(nothing_to_run, arg);
}

static void recover_work(void *arg, int hart)
{
	(void)arg, (void)hart;
	bool on = intr_off();
	sched_recover_hart();
	if (on)
		intr_on();
}

/* Kill and reap what an abandoned suite left behind. */
static void clean_up_abandoned(void)
{
	on_each_hart(recover_work, NULL);
	int lost = 0, procs = proc_count();
	for (int h = 0; h < MAX_HARTS; h++) {
		struct thread *t = sched_lost[h];
		if (!t)
			continue;
		sched_lost[h] = NULL;
		lost++;
		spin_lock(&proc_lock);
		proc_kill_locked(t->proc, SIGKILL);
		spin_unlock(&proc_lock);
		thread_exit_account(t, wstatus_signaled(SIGKILL));
		thread_free(t);
	}
	if (procs <= procs_left_behind && !lost)
		return;
	printk("# cleaning up after an abandoned suite: %d process(es), %d lost thread(s)\n",
	       procs - procs_left_behind, lost);
	/* Kill everything and run it until nothing is left to run; what is
	 * left then was cut off halfway (a fork before its thread was
	 * attached or queued, an exit before its zombie): reap that by hand
	 * and run again, while a round reaps or queues something. */
	for (int round = 0; round < 16; round++) {
		proc_kill_all();
		on_each_hart(clean_up_work, NULL);
		if (no_process_left(NULL) || proc_reap_stuck() == 0)
			break;
	}
	int left = proc_count() - procs_left_behind;
	if (left > 0) {
		printk("# %d process(es) could not be reaped: left behind\n", left);
		procs_left_behind += left;
	}
}

void runner_clean_up(void) { clean_up_abandoned(); }

/* Make the hooks ours again: common.user's tests set them to their own and back to none. */
static void install_hooks(void)
{
	trap_set_user_exit(sched_user_exit);
	kstack_region_register();
}

int runner_run_program(const char *name, const struct exec_args *args)
{
	install_hooks();
	clean_up_abandoned();
	proc_init_status = -1;
	int err = args ? proc_spawn_args(name, args) : proc_spawn(name);
	if (err)
		return err;
	on_each_hart(schedule_work, NULL);
	kstack_cache_drain(); /* the caller counts frames next */
	return proc_init_status;
}

uint64_t runner_free_frames(void)
{
	kstack_cache_drain();
	kmalloc_shrink();
	return frames_nr_free();
}

static struct {
	const char *what;
	runner_orphans_fn fn;
} orphans[RUNNER_MAX_ORPHAN_FNS];

int runner_register_orphans(const char *what, runner_orphans_fn fn)
{
	for (int i = 0; i < RUNNER_MAX_ORPHAN_FNS; i++)
		if (!orphans[i].fn) {
			orphans[i].what = what;
			orphans[i].fn = fn;
			return 0;
		}
	return -ENOSPC;
}

/* Remove what outlives every process: suite @name left it, or (NULL)
 * something that ran before the suite (a kernel test that failed halfway). */
static void remove_orphans(const char *name)
{
	for (int i = 0; i < RUNNER_MAX_ORPHAN_FNS && orphans[i].fn; i++) {
		int n = orphans[i].fn();
		if (n && name)
			printk("# %s: %d %s left behind, removed\n", name, n, orphans[i].what);
		else if (n)
			printk("# %d %s left behind before this suite, removed\n", n, orphans[i].what);
	}
}

int run_user_suite(const char *name, void *arg, struct ktest_counts *out)
{
	(void)arg;
	install_hooks();
	clean_up_abandoned();
	remove_orphans(NULL);
	uint64_t before = runner_free_frames();
	counts = out;
	proc_init_status = -1;
	int err = proc_spawn(name);
	if (!err)
		on_each_hart(schedule_work, NULL);
	counts = NULL;
	if (err)
		return err;
	remove_orphans(name);
	long leaked = (long)before - (long)runner_free_frames();
	int n = out->pass + out->fail + out->skip + 1;
	if (leaked) {
		printk("# frames_returned: %ld frames leaked\n", leaked);
		printk("not ok %d frames_returned\n", n);
		out->fail++;
	} else {
		printk("ok %d frames_returned\n", n);
		out->pass++;
	}
	long held = squeeze_release();
	max_map_count_restore();
	if (held)
		printk("# %s: %ld frames still squeezed at its end, given back\n", name, held);
	int sig = proc_init_status & 0x7f;
	if (sig) {
		printk("# %s: killed by signal %d\n", name, sig);
		return -EINTR;
	}
	return 0;
}

static int add_suite(const struct cpio_file *f, void *arg)
{
	(void)arg;
	if (glob_match("ch*.user.*", f->name)) {
		int err = ktest_add_suite(f->name, run_user_suite, NULL);
		if (err)
			printk("runner: cannot add suite %s: error %d\n", f->name, err);
	}
	return 0;
}

static int runner_init(void) { return cpio_for_each(_initramfs_start, _initramfs_end, add_suite, NULL); }
initcall(INIT_LATE, runner_init);
