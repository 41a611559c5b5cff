/*
 * mmfs's block map: file block -> disk block through 10 direct numbers, an
 * indirect block and a double-indirect block (xv6's bmap and itrunc,
 * kernel/fs.c, with Linux ext2's double indirection, fs/ext2/inode.c). 0
 * is a hole at every level. The indirect blocks pass through the scratch
 * blocks: [0] holds the double-indirect block, [2] an indirect block
 * ([1] is balloc's).
 */
#include "blk.h"
#include "errno.h"
#include "mmfs.h"
#include "string.h"

/* Slot @i of the block-number block @blkno, read into @buf: its value into
 * *@out, allocating (and, for a block of numbers, zeroing) it when @alloc
 * and it is a hole; @zero_new says whether a new block must be zeroed. */
static int slot(struct mmfs *fs, uint32_t blkno, uint8_t *buf, uint32_t i, bool alloc, bool zero_new,
		uint32_t *out)
{
	int err = blk_read(blkno, buf);
	if (err)
		return err;
	uint32_t *nums = (uint32_t *)buf;
	if (nums[i] || !alloc) {
		*out = nums[i];
		return 0;
	}
	uint32_t b;
	err = mmfs_balloc(fs, &b);
	if (err)
		return err;
	if (zero_new) {
		memset(fs->scratch[1], 0, MMFS_BSIZE);
		err = blk_write(b, fs->scratch[1]);
	}
	nums[i] = b;
	err = err ?: blk_write(blkno, buf);
	if (err) {
		mmfs_bfree(fs, b);
		return err;
	}
	*out = b;
	return 0;
}

/* *@p (a number in the inode) as a block, allocating it when @alloc. */
static int top(struct mmfs *fs, uint32_t *p, bool alloc, bool zero_new, bool *changed)
{
	if (*p || !alloc)
		return 0;
	uint32_t b;
	int err = mmfs_balloc(fs, &b);
	if (err)
		return err;
	if (zero_new) {
		memset(fs->scratch[1], 0, MMFS_BSIZE);
		err = blk_write(b, fs->scratch[1]);
		if (err) {
			mmfs_bfree(fs, b);
			return err;
		}
	}
	*p = b;
	*changed = true;
	return 0;
}

int mmfs_bmap(struct mmfs *fs, struct mmfs_dinode *d, uint64_t fblock, bool alloc, uint32_t *out,
	      bool *changed)
{
	*out = 0;
	if (fblock < MMFS_NDIRECT)
		return top(fs, &d->direct[fblock], alloc, false, changed) ?: (*out = d->direct[fblock], 0);
	fblock -= MMFS_NDIRECT;
	if (fblock < MMFS_NINDIRECT) {
		int err = top(fs, &d->indirect, alloc, true, changed);
		if (err || !d->indirect)
			return err;
		return slot(fs, d->indirect, fs->scratch[2], (uint32_t)fblock, alloc, false, out);
	}
	fblock -= MMFS_NINDIRECT;
	if (fblock >= (uint64_t)MMFS_NINDIRECT * MMFS_NINDIRECT)
		return -EFBIG;
	int err = top(fs, &d->dindirect, alloc, true, changed);
	if (err || !d->dindirect)
		return err;
	uint32_t ind;
	err = slot(fs, d->dindirect, fs->scratch[0], (uint32_t)(fblock / MMFS_NINDIRECT), alloc, true, &ind);
	if (err || !ind)
		return err;
	return slot(fs, ind, fs->scratch[2], (uint32_t)(fblock % MMFS_NINDIRECT), alloc, false, out);
}

/* Free the numbers from @keep on in the block of numbers @blkno (read into
 * @buf); a second level (@inner) frees whole indirect blocks below it.
 * *@empty: nothing is left in it. */
static int trunc_nums(struct mmfs *fs, uint32_t blkno, uint8_t *buf, uint64_t keep, bool inner, bool *empty)
{
	int err = blk_read(blkno, buf);
	if (err)
		return err;
	uint32_t *nums = (uint32_t *)buf;
	bool dirty = false;
	*empty = true;
	for (uint32_t i = 0; i < MMFS_NINDIRECT; i++) {
		uint64_t first = inner ? (uint64_t)i * MMFS_NINDIRECT : i; /* first file block under slot i */
		if (!nums[i])
			continue;
		if (inner) {
			uint64_t sub_keep = keep > first ? keep - first : 0;
			if (sub_keep >= MMFS_NINDIRECT) {
				*empty = false;
				continue;
			}
			bool sub_empty;
			err = trunc_nums(fs, nums[i], fs->scratch[2], sub_keep, false, &sub_empty);
			if (err)
				return err;
			if (!sub_empty) {
				*empty = false;
				continue;
			}
		} else if (first < keep) {
			*empty = false;
			continue;
		}
		err = mmfs_bfree(fs, nums[i]);
		if (err)
			return err;
		nums[i] = 0;
		dirty = true;
	}
	return dirty ? blk_write(blkno, buf) : 0;
}

/* Zero the bytes of file block @size / BSIZE past @size, if it exists. */
static int zero_tail(struct mmfs *fs, struct mmfs_dinode *d, uint64_t size)
{
	uint32_t off = size % MMFS_BSIZE, b;
	bool changed = false;
	if (!off)
		return 0;
	int err = mmfs_bmap(fs, d, size / MMFS_BSIZE, false, &b, &changed);
	if (err || !b)
		return err;
	uint8_t *buf = fs->scratch[2];
	err = blk_read(b, buf);
	if (err)
		return err;
	memset(buf + off, 0, MMFS_BSIZE - off);
	return blk_write(b, buf);
}

int mmfs_truncate(struct mmfs *fs, struct mmfs_dinode *d, uint64_t size)
{
	uint64_t keep = (size + MMFS_BSIZE - 1) / MMFS_BSIZE;
	int err;
	for (uint32_t i = 0; i < MMFS_NDIRECT; i++) {
		if (i >= keep && d->direct[i]) {
			if ((err = mmfs_bfree(fs, d->direct[i])))
				return err;
			d->direct[i] = 0;
		}
	}
	bool empty;
	if (d->indirect) {
		uint64_t k = keep > MMFS_NDIRECT ? keep - MMFS_NDIRECT : 0;
		if (k < MMFS_NINDIRECT) {
			if ((err = trunc_nums(fs, d->indirect, fs->scratch[0], k, false, &empty)))
				return err;
			if (empty) {
				if ((err = mmfs_bfree(fs, d->indirect)))
					return err;
				d->indirect = 0;
			}
		}
	}
	if (d->dindirect) {
		uint64_t base = MMFS_NDIRECT + MMFS_NINDIRECT;
		uint64_t k = keep > base ? keep - base : 0;
		if ((err = trunc_nums(fs, d->dindirect, fs->scratch[0], k, true, &empty)))
			return err;
		if (empty) {
			if ((err = mmfs_bfree(fs, d->dindirect)))
				return err;
			d->dindirect = 0;
		}
	}
	return zero_tail(fs, d, size);
}
