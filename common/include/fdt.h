/**
 * @file fdt.h
 * @brief What the device tree says about the machine, parsed once at boot.
 *
 * OpenSBI passes the physical address of a flattened device tree (DTB,
 * Devicetree Specification v0.4, chapter 5) in a1. fdt_parse() reads it into
 * `struct machine`; nothing else in the kernel looks at the DTB, and nothing
 * about the machine is hard-coded but the load address.
 */
#ifndef MMLAB_FDT_H
#define MMLAB_FDT_H

#include "asmdefs.h"
#include "types.h"

#define MAX_MEM_RANGES 8   /**< Memory nodes we keep. */
#define MAX_RESERVED   16  /**< Reserved regions we keep. */
#define MAX_DEVICES    8   /**< MMIO devices we keep. */
#define BOOTARGS_MAX   256 /**< Longest bootargs string kept. */

/** A physical range [base, base + size), in bytes. */
struct phys_range {
	paddr_t base;  /**< First byte. */
	uint64_t size; /**< Length in bytes. */
	char name[32]; /**< Node name, e.g. "mmode_resv0@80000000". */
};

/** Everything the kernel knows about the machine it runs on. */
struct machine {
	struct phys_range memory[MAX_MEM_RANGES]; /**< RAM (/memory nodes). */
	int nr_memory;				  /**< Entries in memory[]. */
	struct phys_range reserved[MAX_RESERVED]; /**< /reserved-memory and /memreserve/. */
	int nr_reserved;			  /**< Entries in reserved[]. */
	struct phys_range devices[MAX_DEVICES];	  /**< UART, test finisher, PLIC, CLINT. */
	int nr_devices;				  /**< Entries in devices[]. */
	paddr_t uart;				  /**< ns16550a base, 0 if none. */
	paddr_t finisher;			  /**< sifive,test0 base, 0 if none. */
	uint64_t hart_mask;			  /**< Bit i set: hart i exists (and i < MAX_HARTS). */
	int nr_harts;				  /**< Harts in hart_mask. */
	uint64_t timebase_hz;			  /**< /cpus/timebase-frequency. */
	char bootargs[BOOTARGS_MAX];		  /**< /chosen/bootargs (QEMU -append). */
	paddr_t fdt_pa;				  /**< Where the DTB is. */
	uint64_t fdt_size;			  /**< Its totalsize, in bytes. */
};

/** The machine, filled by fdt_parse(). Read-only after boot. */
extern struct machine machine;

/**
 * Parse the DTB at physical address @p fdt_pa into #machine.
 * Panics with a clear message if the blob is missing, has a bad magic or
 * version, is malformed, or lacks a /memory node or a usable cpu: without
 * those the kernel cannot go on.
 */
void fdt_parse(paddr_t fdt_pa);

/**
 * Parse the DTB at kernel address @p blob into #machine (fdt_parse() without
 * the address checks; host unit tests call it). Panics as fdt_parse() does.
 */
void fdt_parse_blob(const void *blob);

/**
 * Copy the value of bootarg `key=value` into @p buf (@p len bytes).
 * @return true if @p key was given (a bare `key` gives an empty value).
 */
bool bootarg_get(const char *key, char *buf, size_t len);

#endif
