/*
 * Host stand-ins for the kernel services that kernel sources call (printk,
 * panic, spinlocks, interrupt nesting, strlcpy, bootargs), for host tests
 * that list common/hosttest/host_kernel.c in their HOSTTEST_SOURCES.
 *
 * Single-threaded, one "hart": spin_lock() of a lock already held, or
 * spin_unlock() of one not held, is a bug and aborts (on a real hart the
 * first is a self-deadlock). Every stand-in is a weak symbol, so a test that
 * links the real one (say common/lib/fdt.c's bootarg_get) gets the real one.
 */
#ifndef MMLAB_HOST_KERNEL_H
#define MMLAB_HOST_KERNEL_H

#include <setjmp.h>
#include <stdbool.h>

/* printk(): lines printed since start (a line a call). */
extern unsigned long host_printk_lines;
/* The last line printk() printed (truncated to fit). */
extern char host_printk_last[256];
/* Echo printk() on stdout; so does setting MMLAB_VERBOSE in the environment. */
extern bool host_printk_echo;

/*
 * Make panic() longjmp(*@env, 1) instead of printing and aborting; NULL
 * disarms it. The panic message is in host_panic_msg either way. Disarm (or
 * re-arm) once the function that called setjmp() returns.
 */
void host_expect_panic(jmp_buf *env);
/* The message of the last panic(). */
extern char host_panic_msg[256];

#endif
