/*
 * mmfs's block bitmap: bit b set when block b is in use (xv6's balloc and
 * bfree, kernel/fs.c). The search starts where the last one ended (a
 * next-fit hint), so a file written in order gets blocks in order.
 */
#include "blk.h"
#include "errno.h"
#include "mmfs.h"

int mmfs_balloc(struct mmfs *fs, uint32_t *b)
{
	const struct mmfs_super *sb = &fs->sb;
	uint32_t span = sb->nblocks - sb->data_start;
	if (!fs->free_blocks)
		return -ENOSPC;
	uint32_t loaded = UINT32_MAX;
	uint8_t *map = fs->scratch[1];
	for (uint32_t i = 0; i < span; i++) {
		uint32_t blk_no = sb->data_start + (fs->alloc_hint - sb->data_start + i) % span;
		uint32_t mblock = blk_no / MMFS_BITS_PER_BLOCK, bit = blk_no % MMFS_BITS_PER_BLOCK;
		if (mblock != loaded) {
			int err = blk_read(sb->bitmap_start + mblock, map);
			if (err)
				return err;
			loaded = mblock;
		}
		if (map[bit / 8] & (1u << (bit % 8)))
			continue;
		map[bit / 8] |= (uint8_t)(1u << (bit % 8));
		int err = blk_write(sb->bitmap_start + mblock, map);
		if (err)
			return err;
		fs->free_blocks--;
		fs->alloc_hint = blk_no + 1 < sb->nblocks ? blk_no + 1 : sb->data_start;
		*b = blk_no;
		return 0;
	}
	return -ENOSPC; /* the count was wrong: the bitmap is full */
}

int mmfs_bfree(struct mmfs *fs, uint32_t b)
{
	const struct mmfs_super *sb = &fs->sb;
	if (b < sb->data_start || b >= sb->nblocks)
		return -EINVAL;
	uint8_t *map = fs->scratch[1];
	uint32_t mblock = b / MMFS_BITS_PER_BLOCK, bit = b % MMFS_BITS_PER_BLOCK;
	int err = blk_read(sb->bitmap_start + mblock, map);
	if (err)
		return err;
	if (!(map[bit / 8] & (1u << (bit % 8))))
		return -EINVAL; /* a double free: leave the count alone */
	map[bit / 8] &= (uint8_t) ~(1u << (bit % 8));
	err = blk_write(sb->bitmap_start + mblock, map);
	if (!err)
		fs->free_blocks++;
	return err;
}

bool mmfs_bit(struct mmfs *fs, uint32_t b)
{
	uint8_t *map = fs->scratch[1];
	if (b >= fs->sb.nblocks || blk_read(fs->sb.bitmap_start + b / MMFS_BITS_PER_BLOCK, map))
		return false;
	b %= MMFS_BITS_PER_BLOCK;
	return map[b / 8] & (1u << (b % 8));
}
