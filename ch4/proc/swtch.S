/*
 * swtch(old, new): the kernel context switch (xv6-riscv kernel/swtch.S).
 * Saves the callee-saved registers, ra and sp into *old (struct context,
 * sched.h) and loads them from *new; the ret then continues wherever new
 * called swtch() (or, for a new thread, at its first function). Every
 * other register is the caller's to save (the C calling convention); tp
 * is not switched: it is the hart id, and a thread may resume on another
 * hart than the one it left.
 */
	.section .text
	.globl swtch
	.balign 4
swtch:
	sd	ra, 0(a0)
	sd	sp, 8(a0)
	sd	s0, 16(a0)
	sd	s1, 24(a0)
	sd	s2, 32(a0)
	sd	s3, 40(a0)
	sd	s4, 48(a0)
	sd	s5, 56(a0)
	sd	s6, 64(a0)
	sd	s7, 72(a0)
	sd	s8, 80(a0)
	sd	s9, 88(a0)
	sd	s10, 96(a0)
	sd	s11, 104(a0)

	ld	ra, 0(a1)
	ld	sp, 8(a1)
	ld	s0, 16(a1)
	ld	s1, 24(a1)
	ld	s2, 32(a1)
	ld	s3, 40(a1)
	ld	s4, 48(a1)
	ld	s5, 56(a1)
	ld	s6, 64(a1)
	ld	s7, 72(a1)
	ld	s8, 80(a1)
	ld	s9, 88(a1)
	ld	s10, 96(a1)
	ld	s11, 104(a1)
	ret
