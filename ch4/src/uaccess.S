/*
 * The raw user copies: byte loops whose every user access may fault. Each
 * such load and store is listed in __ex_table with a fix-up (Linux's
 * exception tables, as common/lib/probe.S's probes); probe_fixup() resumes
 * there, and the fix-up returns the bytes not copied. The caller sets
 * sstatus.SUM (uaccess.c). A byte loop is slow but simple; Linux's
 * arch/riscv/lib/uaccess.S copies word by word once aligned.
 */
	.macro extable insn, fixup
	.pushsection __ex_table, "a"
	.balign 8
	.dword \insn, \fixup
	.popsection
	.endm

	.section .text
/* size_t __copy_user(void *dst, const void *src, size_t len): a0, a1, a2 */
	.globl __copy_user
__copy_user:
	beqz	a2, 3f
1:	lb	t0, 0(a1)
2:	sb	t0, 0(a0)
	addi	a0, a0, 1
	addi	a1, a1, 1
	addi	a2, a2, -1
	bnez	a2, 1b
3:	mv	a0, a2		/* bytes left: 0, or where a fault stopped us */
	ret
	extable 1b, 3b
	extable 2b, 3b

/* size_t __clear_user(void *dst, size_t len): a0, a1 */
	.globl __clear_user
__clear_user:
	beqz	a1, 2f
1:	sb	zero, 0(a0)
	addi	a0, a0, 1
	addi	a1, a1, -1
	bnez	a1, 1b
2:	mv	a0, a1
	ret
	extable 1b, 2b
