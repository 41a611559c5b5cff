/* panic() and power-off through QEMU's test finisher. */
#include "backtrace.h"
#include "fdt.h"
#include "ksyms.h"
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

/*
 * Only the first hart to panic speaks. A second panic on the same hart (say,
 * in printk) just powers off; one on another hart leaves the first to finish
 * its message. Returns this hart's id, with the other harts stopped.
 */
static int panic_enter(void)
{
	static int panicking = -1; /* the hart that panicked first */
	intr_off();
	int me = cpuid();
	int first = -1;
	if (!__atomic_compare_exchange_n(&panicking, &first, me, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
		if (first == me)
			poweroff(POWEROFF_PANIC);
		for (;;)
			wfi();
	}
	smp_stop_others();
	printk_panic_mode();
	return me;
}

/* The message, where (@p where, already symbolized), the backtrace from
 * @p pc, @p ra, @p fp, @p sp; then power off. */
static void __attribute__((noreturn)) panic_report(int hart, const char *where, vaddr_t pc, vaddr_t ra,
						   vaddr_t fp, vaddr_t sp, const char *fmt, va_list ap)
{
	printk("panic: ");
	vprintk(fmt, ap);
	printk(" (hart %d, pc %s)\n", hart, where);
	backtrace_print("  ", pc, ra, fp, sp);
	poweroff(POWEROFF_PANIC);
}

void panic(const char *fmt, ...)
{
	int me = panic_enter();
	char caller[KSYM_BUF_SIZE];
	ksym_snprint_ret(caller, sizeof(caller), (vaddr_t)__builtin_return_address(0));
	vaddr_t pc, fp, sp;
	BACKTRACE_HERE(pc, fp, sp);
	va_list ap;
	va_start(ap, fmt);
	panic_report(me, caller, pc, 0, fp, sp, fmt, ap);
}

void panic_regs(vaddr_t pc, vaddr_t ra, vaddr_t fp, vaddr_t sp, const char *fmt, ...)
{
	int me = panic_enter();
	char where[KSYM_BUF_SIZE];
	ksym_snprint(where, sizeof(where), pc);
	va_list ap;
	va_start(ap, fmt);
	panic_report(me, where, pc, ra, fp, sp, fmt, ap);
}
