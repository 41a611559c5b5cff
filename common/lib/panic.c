/* panic() and power-off through QEMU's test finisher. */
#include "fdt.h"
#include "memlayout.h"
#include "panic.h"
#include "riscv.h"
#include "sbi.h"
#include "smp.h"

unsigned long todo_epoch;

/* sifive,test0 finisher commands (QEMU hw/misc/sifive_test.c). */
#define FINISHER_PASS 0x5555
#define FINISHER_FAIL 0x3333

#define SBI_EXT_SRST 0x53525354 /* system reset: the fallback without a finisher */

void poweroff(enum poweroff_code code)
{
	if (machine.finisher) {
		volatile uint32_t *f = pa_to_kva(machine.finisher);
		*f = code == POWEROFF_PASS ? FINISHER_PASS : ((uint32_t)code << 16) | FINISHER_FAIL;
	}
	/* SBI SRST: type 0 = shutdown, reason 0 = none, 1 = system failure. */
	sbi_call(SBI_EXT_SRST, 0, 0, code == POWEROFF_PASS ? 0 : 1, 0);
	for (;;)
		wfi();
}

void panic(const char *fmt, ...)
{
	static volatile int panicking = -1;
	intr_off();
	int me = cpuid();
	/* A second panic (say, in printk) on this hart: just stop. */
	if (__atomic_exchange_n(&panicking, me, __ATOMIC_SEQ_CST) != -1)
		poweroff(POWEROFF_PANIC);
	smp_stop_others();
	printk_panic_mode();
	va_list ap;
	va_start(ap, fmt);
	printk("panic: ");
	vprintk(fmt, ap);
	va_end(ap);
	printk(" (hart %d, called from %p)\n", me, __builtin_return_address(0));
	poweroff(POWEROFF_PANIC);
}
