/*
 * Host unit test of mmfs's core (ch5/fs/mount.c, balloc.c, dinode.c,
 * bmap.c, dir.c) under AddressSanitizer and UBSan, over a disk in RAM (the
 * blk.h calls below), driven by a seeded random sequence of the operations
 * the kernel side makes of it (open.c's create and unlink, inode.c's
 * writepage and truncate, the mount at boot) against a model.
 *
 * The model keeps each file's name, inode, size, the bytes of every block
 * written, and which indirect blocks exist; it applies the store's
 * documented rules (bmap allocates the indirect levels before the data
 * block, in that order, and leaves what it allocated when the data block
 * does not fit; truncate frees the blocks past the new end and the
 * indirect blocks left empty, and zeroes the tail of the last block), so
 * it predicts each result, ENOSPC included, and the number of free blocks.
 * After every step an independent checker reads the raw disk: the bitmap
 * is exactly the metadata plus the blocks reachable from the inodes, no
 * block is reachable twice, the free count (the store's and the model's)
 * matches, every inode is the model's (type, nlink, size, map: the mapped
 * file blocks are the model's, holes included), free inodes are zero, and
 * the directory names each file once; the bytes of the touched file (of
 * every file every 64 steps) are the model's.
 *
 * Scenarios: the random sequence on a small disk (it fills to ENOSPC and
 * recovers by truncate and unlink), remounts, the inode table filled to
 * ENOSPC, a directory that grows into its indirect block (and a full disk
 * at that moment), holes, the double-indirect range up to the largest
 * file block (EFBIG past it), and mount's checks of a bad superblock.
 *
 *   test_mmfs [STEPS [SEED]]     (default 20000 steps, seed 1)
 */
// HOSTTEST_SOURCES: ch5/fs/mount.c ch5/fs/balloc.c ch5/fs/dinode.c ch5/fs/bmap.c ch5/fs/dir.c common/hosttest/host_kernel.c
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/hosttest/host_check.h"
#include "../fs/mmfs.h"
#include "blk.h"

/* ---- the disk in RAM (blk.h) --------------------------------------------------- */

static uint8_t *disk;
static uint64_t disk_nblocks;
static bool disk_attached;
static unsigned long disk_reads, disk_writes;

bool blk_present(void) { return disk_attached; }

uint64_t blk_nblocks(void) { return disk_attached ? disk_nblocks : 0; }

int blk_read(uint64_t block, void *buf)
{
	if (!disk_attached)
		return -ENODEV;
	if (block >= disk_nblocks)
		return -EIO;
	disk_reads++;
	memcpy(buf, disk + block * BLK_SIZE, BLK_SIZE);
	return 0;
}

int blk_write(uint64_t block, const void *buf)
{
	if (!disk_attached)
		return -ENODEV;
	if (block >= disk_nblocks)
		return -EIO;
	disk_writes++;
	memcpy(disk + block * BLK_SIZE, buf, BLK_SIZE);
	return 0;
}

static uint8_t *dblock(uint32_t b) { return disk + (uint64_t)b * MMFS_BSIZE; }

/* A fresh image as the host tool makes it: superblock, bitmap, inode table,
 * an empty root directory. */
static void mkfs(uint32_t nblocks, uint32_t ninodes)
{
	free(disk);
	disk_nblocks = nblocks;
	disk = calloc(nblocks, MMFS_BSIZE);
	disk_attached = true;
	struct mmfs_super sb = {.magic = MMFS_MAGIC,
				.version = MMFS_VERSION,
				.nblocks = nblocks,
				.ninodes = ninodes,
				.bitmap_start = 1};
	sb.bitmap_blocks = (nblocks + MMFS_BITS_PER_BLOCK - 1) / MMFS_BITS_PER_BLOCK;
	sb.inode_start = sb.bitmap_start + sb.bitmap_blocks;
	sb.inode_blocks = (ninodes + MMFS_INODES_PER_BLOCK - 1) / MMFS_INODES_PER_BLOCK;
	sb.data_start = sb.inode_start + sb.inode_blocks;
	memcpy(dblock(0), &sb, sizeof(sb));
	for (uint32_t b = 0; b < sb.data_start; b++)
		dblock(sb.bitmap_start)[b / 8] |= (uint8_t)(1u << (b % 8));
	struct mmfs_dinode root = {.type = MMFS_T_DIR, .nlink = 1};
	memcpy(dblock(sb.inode_start) + MMFS_ROOT_INO * MMFS_INODE_SIZE, &root, sizeof(root));
}

/* ---- the model --------------------------------------------------------------------- */

#define NAME_POOL 40

