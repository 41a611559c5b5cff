/**
 * @file backtrace.h
 * @brief Walk the kernel stack by frame pointers, and print the calls symbolized.
 *
 * The kernel is built with -fno-omit-frame-pointer, so every function that
 * makes a frame keeps, just below its frame pointer fp (s0, the sp it was
 * entered with), the return address at fp - 8 and its caller's fp at fp - 16.
 * A leaf function (one that calls nothing) may save only the caller's fp, at
 * fp - 8: when the first frame's fp - 8 holds what looks like a stack address
 * rather than code, the unwinder takes it for that fp and the caller's pc from
 * the ra register (as Linux's arch/riscv/kernel/stacktrace.c does).
 *
 * A corrupt stack must never make the unwinder fault or loop: every frame
 * record it reads lies inside the stack that holds sp (a hart stack, a hart's
 * overflow stack, or a stack a later layer registered), fp is 8-aligned and
 * strictly increasing, each return address lies in the kernel's code, and it
 * stops after BACKTRACE_MAX_DEPTH frames.
 */
#ifndef MMLAB_BACKTRACE_H
#define MMLAB_BACKTRACE_H

#include "types.h"

/** At most this many frames, the first included, are collected or printed. */
#define BACKTRACE_MAX_DEPTH 16

/**
 * Collect the call chain of the code stopped at @p pc with registers @p ra,
 * @p fp (s0) and @p sp: pcs[0] = @p pc, then the return address of each
 * frame, innermost first, at most min(@p max, BACKTRACE_MAX_DEPTH) of them.
 * @p ra may be 0 when unknown (it is used only for a leaf first frame).
 * @return how many entries of @p pcs were written (1 if @p max > 0 and no frame
 * could be unwound; 0 if @p max <= 0).
 */
int backtrace_collect(vaddr_t pc, vaddr_t ra, vaddr_t fp, vaddr_t sp, vaddr_t *pcs, int max);

/**
 * Print the chain backtrace_collect() finds from @p pc, @p ra, @p fp and
 * @p sp, one line per frame, each line starting with @p prefix: first
 * `<prefix><pc symbolized>`, then `<prefix>  called from <return address
 * symbolized>` (ksym_snprint(), ksym_snprint_ret()). At most
 * BACKTRACE_MAX_DEPTH lines, through printk().
 */
void backtrace_print(const char *prefix, vaddr_t pc, vaddr_t ra, vaddr_t fp, vaddr_t sp);

/**
 * The pc, frame pointer and stack pointer of the code that expands it, in
 * the three vaddr_t lvalues given: for backtrace_collect() and
 * backtrace_print() of the current function (with ra = 0).
 */
#define BACKTRACE_HERE(pc, fp, sp)                                                                           \
	do {                                                                                                 \
		__asm__ volatile("auipc %0, 0\n\tmv %1, sp" : "=r"(pc), "=r"(sp));                           \
		(fp) = (vaddr_t)__builtin_frame_address(0);                                                  \
	} while (0)

/**
 * A function that says which stack holds @p sp: true, with [*@p lo, *@p hi)
 * the stack's bytes (mapped, 8-aligned), if it is one of its stacks.
 */
typedef bool (*backtrace_stack_fn)(vaddr_t sp, vaddr_t *lo, vaddr_t *hi);

/**
 * Teach the unwinder more stacks: @p fn is asked (after the hart stacks and
 * the overflow stacks, which it knows) for an sp on none of those. For
 * stacks common/ does not know, such as ch4's per-thread kernel stacks; up to
 * 4 functions.
 * @return 0, -EINVAL if @p fn is NULL, -ENOSPC if 4 are registered.
 */
int backtrace_register_stack_lookup(backtrace_stack_fn fn);

/**
 * Forget a function registered with backtrace_register_stack_lookup().
 * @return 0, or -ENOENT if @p fn is not registered.
 */
int backtrace_unregister_stack_lookup(backtrace_stack_fn fn);

/**
 * The stack that holds @p sp: true with its bounds [*@p lo, *@p hi), false if
 * no known stack holds it. A hart stack's guard page is not part of it.
 */
bool backtrace_stack_bounds(vaddr_t sp, vaddr_t *lo, vaddr_t *hi);

#endif
