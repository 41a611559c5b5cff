/*
 * int clone(int (*fn)(void *), void *stack, int flags, void *arg, ...):
 * glibc's wrapper around the raw clone system call (riscv64: flags, newsp,
 * parent_tid, child_tid, tls). The child starts on @stack, where the ecall
 * returns 0 in it: it calls fn(arg), then exits (SYS_exit, this thread only)
 * with what fn returned. Reference: glibc sysdeps/unix/sysv/linux/riscv/clone.S.
 *
 * The parent gets the child's tid, or -1 with errno set.
 */
#define SYS_exit  93
#define SYS_clone 220

	.section .text
	.globl	clone
	.type	clone, @function
clone:
	andi	a1, a1, -16		/* the psABI's 16-byte stack alignment */
	addi	a1, a1, -16
	sd	a0, 0(a1)		/* fn and arg travel on the child's stack */
	sd	a3, 8(a1)
	mv	a0, a2			/* flags */
	li	a2, 0			/* parent_tid */
	li	a3, 0			/* child_tid */
	li	a4, 0			/* tls */
	li	a7, SYS_clone
	ecall
	beqz	a0, 1f
	bltz	a0, 2f
	ret
2:	neg	a0, a0
	la	t0, errno
	sw	a0, 0(t0)
	li	a0, -1
	ret
1:	/* the child, on its new stack */
	li	fp, 0
	li	ra, 0
	ld	t0, 0(sp)
	ld	a0, 8(sp)
	jalr	t0
	li	a7, SYS_exit
	ecall
3:	j	3b
	.size	clone, . - clone

/*
 * long __thread_clone(unsigned long flags, void *sp): the raw clone for
 * thread_create(), which has put fn, arg and the thread's struct at sp.
 * The parent returns the raw result (tid or -errno); the child goes on at
 * __thread_start on the new stack.
 */
	.globl	__thread_clone
	.type	__thread_clone, @function
__thread_clone:
	li	a2, 0
	li	a3, 0
	li	a4, 0
	li	a7, SYS_clone
	ecall
	beqz	a0, __thread_start
	ret
	.size	__thread_clone, . - __thread_clone

/*
 * __thread_start: the child of __thread_clone. The new stack holds, from
 * sp: fn, arg, the address of the thread's struct.
 * It calls fn(arg), stores fn's result and then 1 in the done flag, and
 * exits this thread, touching the stack no more after the store, so that
 * thread_join() may free the stack as soon as it sees the flag.
 */
	.globl	__thread_start
	.type	__thread_start, @function
__thread_start:
	li	fp, 0
	li	ra, 0
	ld	t0, 0(sp)
	ld	a0, 8(sp)
	ld	s1, 16(sp)		/* the thread's struct: result at 0, done at 8 */
	jalr	t0
	sd	a0, 0(s1)
	fence	rw, w
	li	t0, 1
	sw	t0, 8(s1)
	li	a0, 0
	li	a7, SYS_exit
	ecall
4:	j	4b
	.size	__thread_start, . - __thread_start
