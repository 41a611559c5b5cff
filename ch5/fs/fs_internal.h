/*
 * What the kernel side of the file store (inode.c, open.c, initramfs_file.c)
 * shares: the one mounted store, the inode table, the open-file state.
 */
#ifndef MMLAB_FS_INTERNAL_H
#define MMLAB_FS_INTERNAL_H

#include "fs.h"
#include "mmfs.h"
#include "proc.h"

/** The disk's store; its lock also guards the table of inodes in memory. */
extern struct mmfs the_fs;

/** An open disk or initramfs file's own state (struct file::private_data). */
struct fs_file {
	struct inode *ip;
	uint64_t pos; /* file position: read and written by its holder (pos_busy) */
	bool append;
	/* Linux's f_pos_lock (fdget_pos): read, write and lseek through this
	 * open file, which fork shares, take the position one at a time. A
	 * sleeping lock: pos_busy under pos_lk, waiters on pos_wq. */
	struct spinlock pos_lk;
	bool pos_busy;
	struct wait_queue pos_wq;
};

extern const struct file_ops disk_file_ops;
extern const struct file_ops initramfs_file_ops;

/** The in-memory inode of mmfs inode @p ino with a reference, into *@p out. -ENOMEM, -EIO. */
int inode_get(uint32_t ino, struct inode **out);

/** The in-memory inode of initramfs file @p data (@p size bytes), with a reference, or NULL. */
struct inode *inode_get_initramfs(const void *data, size_t size);

/** A new open file of @p ip (taking over the caller's reference) with @p mode, @p append. NULL: no memory. */
struct file *fs_file_alloc(struct inode *ip, unsigned mode, bool append);

#endif
