/**
 * @file ksetjmp.h
 * @brief setjmp/longjmp for the kernel (common/lib/setjmp.S).
 *
 * The test runner abandons a test that faulted or ran too long by jumping
 * back to where it started it, from inside the trap handler; an aborted
 * piece of on_each_hart() work returns to its hart's idle loop the same way.
 * The buffer holds ra, sp and s0..s11, the registers a call preserves.
 */
#ifndef MMLAB_KSETJMP_H
#define MMLAB_KSETJMP_H

#include "types.h"

/** Registers ksetjmp() saves: ra, sp, s0..s11. */
#define KJMP_REGS 14

/** Save the callee-saved registers in @p env. @return 0, or the value given to klongjmp(). */
int ksetjmp(uint64_t env[KJMP_REGS]) __attribute__((returns_twice));
/** Resume at the ksetjmp() that filled @p env, which then returns @p val (not 0). */
void klongjmp(uint64_t env[KJMP_REGS], int val) __attribute__((noreturn));

#endif
