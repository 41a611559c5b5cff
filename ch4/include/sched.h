/**
 * @file sched.h
 * @brief Threads, their kernel stacks, the context switch and the
 *        round-robin scheduler (given machinery, ch4/proc/).
 *
 * A thread is a kernel stack (with a guard page below it, kstack.c) whose
 * top holds the thread's user registers (struct trap_frame), plus a saved
 * kernel context (struct context: ra, sp, s0-s11, as xv6's swtch saves).
 * Every hart runs sched_loop() (as on_each_hart() work): it takes the first
 * thread of one global run queue, switches the hart to the thread's mm and
 * swtch()es to it; the thread comes back with sched() when it blocks,
 * yields or exits. Preemption happens only on the way back to user mode
 * (sched_user_exit(), Linux's exit_to_user_mode): the timer tick marks the
 * running thread's slice as used, and the hook yields. The kernel itself is
 * not preemptible, so kernel code needs no preemption counting.
 *
 * Locking: one spinlock, sched_lock, guards the run queue, every thread's
 * state, the wait queues and the sleepers; it is always taken with
 * interrupts off (the tick takes it in the interrupt handler). A thread
 * holds it across swtch() into its hart's scheduler, which releases it (and
 * the other way round), as xv6 holds p->lock across swtch.
 *
 * Reference: xv6-riscv kernel/proc.c (scheduler, sched, yield, sleep,
 * wakeup) and kernel/swtch.S; Linux kernel/sched/core.c (schedule,
 * __schedule's context_switch with mmgrab of the active mm).
 */
#ifndef MMLAB_SCHED_H
#define MMLAB_SCHED_H

#include "list.h"
#include "proc.h"
#include "spinlock.h"
#include "trap.h"
#include "types.h"

/** The length of a time slice: 10 ms. */
#define SCHED_SLICE_MS 10

/** The first byte of the kernel-stack region (top 4 GiB of ch3's vmap range). */
#define KSTACK_REGION_BASE (0xffffffe000000000UL + 60UL * 0x40000000UL)
/** Stack slots in the region: threads that may exist at once. */
#define KSTACK_SLOTS 2048

/** Callee-saved registers of a kernel context (swtch.S's layout). */
struct context {
	uint64_t ra;	/**< Where swtch() returns to. */
	uint64_t sp;	/**< The kernel stack pointer. */
	uint64_t s[12]; /**< s0..s11. */
};

/** What a thread is doing. */
enum thread_state {
	THREAD_RUNNABLE, /**< In the run queue. */
	THREAD_RUNNING,	 /**< On a hart (thread::hart). */
	THREAD_SLEEPING, /**< On a wait queue or the sleepers' list. */
	THREAD_DEAD,	 /**< Exited: its hart's scheduler frees it after switching away. */
};

/** A thread: a kernel stack, a saved context, and its user registers. */
struct thread {
	struct context ctx;	   /**< Saved by swtch() while it does not run. */
	int tid;		   /**< Linux's thread id (the process's pid for its first thread). */
	enum thread_state state;   /**< Guarded by sched_lock. */
	int hart;		   /**< The hart it runs on (while THREAD_RUNNING). */
	struct proc *proc;	   /**< Its process (one reference). */
	struct mm *mm;		   /**< Its address space (one reference, mm_get()); NULL once it exited. */
	vaddr_t kstack;		   /**< The stack slot (kstack_alloc()): guard page, then the stack. */
	paddr_t kstack_pa;	   /**< The stack's frames (contiguous). */
	struct thread *next;	   /**< Link in the run queue or a wait queue. */
	struct wait_queue *wq;	   /**< The queue it sleeps on, or NULL. */
	uint64_t wake_at;	   /**< Sleeping with a deadline (rdtime ticks), else 0. */
	struct list_head sleepers; /**< Link in the sleepers' list while wake_at != 0. */
	struct list_head siblings; /**< Link in proc::threads. */
	bool exiting;		   /**< Must exit at its next way out of the kernel (exec killed it). */
	bool exited;		   /**< thread_exit_account() ran (under proc_lock): it runs once only. */
	vaddr_t clear_child_tid;   /**< CLONE_CHILD_CLEARTID: zeroed at exit, or 0. */
};

/** Thread @p t's user registers: the frame at the top of its kernel stack. */
struct trap_frame *thread_frame(struct thread *t);

/**
 * A new thread of @p proc running in @p mm (a reference is taken on both),
 * with a kernel stack and a zeroed user frame; not yet runnable.
 * @return the thread, or NULL if out of memory or of stack slots.
 */
struct thread *thread_create(struct proc *proc, struct mm *mm);

/** Free thread @p t, which never ran or is dead and switched away from. */
void thread_free(struct thread *t);