struct mblock {
	uint64_t fb;
	uint8_t *data;
};

struct mfile {
	bool used;
	char name[MMFS_NAME_MAX + 1];
	uint32_t ino;
	uint64_t size;
	struct mblock *blocks; /* the file blocks written (not holes) */
	size_t nblocks, cap;
	bool ind, dind; /* the indirect and double-indirect blocks exist */
	uint8_t *inner; /* [1024]: inner indirect block i of the double-indirect exists */
	bool touched;	/* check its bytes after this step */
};

static struct {
	struct mmfs fs;
	struct mfile *files; /* [nfiles_max] */
	int nfiles_max, nfiles;
	uint32_t free;	      /* data blocks free */
	uint32_t root_blocks; /* the directory's data blocks */
	bool root_ind;	      /* the directory's indirect block exists */
	unsigned long steps, checks_before, enospc_blocks, enospc_inodes, remounts, efbig;
} m;

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static uint64_t below(uint64_t n) { return n ? rnd() % n : 0; }

static void model_reset(uint32_t nblocks, uint32_t ninodes)
{
	for (int i = 0; i < m.nfiles_max; i++) {
		for (size_t k = 0; k < m.files[i].nblocks; k++)
			free(m.files[i].blocks[k].data);
		free(m.files[i].blocks);
		free(m.files[i].inner);
	}
	free(m.files);
	mkfs(nblocks, ninodes);
	memset(&m.fs, 0, sizeof(m.fs));
	spin_init(&m.fs.lock, "mmfs");
	m.nfiles_max = (int)ninodes - 2;
	m.files = calloc((size_t)m.nfiles_max, sizeof(*m.files));
	m.nfiles = 0;
	const struct mmfs_super *sb = (const struct mmfs_super *)dblock(0);
	m.free = nblocks - sb->data_start;
	m.root_blocks = 0;
	m.root_ind = false;
	CHECK_EQ(mmfs_mount(&m.fs), 0);
	CHECK_EQ(m.fs.free_blocks, m.free);
}

static struct mblock *mfind(struct mfile *f, uint64_t fb)
{
	for (size_t k = 0; k < f->nblocks; k++)
		if (f->blocks[k].fb == fb)
			return &f->blocks[k];
	return NULL;
}

static struct mfile *by_name(const char *name)
{
	for (int i = 0; i < m.nfiles_max; i++)
		if (m.files[i].used && !strcmp(m.files[i].name, name))
			return &m.files[i];
	return NULL;
}

static struct mfile *any_file(void)
{
	if (!m.nfiles)
		return NULL;
	int k = (int)below((uint64_t)m.nfiles);
	for (int i = 0; i < m.nfiles_max; i++)
		if (m.files[i].used && k-- == 0)
			return &m.files[i];
	return NULL;
}

/* ---- the checker: the raw disk against the model ---------------------------------- */

static const struct mmfs_super *SB(void) { return (const struct mmfs_super *)dblock(0); }

static struct mmfs_dinode *dinode(uint32_t ino)
{
	return (struct mmfs_dinode *)(dblock(SB()->inode_start + ino / MMFS_INODES_PER_BLOCK) +
				      (ino % MMFS_INODES_PER_BLOCK) * MMFS_INODE_SIZE);
}

static bool bit(uint32_t b)
{
	return dblock(SB()->bitmap_start + b / MMFS_BITS_PER_BLOCK)[(b % MMFS_BITS_PER_BLOCK) / 8] >>
		       (b % 8) &
	       1;
}

static uint8_t *owner; /* [nblocks]: 1 once reachable */
static unsigned long blocks_checked;

/* Block @b is reachable: in range, and not reachable twice. */
static bool claim(uint32_t b, const char *what, uint32_t ino)
{
	if (b < SB()->data_start || b >= SB()->nblocks) {
		check_fail(__FILE__, __LINE__, "inode %u: %s block %u outside the data blocks", ino, what, b);
		return false;
	}
	if (owner[b]) {
		check_fail(__FILE__, __LINE__, "inode %u: %s block %u is used twice", ino, what, b);
		return false;
	}
	owner[b] = 1;
	check_pass();
	return true;
}

/* Visit every mapped file block of inode @ino: @fn(fb, disk block). Claims
 * the map's blocks. Checks the indirect levels against @f (NULL: the root). */
