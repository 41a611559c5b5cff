/**
 * @file trap.h
 * @brief Supervisor traps: one vector, handlers registered per cause.
 *
 * common/boot/trapvec.S saves every register into a struct trap_frame and
 * calls trap_dispatch(). Handlers registered for the cause run in
 * registration order until one returns true. If none does, a fault inside a
 * probe (probe.h) returns -EFAULT from the probe; a fault inside a test fails
 * that test; anything else is a panic that names scause, sepc and stval.
 *
 * User mode (ch4 on) uses the same vector and the same handlers; a handler
 * tells a user trap by trap_from_user(). The frame of a trap from user mode
 * sits at the top of the running thread's kernel stack, whose top the vector
 * finds in sscratch (0 while the kernel runs, as in Linux's riscv entry.S).
 * To run user code, a thread builds a frame at the top of its kernel stack
 * (trap_frame_init_user()) and calls trap_return_to_user(); each later trap
 * from user mode saves its frame at the same place and, after the handlers,
 * returns to user mode through it. After the handlers of any trap from user
 * mode, the hook set by trap_set_user_exit() runs (Linux's
 * exit_to_user_mode: rescheduling, signals). None of this changes satp:
 * every user page table holds the kernel's upper half.
 */
#ifndef MMLAB_TRAP_H
#define MMLAB_TRAP_H

#include "asmdefs.h"
#include "riscv.h"
#include "types.h"

/**
 * Registers at the time of the trap, as trapvec.S saves them (its offsets
 * follow this layout; trap.c checks them at compile time). For a trap from
 * user mode, regs[] are the user's registers (regs[2] the user sp, regs[4]
 * the user tp) and a handler's changes to them and to sepc are what user mode
 * resumes with: a system call's result goes in regs[10] (a0), and sepc += 4
 * steps over the ecall.
 */
struct trap_frame {
	uint64_t regs[32]; /**< x0..x31; regs[2] is sp, regs[10] is a0, regs[17] is a7. */
	uint64_t sepc;	   /**< Where the trap happened; sret returns here. */
	uint64_t sstatus;  /**< sstatus at the trap; SPP clear: from user mode. */
	uint64_t scause;   /**< Why (riscv.h CAUSE_* / SCAUSE_INTERRUPT). */
	uint64_t stval;	   /**< The faulting address, for faults. */
	/** The kernel's tp (the hart id) for the next trap from user mode; trapvec.S's. */
	uint64_t kernel_tp;
	uint64_t reserved; /**< Keeps the frame a multiple of 16 bytes (the stack's alignment). */
};

/** True if the trap of @p tf came from user mode (sstatus.SPP clear; spec 4.1.1). */
static inline bool trap_from_user(const struct trap_frame *tf) { return !(tf->sstatus & SSTATUS_SPP); }

/** A trap handler: return true if it handled the trap. */
typedef bool (*trap_handler_fn)(struct trap_frame *tf);

/**
 * Call @p fn for traps with scause @p cause (an exception code, or an interrupt
 * code | SCAUSE_INTERRUPT). Up to 4 handlers per cause, tried in order.
 * @return 0, -EINVAL for a cause out of range, -ENOSPC if 4 are registered.
 */
int trap_register(uint64_t cause, trap_handler_fn fn);

/**
 * Remove handler @p fn registered with trap_register() for @p cause.
 * @return 0, -EINVAL for a cause out of range, -ENOENT if @p fn is not registered.
 */
int trap_unregister(uint64_t cause, trap_handler_fn fn);

/** Install the trap vector on this hart. */
void trap_init_hart(void);

/**
 * Each hart's small stack for the panic after a kernel stack overflow
 * (trapvec.S moves to it when sp has run into a guard page); the unwinder
 * (backtrace.h) knows it as a stack.
 */
extern uint8_t overflow_stacks[MAX_HARTS][4096];

/**
 * Set up @p tf to enter user mode at @p pc with stack pointer @p sp: every
 * other register 0, sstatus with SPP clear (return to U-mode), SPIE set
 * (interrupts on after sret), SUM clear (the kernel must not touch user pages
 * by accident); the rest of sstatus as it is now.
 * @param tf  the frame; for trap_return_to_user(), at the top of the
 *            thread's kernel stack.
 * @param pc  user virtual address of the first instruction.
 * @param sp  user stack pointer (16-byte aligned, as the psABI asks).
 */
void trap_frame_init_user(struct trap_frame *tf, uint64_t pc, uint64_t sp);

/**
 * Enter user mode with the registers in @p tf (trapvec.S, the way every trap
 * from user mode returns): sepc, sstatus and all 31 registers come from the
 * frame, sscratch becomes the frame's top, so the next trap from user mode
 * saves its frame in the same place. Interrupts are off from the call to the
 * sret. Does not return: the thread comes back into the kernel only through
 * a trap.
 * @pre @p tf is at the top of the calling thread's kernel stack (the stack's
 *      top is `tf + 1`, 16-byte aligned), since the kernel runs on that stack
 *      during every trap from user mode; the page table in satp maps the
 *      user's code and stack with PTE_U; tf->sstatus has SPP clear.
 */
void trap_return_to_user(struct trap_frame *tf) __attribute__((noreturn));

/**
 * Set the function that runs after the handlers of every trap from user
 * mode, just before the return to user mode (with interrupts as the handlers
 * left them). ch4 reschedules and delivers pending kills there (Linux's
 * exit_to_user_mode()). It may change @p tf, and it may switch to another
 * thread, since each thread's frame lives on its own kernel stack.
 * @param fn  the hook, or NULL for none.
 */
void trap_set_user_exit(void (*fn)(struct trap_frame *tf));

/**
 * Tell trapvec.S's stack-overflow check about the kernel stacks that are not
 * hart stacks (ch4's thread stacks): [@p lo, @p hi) holds stacks laid out as
 * #hart_stacks are, HART_STACK_STRIDE-aligned slots of a guard page then the
 * stack, so that a trap whose frame would land in a guard page panics with
 * "kernel stack overflow" instead of faulting forever.
 * @return 0, or -EINVAL if @p lo or @p hi is not HART_STACK_STRIDE-aligned
 *         or @p lo > @p hi.
 */
int trap_set_stack_region(vaddr_t lo, vaddr_t hi);

/** A short name for @p scause ("store page fault"). */
const char *trap_cause_name(uint64_t scause);

/**
 * Hook for the test runner, given the trap frame @p tf of an unhandled fault:
 * if it returns, the trap was not a test's; if a test was running, it fails
 * the test and does not return.
 */
void ktest_on_fault(struct trap_frame *tf);

#endif
