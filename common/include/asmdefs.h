/**
 * @file asmdefs.h
 * @brief Constants shared by assembly and C (plain numbers, no C syntax).
 */
#ifndef MMLAB_ASMDEFS_H
#define MMLAB_ASMDEFS_H

#define MAX_HARTS	     8				/**< Largest hart id + 1 that the kernel runs. */
#define SATP_SV39	     (8 << 60)			/**< satp.MODE = Sv39. */
#define KERNEL_VA_OFFSET_ASM 0xffffffff00000000		/**< KERNEL_BASE - KERNEL_LOAD_PA. */
#define HART_STACK_SHIFT     15				/**< log2 of HART_STACK_STRIDE. */
#define HART_STACK_STRIDE    (1 << HART_STACK_SHIFT)	/**< 32 KiB a hart: a guard page, then the stack. */
#define KSTACK_SIZE	     (HART_STACK_STRIDE - 4096) /**< Bytes of stack per hart (28 KiB). */

/* Sv39 PTE bits (RISC-V privileged spec 4.4.1). */
#define PTE_V (1 << 0) /**< Valid. */
#define PTE_R (1 << 1) /**< Readable. */
#define PTE_W (1 << 2) /**< Writable. */
#define PTE_X (1 << 3) /**< Executable. */
#define PTE_U (1 << 4) /**< User-accessible. */
#define PTE_G (1 << 5) /**< Global (in every address space). */
#define PTE_A (1 << 6) /**< Accessed. */
#define PTE_D (1 << 7) /**< Dirty. */

#ifdef __ASSEMBLER__
#define KERNEL_VA_OFFSET KERNEL_VA_OFFSET_ASM
#endif

#endif
