/**
 * @file ksyms.h
 * @brief The kernel's own symbol and line table: a pc to `pt_query+0x30 (ch3/src/query.c:21)`.
 *
 * So that a fault or a panic names the code without addr2line, the build
 * embeds a table of the kernel's functions and of DWARF's line table
 * (scripts/ksyms.py writes it as C; the Makefile links the kernel twice, the
 * second time with the table of the first, and checks that nothing in .text
 * moved). File names are relative to the source tree: `ch3/src/query.c`, or
 * `common/include/list.h` for code inlined from a header.
 *
 * The line table is packed: rows sorted by address, in blocks of up to 32;
 * a row is LEB128 deltas from the row before (see scripts/ksyms.py, encode()).
 * A lookup is a binary search over the functions, one over the blocks, and
 * the decoding of one block.
 */
#ifndef MMLAB_KSYMS_H
#define MMLAB_KSYMS_H

#include "types.h"

/** One function (or assembly label) of .text. */
struct ksym_func {
	uint32_t off;  /**< Its first byte, as an offset from ksym_table.base. */
	uint32_t size; /**< Its size in bytes. */
	uint32_t name; /**< Its name: an offset in ksym_table.strings. */
};

/** One block of line rows: where it starts in the code and in the row stream. */
struct ksym_block {
	uint32_t off; /**< Code offset (from ksym_table.base) of the block's first row. */
	uint32_t pos; /**< Byte offset of the block's first row in ksym_table.rows. */
};

/** The whole table, as scripts/ksyms.py generates it (all offsets in bytes). */
struct ksym_table {
	uint64_t base;			 /**< Address that every code offset counts from (_text_start). */
	uint32_t text_size;		 /**< Bytes of code the table covers, from base. */
	uint32_t nfuncs;		 /**< Entries of funcs. */
	uint32_t nrows;			 /**< Line rows in the row stream. */
	uint32_t nblocks;		 /**< Entries of blocks: (nrows + 31) / 32. */
	uint32_t nfiles;		 /**< Entries of files. */
	uint32_t rows_size;		 /**< Bytes of the row stream. */
	uint32_t strings_size;		 /**< Bytes of strings. */
	const struct ksym_func *funcs;	 /**< Functions, sorted by off, not overlapping. */
	const struct ksym_block *blocks; /**< Blocks of KSYM_BLOCK_ROWS rows, sorted by off. */
	const uint8_t *rows;		 /**< The row stream. */
	const uint32_t *files;		 /**< File names: offsets in strings. */
	const char *strings;		 /**< NUL-terminated names, back to back. */
};

/** Line rows per block (scripts/ksyms.py BLOCK_ROWS). */
#define KSYM_BLOCK_ROWS 32

/** The table linked into this kernel (empty in the build's first link). */
extern const struct ksym_table ksym_table;

/** What the table says about one address. */
struct ksym {
	const char *name; /**< The function that contains it. */
	vaddr_t start;	  /**< The function's first byte. */
	uint64_t offset;  /**< Address - start, in bytes. */
	const char *file; /**< Source file (relative to the tree), or NULL if unknown. */
	int line;	  /**< Source line (from 1), or 0 if unknown. */
};

/** A buffer large enough for any ksym_snprint() of this kernel's names. */
#define KSYM_BUF_SIZE 160

/**
 * Look up code address @p pc: the function that contains it and, from the
 * line table, the source file and line of the instruction at @p pc.
 * @return true with *@p out filled if a function covers @p pc; false (and
 * *@p out untouched) for an address outside the kernel's code, or when the
 * table is empty. out->file may be NULL when the code has no line information.
 * Follows Linux's kallsyms_lookup() plus what addr2line reads from DWARF.
 */
bool ksym_lookup(vaddr_t pc, struct ksym *out);

/**
 * Write @p pc as `name+0xoff (path:line)` into @p buf of @p len bytes
 * (`name+0xoff` without line information, `0x<pc>` when no function covers
 * it), NUL-terminated when @p len > 0, as snprintf() does.
 * @return the length the full text has (it was cut if that is >= @p len).
 * As Linux's %pS (sprint_symbol()).
 */
int ksym_snprint(char *buf, size_t len, vaddr_t pc);

/**
 * ksym_snprint() into @p buf of @p len bytes for a return address @p ra (a
 * `called from` frame): the name and line are those of the call instruction,
 * @p ra - 1 (a call that never returns may be a function's last instruction,
 * and then @p ra is already in the next function), the offset that of @p ra
 * itself. @return as ksym_snprint(). As Linux's %pB (sprint_backtrace()).
 */
int ksym_snprint_ret(char *buf, size_t len, vaddr_t ra);

#endif
