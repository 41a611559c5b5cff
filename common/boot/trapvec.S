/*
 * The supervisor trap vector (stvec, direct mode). Saves every register into
 * a struct trap_frame (trap.h) on the current stack, calls trap_dispatch(),
 * and restores them, a0 and sepc included, so that a handler may change
 * where and with what the interrupted code resumes (probe fix-ups do).
 * Kernel traps only: ch4 adds the switch from a user stack.
 *
 * Before pushing anything it checks for a kernel stack overflow: if sp is on
 * a hart stack and is in, or the frame would land in, that stack's guard
 * page, pushing it would fault again, forever (once ch3 unmaps the guard).
 * Instead it moves to this hart's small overflow stack and panics with what
 * it knows.
 */
#include "asmdefs.h"

#define FRAME_SIZE (36 * 8)
#define SEPC 32
#define SSTATUS 33
#define SCAUSE 34
#define STVAL 35

	.section .text
	.globl trap_vector
	.balign 4
trap_vector:
	csrw	sscratch, t0		/* one register to think with */
	la	t0, hart_stacks
	bltu	sp, t0, 1f
	la	t0, hart_stacks_end
	bgeu	sp, t0, 1f
	/* Which page of its 32 KiB hart region the frame's lowest byte, then
	 * the byte just below sp, falls in: page 0 is the guard. Both, since a
	 * large stack frame can move sp into the guard less than FRAME_SIZE
	 * above its bottom, and the frame would then land in the region below
	 * (another hart's stack). */
	addi	t0, sp, -FRAME_SIZE
	slli	t0, t0, 64 - HART_STACK_SHIFT
	srli	t0, t0, 64 - HART_STACK_SHIFT + 12
	beqz	t0, stack_overflow
	addi	t0, sp, -1
	slli	t0, t0, 64 - HART_STACK_SHIFT
	srli	t0, t0, 64 - HART_STACK_SHIFT + 12
	beqz	t0, stack_overflow
1:	csrr	t0, sscratch
	csrw	sscratch, zero
	addi	sp, sp, -FRAME_SIZE
	sd	x1, 1*8(sp)
	sd	x3, 3*8(sp)
	sd	x4, 4*8(sp)
	sd	x5, 5*8(sp)
	sd	x6, 6*8(sp)
	sd	x7, 7*8(sp)
	sd	x8, 8*8(sp)
	sd	x9, 9*8(sp)
	sd	x10, 10*8(sp)
	sd	x11, 11*8(sp)
	sd	x12, 12*8(sp)
	sd	x13, 13*8(sp)
	sd	x14, 14*8(sp)
	sd	x15, 15*8(sp)
	sd	x16, 16*8(sp)
	sd	x17, 17*8(sp)
	sd	x18, 18*8(sp)
	sd	x19, 19*8(sp)
	sd	x20, 20*8(sp)
	sd	x21, 21*8(sp)
	sd	x22, 22*8(sp)
	sd	x23, 23*8(sp)
	sd	x24, 24*8(sp)
	sd	x25, 25*8(sp)
	sd	x26, 26*8(sp)
	sd	x27, 27*8(sp)
	sd	x28, 28*8(sp)
	sd	x29, 29*8(sp)
	sd	x30, 30*8(sp)
	sd	x31, 31*8(sp)
	addi	t0, sp, FRAME_SIZE
	sd	t0, 2*8(sp)		/* sp as it was before the trap */
	csrr	t0, sepc
	sd	t0, SEPC*8(sp)
	csrr	t0, sstatus
	sd	t0, SSTATUS*8(sp)
	csrr	t0, scause
	sd	t0, SCAUSE*8(sp)
	csrr	t0, stval
	sd	t0, STVAL*8(sp)

	mv	a0, sp
	call	trap_dispatch

	ld	t0, SEPC*8(sp)
	csrw	sepc, t0
	ld	t0, SSTATUS*8(sp)
	csrw	sstatus, t0
	ld	x1, 1*8(sp)
	ld	x3, 3*8(sp)
	ld	x4, 4*8(sp)
	ld	x5, 5*8(sp)
	ld	x6, 6*8(sp)
	ld	x7, 7*8(sp)
	ld	x8, 8*8(sp)
	ld	x9, 9*8(sp)
	ld	x10, 10*8(sp)
	ld	x11, 11*8(sp)
	ld	x12, 12*8(sp)
	ld	x13, 13*8(sp)
	ld	x14, 14*8(sp)
	ld	x15, 15*8(sp)
	ld	x16, 16*8(sp)
	ld	x17, 17*8(sp)
	ld	x18, 18*8(sp)
	ld	x19, 19*8(sp)
	ld	x20, 20*8(sp)
	ld	x21, 21*8(sp)
	ld	x22, 22*8(sp)
	ld	x23, 23*8(sp)
	ld	x24, 24*8(sp)
	ld	x25, 25*8(sp)
	ld	x26, 26*8(sp)
	ld	x27, 27*8(sp)
	ld	x28, 28*8(sp)
	ld	x29, 29*8(sp)
	ld	x30, 30*8(sp)
	ld	x31, 31*8(sp)
	addi	sp, sp, FRAME_SIZE
	sret

/* The stack is gone: no frame, no return. kernel_stack_overflow(sepc,
 * stval, scause, sp, ra, fp) panics from this hart's overflow stack. */
stack_overflow:
	mv	a3, sp
	mv	a4, ra
	mv	a5, s0
	la	t0, overflow_stacks
	addi	sp, tp, 1
	slli	sp, sp, 12		/* (hart + 1) * 4096: this hart's stack top */
	add	sp, sp, t0
	csrr	a0, sepc
	csrr	a1, stval
	csrr	a2, scause
	call	kernel_stack_overflow
1:	wfi
	j	1b