static void walk_map(uint32_t ino, const struct mmfs_dinode *d, struct mfile *f,
		     void (*fn)(struct mfile *f, uint64_t fb, uint32_t b, void *arg), void *arg)
{
	for (uint32_t i = 0; i < MMFS_NDIRECT; i++)
		if (d->direct[i] && claim(d->direct[i], "data", ino))
			fn(f, i, d->direct[i], arg);
	CHECK_EQ(d->indirect != 0, f ? f->ind : m.root_ind);
	if (d->indirect && claim(d->indirect, "indirect", ino)) {
		const uint32_t *nums = (const uint32_t *)dblock(d->indirect);
		for (uint32_t i = 0; i < MMFS_NINDIRECT; i++)
			if (nums[i] && claim(nums[i], "data", ino))
				fn(f, MMFS_NDIRECT + i, nums[i], arg);
	}
	CHECK_EQ(d->dindirect != 0, f ? f->dind : false);
	if (d->dindirect && claim(d->dindirect, "double-indirect", ino)) {
		const uint32_t *outer = (const uint32_t *)dblock(d->dindirect);
		for (uint32_t i = 0; i < MMFS_NINDIRECT; i++) {
			CHECK_EQ(outer[i] != 0, f && f->inner && f->inner[i]);
			if (!outer[i] || !claim(outer[i], "inner indirect", ino))
				continue;
			const uint32_t *nums = (const uint32_t *)dblock(outer[i]);
			for (uint32_t k = 0; k < MMFS_NINDIRECT; k++)
				if (nums[k] && claim(nums[k], "data", ino))
					fn(f,
					   MMFS_NDIRECT + MMFS_NINDIRECT + (uint64_t)i * MMFS_NINDIRECT + k,
					   nums[k], arg);
		}
	}
}

struct file_walk {
	size_t seen;
	bool bytes;
};

static void file_block(struct mfile *f, uint64_t fb, uint32_t b, void *arg)
{
	struct file_walk *w = arg;
	struct mblock *mb = mfind(f, fb);
	if (!mb) {
		check_fail(__FILE__, __LINE__,
			   "%s: file block %lu mapped (disk block %u), the model has a hole", f->name,
			   (unsigned long)fb, b);
		return;
	}
	w->seen++;
	CHECK(fb < (f->size + MMFS_BSIZE - 1) / MMFS_BSIZE);
	if (w->bytes) {
		blocks_checked++;
		if (memcmp(dblock(b), mb->data, MMFS_BSIZE))
			check_fail(__FILE__, __LINE__, "%s: file block %lu: bytes differ from the model",
				   f->name, (unsigned long)fb);
		else
			check_pass();
	}
}

static void root_block(struct mfile *f, uint64_t fb, uint32_t b, void *arg)
{
	(void)f;
	(void)b;
	(*(uint32_t *)arg)++;
	CHECK(fb < m.root_blocks); /* the directory has no holes */
}

static void check_all(bool all_bytes)
{
	const struct mmfs_super *sb = SB();
	owner = calloc(sb->nblocks, 1);
	/* the directory */
	struct mmfs_dinode *root = dinode(MMFS_ROOT_INO);
	CHECK_EQ(root->type, MMFS_T_DIR);
	CHECK_EQ(root->size, (uint64_t)m.root_blocks * MMFS_BSIZE);
	uint32_t root_mapped = 0;
	walk_map(MMFS_ROOT_INO, root, NULL, root_block, &root_mapped);
	CHECK_EQ(root_mapped, m.root_blocks);
	int *named = calloc(sb->ninodes, sizeof(int));
	int entries = 0;
	for (uint32_t fb = 0; fb < m.root_blocks; fb++) {
		uint32_t b =
			fb < MMFS_NDIRECT
				? root->direct[fb]
				: (root->indirect ? ((uint32_t *)dblock(root->indirect))[fb - MMFS_NDIRECT]
						  : 0);
		if (!b || b >= sb->nblocks)
			continue;
		const struct mmfs_dirent *e = (const struct mmfs_dirent *)dblock(b);
		for (uint32_t i = 0; i < MMFS_DIRENTS_PER_BLOCK; i++, e++) {
			if (!e->ino)
				continue;
			entries++;
			size_t len = strnlen(e->name, sizeof(e->name));
			if (len == 0 || len > MMFS_NAME_MAX || e->ino >= sb->ninodes) {
				check_fail(__FILE__, __LINE__, "a bad directory entry (ino %u)", e->ino);
				continue;
			}
			named[e->ino]++;
			struct mfile *f = by_name(e->name);
			if (!f || f->ino != e->ino)
				check_fail(__FILE__, __LINE__, "directory: \"%s\" -> %u, the model: %d",
					   e->name, e->ino, f ? (int)f->ino : -1);
			else
				check_pass();
		}
	}
	CHECK_EQ(entries, m.nfiles);
	/* the inodes */
	struct mfile **of = calloc(sb->ninodes, sizeof(*of));
	for (int i = 0; i < m.nfiles_max; i++)
		if (m.files[i].used)
			of[m.files[i].ino] = &m.files[i];
	static const struct mmfs_dinode zero;
	for (uint32_t ino = MMFS_ROOT_INO + 1; ino < sb->ninodes; ino++) {
		struct mmfs_dinode *d = dinode(ino);
		struct mfile *f = of[ino];
		if (!f) {
			if (memcmp(d, &zero, sizeof(zero)))
				check_fail(__FILE__, __LINE__,
					   "inode %u: not the model's, not free (type %u)", ino, d->type);
			continue;
		}
		CHECK_EQ(d->type, MMFS_T_FILE);
		CHECK_EQ(d->nlink, 1);
		CHECK_EQ(named[ino], 1);
		CHECK_EQ(d->size, f->size);
		struct file_walk w = {.bytes = all_bytes || f->touched};
		walk_map(ino, d, f, file_block, &w);
		CHECK_EQ(w.seen, f->nblocks); /* and no model block is a hole on the disk */
		f->touched = false;
	}
	/* the bitmap: metadata plus what is reachable, nothing else */
	uint32_t clear = 0, bad = 0;
	for (uint32_t b = 0; b < sb->nblocks; b++) {
		bool want = b < sb->data_start || owner[b];
		if (bit(b) != want && bad++ < 5)
			check_fail(__FILE__, __LINE__, "bitmap: block %u is %s but %s", b,
				   bit(b) ? "set" : "clear", want ? "in use" : "reachable from no inode");
		clear += !bit(b);
	}
	if (!bad)
		check_pass();
	CHECK_EQ(clear, m.free);
	CHECK_EQ(m.fs.free_blocks, m.free);
	free(of);
	free(named);
	free(owner);
}

