/*
 * The supervisor trap vector (stvec, direct mode). Saves every register into
 * a struct trap_frame (trap.h), calls trap_dispatch(), and restores them,
 * a0 and sepc included, so that a handler may change where and with what the
 * interrupted code resumes (probe fix-ups and system calls do).
 *
 * Which stack the frame goes on depends on where the trap came from, and
 * sscratch says which (the convention of Linux's riscv entry.S):
 *  - sscratch == 0: the trap came from the kernel. The frame goes on the
 *    current stack, below sp.
 *  - sscratch != 0: the trap came from user mode, and sscratch is the top of
 *    the running thread's kernel stack. The frame goes at that top; the
 *    user's sp is saved in it, and sscratch is 0 again while the kernel runs.
 * The way back (trap_return) sets sscratch to the frame's top again when it
 * returns to user mode, so the next user trap finds the same stack, and
 * stores the kernel's tp (the hart id, smp.h) in the frame, since user code
 * owns tp (its thread pointer) and the kernel must get its own back.
 *
 * Before pushing anything on a kernel stack it checks for an overflow: if
 * sp is on a hart stack (or in the region of other kernel stacks laid out the
 * same way, trap_set_stack_region()) and is in, or the frame would land in,
 * that stack's guard page, pushing it would fault again, forever (once ch3
 * unmaps the guard). Instead it moves to this hart's small overflow stack
 * and panics with what it knows.
 */
#include "asmdefs.h"

#define FRAME_SIZE (38 * 8)	/* sizeof(struct trap_frame), a multiple of 16 */
#define SEPC 32
#define SSTATUS 33
#define SCAUSE 34
#define STVAL 35
#define KERNEL_TP 36
#define SSTATUS_SPP (1 << 8)
#define SSTATUS_SIE (1 << 1)

/* Store x1 and x3..x31 (not sp) into the frame at sp. */
.macro SAVE_GPRS
	sd	x1, 1*8(sp)
	.irp	n, 3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	sd	x\n, \n*8(sp)
	.endr
.endm

/* Load x1 and x3..x31 (not sp) from the frame at sp. */
.macro LOAD_GPRS
	ld	x1, 1*8(sp)
	.irp	n, 3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	ld	x\n, \n*8(sp)
	.endr
.endm

/* Is sp (or the frame about to be pushed below it) in the guard page of a
 * stack in [\lo, \hi)? Jumps to stack_overflow if so. Uses t0 only. */
.macro CHECK_GUARD lo, hi
	la	t0, \lo
	ld	t0, 0(t0)
	bltu	sp, t0, 8f
	la	t0, \hi
	ld	t0, 0(t0)
	bgeu	sp, t0, 8f
	/* Which page of its 32 KiB region the frame's lowest byte, then the
	 * byte just below sp, falls in: page 0 is the guard. Both, since a
	 * large stack frame can move sp into the guard less than FRAME_SIZE
	 * above its bottom, and the frame would then land in the region below
	 * (another stack). */
	addi	t0, sp, -FRAME_SIZE
	slli	t0, t0, 64 - HART_STACK_SHIFT
	srli	t0, t0, 64 - HART_STACK_SHIFT + 12
	beqz	t0, stack_overflow
	addi	t0, sp, -1
	slli	t0, t0, 64 - HART_STACK_SHIFT
	srli	t0, t0, 64 - HART_STACK_SHIFT + 12
	beqz	t0, stack_overflow
8:
.endm

	.section .text
	.globl trap_vector
	.balign 4
trap_vector:
	csrrw	sp, sscratch, sp	/* from user: sp = kernel stack top */
	bnez	sp, from_user
	csrrw	sp, sscratch, sp	/* from the kernel: as it was, sscratch 0 */

	csrw	sscratch, t0		/* one register to think with */
	CHECK_GUARD hart_stacks_lo, hart_stacks_hi
	CHECK_GUARD stack_region_lo, stack_region_hi
	csrr	t0, sscratch
	csrw	sscratch, zero
	addi	sp, sp, -FRAME_SIZE
	SAVE_GPRS
	addi	t0, sp, FRAME_SIZE
	sd	t0, 2*8(sp)		/* sp as it was before the trap */
	j	save_csrs

from_user:
	addi	sp, sp, -FRAME_SIZE
	SAVE_GPRS
	ld	tp, KERNEL_TP*8(sp)	/* the hart id, as trap_return left it */
	csrrw	t0, sscratch, zero	/* the user's sp; kernel from now on */
	sd	t0, 2*8(sp)

save_csrs:
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
	/* fall through */

/* Resume what the frame at sp describes: the kernel code that trapped, or
 * user mode (sstatus.SPP clear). Interrupts stay off from here to sret. */
	.globl trap_return
trap_return:
	csrci	sstatus, SSTATUS_SIE
	ld	t0, SSTATUS*8(sp)
	andi	t0, t0, SSTATUS_SPP
	bnez	t0, 1f
	addi	t0, sp, FRAME_SIZE
	csrw	sscratch, t0		/* where the next user trap saves its frame */
	sd	tp, KERNEL_TP*8(sp)
1:	ld	t0, SEPC*8(sp)
	csrw	sepc, t0
	ld	t0, SSTATUS*8(sp)
	csrw	sstatus, t0
	LOAD_GPRS
	ld	sp, 2*8(sp)
	sret

/* Enter user mode with the frame a0 points to (trap_return_to_user(), trap.h). */
	.globl trap_return_to_user
trap_return_to_user:
	mv	sp, a0
	j	trap_return

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

/* The bounds CHECK_GUARD compares sp with: the hart stacks, and one more
 * region that trap_set_stack_region() sets (empty until then). */
	.section .data
	.balign 8
hart_stacks_lo:
	.dword	hart_stacks
hart_stacks_hi:
	.dword	hart_stacks_end
	.globl stack_region_lo, stack_region_hi
stack_region_lo:
	.dword	0
stack_region_hi:
	.dword	0
