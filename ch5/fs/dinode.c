/*
 * mmfs's inode table: 64-byte inodes, 64 a block, read and written by
 * read-modify-write of their block (xv6's ialloc, iupdate).
 */
#include "blk.h"
#include "errno.h"
#include "mmfs.h"
#include "string.h"

static int inode_block(struct mmfs *fs, uint32_t ino, uint32_t *block, size_t *off)
{
	if (ino == 0 || ino >= fs->sb.ninodes)
		return -EINVAL;
	*block = fs->sb.inode_start + ino / MMFS_INODES_PER_BLOCK;
	*off = (ino % MMFS_INODES_PER_BLOCK) * MMFS_INODE_SIZE;
	return 0;
}

int mmfs_iread(struct mmfs *fs, uint32_t ino, struct mmfs_dinode *d)
{
	uint32_t block;
	size_t off;
	int err = inode_block(fs, ino, &block, &off);
	err = err ?: blk_read(block, fs->scratch[1]);
	if (!err)
		memcpy(d, fs->scratch[1] + off, sizeof(*d));
	return err;
}

int mmfs_iwrite(struct mmfs *fs, uint32_t ino, const struct mmfs_dinode *d)
{
	uint32_t block;
	size_t off;
	int err = inode_block(fs, ino, &block, &off);
	err = err ?: blk_read(block, fs->scratch[1]);
	if (err)
		return err;
	memcpy(fs->scratch[1] + off, d, sizeof(*d));
	return blk_write(block, fs->scratch[1]);
}

int mmfs_ialloc(struct mmfs *fs, uint16_t type, uint32_t *ino)
{
	uint8_t *buf = fs->scratch[1];
	for (uint32_t i = 0; i < fs->sb.inode_blocks; i++) {
		int err = blk_read(fs->sb.inode_start + i, buf);
		if (err)
			return err;
		for (uint32_t k = 0; k < MMFS_INODES_PER_BLOCK; k++) {
			uint32_t n = i * MMFS_INODES_PER_BLOCK + k;
			struct mmfs_dinode *d = (struct mmfs_dinode *)(buf + k * MMFS_INODE_SIZE);
			if (n <= MMFS_ROOT_INO || n >= fs->sb.ninodes || d->type != MMFS_T_FREE)
				continue;
			memset(d, 0, sizeof(*d));
			d->type = type;
			d->nlink = 1;
			err = blk_write(fs->sb.inode_start + i, buf);
			if (!err)
				*ino = n;
			return err;
		}
	}
	return -ENOSPC;
}
