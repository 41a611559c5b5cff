/**
 * @file file.h
 * @brief Open files and file tables (given machinery, ch4/proc/file.c,
 *        pipe.c, console_file.c).
 *
 * OWNER: the files helper extends this header; the declarations below are
 * the interface the process code relies on.
 *
 * A process has a table of #FILES_MAX descriptors; fork copies the table
 * (each file gains a reference), exec keeps it, exit drops it. A file is
 * an object with operations (ch5 adds disk files the same way).
 */
#ifndef MMLAB_FILE_H
#define MMLAB_FILE_H

#include "types.h"

/** Descriptors per process. */
#define FILES_MAX 32

struct files;

/**
 * A file table with 0, 1 and 2 open on the console (read: the UART,
 * write: the console, as printk writes).
 * @return the table, or NULL if out of memory.
 */
struct files *files_create_console(void);

/**
 * A copy of @p files for a child (fork): the same open files, each with one
 * more reference.
 * @return the copy, or NULL if out of memory (nothing taken).
 */
struct files *files_dup(struct files *files);

/** Take a reference (a thread created with CLONE_FILES). */
void files_get(struct files *files);

/** Drop a reference; the last closes every descriptor and frees the table. */
void files_put(struct files *files);

#endif
