/**
 * @file riscv.h
 * @brief Supervisor CSRs, fences and the few instructions C cannot express.
 *
 * Bit positions follow the RISC-V privileged spec (v1.12), chapter 4
 * "Supervisor-Level ISA".
 */
#ifndef MMLAB_RISCV_H
#define MMLAB_RISCV_H

#include "types.h"

/** Read CSR @p csr (a bare name such as sstatus). */
#define csr_read(csr)                                                                                        \
	({                                                                                                   \
		uint64_t _v;                                                                                 \
		__asm__ volatile("csrr %0, " #csr : "=r"(_v));                                               \
		_v;                                                                                          \
	})
/** Write @p val to CSR @p csr. */
#define csr_write(csr, val) __asm__ volatile("csrw " #csr ", %0" ::"rK"((uint64_t)(val)) : "memory")
/** Set the bits @p bits in CSR @p csr. */
#define csr_set(csr, bits) __asm__ volatile("csrs " #csr ", %0" ::"rK"((uint64_t)(bits)) : "memory")
/** Clear the bits @p bits in CSR @p csr. */
#define csr_clear(csr, bits) __asm__ volatile("csrc " #csr ", %0" ::"rK"((uint64_t)(bits)) : "memory")

/* sstatus (spec 4.1.1) */
#define SSTATUS_SIE  (1UL << 1)	 /**< Supervisor interrupts enabled. */
#define SSTATUS_SPIE (1UL << 5)	 /**< SIE before the trap. */
#define SSTATUS_SPP  (1UL << 8)	 /**< Trapped from S-mode (1) or U-mode (0). */
#define SSTATUS_SUM  (1UL << 18) /**< S-mode may touch U pages. */

/* sie / sip (spec 4.1.3) */
#define SIE_SSIE (1UL << 1) /**< Supervisor software interrupt (IPI). */
#define SIE_STIE (1UL << 5) /**< Supervisor timer interrupt. */
#define SIE_SEIE (1UL << 9) /**< Supervisor external interrupt. */

/* scause (spec 4.1.9) */
#define SCAUSE_INTERRUPT	  (1UL << 63) /**< Set for interrupts, clear for exceptions. */
#define CAUSE_MISALIGNED_FETCH	  0	      /**< Instruction address misaligned. */
#define CAUSE_FETCH_ACCESS	  1	      /**< Instruction access fault. */
#define CAUSE_ILLEGAL_INSTRUCTION 2	      /**< Illegal instruction. */
#define CAUSE_BREAKPOINT	  3	      /**< ebreak. */
#define CAUSE_MISALIGNED_LOAD	  4	      /**< Load address misaligned. */
#define CAUSE_LOAD_ACCESS	  5	      /**< Load access fault. */
#define CAUSE_MISALIGNED_STORE	  6	      /**< Store/AMO address misaligned. */
#define CAUSE_STORE_ACCESS	  7	      /**< Store/AMO access fault. */
#define CAUSE_USER_ECALL	  8	      /**< ecall from U-mode. */
#define CAUSE_SUPERVISOR_ECALL	  9	      /**< ecall from S-mode. */
#define CAUSE_FETCH_PAGE_FAULT	  12	      /**< Instruction page fault. */
#define CAUSE_LOAD_PAGE_FAULT	  13	      /**< Load page fault. */
#define CAUSE_STORE_PAGE_FAULT	  15	      /**< Store/AMO page fault. */
#define CAUSE_EXCEPTION_COUNT	  16	      /**< Exception causes that may get a handler. */
#define IRQ_S_SOFT		  1	      /**< Supervisor software interrupt. */
#define IRQ_S_TIMER		  5	      /**< Supervisor timer interrupt. */
#define IRQ_S_EXT		  9	      /**< Supervisor external interrupt. */

/* satp (spec 4.1.11) */
#define SATP_MODE_SV39 (8UL << 60) /**< satp.MODE for Sv39. */
/** The satp value that selects Sv39 with the root table at @p root_pa, ASID 0. */
static inline uint64_t satp_sv39(paddr_t root_pa) { return SATP_MODE_SV39 | (root_pa >> 12); }

/** Flush every TLB entry of this hart (sfence.vma x0, x0). */
static inline void sfence_vma_all(void) { __asm__ volatile("sfence.vma zero, zero" ::: "memory"); }
/** Flush this hart's TLB entries for virtual address @p va, all ASIDs. */
static inline void sfence_vma_va(vaddr_t va) { __asm__ volatile("sfence.vma %0, zero" ::"r"(va) : "memory"); }
/** Order all earlier memory accesses before all later ones (fence rw, rw). */
static inline void mb(void) { __asm__ volatile("fence rw, rw" ::: "memory"); }
/** Wait for an interrupt; a no-op as far as correctness goes. */
static inline void wfi(void) { __asm__ volatile("wfi" ::: "memory"); }
/** Instructions retired so far (all harts together under QEMU -icount). */
static inline uint64_t rdinstret(void)
{
	uint64_t v;
	__asm__ volatile("rdinstret %0" : "=r"(v));
	return v;
}
/** The time CSR, in timebase ticks. */
static inline uint64_t rdtime(void)
{
	uint64_t v;
	__asm__ volatile("rdtime %0" : "=r"(v));
	return v;
}

/** Disable supervisor interrupts on this hart; returns whether they were on. */
static inline bool intr_off(void)
{
	uint64_t old;
	__asm__ volatile("csrrc %0, sstatus, %1" : "=r"(old) : "i"(SSTATUS_SIE) : "memory");
	return old & SSTATUS_SIE;
}
/** Enable supervisor interrupts on this hart. */
static inline void intr_on(void) { csr_set(sstatus, SSTATUS_SIE); }

#endif
