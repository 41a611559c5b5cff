/*
 * fault MODE: make one kind of fault the kernel must answer by killing the
 * process with SIGSEGV and one console line
 * "fault[<pid>]: segfault at <addr> pc <pc> (<reason>)". Exits 0 if it
 * survives (which is then the test's failure).
 *   null-read, null-write       page 0 ("no area")
 *   unmapped-read               a hole at 1 GiB ("no area")
 *   kernel-read, kernel-write   the direct map at 0xffffffc000000000 ("kernel address")
 *   kernel-jump                 pc there ("kernel address")
 *   text-write                  a store to this program's code ("permission")
 *   data-exec                   a jump to a data page ("permission")
 *   stack-overflow              endless recursion into the guard ("stack guard")
 *   oom                         touch a 1 GiB heap until no frame is left: killed
 *                               with SIGKILL and "Out of memory: killed process"
 */
#include "ulib.h"

#define KERNEL_ADDR 0xffffffc000000000UL
#define HOLE_ADDR   0x40000000UL

static volatile unsigned long sink;
static volatile unsigned long depth_limit = ~0UL; /* never reached: the guard comes first */

/* Each frame holds 1 KiB the compiler cannot drop; the recursion is not a tail call. */
static unsigned long recurse(unsigned long depth)
{
	volatile char frame[1024];
	if (depth == depth_limit)
		return 0;
	frame[0] = (char)depth;
	frame[sizeof(frame) - 1] = (char)depth;
	return recurse(depth + 1) + frame[0] + frame[sizeof(frame) - 1];
}

static int data_page_code[4] = {0x00008067}; /* ret, on a non-executable page */

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	if (!strcmp(mode, "null-read"))
		sink = *(volatile unsigned long *)0;
	else if (!strcmp(mode, "null-write"))
		*(volatile unsigned long *)0 = 1;
	else if (!strcmp(mode, "unmapped-read"))
		sink = *(volatile unsigned long *)HOLE_ADDR;
	else if (!strcmp(mode, "kernel-read"))
		sink = *(volatile unsigned long *)KERNEL_ADDR;
	else if (!strcmp(mode, "kernel-write"))
		*(volatile unsigned long *)KERNEL_ADDR = 1;
	else if (!strcmp(mode, "kernel-jump"))
		((void (*)(void))KERNEL_ADDR)();
	else if (!strcmp(mode, "text-write"))
		*(volatile int *)(uintptr_t)main = 0;
	else if (!strcmp(mode, "data-exec"))
		((void (*)(void))(uintptr_t)data_page_code)();
	else if (!strcmp(mode, "stack-overflow"))
		sink = recurse(0);
	else if (!strcmp(mode, "oom")) {
		char *heap = sbrk(1L << 30); /* lazy: costs nothing until touched */
		if (heap == (char *)-1)
			return 101;
		for (long off = 0; off < (1L << 30); off += 4096)
			heap[off] = 1;
	} else
		return 100;
	return 0;
}