/* ---- the operations, as the kernel side makes them --------------------------------- */

static void random_name(char *name)
{
	int k = (int)below(NAME_POOL);
	if (k == 0) { /* the longest name */
		memset(name, 'L', MMFS_NAME_MAX);
		name[MMFS_NAME_MAX] = 0;
	} else {
		snprintf(name, MMFS_NAME_MAX + 1, "file-%d.dat", k);
	}
}

/* open.c's O_CREAT: ialloc, then the entry (the inode freed if it fails). */
static void op_create(const char *name)
{
	uint32_t ino = 0;
	int err = mmfs_dir_lookup(&m.fs, name, &ino);
	struct mfile *f = by_name(name);
	if (f) {
		CHECK_EQ(err, 0);
		CHECK_EQ(ino, f->ino);
		return;
	}
	CHECK_EQ(err, -ENOENT);
	err = mmfs_ialloc(&m.fs, MMFS_T_FILE, &ino);
	if (m.nfiles == m.nfiles_max) {
		CHECK_EQ(err, -ENOSPC);
		m.enospc_inodes++;
		return;
	}
	if (err) {
		CHECK_EQ(err, 0);
		return;
	}
	/* A free slot, or the directory grows by a block (and its indirect block first). */
	int expect = 0;
	if ((uint32_t)m.nfiles == m.root_blocks * MMFS_DIRENTS_PER_BLOCK) {
		if (m.root_blocks >= MMFS_NDIRECT && !m.root_ind && m.free) {
			m.root_ind = true;
			m.free--;
		}
		if (m.free) {
			m.free--;
			m.root_blocks++;
		} else {
			expect = -ENOSPC;
		}
	}
	err = mmfs_dir_add(&m.fs, name, ino);
	CHECK_EQ(err, expect);
	if (err) {
		m.enospc_blocks++;
		struct mmfs_dinode free_inode = {0};
		CHECK_EQ(mmfs_iwrite(&m.fs, ino, &free_inode), 0);
		return;
	}
	for (int i = 0; i < m.nfiles_max; i++) {
		if (!m.files[i].used) {
			f = &m.files[i];
			break;
		}
	}
	*f = (struct mfile){.used = true, .ino = ino};
	strcpy(f->name, name);
	m.nfiles++;
}

/* Bytes of a block written at @step: never all zero, so a hole shows. */
static void fill(uint8_t *data)
{
	uint64_t x = rnd() | 1;
	for (uint32_t i = 0; i < MMFS_BSIZE; i += 8) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		memcpy(data + i, &x, 8);
	}
}

/* The model's allocation for file block @fb: the levels bmap allocates, in
 * its order. @return 0, -ENOSPC (what it took stays), -EFBIG. */
