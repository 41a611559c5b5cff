/*
 * The scheduler: one run queue for every hart (FIFO: round robin), each
 * hart's scheduler loop, sched() and yield, the tick that ends a slice and
 * wakes sleepers, and the exit-to-user hook that preempts. sched.h says
 * how the locking works.
 *
 * The hart rule for address spaces: each hart holds a reference to the mm
 * in its satp (hart_sched::active_mm), and keeps it only while it owns a
 * thread of that mm: the one it runs, or the one that just gave the hart
 * back, until the loop has picked the next one without releasing
 * sched_lock. If the next thread shares the mm, satp stays (threads of one
 * process, or the same thread again, switch without a satp write);
 * otherwise the hart moves to the next thread's mm, or to the kernel's when
 * it goes idle, BEFORE sched_lock is released. Hence:
 *  - the hart's put is never the last one (the thread it owned still holds
 *    its own), so it may run under sched_lock;
 *  - no hart keeps a dead process's mm alive: the last reference is the
 *    last thread's own, dropped in its exit (exit_mm() in proc.c) after its
 *    hart went to the kernel's space (mm_put()'s precondition), so every
 *    frame and table of the mm is back before the parent sees the zombie.
 * (Linux keeps a lazy active_mm across idle with mmgrab(), but that pins
 * only the mm_struct (mm_count) while exit_mmap() frees the address space
 * on mm_users; with a single count a lazy hold would pin all of it, and a
 * stopped thread, once sched_lock is released, may run and exit on another
 * hart at once.)
 *
 * Reference: xv6-riscv kernel/proc.c (scheduler, sched, yield);
 * Linux kernel/sched/core.c (context_switch), kernel/entry/common.c
 * (exit_to_user_mode_loop).
 */
#include "errno.h"
#include "fdt.h"
#include "initcall.h"
#include "ktest.h"
#include "mm.h"
#include "panic.h"
#include "riscv.h"
#include "sbi.h"
#include "sched.h"
#include "smp.h"
#include "timer.h"

/** What each hart's scheduler knows. */
struct hart_sched {
	struct context ctx;	/* the scheduler loop, while a thread runs */
	struct thread *current; /* the thread running, or NULL */
	struct mm *active_mm;	/* the mm in satp (a reference), or NULL */
	bool need_resched;	/* the slice is used and others wait */
	bool in_loop;		/* sched_loop() runs on this hart */
	uint64_t slice_end;	/* rdtime() when the slice ends */
};

static struct hart_sched harts[MAX_HARTS];

struct spinlock sched_lock = SPINLOCK_INIT("sched");
struct thread *sched_lost[MAX_HARTS];

static struct thread *rq_head, *rq_tail;
static struct list_head sleepers = LIST_HEAD_INIT(sleepers);
static uint64_t idle_mask; /* harts waiting in wfi for work (under sched_lock) */
static int tick_id = -1;
static uint32_t pet_pending; /* a word: rv64 has no byte AMO */

static uint64_t slice_ticks(void)
{
	uint64_t hz = machine.timebase_hz ? machine.timebase_hz : 10000000;
	return hz * SCHED_SLICE_MS / 1000;
}

struct thread *current_thread(void) { return harts[cpuid()].current; }

bool sched_lock_irq(void)
{
	bool on = intr_off();
	spin_lock(&sched_lock);
	return on;
}

void sched_unlock_irq(bool was_on)
{
	spin_unlock(&sched_lock);
	if (was_on)
		intr_on();
}

static void enqueue(struct thread *t)
{
	t->next = NULL;
	if (rq_tail)
		rq_tail->next = t;
	else
		rq_head = t;
	rq_tail = t;
}

static struct thread *dequeue(void)
{
	struct thread *t = rq_head;
	if (t) {
		rq_head = t->next;
		if (!rq_head)
			rq_tail = NULL;
		t->next = NULL;
	}
	return t;
}

/* Wake one idle hart other than this one (sched_lock held). */
static void kick_one(void)
{
	uint64_t others = idle_mask & ~(1UL << cpuid());
	if (others)
		sbi_send_ipi(others & -others);
}

void sched_make_runnable(struct thread *t)
{
	t->state = THREAD_RUNNABLE;
	enqueue(t);
	kick_one();
}

/* Move the sleepers whose deadline passed to the run queue (sched_lock held). */
static void wake_expired(void)
{
	if (list_empty(&sleepers))
		return;
	uint64_t now = rdtime();
	struct thread *t, *tmp;
	list_for_each_entry_safe(t, tmp, &sleepers, sleepers)
	{
		if (t->wake_at <= now)
			sched_wake_thread(t);
	}
}

