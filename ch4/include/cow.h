/**
 * @file cow.h
 * @brief Part 2's page states: copy-on-write pages, the zero page, and the
 *        eager switch that brings part 1's paths back for comparison.
 *
 * A page of a private area is in one of four states (ch4/README.md draws
 * them):
 *
 * | state      | PTE                       | frame                       |
 * |------------|---------------------------|-----------------------------|
 * | untouched  | none                      | none                        |
 * | zero       | read-only, #PTE_COW       | the zero page (no reference)|
 * | shared     | read-only, #PTE_COW       | one reference per mm        |
 * | private    | the area's permissions    | one reference (this mm's)   |
 *
 * A read of an untouched anonymous page maps the zero page; a write to an
 * untouched page, or to a zero or shared page, ends in a private one
 * (a new zeroed frame, a copy, or, when this mm holds the only reference,
 * the same frame made writable again). fork() turns private pages into
 * shared ones in both parent and child.
 *
 * Reference: Linux mm/memory.c (do_anonymous_page, do_wp_page,
 * wp_page_reuse, copy_present_pte), the RISC-V privileged spec 4.4.1 (bits
 * 8-9 of a PTE, RSW, are the supervisor's to use); Redox's
 * the_zeroed_frame; xv6's cow lab.
 */
#ifndef MMLAB_COW_H
#define MMLAB_COW_H

#include "types.h"

/** RSW bit 8: a private page shared read-only until someone writes it (copy-on-write). */
#define PTE_COW (1UL << 8)

/**
 * The zero page: one frame of zeros, allocated at boot and never freed,
 * mapped read-only (with #PTE_COW) wherever an untouched anonymous page is
 * read. It is not counted in mm::nr_pages and takes no references.
 * @return its physical address (0 before INIT_PROC).
 */
paddr_t zero_page_pa(void);

/** True if @p pa is in the zero page. */
bool is_zero_page(paddr_t pa);

/**
 * True if the kernel was booted with the `eager` bootarg: new address
 * spaces are then eager (mm::eager): every page of an area is mapped when
 * the area is made, and fork copies every page (part 1's paths).
 */
bool vm_eager_default(void);

#endif
