/*
 * The bootarg init=NAME: run initramfs program NAME alone, with the console
 * as its stdin and stdout, instead of the tests, and power off when it and
 * everything it started are gone (as Linux's init= names the first
 * program). The Linux comparison (scripts/linux_compare.py) boots
 * init=mmcompare and streams a sequence of calls into the program through
 * the serial line.
 *
 * It is an initcall of the last level, so it runs once every layer is up;
 * ch5's objects link after ch4's, so ch4's runner has registered its
 * suites by then (nothing of it is needed here). It never returns when
 * init= is given: ktest_main() and its tests do not run.
 */
#include "fdt.h"
#include "initcall.h"
#include "panic.h"
#include "printk.h"
#include "runner.h"

/* Longest program name taken from init= (the initramfs names are shorter). */
#define INIT_NAME_MAX 64

static int init_prog(void)
{
	char name[INIT_NAME_MAX];
	if (!bootarg_get("init", name, sizeof(name)) || !name[0])
		return 0;
	if (!initcall_level_ok(INIT_PROC)) {
		printk("init: %s: processes are not up\n", name);
		poweroff(POWEROFF_FAIL);
	}
	printk("init: running %s\n", name);
	int status = runner_run_program(name, NULL);
	if (status < 0)
		printk("init: %s did not start: error %d\n", name, status);
	else if (status & 0x7f)
		printk("init: %s killed by signal %d\n", name, status & 0x7f);
	else
		printk("init: %s exited with %d\n", name, (status >> 8) & 0xff);
	poweroff(status == 0 ? POWEROFF_PASS : POWEROFF_FAIL);
}
initcall(INIT_LATE, init_prog);