/**
 * Reserve a stack slot and map a kernel stack in it, a guard page below.
 * @param[out] pa  the physical address of the stack's frames.
 * @return the slot's first address (the guard page), or 0 if out of memory.
 */
vaddr_t kstack_alloc(paddr_t *pa);

/** Free a stack from kstack_alloc() of slot @p slot and frames @p pa: kept mapped in the cache
 *  of freed stacks if it has room, else unmapped and freed. */
void kstack_free(vaddr_t slot, paddr_t pa);

/** The top of the stack in slot @p slot (where the trap frame ends). */
static inline vaddr_t kstack_top(vaddr_t slot) { return slot + HART_STACK_STRIDE; }

/**
 * Tell trapvec.S about the stack region (trap_set_stack_region()).
 * @return 0, or its error.
 */
int kstack_region_register(void);

/** Stacks of live threads now, cached ones not counted (for tests). */
int kstack_nr_used(void);

/** Freed stacks kept mapped for the next threads (Linux's NR_CACHED_STACKS, per hart there). */
#define KSTACK_CACHE (2 * MAX_HARTS)

/**
 * Unmap and free every cached stack (kstack_free()): before counting free
 * frames, as kmalloc_shrink() gives back the heap's empty slabs.
 * @return the number of stacks freed.
 */
int kstack_cache_drain(void);

/** Save callee-saved registers in @p old, load @p new's (swtch.S, as xv6's). */
void swtch(struct context *old, const struct context *new);

/** The scheduler's lock (see the file comment). */
extern struct spinlock sched_lock;

/** Interrupts off, then take sched_lock. @return whether interrupts were on. */
bool sched_lock_irq(void);
/** Release sched_lock, and interrupts back on if @p was_on. */
void sched_unlock_irq(bool was_on);

/** Make @p t runnable and tell an idle hart. Caller holds sched_lock. */
void sched_make_runnable(struct thread *t);

/**
 * Give up the hart: the running thread has set its state (RUNNABLE and
 * queued, SLEEPING or DEAD) with sched_lock held and interrupts off; switch
 * to this hart's scheduler. Returns (sched_lock held) when it runs again.
 */
void sched(void);

/** Let the other runnable threads run first (sched_yield(2)). */
void sched_yield_now(void);

/**
 * Sleep until rdtime() reaches @p deadline, or the thread is killed.
 * @return 0, or -EINTR if killed.
 */
int sched_sleep_until(uint64_t deadline);

/**
 * Wake @p t if it sleeps (a kill): off its wait queue or the sleepers'
 * list, into the run queue. Caller holds sched_lock.
 */
void sched_wake_thread(struct thread *t);

/**
 * Run threads on this hart until @p done(@p arg) is true while nothing is
 * runnable; idle harts wait in wfi. For on_each_hart().
 */
void sched_loop(bool (*done)(void *arg), void *arg);

/**
 * The exit-to-user hook (trap_set_user_exit()), with the trap's frame @p tf:
 * exit a killed or exiting thread, yield if the slice is used, pet the watchdog on the boot hart.
 */
void sched_user_exit(struct trap_frame *tf);

/**
 * Ask the boot hart to pet the test watchdog (ktest_watchdog_pet() is boot
 * hart only): at once on the boot hart, else through a flag it checks in
 * its scheduler loop and on every way out to user mode, and an IPI.
 */
void sched_pet_watchdog(void);

/**
 * Switch the running thread's hart to @p mm (exec: the thread's mm was
 * replaced; exit: NULL, the kernel's space, before the thread drops its
 * mm), keeping the hart rule (sched.c): call it before the running thread
 * drops its reference to the old mm, so that the hart's put is not the last.
 */
void sched_switch_mm(struct mm *mm);

/** Wake every idle hart (so their loops re-check their end condition). */
void sched_kick_idle(void);

/**
 * Whether nothing is left to run: the run queue and the sleepers' list are
 * empty and no hart runs a thread. Caller holds sched_lock (a sched_loop()
 * end condition runs with it held). For the clean-up after an abandoned suite.
 */
bool sched_idle_locked(void);

/**
 * Queue @p t if it is runnable but on no run queue and on no hart (a clone
 * that was abandoned made it but never queued it). Caller holds sched_lock.
 * @return true if it was queued.
 */
bool sched_run_stranded(struct thread *t);

/** Threads that were running when their hart's work was abandoned; see sched_recover(). */
extern struct thread *sched_lost[MAX_HARTS];

/**
 * For a hart starting sched_loop() after a suite was abandoned (smp_stop_work()
 * or the watchdog's longjmp): the thread it was running can never resume
 * (its context is gone); move it to sched_lost[] and switch the hart back
 * to the kernel's address space.
 */
void sched_recover_hart(void);

#endif
