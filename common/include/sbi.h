/**
 * @file sbi.h
 * @brief Calls into OpenSBI, the M-mode firmware (RISC-V SBI spec v1.0).
 *
 * An SBI call is an `ecall` with the extension id in a7, the function id in a6
 * and arguments in a0..a5; it returns an error in a0 and a value in a1
 * (SBI spec, chapter 3 "Binary Encoding").
 */
#ifndef MMLAB_SBI_H
#define MMLAB_SBI_H

#include "types.h"

#define SBI_EXT_LEGACY_PUTCHAR 0x01	  /**< Legacy console putchar (SBI v0.1). */
#define SBI_EXT_IPI	       0x735049	  /**< "sPI": inter-processor interrupts. */
#define SBI_EXT_RFENCE	       0x52464E43 /**< "RFNC": remote fences. */
#define SBI_EXT_HSM	       0x48534D	  /**< "HSM": hart state management. */
#define SBI_EXT_SRST	       0x53525354 /**< "SRST": system reset. */
#define SBI_EXT_TIME	       0x54494D45 /**< "TIME": the supervisor timer. */

#define SBI_SUCCESS		  0  /**< The call succeeded. */
#define SBI_ERR_ALREADY_AVAILABLE -6 /**< HSM: the hart is already started. */

/** Result of an SBI call: error code (SBI_SUCCESS or SBI_ERR_*) and value. */
struct sbiret {
	long error; /**< SBI_SUCCESS or a negative SBI error code. */
	long value; /**< The call's return value. */
};

/** Make SBI call (@p ext, @p fid) with arguments @p a0, @p a1, @p a2, @p a3 (pass 0 for unused ones). */
struct sbiret sbi_call(long ext, long fid, unsigned long a0, unsigned long a1, unsigned long a2,
		       unsigned long a3);

/** Print byte @p ch on the firmware's console (works before the UART is known). */
void sbi_console_putchar(int ch);

/**
 * Start hart @p hartid at physical address @p start_pa in S-mode with the MMU
 * off, a0 = hartid and a1 = @p opaque (SBI spec 9.1, sbi_hart_start).
 * @return SBI_SUCCESS or an SBI error code.
 */
long sbi_hart_start(unsigned long hartid, paddr_t start_pa, unsigned long opaque);

/** Raise a supervisor software interrupt on every hart in @p hart_mask (bit i = hart i). */
long sbi_send_ipi(unsigned long hart_mask);

/**
 * Execute `sfence.vma` for [@p start, @p start + @p size) on the harts in
 * @p hart_mask (SBI spec 8.3, remote_sfence_vma). size = -1UL flushes all.
 */
long sbi_remote_sfence_vma(unsigned long hart_mask, vaddr_t start, unsigned long size);

/**
 * Raise this hart's supervisor timer interrupt once the time CSR reaches
 * @p stime (timebase ticks), and clear a pending one (SBI spec 6.1,
 * sbi_set_timer). UINT64_MAX means never.
 * @return SBI_SUCCESS or an SBI error code.
 */
long sbi_set_timer(uint64_t stime);

#endif
