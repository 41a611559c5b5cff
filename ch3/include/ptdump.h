/**
 * @file ptdump.h
 * @brief ch3: print a page table as coalesced runs of mappings.
 *
 * Like xv6's vmprint(), but flat and short: pages that follow each other in
 * both virtual and physical memory, with the same size and flags, print as one
 * line (a "run"), as Linux's /sys/kernel/debug/kernel_page_tables does.
 *
 * Format (every number lower-case hex, without 0x, zero-padded to 16 digits):
 *
 *     ptdump: root <root pa> satp <satp> tables <n>
 *     <va first>-<va end> <pa first>-<pa end> <size> <count> <flags>
 *     ...
 *     ptdump: end <runs> runs
 *
 * `<va end>`/`<pa end>` are one past the last byte; `<size>` is `4K`, `2M` or
 * `1G`, right-aligned in 2 columns; `<count>` the number of pages in decimal,
 * right-aligned in 6; `<flags>` seven letters or dashes, `rwxugad` (PTE_R W X
 * U G A D). An example line:
 *
 *     ffffffff80200000-ffffffff80209000 0000000080200000-0000000080209000 4K      9 r-x-gad
 *
 * Regular expression (Python) of a run line:
 * `^([0-9a-f]{16})-([0-9a-f]{16}) ([0-9a-f]{16})-([0-9a-f]{16}) (4K|2M|1G) +(\d+) ([r-][w-][x-][u-][g-][a-][d-])$`
 *
 * Reference: xv6 kernel/vm.c vmprint(); Linux mm/ptdump.c.
 */
#ifndef MMLAB_PTDUMP_H
#define MMLAB_PTDUMP_H

#include "pagetable.h"
#include "types.h"

/** A run of pages, contiguous in virtual and physical memory, same size and flags. */
struct pt_run {
	vaddr_t va;	  /**< First virtual address. */
	paddr_t pa;	  /**< First physical address. */
	size_t page_size; /**< Size of each page, bytes. */
	size_t pages;	  /**< Number of pages. */
	unsigned flags;	  /**< PTE flag bits, the same for every page. */
};

/** Called for each run by ptdump_runs(); return non-zero to stop. */
typedef int (*pt_run_fn)(const struct pt_run *run, void *arg);

/**
 * Find the runs of @p pt in address order (upper half after lower half, as
 * addresses go) and call @p fn on each, with @p arg.
 * @return 0, or the first non-zero value @p fn returned.
 */
int ptdump_runs(struct pagetable *pt, pt_run_fn fn, void *arg);

/**
 * Format @p run as one line of the format above (no newline) into @p buf of
 * @p len bytes (#PTDUMP_LINE_MAX are enough).
 * @return the length of the line, as snprintf().
 */
int ptdump_format_run(const struct pt_run *run, char *buf, size_t len);

/** Bytes a run line takes, with its terminating NUL. */
#define PTDUMP_LINE_MAX 96

/**
 * Print @p pt on the console in the format above.
 * @return the number of runs printed.
 */
int ptdump(struct pagetable *pt);

#endif
