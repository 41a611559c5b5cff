/**
 * @file cpio.h
 * @brief Reading the initramfs: a cpio "newc" archive (cpio(5)).
 *
 * Each entry: a 110-byte ASCII header (magic "070701", then 13 fields of 8
 * hex digits: ino, mode, uid, gid, nlink, mtime, filesize, devmajor,
 * devminor, rdevmajor, rdevminor, namesize, check), the name (namesize bytes
 * with its NUL), padding to 4 bytes (relative to the archive's start), the
 * data, padding to 4; the last entry is named "TRAILER!!!". Every field and
 * bound is checked: a damaged archive is an error, never a read past its end.
 *
 * Reference: Linux init/initramfs.c; Documentation/driver-api/early-userspace.
 */
#ifndef MMLAB_CPIO_H
#define MMLAB_CPIO_H

#include "types.h"

/** One file of an archive. */
struct cpio_file {
	const char *name; /**< Its name, NUL-terminated, inside the archive. */
	const void *data; /**< Its bytes, inside the archive. */
	size_t size;	  /**< How many. */
};

/**
 * Call @p fn (with @p arg) for each file of the archive [@p start, @p end) in order,
 * stopping at the trailer or at the first non-zero return of @p fn.
 * @return 0 at the trailer; @p fn's non-zero value; -EINVAL if the archive
 *         is damaged (bad magic or digits, an entry past @p end, no trailer).
 */
int cpio_for_each(const char *start, const char *end, int (*fn)(const struct cpio_file *f, void *arg),
		  void *arg);

/**
 * Find the file named @p name (a leading "/" is ignored) in [@p start, @p end).
 * @return 0 and *@p out; -ENOENT if absent; -EINVAL if the archive is damaged.
 */
int cpio_find(const char *start, const char *end, const char *name, struct cpio_file *out);

/** cpio_find() of @p name in the kernel's initramfs (initramfs.h), into @p out. */
int initramfs_find(const char *name, struct cpio_file *out);

#endif
