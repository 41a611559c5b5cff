/*
 * Processes: allocation, the tree (parent, children; orphans go to the
 * kernel, which reaps them), references, exit and kill. A process lives
 * until its last thread is freed and it has been reaped (by its parent's
 * wait4(), or by the kernel if it has none): one reference per thread, one
 * for the parent's link.
 *
 * Reference: Linux kernel/exit.c (do_exit, do_group_exit, exit_notify,
 * forget_original_parent), kernel/signal.c (SIGKILL to a thread group);
 * xv6-riscv kernel/proc.c (exit, reparent).
 */
#include "errno.h"
#include "file.h"
#include "kmalloc.h"
#include "mm.h"
#include "panic.h"
#include "sched.h"
#include "string.h"
#include "uaccess.h"

struct spinlock proc_lock = SPINLOCK_INIT("proc");
static struct list_head all_procs = LIST_HEAD_INIT(all_procs);
static int nr_procs;
static int last_pid;

/* The wait status of the last suite-init process that ended (runner.c). */
int proc_init_status = -1;

int proc_count(void) { return __atomic_load_n(&nr_procs, __ATOMIC_ACQUIRE); }

int pid_alloc(void) { return __atomic_add_fetch(&last_pid, 1, __ATOMIC_RELAXED); }

struct proc *proc_alloc(const char *name, int pid)
{
	struct proc *p = kzalloc(sizeof(*p));
	if (!p)
		return NULL;
	p->pid = pid;
	strlcpy(p->name, name, sizeof(p->name));
	list_init(&p->children);
	list_init(&p->sibling);
	list_init(&p->all);
	list_init(&p->threads);
	wq_init(&p->child_wq);
	wq_init(&p->exec_wq);
	p->refs = 1;
	__atomic_add_fetch(&nr_procs, 1, __ATOMIC_ACQ_REL);
	return p;
}

int proc_link(struct proc *p, struct proc *parent)
{
	spin_lock(&proc_lock);
	if (parent && parent->killed) {
		spin_unlock(&proc_lock);
		return -EINTR; /* a fatal signal is pending: no new child (Linux's fork) */
	}
	p->parent = parent;
	if (parent)
		list_add_tail(&p->sibling, &parent->children);
	list_add_tail(&p->all, &all_procs);
	spin_unlock(&proc_lock);
	return 0;
}

int proc_attach_thread(struct proc *p, struct thread *t)
{
	struct thread *creator = current_thread();
	spin_lock(&proc_lock);
	/* A creator that exec has told to exit makes nothing: exec marks the
	 * threads it finds under proc_lock, so a thread attached after that
	 * would run on in the old image (Linux: fork fails with a fatal signal
	 * pending). */
	if (p->killed || p->zombie || (creator && creator->exiting)) {
		spin_unlock(&proc_lock);
		return -EINTR;
	}
	list_add_tail(&t->siblings, &p->threads);
	p->nr_threads++;
	spin_unlock(&proc_lock);
	return 0;
}

void proc_get(struct proc *p) { __atomic_add_fetch(&p->refs, 1, __ATOMIC_ACQ_REL); }

/*
 * wait4 reaps, and frees, a zombie as soon as it sees only the parent's
 * reference left, under proc_lock. So the drop to that reference and the
 * wake-up that follows, which reads @p, are one step under proc_lock too
 * (unlocked, the parent could reap and free @p in between). Lock order,
 * outermost first: proc_lock, then sched_lock (which guards the wait
 * queues), then the heap's, frames' and kspace locks; a files, pipe or mm
 * lock is never held with proc_lock and comes before sched_lock. proc_put()
 * may take proc_lock: no caller holds another lock (proc_reap_locked()
 * holds proc_lock itself), none runs in an interrupt handler (the tick
 * takes sched_lock only), and the scheduler loop calls it (thread_free())
 * with no lock held.
 */
void proc_put(struct proc *p)
{
	bool held = spin_holding(&proc_lock);
	if (!held)
		spin_lock(&proc_lock);
	int refs = __atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL);
	if (refs == 1 && p->zombie && p->parent)
		wq_wake_all(&p->parent->child_wq);
	if (!held)
		spin_unlock(&proc_lock);
	if (refs != 0)
		return;
	if (p->files)
		panic("proc_put: process %d freed with its files", p->pid);
	kfree(p);
	__atomic_sub_fetch(&nr_procs, 1, __ATOMIC_ACQ_REL);
	/* The runner's loops on idle harts may end now: they end at none
	 * left, or at the processes a clean-up had to leave behind (runner.c),
	 * so every free is worth a look. */
	sched_kick_idle();
}

struct proc *proc_find(int pid)
{
	struct proc *p, *found = NULL;
	spin_lock(&proc_lock);
	list_for_each_entry(p, &all_procs, all)
	{
		if (p->pid == pid) {
			proc_get(p);
			found = p;
			break;
		}
	}
	spin_unlock(&proc_lock);
	return found;
}

/* Take zombie @c off the tree and drop the parent's reference (proc_lock held). */
void proc_reap_locked(struct proc *c)
{
	list_del(&c->sibling);
	list_init(&c->sibling);
	list_del(&c->all);
	list_init(&c->all);
	proc_put(c);
}

/* @p's children now belong to the kernel; the zombies among them are reaped (proc_lock held). */
static void give_children_to_kernel(struct proc *p)
{
	struct proc *c, *tmp;
	list_for_each_entry_safe(c, tmp, &p->children, sibling)
	{
		c->parent = NULL;
		if (c->zombie) {
			proc_reap_locked(c);
		} else {
			list_del(&c->sibling);
			list_init(&c->sibling);
		}
	}
}