static int model_alloc(struct mfile *f, uint64_t fb)
{
	if (fb >= MMFS_MAX_FILE_BLOCKS)
		return -EFBIG;
	if (mfind(f, fb))
		return 0;
	if (fb >= MMFS_NDIRECT && fb < MMFS_NDIRECT + MMFS_NINDIRECT && !f->ind) {
		if (!m.free)
			return -ENOSPC;
		m.free--;
		f->ind = true;
	}
	if (fb >= MMFS_NDIRECT + MMFS_NINDIRECT) {
		uint64_t i = (fb - MMFS_NDIRECT - MMFS_NINDIRECT) / MMFS_NINDIRECT;
		if (!f->dind) {
			if (!m.free)
				return -ENOSPC;
			m.free--;
			f->dind = true;
		}
		if (!f->inner)
			f->inner = calloc(MMFS_NINDIRECT, 1);
		if (!f->inner[i]) {
			if (!m.free)
				return -ENOSPC;
			m.free--;
			f->inner[i] = 1;
		}
	}
	if (!m.free)
		return -ENOSPC;
	m.free--;
	if (f->nblocks == f->cap) {
		f->cap = f->cap ? 2 * f->cap : 8;
		f->blocks = realloc(f->blocks, f->cap * sizeof(*f->blocks));
	}
	f->blocks[f->nblocks++] = (struct mblock){fb, malloc(MMFS_BSIZE)};
	return 0;
}

/* inode.c's writepage of a whole block @fb: bmap with allocation, the
 * block written, the inode written back if bmap changed it or the size
 * grew (also after an error: what bmap took is the file's). */
static void op_write(struct mfile *f, uint64_t fb)
{
	struct mmfs_dinode d;
	CHECK_EQ(mmfs_iread(&m.fs, f->ino, &d), 0);
	int expect = model_alloc(f, fb);
	uint32_t b = 0;
	bool changed = false;
	int err = mmfs_bmap(&m.fs, &d, fb, true, &b, &changed);
	CHECK_EQ(err, expect);
	f->touched = true;
	if (expect == -ENOSPC)
		m.enospc_blocks++;
	if (expect == -EFBIG)
		m.efbig++;
	if (!err) {
		CHECK(b != 0);
		uint8_t *data = mfind(f, fb)->data;
		fill(data);
		CHECK_EQ(blk_write(b, data), 0);
		if (d.size < (fb + 1) * MMFS_BSIZE) {
			d.size = f->size = (fb + 1) * MMFS_BSIZE;
			changed = true;
		}
	}
	if (changed)
		CHECK_EQ(mmfs_iwrite(&m.fs, f->ino, &d), 0);
}

/* The model's truncate: the store's rules (mmfs.h). */
static void model_truncate(struct mfile *f, uint64_t size)
{
	uint64_t keep = (size + MMFS_BSIZE - 1) / MMFS_BSIZE;
	for (size_t k = 0; k < f->nblocks;) {
		if (f->blocks[k].fb >= keep) {
			free(f->blocks[k].data);
			f->blocks[k] = f->blocks[--f->nblocks];
			m.free++;
		} else {
			k++;
		}
	}
	if (f->ind && keep < MMFS_NDIRECT + MMFS_NINDIRECT) {
		bool empty = true;
		for (size_t k = 0; k < f->nblocks; k++)
			empty &= !(f->blocks[k].fb >= MMFS_NDIRECT &&
				   f->blocks[k].fb < MMFS_NDIRECT + MMFS_NINDIRECT);
		if (empty) {
			f->ind = false;
			m.free++;
		}
	}
	if (f->dind) {
		bool any = false;
		for (uint64_t i = 0; i < MMFS_NINDIRECT; i++) {
			if (!f->inner[i])
				continue;
			uint64_t first = MMFS_NDIRECT + MMFS_NINDIRECT + i * MMFS_NINDIRECT;
			bool keep_whole = keep >= first + MMFS_NINDIRECT, empty = true;
			for (size_t k = 0; k < f->nblocks && !keep_whole; k++)
				empty &= !(f->blocks[k].fb >= first &&
					   f->blocks[k].fb < first + MMFS_NINDIRECT);
			if (!keep_whole && empty) {
				f->inner[i] = 0;
				m.free++;
			} else {
				any = true;
			}
		}
		if (!any) {
			f->dind = false;
			m.free++;
		}
	}
	struct mblock *tail = size % MMFS_BSIZE ? mfind(f, size / MMFS_BSIZE) : NULL;
	if (tail)
		memset(tail->data + size % MMFS_BSIZE, 0, MMFS_BSIZE - size % MMFS_BSIZE);
	f->size = size;
}

