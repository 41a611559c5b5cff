/* SBI calls (RISC-V SBI spec v1.0): the only way down to M-mode. */
#include "sbi.h"

struct sbiret sbi_call(long ext, long fid, unsigned long a0, unsigned long a1, unsigned long a2,
		       unsigned long a3)
{
	register unsigned long r0 __asm__("a0") = a0;
	register unsigned long r1 __asm__("a1") = a1;
	register unsigned long r2 __asm__("a2") = a2;
	register unsigned long r3 __asm__("a3") = a3;
	register unsigned long r6 __asm__("a6") = fid;
	register unsigned long r7 __asm__("a7") = ext;
	__asm__ volatile("ecall" : "+r"(r0), "+r"(r1) : "r"(r2), "r"(r3), "r"(r6), "r"(r7) : "memory");
	return (struct sbiret){.error = (long)r0, .value = (long)r1};
}

void sbi_console_putchar(int ch) { sbi_call(SBI_EXT_LEGACY_PUTCHAR, 0, ch, 0, 0, 0); }

long sbi_hart_start(unsigned long hartid, paddr_t start_pa, unsigned long opaque)
{
	return sbi_call(SBI_EXT_HSM, 0, hartid, start_pa, opaque, 0).error;
}

long sbi_send_ipi(unsigned long hart_mask) { return sbi_call(SBI_EXT_IPI, 0, hart_mask, 0, 0, 0).error; }

long sbi_remote_sfence_vma(unsigned long hart_mask, vaddr_t start, unsigned long size)
{
	/* Function 1 of RFENCE: remote_sfence_vma(hart_mask, hart_mask_base, start, size). */
	return sbi_call(SBI_EXT_RFENCE, 1, hart_mask, 0, start, size).error;
}

long sbi_set_timer(uint64_t stime) { return sbi_call(SBI_EXT_TIME, 0, stime, 0, 0, 0).error; }
