/*
 * kmain: the boot hart's C entry. Parse the device tree, find the console,
 * start the other harts, run every chapter's initcalls in level order, then
 * the tests the bootargs select.
 */
#include "console.h"
#include "fdt.h"
#include "initcall.h"
#include "ktest.h"
#include "memlayout.h"
#include "panic.h"
#include "printk.h"
#include "smp.h"
#include "trap.h"

extern const struct initcall __initcall_start[], __initcall_end[];
void smp_boot_secondaries(int boot_hartid);

static bool level_failed[INIT_LEVELS];

bool initcall_level_ok(int level) { return level >= 0 && level < INIT_LEVELS && !level_failed[level]; }

static void run_initcalls(void)
{
	for (const struct initcall *ic = __initcall_start; ic < __initcall_end; ic++) {
		int err = ic->fn();
		if (err) {
			/* Carry on: the earlier layers' tests still run and still count. */
			printk("init: %s failed (%d); level %d is not up\n", ic->name, err, ic->level);
			level_failed[ic->level] = true;
		}
	}
}

void kmain(unsigned long hartid, paddr_t fdt_pa)
{
	trap_init_hart();
	fdt_parse(fdt_pa);
	if (machine.uart)
		console_use_uart(machine.uart);
	printk("mmlab: hart %lu booting, %d hart(s), kernel at 0x%lx-0x%lx, bootargs \"%s\"\n", hartid,
	       machine.nr_harts, kva_to_pa(_kernel_start), kva_to_pa(_kernel_end), machine.bootargs);
	smp_boot_secondaries((int)hartid);
	run_initcalls();
	ktest_main();
}
