/*
 * _start: the entry point of every user program.
 *
 * The kernel's execve lays out the stack as Linux does (System V ABI,
 * RISC-V psABI "Process Initialization"): at sp, argc; then argv[0..argc-1],
 * NULL; then envp[...], NULL; then the auxiliary vector. sp is 16-byte
 * aligned. We call main(argc, argv, envp) and exit (exit_group) with what it
 * returns, as glibc's __libc_start_main does.
 */
	.section .text._start, "ax"
	.globl	_start
	.type	_start, @function
_start:
	li	fp, 0			/* end of the frame-pointer chain */
	li	ra, 0
	ld	a0, 0(sp)		/* argc */
	addi	a1, sp, 8		/* argv */
	slli	a2, a0, 3
	add	a2, a2, a1
	addi	a2, a2, 8		/* envp = argv + argc + 1 */
	la	t0, environ
	sd	a2, 0(t0)
	call	main
	call	exit			/* never returns */
1:	j	1b
	.size	_start, . - _start

	.section .bss
	.balign	8
	.globl	environ
environ:
	.dword	0

/*
 * GCC puts 8-byte constants (memset's 0x0101...) in .srodata.cst8, which
 * the default linker script places in the output section .sdata. With no
 * writable input there, .sdata is read-only and ld lets it join the text
 * segment, which .sbss and .bss then extend: one RWX segment. One writable
 * word in .sdata makes it a data section again, so text (r-x) and data
 * (rw-) stay on separate pages (W^X).
 */
	.section .sdata, "aw"
	.balign	8
__sdata_is_writable:
	.dword	1
