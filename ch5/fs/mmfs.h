/*
 * The file store's core (ch5/fs/balloc.c, bmap.c, dinode.c, dir.c,
 * mount.c): mmfs_format.h's structures on the disk of blk.h, with no
 * notion of open files, processes or the page cache, so that the host test
 * (ch5/hosttest/test_mmfs.c) runs it over a disk in RAM.
 *
 * Every function here expects the caller to hold fs->lock (it guards the
 * bitmap, the inode table, the directory and the scratch blocks), and
 * returns 0 or a negative errno: -EIO from the disk, -ENOSPC, -ENOENT...
 */
#ifndef MMLAB_FS_MMFS_H
#define MMLAB_FS_MMFS_H

#include "errno.h"
#include "mmfs_format.h"
#include "spinlock.h"
#include "types.h"

/** One mounted file store. */
struct mmfs {
	struct spinlock lock; /**< Guards all below and the disk's metadata. */
	bool mounted;	      /**< The superblock was good. */
	struct mmfs_super sb; /**< Block 0. */
	uint32_t free_blocks; /**< Clear bits of the bitmap (counted at mount). */
	uint32_t alloc_hint;  /**< Where the next block search starts. */
	uint8_t scratch[3][MMFS_BSIZE] __attribute__((aligned(
		MMFS_BSIZE))); /**< Metadata blocks: [1] the bitmap and inodes, [0] and [2] indirect blocks. */
};

/** Read and check the superblock and count the free blocks. -ENODEV without a disk, -EINVAL if not mmfs. */
int mmfs_mount(struct mmfs *fs);

/** Allocate a data block (its bit set) into *@p b. -ENOSPC when none is free. */
int mmfs_balloc(struct mmfs *fs, uint32_t *b);
/** Free data block @p b. -EINVAL for a metadata block or one out of range (the bitmap is left alone). */
int mmfs_bfree(struct mmfs *fs, uint32_t b);
/** True if bit @p b of the bitmap is set (a read of the disk; false on error). */
bool mmfs_bit(struct mmfs *fs, uint32_t b);

/** Read inode @p ino into *@p d. -EINVAL for ino 0 or out of range. */
int mmfs_iread(struct mmfs *fs, uint32_t ino, struct mmfs_dinode *d);
/** Write *@p d as inode @p ino. */
int mmfs_iwrite(struct mmfs *fs, uint32_t ino, const struct mmfs_dinode *d);
/** Take a free inode, make it an empty file of @p type with nlink 1, into *@p ino. -ENOSPC. */
int mmfs_ialloc(struct mmfs *fs, uint16_t type, uint32_t *ino);

/**
 * The disk block of file block @p fblock of the file whose inode is *@p d
 * into *@p out: 0 for a hole, unless @p alloc, which fills the hole (and
 * any missing indirect block, zeroed) and then sets *@p changed if *@p d
 * itself changed (the caller writes it back). A new data block is not
 * zeroed: the caller writes it whole. -EFBIG past #MMFS_MAX_FILE_BLOCKS.
 */
int mmfs_bmap(struct mmfs *fs, struct mmfs_dinode *d, uint64_t fblock, bool alloc, uint32_t *out,
	      bool *changed);

/**
 * Free the blocks of *@p d from file block @p keep on (and the indirect
 * blocks left empty), clearing their numbers in *@p d; then zero the bytes
 * past @p size in the block holding it (Linux's block_truncate_page), so a
 * file that grows again reads zeros there. Does not set d->size nor write
 * *@p d: the caller does.
 */
int mmfs_truncate(struct mmfs *fs, struct mmfs_dinode *d, uint64_t size);

/**
 * Check a name (its leading '/'s already gone): 0; -ENOENT for "" or a name
 * with '/'; -EISDIR for "" after a '/', "." or ".."; -ENAMETOOLONG past
 * #MMFS_NAME_MAX bytes.
 */
int mmfs_check_name(const char *name, bool had_slash);
/** Find @p name in the directory: its inode into *@p ino, or -ENOENT. */
int mmfs_dir_lookup(struct mmfs *fs, const char *name, uint32_t *ino);
/** Add an entry @p name -> @p ino (the name is new). -ENOSPC when the directory cannot grow. */
int mmfs_dir_add(struct mmfs *fs, const char *name, uint32_t ino);
/** Remove the entry @p name; its inode into *@p ino. -ENOENT. */
int mmfs_dir_remove(struct mmfs *fs, const char *name, uint32_t *ino);

#endif
