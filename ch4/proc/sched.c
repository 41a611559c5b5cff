/*
 * The scheduler: one run queue for every hart (FIFO: round robin), each
 * hart's scheduler loop, sched() and yield, the tick that ends a slice and
 * wakes sleepers, and the exit-to-user hook that preempts. sched.h says
 * how the locking works.
 *
 * Each hart keeps the address space it last ran in satp (and a reference to
 * it, Linux's active_mm with mmgrab), so that switching between threads of
 * one mm, or back to the same thread, costs no satp write; it drops it when
 * it goes idle. So the last mm_put() of an address space happens only once
 * no hart has it in satp (mm_put()'s precondition).
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

/* Switch this hart to @mm (NULL: the kernel's space), keeping a reference
 * to it and dropping the one to the old (which may free it: this hart has
 * left it, so mm_put()'s precondition holds). Not under sched_lock. */
static void switch_mm(struct hart_sched *hs, struct mm *mm)
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

/* Run @t on this hart until it gives the hart back (sched_lock held on
 * entry and released on return). The address space is switched with the
 * lock dropped: @t is RUNNING and ours, in no queue, so nobody touches it. */
static void run_thread(struct hart_sched *hs, struct thread *t)
{
	t->state = THREAD_RUNNING;
	t->hart = cpuid();
	hs->current = t;
	hs->need_resched = false;
	hs->slice_end = rdtime() + slice_ticks();
	arm_next(hs);
	if (hs->active_mm != t->mm) {
		spin_unlock(&sched_lock);
		switch_mm(hs, t->mm);
		spin_lock(&sched_lock);
	}
	swtch(&hs->ctx, &t->ctx);
	hs->current = NULL;
	spin_unlock(&sched_lock);
	if (t->state == THREAD_DEAD) {
		/* Its mm's last users are this hart and the thread: let it go
		 * now rather than at the next switch, so that whoever waits for
		 * the process finds every frame back (wait4 reaps only once the
		 * threads are freed: proc_put()). */
		if (hs->active_mm == t->mm && __atomic_load_n(&t->mm->refs, __ATOMIC_ACQUIRE) == 2)
			switch_mm(hs, NULL);
		thread_free(t);
	}
}

void sched_switch_mm(struct mm *mm)
{
	bool on = intr_off();
	struct hart_sched *hs = &harts[cpuid()];
	switch_mm(hs, mm);
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
	switch_mm(hs, NULL);
}

void sched_loop(bool (*done)(void *arg), void *arg)
{
	bool was_on = intr_off();
	int me = cpuid();
	struct hart_sched *hs = &harts[me];
	sched_recover_hart();
	hs->in_loop = true;
	for (;;) {
		spin_lock(&sched_lock);
		wake_expired();
		struct thread *t = dequeue();
		if (t) {
			run_thread(hs, t);
			continue;
		}
		if (done(arg)) {
			spin_unlock(&sched_lock);
			break;
		}
		idle_mask |= 1UL << me;
		arm_next(hs);
		spin_unlock(&sched_lock);
		switch_mm(hs, NULL); /* idle: the mm may go away meanwhile */
		pet_if_asked();
		/* Interrupts are off: an IPI or tick that came after the checks
		 * above is pending and ends the wfi at once (no lost wake-up);
		 * then the short window with interrupts on handles it. */
		wfi();
		intr_on();
		intr_off();
		spin_lock(&sched_lock);
		idle_mask &= ~(1UL << me);
		spin_unlock(&sched_lock);
	}
	hs->in_loop = false;
	timer_cancel(tick_id);
	switch_mm(hs, NULL);
	if (was_on)
		intr_on();
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
