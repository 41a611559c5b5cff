/*
 * mmfs's superblock: read it, check it, count the free blocks.
 * The checks keep a damaged or foreign image from sending the rest of the
 * store to blocks that are not its own.
 */
#include "blk.h"
#include "errno.h"
#include "mmfs.h"
#include "string.h"

/* Each region lies where the next begins, inside the disk. */
static bool super_ok(const struct mmfs_super *sb, uint64_t disk_blocks)
{
	uint64_t bitmap_need = (sb->nblocks + MMFS_BITS_PER_BLOCK - 1) / MMFS_BITS_PER_BLOCK;
	uint64_t inode_need = (sb->ninodes + MMFS_INODES_PER_BLOCK - 1) / MMFS_INODES_PER_BLOCK;
	return sb->magic == MMFS_MAGIC && sb->version == MMFS_VERSION && sb->nblocks <= disk_blocks &&
	       sb->ninodes > MMFS_ROOT_INO && sb->bitmap_start == 1 && sb->bitmap_blocks == bitmap_need &&
	       sb->inode_start == sb->bitmap_start + sb->bitmap_blocks && sb->inode_blocks == inode_need &&
	       sb->data_start == sb->inode_start + sb->inode_blocks && sb->data_start < sb->nblocks;
}

int mmfs_mount(struct mmfs *fs)
{
	fs->mounted = false;
	if (!blk_present())
		return -ENODEV;
	int err = blk_read(0, fs->scratch[0]);
	if (err)
		return err;
	memcpy(&fs->sb, fs->scratch[0], sizeof(fs->sb));
	if (!super_ok(&fs->sb, blk_nblocks()))
		return -EINVAL;
	uint32_t used = 0;
	for (uint32_t i = 0; i < fs->sb.bitmap_blocks; i++) {
		err = blk_read(fs->sb.bitmap_start + i, fs->scratch[0]);
		if (err)
			return err;
		for (uint32_t byte = 0; byte < MMFS_BSIZE; byte++) {
			uint64_t b0 = (uint64_t)i * MMFS_BITS_PER_BLOCK + byte * 8u;
			for (uint32_t bit = 0; bit < 8 && b0 + bit < fs->sb.nblocks; bit++)
				used += (fs->scratch[0][byte] >> bit) & 1;
		}
	}
	fs->free_blocks = fs->sb.nblocks - used;
	fs->alloc_hint = fs->sb.data_start;
	fs->mounted = true;
	return 0;
}
