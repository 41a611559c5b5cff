/**
 * @file trap.h
 * @brief Supervisor traps: one vector, handlers registered per cause.
 *
 * common/boot/trapvec.S saves every register into a struct trap_frame on the
 * current stack and calls trap_dispatch(). Handlers registered for the cause
 * run in registration order until one returns true. If none does, a fault
 * inside a probe (probe.h) returns -EFAULT from the probe; a fault inside a
 * test fails that test; anything else is a panic that names scause, sepc and
 * stval.
 */
#ifndef MMLAB_TRAP_H
#define MMLAB_TRAP_H

#include "asmdefs.h"
#include "types.h"

/** Registers at the time of the trap, as trapvec.S saves them. */
struct trap_frame {
	uint64_t regs[32]; /**< x0..x31; regs[2] is sp, regs[10] is a0. */
	uint64_t sepc;     /**< Where the trap happened; sret returns here. */
	uint64_t sstatus;  /**< sstatus at the trap. */
	uint64_t scause;   /**< Why (riscv.h CAUSE_* / SCAUSE_INTERRUPT). */
	uint64_t stval;    /**< The faulting address, for faults. */
};

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

/** A short name for @p scause ("store page fault"). */
const char *trap_cause_name(uint64_t scause);

/**
 * Hook for the test runner, given the trap frame @p tf of an unhandled fault:
 * if it returns, the trap was not a test's; if a test was running, it fails
 * the test and does not return.
 */
void ktest_on_fault(struct trap_frame *tf);

#endif