void sched_wake_thread(struct thread *t)
{
	if (t->state != THREAD_SLEEPING)
		return;
	if (t->wq) {
		struct thread **pp = &t->wq->head;
		while (*pp && *pp != t)
			pp = &(*pp)->next;
		if (*pp)
			*pp = t->next;
		t->wq = NULL;
	}
	if (t->wake_at) {
		list_del(&t->sleepers);
		t->wake_at = 0;
	}
	sched_make_runnable(t);
}

/* Program this hart's tick for the end of its slice or the first sleeper's
 * deadline, whichever comes first; none if idle with no sleeper. */
static void arm_next(struct hart_sched *hs)
{
	uint64_t next = hs->current ? hs->slice_end : UINT64_MAX;
	struct thread *t;
	list_for_each_entry(t, &sleepers, sleepers)
	{
		if (t->wake_at < next)
			next = t->wake_at;
	}
	if (next == UINT64_MAX)
		timer_cancel(tick_id);
	else
		timer_arm(tick_id, next);
}

static void pet_if_asked(void)
{
	if (cpuid() == boot_hart() && __atomic_exchange_n(&pet_pending, 0, __ATOMIC_ACQ_REL))
		ktest_watchdog_pet();
}

void sched_pet_watchdog(void)
{
	if (cpuid() == boot_hart()) {
		ktest_watchdog_pet();
		return;
	}
	__atomic_store_n(&pet_pending, 1, __ATOMIC_RELEASE);
	sbi_send_ipi(1UL << boot_hart());
}

/* The timer: a slice ended, or a sleeper's deadline passed (interrupts off). */
static void on_tick(struct trap_frame *tf)
{
	(void)tf;
	struct hart_sched *hs = &harts[cpuid()];
	if (!hs->in_loop)
		return; /* a late tick after the loop ended: nothing to do, not re-armed */
	spin_lock(&sched_lock);
	wake_expired();
	if (hs->current && rdtime() >= hs->slice_end) {
		if (rq_head)
			hs->need_resched = true;
		hs->slice_end = rdtime() + slice_ticks();
	}
	arm_next(hs);
	spin_unlock(&sched_lock);
	pet_if_asked();
}

void sched(void)
{
	struct hart_sched *hs = &harts[cpuid()];
	struct thread *t = hs->current;
	if (!t || !spin_holding(&sched_lock) || spin_held_count() != 1 || (csr_read(sstatus) & SSTATUS_SIE))
		panic("sched: called without a thread, with locks other than sched_lock (%d held), "
		      "or with interrupts on",
		      spin_held_count());
	swtch(&t->ctx, &hs->ctx);
	/* Back, possibly on another hart: hs is stale now. */
}

void sched_yield_now(void)
{
	bool on = sched_lock_irq();
	struct thread *t = harts[cpuid()].current;
	harts[cpuid()].need_resched = false;
	t->state = THREAD_RUNNABLE;
	enqueue(t);
	sched();
	sched_unlock_irq(on);
}

static bool should_exit(struct thread *t)
{
	return __atomic_load_n(&t->exiting, __ATOMIC_ACQUIRE) ||
	       __atomic_load_n(&t->proc->killed, __ATOMIC_ACQUIRE);
}

bool current_killed(void)
{
	struct thread *t = current_thread();
	return t && should_exit(t);
}

int sched_sleep_until(uint64_t deadline)
{
	struct thread *t = current_thread();
	bool on = sched_lock_irq();
	if (!should_exit(t) && rdtime() < deadline) {
		t->wake_at = deadline;
		list_add_tail(&t->sleepers, &sleepers);
		t->state = THREAD_SLEEPING;
		sched();
	}
	sched_unlock_irq(on);
	return should_exit(t) ? -EINTR : 0;
}

/* Make @mm this hart's address space (NULL: the kernel's), holding a
 * reference to it and dropping the one to the old. By the hart rule (file
 * comment) the old mm's put is never the last, so this may run under
 * sched_lock; interrupts are off (hs is this hart's). */
static void hart_use_mm(struct hart_sched *hs, struct mm *mm)
{
	struct mm *old = hs->active_mm;
	if (old == mm)
		return;
	if (mm)
		mm_get(mm);
	mm_activate(mm);
	hs->active_mm = mm;
	if (old)
		mm_put(old);
}