/* inode.c's inode_truncate: mmfs_truncate, then the size written. */
static void op_truncate(struct mfile *f, uint64_t size)
{
	struct mmfs_dinode d;
	CHECK_EQ(mmfs_iread(&m.fs, f->ino, &d), 0);
	CHECK_EQ(mmfs_truncate(&m.fs, &d, size), 0);
	d.size = size;
	CHECK_EQ(mmfs_iwrite(&m.fs, f->ino, &d), 0);
	model_truncate(f, size);
	f->touched = true;
}

/* open.c's unlink and inode.c's last put: the entry goes, then the blocks
 * and the inode. */
static void op_unlink(struct mfile *f)
{
	uint32_t ino = 0;
	CHECK_EQ(mmfs_dir_remove(&m.fs, f->name, &ino), 0);
	CHECK_EQ(ino, f->ino);
	struct mmfs_dinode d;
	CHECK_EQ(mmfs_iread(&m.fs, ino, &d), 0);
	CHECK_EQ(mmfs_truncate(&m.fs, &d, 0), 0);
	memset(&d, 0, sizeof(d));
	CHECK_EQ(mmfs_iwrite(&m.fs, ino, &d), 0);
	model_truncate(f, 0);
	uint32_t again;
	CHECK_EQ(mmfs_dir_lookup(&m.fs, f->name, &again), -ENOENT);
	free(f->blocks);
	free(f->inner);
	*f = (struct mfile){0};
	m.nfiles--;
}

/* A boot: the store mounted afresh counts the same free blocks. */
static void op_remount(void)
{
	uint32_t before = m.fs.free_blocks;
	memset(&m.fs, 0, sizeof(m.fs));
	spin_init(&m.fs.lock, "mmfs");
	CHECK_EQ(mmfs_mount(&m.fs), 0);
	CHECK_EQ(m.fs.free_blocks, before);
	m.remounts++;
}

/* A file block to write: mostly near the start (direct, the indirect
 * range), some in the double-indirect range, the largest one, past it. */
static uint64_t random_fblock(struct mfile *f)
{
	uint64_t r = below(100);
	uint64_t end = (f->size + MMFS_BSIZE - 1) / MMFS_BSIZE;
	if (r < 40)
		return below(end + 3);
	if (r < 60)
		return below(MMFS_NDIRECT + 4);
	if (r < 75)
		return MMFS_NDIRECT + below(MMFS_NINDIRECT + 8);
	if (r < 93)
		return MMFS_NDIRECT + MMFS_NINDIRECT + below((uint64_t)MMFS_NINDIRECT * MMFS_NINDIRECT);
	if (r < 97)
		return MMFS_MAX_FILE_BLOCKS - 1 - below(3);
	return MMFS_MAX_FILE_BLOCKS + below(2);
}

static uint64_t random_size(struct mfile *f)
{
	uint64_t r = below(100);
	if (r < 15)
		return 0;
	if (r < 55)
		return below(f->size + 1); /* shrink (mostly not on a block boundary) */
	if (r < 80) /* grow: a hole (never past the largest file: inode.c says EFBIG) */
		return MIN(f->size + below(5 * MMFS_BSIZE), MMFS_MAX_FILE_SIZE);
	if (r < 95)
		return below((uint64_t)(MMFS_NDIRECT + MMFS_NINDIRECT + 3 * MMFS_NINDIRECT) * MMFS_BSIZE);
	return MMFS_MAX_FILE_SIZE - below(MMFS_BSIZE);
}

static void step(void)
{
	uint64_t r = below(100);
	struct mfile *f = any_file();
	char name[MMFS_NAME_MAX + 1];
	if (r < 15 || !f) {
		random_name(name);
		op_create(name);
	} else if (r < 75) {
		op_write(f, random_fblock(f));
	} else if (r < 90) {
		op_truncate(f, random_size(f));
	} else if (r < 98) {
		op_unlink(f);
	} else {
		op_remount();
	}
	m.steps++;
	check_all(m.steps % 64 == 0);
}

/* ---- the scenarios ----------------------------------------------------------------- */

static void scenario_random(unsigned long steps)
{
	model_reset(120, 32); /* small: it fills up often (blocks and inodes) */
	check_context = "random";
	for (unsigned long i = 0; i < steps; i++)
		step();
	check_all(true);
	printf("random: %lu steps, %lu ENOSPC (blocks), %lu ENOSPC (inodes), %lu EFBIG, %lu remounts\n",
	       m.steps, m.enospc_blocks, m.enospc_inodes, m.efbig, m.remounts);
}

