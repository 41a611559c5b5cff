/**
 * @file smp.h
 * @brief Harts: which one am I, and running a function on all of them.
 *
 * Every hart keeps its hart id in the tp register (as xv6 does), so cpuid()
 * is one move. Harts that have nothing to do wait in `wfi`, never spin: under
 * QEMU -icount a spinning hart would count into every benchmark.
 */
#ifndef MMLAB_SMP_H
#define MMLAB_SMP_H

#include "asmdefs.h"
#include "types.h"

/** This hart's id (0 .. MAX_HARTS-1). Stable while interrupts are off. */
static inline int cpuid(void)
{
#ifdef MMLAB_HOST
	return 0; /* host unit tests: one hart */
#else
	uint64_t id;
	__asm__ volatile("mv %0, tp" : "=r"(id));
	return (int)id;
#endif
}

/**
 * Each hart's stack, with a guard page below it (ch3 unmaps it). The array
 * is aligned to HART_STACK_STRIDE, a power of two, so an address's offset in
 * its hart's region says whether it lies in the guard page.
 */
struct hart_stack {
	uint8_t guard[4096];	    /**< Below the stack: an overflow lands here. */
	uint8_t stack[KSTACK_SIZE]; /**< The stack; sp starts at its top. */
};
/** Stacks of every hart, indexed by hart id (entry.S sets sp from here). */
extern struct hart_stack hart_stacks[MAX_HARTS];

/** Bit mask of the harts that are up and waiting for work (including the boot hart). */
uint64_t harts_online_mask(void);
/** Number of harts online. */
int harts_online(void);
/** Id of the hart that booted the kernel (and runs the tests). */
int boot_hart(void);
/**
 * Harts that entered the kernel at _start after the boot hart and were sent
 * the secondary way by entry.S's boot-hart lottery (OpenSBI v1.1 can start a
 * hart there before its start address is set). 0 on a normal boot.
 */
int smp_lottery_losers(void);

/**
 * Run @p fn (@p arg, hart) on every online hart at once, the caller's included, and
 * return when all have finished. Call only from the boot hart. Used by
 * concurrency tests: all harts start together, after a barrier.
 */
void on_each_hart(void (*fn)(void *arg, int hart), void *arg);

/** Stop every other hart (they park in wfi with interrupts off). For panic. */
void smp_stop_others(void);

struct trap_frame;

/** What smp_stop_work() found another hart doing. */
enum hart_activity {
	HART_IDLE,   /**< Not running work (or it finished meanwhile). */
	HART_BUSY,   /**< Running work: stopped, with its registers at the stop. */
	HART_SILENT, /**< Running work with interrupts off: no answer; left out from now on. */
};

/** What smp_stop_work() calls for each other online hart: @p tf is set for HART_BUSY only. */
typedef void (*hart_report_fn)(int hart, enum hart_activity what, const struct trap_frame *tf);

/**
 * For the test runner, when it abandons a test: stop the on_each_hart() work
 * still running on other harts. Each busy hart is interrupted (an IPI), and
 * @p report is called with its trap frame while it waits (so the caller may
 * read its stack for a backtrace); then it releases the spinlocks it held
 * and goes back to waiting for work. A hart that does not answer within
 * 2 s (interrupts off) is reported HART_SILENT and no longer counted
 * online. Call on the boot hart, with interrupts off.
 */
void smp_stop_work(hart_report_fn report);

/**
 * On a hart other than the boot hart that runs on_each_hart() work: give up
 * the work now (release this hart's spinlocks, count it as finished, return
 * to the idle loop). For the test runner, after a fault in a test's work
 * function; does nothing (returns) elsewhere.
 */
void smp_leave_work(void);

#endif
