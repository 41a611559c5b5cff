/**
 * @file initcall.h
 * @brief Start-up functions that a chapter registers for itself.
 *
 * `initcall(INIT_FRAMES, frames_init)` puts a pointer to frames_init in the
 * linker section .initcall.1; kmain() runs the sections in level order on the
 * boot hart. No chapter edits a central list: linking a chapter in is enough.
 */
#ifndef MMLAB_INITCALL_H
#define MMLAB_INITCALL_H

#include "types.h"

/* Initcall levels, in the order they run. Macros, not an enum, because the
 * level becomes part of a section name and the linker sorts those by text. */
#define INIT_EARLY  0 /**< console, device tree (common) */
#define INIT_FRAMES 1 /**< physical frames (ch1) */
#define INIT_HEAP   2 /**< kernel heap (ch2) */
#define INIT_PAGING 3 /**< page tables, kernel space (ch3) */
#define INIT_PROC   4 /**< processes (ch4) */
#define INIT_LATE   5 /**< everything else */
#define INIT_LEVELS 6 /**< number of levels */

/** An initcall: returns 0 or a negative errno. */
typedef int (*initcall_fn)(void);

/** One registered initcall (the linker collects these). */
struct initcall {
	initcall_fn fn;	  /**< The function. */
	const char *name; /**< Its name, for messages. */
	int level;	  /**< Its INIT_* level. */
};

/** @cond INTERNAL */
#define INITCALL_CAT2(a, b) a##b
#define INITCALL_CAT(a, b)  INITCALL_CAT2(a, b)
/** @endcond */
/** Register @p fn to run at level @p level (a literal 0..5 or INIT_*). */
#define initcall(level, fn)                                                                                  \
	static const struct initcall INITCALL_CAT(__initcall_, fn)                                           \
		__attribute__((used, section(".initcall." INITCALL_STR(level)))) = {fn, #fn, level}
/** @cond INTERNAL */
#define INITCALL_STR2(x) #x
#define INITCALL_STR(x)	 INITCALL_STR2(x)
/** @endcond */

/**
 * True if every initcall at @p level returned 0. Lets a test skip when the
 * layer under it failed to start (a student's unfinished handout), instead of
 * crashing on it.
 */
bool initcall_level_ok(int level);

#endif