/* Run @t on this hart until it gives the hart back; sched_lock is held on
 * entry and on return. @return whether @t is dead (the caller frees it). */
static bool run_thread(struct hart_sched *hs, struct thread *t)
{
	t->state = THREAD_RUNNING;
	t->hart = cpuid();
	hs->current = t;
	hs->need_resched = false;
	hs->slice_end = rdtime() + slice_ticks();
	arm_next(hs);
	hart_use_mm(hs, t->mm);
	swtch(&hs->ctx, &t->ctx);
	hs->current = NULL;
	/* Read under sched_lock: once it is released, a thread that only
	 * yielded or slept may be run by another hart, exit there and be freed
	 * by it. (Reading the state after the unlock let two harts free one
	 * thread: "kstack_free: stack slot ... was not mapped".) */
	return t->state == THREAD_DEAD;
}

void sched_switch_mm(struct mm *mm)
{
	bool on = intr_off();
	hart_use_mm(&harts[cpuid()], mm);
	if (on)
		intr_on();
}

void sched_recover_hart(void)
{
	int me = cpuid();
	struct hart_sched *hs = &harts[me];
	if (hs->current) {
		sched_lost[me] = hs->current;
		hs->current = NULL;
	}
	hs->in_loop = false;
	hs->need_resched = false;
	/* Not the last put: the lost thread, if any, still holds its mm. */
	hart_use_mm(hs, NULL);
}

void sched_loop(bool (*done)(void *arg), void *arg)
{
	bool was_on = intr_off();
	int me = cpuid();
	struct hart_sched *hs = &harts[me];
	sched_recover_hart();
	hs->in_loop = true;
	spin_lock(&sched_lock);
	for (;;) {
		wake_expired();
		struct thread *t = dequeue();
		if (t) {
			if (run_thread(hs, t)) {
				/* Its exit left the mm already (exit_mm); the
				 * stack it ran on is free to go now. */
				hart_use_mm(hs, NULL);
				spin_unlock(&sched_lock);
				thread_free(t);
				spin_lock(&sched_lock);
			}
			continue; /* the next thread, with the lock still held: the hart rule */
		}
		/* Nothing to run: leave the last thread's mm before the lock goes. */
		hart_use_mm(hs, NULL);
		if (done(arg)) {
			/* The others waiting in wfi re-check too: the condition
			 * may have come true with no process freed (the
			 * clean-up's "nothing left to run"), so no kick came. */
			uint64_t others = idle_mask & ~(1UL << me);
			if (others)
				sbi_send_ipi(others);
			break;
		}
		idle_mask |= 1UL << me;
		arm_next(hs);
		spin_unlock(&sched_lock);
		pet_if_asked();
		/* Interrupts are off: an IPI or tick that came after the checks
		 * above is pending and ends the wfi at once (no lost wake-up);
		 * then the short window with interrupts on handles it. */
		wfi();
		intr_on();
		intr_off();
		spin_lock(&sched_lock);
		idle_mask &= ~(1UL << me);
	}
	spin_unlock(&sched_lock);
	hs->in_loop = false;
	timer_cancel(tick_id);
	if (was_on)
		intr_on();
}

bool sched_idle_locked(void)
{
	if (rq_head || !list_empty(&sleepers))
		return false;
	for (int h = 0; h < MAX_HARTS; h++)
		if (harts[h].current)
			return false;
	return true;
}

bool sched_run_stranded(struct thread *t)
{
	if (t->state != THREAD_RUNNABLE)
		return false;
	for (struct thread *q = rq_head; q; q = q->next)
		if (q == t)
			return false;
	for (int h = 0; h < MAX_HARTS; h++)
		if (harts[h].current == t)
			return false;
	sched_make_runnable(t);
	return true;
}

void sched_kick_idle(void)
{
	bool on = sched_lock_irq();
	uint64_t others = idle_mask & ~(1UL << cpuid());
	if (others)
		sbi_send_ipi(others);
	sched_unlock_irq(on);
}

void sched_user_exit(struct trap_frame *tf)
{
	(void)tf;
	struct thread *t = current_thread();
	if (!t)
		return;
	pet_if_asked();
	if (harts[cpuid()].need_resched)
		sched_yield_now();
	if (should_exit(t))
		thread_exit(0); /* the status, if it matters, was set by whoever killed it */
}

static int sched_init(void)
{
	tick_id = timer_register(on_tick);
	return tick_id < 0 ? tick_id : 0;
}
initcall(INIT_PROC, sched_init);