/* Every inode taken (ENOSPC), the directory grown past its direct blocks
 * into its indirect block; then every block taken; then both given back. */
static void scenario_fill(void)
{
	check_context = "fill";
	/* 640 files fill the directory's 10 direct blocks; a file takes all
	 * but one free block; the 641st name needs the directory's indirect
	 * block and a block of entries: the first fits, the second does not. */
	model_reset(64, 720);
	char name[MMFS_NAME_MAX + 1];
	for (int i = 0; i < (int)(MMFS_NDIRECT * MMFS_DIRENTS_PER_BLOCK); i++) {
		snprintf(name, sizeof(name), "f%d", i);
		op_create(name);
		if (i % 97 == 0)
			check_all(false);
	}
	CHECK_EQ(m.root_blocks, MMFS_NDIRECT);
	struct mfile *f = by_name("f0");
	uint64_t fb = 0;
	while (m.free > 1)
		op_write(f, fb++);
	check_all(true);
	unsigned long e0 = m.enospc_blocks;
	op_create("one-more");
	CHECK_EQ(m.enospc_blocks, e0 + 1);
	CHECK(by_name("one-more") == NULL);
	check_all(true); /* the directory's new indirect block is not lost */
	op_truncate(f, 0);
	op_create("one-more");
	CHECK(by_name("one-more") != NULL);
	check_all(true);
	printf("fill: a full disk as the directory grows into its indirect block: ENOSPC, nothing lost\n");
	/* the inode table: a roomy disk, every inode taken, then ENOSPC */
	model_reset(200, 720);
	for (int i = 0; i < m.nfiles_max; i++) {
		snprintf(name, sizeof(name), "g%d", i);
		op_create(name);
	}
	CHECK_EQ(m.nfiles, m.nfiles_max);
	CHECK(m.root_ind);
	unsigned long ei = m.enospc_inodes;
	op_create("one-too-many");
	CHECK_EQ(m.enospc_inodes, ei + 1);
	check_all(true);
	/* every data block taken by one file, then ENOSPC, then given back */
	f = by_name("g0");
	fb = 0;
	while (m.free) {
		op_write(f, fb++);
		if (fb % 16 == 0)
			check_all(false);
	}
	CHECK_EQ(m.fs.free_blocks, 0);
	unsigned long eb = m.enospc_blocks;
	op_write(by_name("g1"), 0);
	op_write(f, fb);
	CHECK_EQ(m.enospc_blocks, eb + 2);
	check_all(true);
	printf("fill: %d inodes and %lu file blocks in use, then ENOSPC for both\n", m.nfiles,
	       (unsigned long)fb);
	/* given back: unlink everything, create and write again */
	while (m.nfiles)
		op_unlink(any_file());
	check_all(true);
	CHECK_EQ(m.free, SB()->nblocks - SB()->data_start - m.root_blocks - (m.root_ind ? 1u : 0u));
	op_create("again");
	op_write(by_name("again"), 5);
	op_remount();
	check_all(true);
}

/* Holes everywhere, the double-indirect range, the largest block. */
static void scenario_sparse(void)
{
	check_context = "sparse";
	model_reset(400, 16);
	op_create("sparse");
	struct mfile *f = by_name("sparse");
	static const uint64_t fbs[] = {
		3,
		MMFS_NDIRECT,						  /* the indirect block's first */
		MMFS_NDIRECT + MMFS_NINDIRECT - 1,			  /* its last */
		MMFS_NDIRECT + MMFS_NINDIRECT,				  /* the double-indirect's first */
		MMFS_NDIRECT + MMFS_NINDIRECT + MMFS_NINDIRECT,		  /* its second inner block */
		MMFS_NDIRECT + MMFS_NINDIRECT + 517 * MMFS_NINDIRECT + 9, /* somewhere in the middle */
		MMFS_MAX_FILE_BLOCKS - 1,				  /* the largest */
	};
	for (size_t i = 0; i < sizeof(fbs) / sizeof(fbs[0]); i++) {
		op_write(f, fbs[i]);
		check_all(true);
	}
	CHECK_EQ(f->size, MMFS_MAX_FILE_SIZE);
	CHECK(f->ind && f->dind);
	unsigned long e = m.efbig;
	op_write(f, MMFS_MAX_FILE_BLOCKS);
	CHECK_EQ(m.efbig, e + 1);
	/* holes read as holes through bmap, without allocation */
	struct mmfs_dinode d;
	CHECK_EQ(mmfs_iread(&m.fs, f->ino, &d), 0);
	uint32_t holes = 0, b;
	bool changed = false;
	for (uint64_t fb = 0; fb < 3000; fb++) {
		CHECK_EQ(mmfs_bmap(&m.fs, &d, fb, false, &b, &changed), 0);
		holes += mfind(f, fb) ? (b != 0) : (b == 0);
	}
	CHECK_EQ(holes, 3000);
	CHECK(!changed);
	/* shrink step by step through each level, the tail zeroed */
	static const uint64_t sizes[] = {
		(MMFS_NDIRECT + MMFS_NINDIRECT + 517 * MMFS_NINDIRECT + 9) * (uint64_t)MMFS_BSIZE + 100,
		(MMFS_NDIRECT + MMFS_NINDIRECT + 1) * (uint64_t)MMFS_BSIZE,
		(MMFS_NDIRECT + MMFS_NINDIRECT) * (uint64_t)MMFS_BSIZE + 1,
		(MMFS_NDIRECT + 1) * (uint64_t)MMFS_BSIZE - 7,
		3 * (uint64_t)MMFS_BSIZE + 1,
		MMFS_MAX_FILE_SIZE,
		0,
	};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		op_truncate(f, sizes[i]);
		check_all(true);
	}
	CHECK(!f->ind && !f->dind && f->nblocks == 0);
	printf("sparse: %zu blocks across every level, up to file block %u, then truncated level by level\n",
	       sizeof(fbs) / sizeof(fbs[0]), MMFS_MAX_FILE_BLOCKS - 1);
}

