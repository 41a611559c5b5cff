/*
 * Memory probes: each may fault on exactly one instruction, listed in
 * __ex_table with the address to resume at (Linux's exception tables).
 * probe_fixup() in probe.c finds the entry and resumes there with -EFAULT.
 */
#include "errno.h"

	.macro extable insn, fixup
	.pushsection __ex_table, "a"
	.balign 8
	.dword \insn, \fixup
	.popsection
	.endm

	.section .text
	.globl probe_read64
probe_read64:		/* a0 = addr, a1 = out */
1:	ld	t0, 0(a0)
	sd	t0, 0(a1)
	li	a0, 0
	ret
2:	li	a0, -EFAULT
	ret
	extable 1b, 2b

	.globl probe_write8
probe_write8:		/* a0 = addr, a1 = byte */
1:	sb	a1, 0(a0)
	li	a0, 0
	ret
2:	li	a0, -EFAULT
	ret
	extable 1b, 2b

	.globl probe_exec
probe_exec:		/* a0 = address of a `ret` */
	addi	sp, sp, -16
	sd	ra, 8(sp)
	/* A fetch fault reports sepc = the target, not an instruction of
	 * ours, so no __ex_table entry can match: instead this hart's slot in
	 * probe_exec_resume[] says where to resume, and probe.c looks there. */
	la	t2, probe_exec_resume
	slli	t3, tp, 3
	add	t2, t2, t3
	la	t0, 2f
	sd	t0, 0(t2)
	jalr	a0		/* a `ret` there comes back to the next line */
	li	a0, 0
	j	3f
2:	li	a0, -EFAULT
3:	la	t2, probe_exec_resume
	slli	t3, tp, 3
	add	t2, t2, t3
	sd	zero, 0(t2)
	ld	ra, 8(sp)
	addi	sp, sp, 16
	ret
