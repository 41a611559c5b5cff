/**
 * @file probe.h
 * @brief Touch memory that may fault, and get -EFAULT instead of a panic.
 *
 * Each probe's one faulting instruction is listed in the __ex_table section
 * with a fix-up address (Linux's exception tables, arch/riscv/mm/extable.c);
 * the trap handler resumes there. Tests use probes to check that a mapping is
 * not writable or not executable; ch4 builds user copy on the same idea.
 */
#ifndef MMLAB_PROBE_H
#define MMLAB_PROBE_H

#include "types.h"

/** What the last probe that faulted on this hart saw. */
struct fault_info {
	uint64_t scause; /**< Cause of the fault. */
	uint64_t stval;	 /**< Faulting address. */
	uint64_t sepc;	 /**< Faulting instruction. */
};

/** Load 8 bytes from @p addr into *@p out. @return 0, or -EFAULT if it faulted. */
int probe_read64(const void *addr, uint64_t *out);
/** Store byte @p val to @p addr. @return 0, or -EFAULT if it faulted. */
int probe_write8(void *addr, uint8_t val);
/**
 * Call the code at @p addr, which should be a `ret` (0x8082, c.ret) the test
 * put there. @return 0 if it ran, -EFAULT if fetching it faulted.
 */
int probe_exec(const void *addr);
/** The fault the last failed probe on this hart took. */
struct fault_info probe_last_fault(void);

struct trap_frame;
/**
 * Fix-up lookup, for the trap handler: if the fault in trap frame @p tf was
 * taken by a probe, point its sepc at the probe's fix-up and return true.
 */
bool probe_fixup(struct trap_frame *tf);

#endif