/* Mount's checks: no disk, a foreign block 0, a store larger than the disk. */
static void scenario_mount(void)
{
	check_context = "mount";
	struct mmfs fs = {0};
	spin_init(&fs.lock, "mmfs");
	mkfs(64, 16);
	disk_attached = false;
	CHECK_EQ(mmfs_mount(&fs), -ENODEV);
	disk_attached = true;
	struct mmfs_super *sb = (struct mmfs_super *)dblock(0);
	CHECK_EQ(mmfs_mount(&fs), 0);
	CHECK_EQ(fs.free_blocks, 64 - sb->data_start);
	sb->magic ^= 1;
	CHECK_EQ(mmfs_mount(&fs), -EINVAL);
	CHECK(!fs.mounted);
	sb->magic ^= 1;
	sb->nblocks = 65;
	CHECK_EQ(mmfs_mount(&fs), -EINVAL);
	sb->nblocks = 64;
	sb->data_start++;
	CHECK_EQ(mmfs_mount(&fs), -EINVAL);
	sb->data_start--;
	CHECK_EQ(mmfs_mount(&fs), 0);
	/* names */
	CHECK_EQ(mmfs_check_name("", false), -ENOENT);
	CHECK_EQ(mmfs_check_name("", true), -EISDIR);
	CHECK_EQ(mmfs_check_name(".", false), -EISDIR);
	CHECK_EQ(mmfs_check_name("a/b", false), -ENOENT);
	char longest[MMFS_NAME_MAX + 2];
	memset(longest, 'x', sizeof(longest));
	longest[MMFS_NAME_MAX] = 0;
	CHECK_EQ(mmfs_check_name(longest, false), 0);
	longest[MMFS_NAME_MAX] = 'x';
	longest[MMFS_NAME_MAX + 1] = 0;
	CHECK_EQ(mmfs_check_name(longest, false), -ENAMETOOLONG);
	/* a block freed twice, or a metadata block, is refused */
	uint32_t b;
	CHECK_EQ(mmfs_balloc(&fs, &b), 0);
	CHECK_EQ(mmfs_bfree(&fs, b), 0);
	CHECK_EQ(mmfs_bfree(&fs, b), -EINVAL);
	CHECK_EQ(mmfs_bfree(&fs, 2), -EINVAL);
	CHECK_EQ(fs.free_blocks, 64 - sb->data_start);
}

int main(int argc, char **argv)
{
	unsigned long steps = argc > 1 ? strtoul(argv[1], NULL, 0) : 20000;
	rng_state = argc > 2 ? strtoull(argv[2], NULL, 0) : 1;
	if (!rng_state)
		rng_state = 1;
	printf("test_mmfs: %lu steps, seed %llu\n", steps, (unsigned long long)rng_state);
	scenario_mount();
	scenario_sparse();
	scenario_fill();
	scenario_random(steps);
	check_context = NULL;
	model_reset(16, 2); /* frees the model */
	free(m.files);
	free(disk);
	printf("test_mmfs: %d checks, %lu blocks' bytes compared, %lu disk reads, %lu disk writes\n",
	       checks_passed + checks_failed, blocks_checked, disk_reads, disk_writes);
	return checks_done("test_mmfs");
}