void proc_kill_locked(struct proc *p, int sig)
{
	if (!p->group_exit) {
		p->group_exit = true;
		p->exit_status = wstatus_signaled(sig);
	}
	__atomic_store_n(&p->killed, true, __ATOMIC_RELEASE);
	bool on = sched_lock_irq();
	struct thread *t;
	list_for_each_entry(t, &p->threads, siblings) sched_wake_thread(t);
	sched_unlock_irq(on);
}

/* Linux's exit_mm(): @t gives up its address space. On the hart it runs on,
 * the hart goes to the kernel's space first (mm_put()'s precondition; by
 * sched.c's hart rule no other hart holds the mm without a thread of its
 * own), so the last thread's put frees every page and table of the mm here
 * and now, before exit_notify() lets the parent see the zombie. */
static void exit_mm(struct thread *t)
{
	struct mm *mm = t->mm;
	if (!mm)
		return;
	if (t == current_thread())
		sched_switch_mm(NULL);
	t->mm = NULL;
	mm_put(mm);
}

/* Linux's exit_notify(): @p's last thread has given up its mm and files;
 * now it is a zombie for its parent (or reaped, if the kernel is its
 * parent), and its children are the kernel's. wait4 still waits for the
 * threads' kernel stacks (proc_put() wakes the parent when they are freed). */
static void exit_notify(struct proc *p)
{
	spin_lock(&proc_lock);
	p->zombie = true;
	give_children_to_kernel(p);
	if (p->suite_init)
		proc_init_status = p->exit_status;
	if (p->parent)
		wq_wake_all(&p->parent->child_wq);
	else
		proc_reap_locked(p); /* the kernel's child: nobody waits (threads still hold references) */
	spin_unlock(&proc_lock);
}

void thread_exit_account(struct thread *t, int status)
{
	struct proc *p = t->proc;
	struct files *files = NULL;
	spin_lock(&proc_lock);
	if (t->exited) {
		/* Accounted already (a hart abandoned while it exited): once only. */
		spin_unlock(&proc_lock);
		return;
	}
	t->exited = true;
	list_del(&t->siblings);
	list_init(&t->siblings);
	bool last = --p->nr_threads == 0;
	if (p->nr_threads == 1)
		wq_wake_all(&p->exec_wq); /* an exec may wait for that (de_thread) */
	if (last) {
		if (!p->group_exit) {
			p->group_exit = true;
			p->exit_status = status;
		}
		files = p->files;
		p->files = NULL;
		p->mm = NULL; /* ptdump no longer finds it: exit_mm() may free it */
	}
	spin_unlock(&proc_lock);
	/* Linux's do_exit() order: exit_mm, exit_files, then exit_notify, so
	 * that a parent woken by the exit finds the address space and the
	 * files' pipes already freed. */
	exit_mm(t);
	if (files)
		files_put(files);
	if (last)
		exit_notify(p);
}

void thread_exit(int status)
{
	struct thread *t = current_thread();
	if (t->clear_child_tid) {
		uint32_t zero = 0; /* Linux: put_user(0, clear_child_tid), errors ignored */
		copy_to_user(t->clear_child_tid, &zero, sizeof(zero));
	}
	thread_exit_account(t, status);
	intr_off();
	spin_lock(&sched_lock);
	t->state = THREAD_DEAD;
	sched();
	panic("thread_exit: a dead thread ran again");
}

void proc_exit_group(int status)
{
	struct proc *p = current_proc();
	spin_lock(&proc_lock);
	if (!p->group_exit) {
		p->group_exit = true;
		p->exit_status = status;
	}
	proc_kill_locked(p, SIGKILL); /* the others go too; the status stays ours */
	spin_unlock(&proc_lock);
	thread_exit(status);
}

void proc_kill_all(void)
{
	struct proc *p;
	spin_lock(&proc_lock);
	list_for_each_entry(p, &all_procs, all)
	{
		if (!p->zombie)
			proc_kill_locked(p, SIGKILL);
	}
	spin_unlock(&proc_lock);
}

/* @p has no thread left but is no zombie: its exit or the fork that made
 * it was abandoned halfway. End it as exit_notify() would and reap it
 * (proc_lock held). @return its files, for the caller to put. */
static struct files *force_exit_locked(struct proc *p)
{
	struct files *files = p->files;
	p->files = NULL;
	p->mm = NULL;
	p->zombie = true;
	give_children_to_kernel(p);
	p->parent = NULL;
	proc_reap_locked(p); /* off the parent's list too */
	return files;
}

/* Queue the threads of live processes that are runnable but on no queue
 * (made by a clone that was abandoned before it queued them); proc_lock held. */
static int queue_stranded_locked(void)
{
	int n = 0;
	struct proc *p;
	struct thread *t;
	bool on = sched_lock_irq();
	list_for_each_entry(p, &all_procs, all)
	{
		list_for_each_entry(t, &p->threads, siblings) n += sched_run_stranded(t);
	}
	sched_unlock_irq(on);
	return n;
}

int proc_reap_stuck(void)
{
	int n = 0;
	for (;;) {
		struct proc *p, *stuck = NULL;
		struct files *files = NULL;
		spin_lock(&proc_lock);
		list_for_each_entry(p, &all_procs, all)
		{
			if (!p->zombie && p->nr_threads == 0) {
				stuck = p;
				break;
			}
		}
		if (stuck)
			files = force_exit_locked(stuck);
		else
			n += queue_stranded_locked();
		spin_unlock(&proc_lock);
		if (!stuck)
			return n;
		n++;
		if (files)
			files_put(files);
	}
}
