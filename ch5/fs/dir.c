/*
 * mmfs's one directory: the data of inode 1, 64-byte entries, ino 0 a free
 * slot (xv6's dirlookup and dirlink, kernel/fs.c, without subdirectories).
 * Entry blocks are read into scratch block 2 once their number is known.
 */
#include "blk.h"
#include "errno.h"
#include "mmfs.h"
#include "string.h"

int mmfs_check_name(const char *name, bool had_slash)
{
	if (!name[0])
		return had_slash ? -EISDIR : -ENOENT;
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return -EISDIR;
	if (strchr(name, '/'))
		return -ENOENT; /* no subdirectories */
	if (strlen(name) > MMFS_NAME_MAX)
		return -ENAMETOOLONG;
	return 0;
}

/* Visit every slot of the directory until @fn returns non-zero, which is
 * then returned (a positive value: found); @fn may change the slot and
 * ask for its block to be written back by setting *@dirty. */
static int dir_walk(struct mmfs *fs, int (*fn)(struct mmfs_dirent *e, void *arg, bool *dirty), void *arg)
{
	struct mmfs_dinode root;
	int err = mmfs_iread(fs, MMFS_ROOT_INO, &root);
	if (err)
		return err;
	uint64_t nblocks = root.size / MMFS_BSIZE;
	for (uint64_t fb = 0; fb < nblocks; fb++) {
		uint32_t b;
		bool changed = false;
		err = mmfs_bmap(fs, &root, fb, false, &b, &changed);
		if (err)
			return err;
		if (!b)
			continue;
		uint8_t *buf = fs->scratch[2];
		if ((err = blk_read(b, buf)))
			return err;
		for (uint32_t i = 0; i < MMFS_DIRENTS_PER_BLOCK; i++) {
			bool dirty = false;
			int r = fn((struct mmfs_dirent *)(buf + i * MMFS_DIRENT_SIZE), arg, &dirty);
			if (dirty && (err = blk_write(b, buf)))
				return err;
			if (r)
				return r;
		}
	}
	return 0;
}

struct find {
	const char *name;
	uint32_t ino;
	bool remove;
};

static int match(struct mmfs_dirent *e, void *arg, bool *dirty)
{
	struct find *f = arg;
	if (!e->ino || strncmp(e->name, f->name, sizeof(e->name)) != 0)
		return 0;
	f->ino = e->ino;
	if (f->remove) {
		memset(e, 0, sizeof(*e));
		*dirty = true;
	}
	return 1;
}

int mmfs_dir_lookup(struct mmfs *fs, const char *name, uint32_t *ino)
{
	struct find f = {.name = name};
	int r = dir_walk(fs, match, &f);
	if (r < 0)
		return r;
	if (!r)
		return -ENOENT;
	*ino = f.ino;
	return 0;
}

int mmfs_dir_remove(struct mmfs *fs, const char *name, uint32_t *ino)
{
	struct find f = {.name = name, .remove = true};
	int r = dir_walk(fs, match, &f);
	if (r < 0)
		return r;
	if (!r)
		return -ENOENT;
	*ino = f.ino;
	return 0;
}

static int fill_free(struct mmfs_dirent *e, void *arg, bool *dirty)
{
	const struct mmfs_dirent *new = arg;
	if (e->ino)
		return 0;
	*e = *new;
	*dirty = true;
	return 1;
}

int mmfs_dir_add(struct mmfs *fs, const char *name, uint32_t ino)
{
	struct mmfs_dirent e = {.ino = ino};
	strlcpy(e.name, name, sizeof(e.name));
	int r = dir_walk(fs, fill_free, &e);
	if (r)
		return r < 0 ? r : 0;
	/* Every slot is taken: the directory grows by a block. */
	struct mmfs_dinode root;
	int err = mmfs_iread(fs, MMFS_ROOT_INO, &root);
	if (err)
		return err;
	uint32_t b;
	bool changed = false;
	uint64_t fb = root.size / MMFS_BSIZE;
	err = mmfs_bmap(fs, &root, fb, true, &b, &changed);
	if (!err) {
		uint8_t *buf = fs->scratch[2];
		memset(buf, 0, MMFS_BSIZE);
		memcpy(buf, &e, sizeof(e));
		err = blk_write(b, buf);
	}
	if (!err)
		root.size += MMFS_BSIZE;
	/* Written back even after an error: what bmap took (the indirect block
	 * when the directory first outgrows its direct blocks, taken before
	 * the data block ran out) is the directory's now, else it is lost. */
	if (!err || changed) {
		int err2 = mmfs_iwrite(fs, MMFS_ROOT_INO, &root);
		err = err ?: err2;
	}
	return err;
}
