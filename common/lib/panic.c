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

void poweroff(enum poweroff_code code)
{
	if (machine.finisher) {
		volatile uint32_t *f = pa_to_kva(machine.finisher);
		*f = code == POWEROFF_PASS ? FINISHER_PASS : ((uint32_t)code << 16) | FINISHER_FAIL;
	}
	/* SBI SRST: type 0 = shutdown, reason 0 = none, 1 = system failure. */
	sbi_call(SBI_EXT_SRST, 0, 0, code == POWEROFF_PASS ? 0 : 1, 0, 0);
	for (;;)
		wfi();
}

void panic(const char *fmt, ...)
{
	static int panicking = -1; /* the hart that panicked first */
	intr_off();
	int me = cpuid();
	int first = -1;
	if (!__atomic_compare_exchange_n(&panicking, &first, me, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
		/* A second panic on this hart (say, in printk): just stop. On
		 * another hart: leave the first to finish its message and power off. */
		if (first == me)
			poweroff(POWEROFF_PANIC);
		for (;;)
			wfi();
	}
	smp_stop_others();
	printk_panic_mode();
	va_list ap;
	va_start(ap, fmt);
	printk("panic: ");
	vprintk(fmt, ap);
	va_end(ap);
	printk(" (hart %d, pc %p)\n", me, __builtin_return_address(0));
	poweroff(POWEROFF_PANIC);
}
