/*
 * Inodes in memory (Linux's icache, fs/inode.c iget/iput; xv6's itable):
 * one struct inode per file something holds, found by number in a list
 * under the_fs.lock, with its page cache. The a_ops fill and write pages
 * from the file's blocks; they run under the mapping's lock and take the
 * inode's lock, then the store's, never the mapping's.
 */
#include "blk.h"
#include "errno.h"
#include "fs_internal.h"
#include "kmalloc.h"
#include "string.h"

struct mmfs the_fs = {.lock = SPINLOCK_INIT("mmfs")};
static struct inode *inodes; /* in memory; the_fs.lock */

bool fs_mounted(void) { return the_fs.mounted; }

uint32_t fs_free_blocks(void)
{
	spin_lock(&the_fs.lock);
	uint32_t n = the_fs.mounted ? the_fs.free_blocks : 0;
	spin_unlock(&the_fs.lock);
	return n;
}

/* readpage: the block's bytes, zeros in a hole and past the end. */
static int disk_readpage(struct address_space *mapping, uint64_t index, void *kva)
{
	struct inode *ip = mapping->host;
	uint32_t b = 0;
	bool changed = false;
	spin_lock(&ip->lock);
	spin_lock(&the_fs.lock);
	int err = mmfs_bmap(&the_fs, &ip->din, index, false, &b, &changed);
	if (!err && b)
		err = blk_read(b, kva);
	spin_unlock(&the_fs.lock);
	spin_unlock(&ip->lock);
	if (err)
		return err;
	if (!b)
		memset(kva, 0, PAGE_SIZE);
	uint64_t start = index * PAGE_SIZE, size = mapping->size;
	if (size < start + PAGE_SIZE) /* the last page: zeros past the end */
		memset((char *)kva + (size > start ? size - start : 0), 0,
		       PAGE_SIZE - (size > start ? size - start : 0));
	return 0;
}

/* Write din back if @changed or its size is behind the cache's. Both locks held. */
static int sync_dinode(struct inode *ip, bool changed)
{
	if (ip->din.size != ip->mapping.size) {
		ip->din.size = ip->mapping.size;
		changed = true;
	}
	return changed ? mmfs_iwrite(&the_fs, (uint32_t)ip->ino, &ip->din) : 0;
}

/* writepage: the bytes inside the file, zeros past its end, into the
 * page's block (allocated now if it is a hole). */
static int disk_writepage(struct address_space *mapping, uint64_t index, const void *kva)
{
	struct inode *ip = mapping->host;
	uint64_t start = index * PAGE_SIZE, size = mapping->size;
	if (start >= size)
		return 0; /* wholly past the end: nothing of it is the file's */
	/* Reclaim may ask from inside an allocation made under the store's
	 * locks: never wait for a lock this hart holds (pagecache.h). */
	if (spin_holding(&ip->lock) || spin_holding(&the_fs.lock))
		return -EAGAIN;
	uint32_t b;
	bool changed = false;
	spin_lock(&ip->lock);
	spin_lock(&the_fs.lock);
	int err = mmfs_bmap(&the_fs, &ip->din, index, true, &b, &changed);
	if (!err) {
		const void *src = kva;
		if (size - start < PAGE_SIZE) { /* never the bytes past the end */
			memcpy(the_fs.scratch[1], kva, size - start);
			memset(the_fs.scratch[1] + (size - start), 0, PAGE_SIZE - (size - start));
			src = the_fs.scratch[1];
		}
		err = blk_write(b, src);
	}
	int err2 = sync_dinode(ip, changed);
	spin_unlock(&the_fs.lock);
	spin_unlock(&ip->lock);
	return err ?: err2;
}

static const struct address_space_ops disk_aops = {
	.readpage = disk_readpage,
	.writepage = disk_writepage,
};

/* Find @ino in memory with a reference; spin while an old copy is dropped.
 * the_fs.lock held on entry and on return. NULL: not in memory. */
static struct inode *find_locked(bool initramfs, unsigned long ino, const void *data)
{
	for (;;) {
		struct inode *ip = inodes;
		while (ip && !(ip->initramfs == initramfs && (initramfs ? ip->data == data : ip->ino == ino)))
			ip = ip->next;
		if (!ip)
			return NULL;
		if (!ip->freeing) {
			ip->refs++;
			return ip;
		}
		spin_unlock(&the_fs.lock); /* its last holder is writing it back: wait for it to go */
		spin_lock(&the_fs.lock);
	}
}

int inode_get(uint32_t ino, struct inode **out)
{
	spin_lock(&the_fs.lock);
	struct inode *ip = find_locked(false, ino, NULL);
	int err = 0;
	if (!ip) {
		ip = kzalloc(sizeof(*ip));
		err = ip ? mmfs_iread(&the_fs, ino, &ip->din) : -ENOMEM;
		if (!err && ip->din.type != MMFS_T_FILE)
			err = -EIO; /* a directory entry naming no file: a damaged store */
		if (!err) {
			ip->ino = ino;
			ip->refs = 1;
			spin_init(&ip->lock, "inode");
			mapping_init(&ip->mapping, &disk_aops, ip, ip->din.size);
			ip->next = inodes;
			inodes = ip;
		} else {
			kfree(ip);
			ip = NULL;
		}
	}
	spin_unlock(&the_fs.lock);
	*out = ip;
	return err;
}

/* readpage of an initramfs file: its bytes from the archive. */
static int initramfs_readpage(struct address_space *mapping, uint64_t index, void *kva)
{
	struct inode *ip = mapping->host;
	uint64_t start = index * PAGE_SIZE, size = mapping->size;
	size_t n = start < size ? (size_t)MIN(size - start, (uint64_t)PAGE_SIZE) : 0;
	memcpy(kva, (const char *)ip->data + start, n);
	memset((char *)kva + n, 0, PAGE_SIZE - n);
	return 0;
}

static const struct address_space_ops initramfs_aops = {
	.readpage = initramfs_readpage, .writepage = NULL, /* never dirty: nothing can write it */
};

/* Initramfs inode numbers: past any mmfs inode (mmfs numbers are 32-bit). */
#define INITRAMFS_INO_BASE (1UL << 32)

struct inode *inode_get_initramfs(const void *data, size_t size)
{
	spin_lock(&the_fs.lock);
	struct inode *ip = find_locked(true, 0, data);
	if (!ip && (ip = kzalloc(sizeof(*ip)))) {
		extern const char _initramfs_start[];
		ip->ino = INITRAMFS_INO_BASE + (unsigned long)((const char *)data - _initramfs_start);
		ip->initramfs = true;
		ip->data = data;
		ip->refs = 1;
		ip->din.type = MMFS_T_FILE;
		ip->din.nlink = 1;
		ip->din.size = size;
		spin_init(&ip->lock, "inode");
		mapping_init(&ip->mapping, &initramfs_aops, ip, size);
		ip->next = inodes;
		inodes = ip;
	}
	spin_unlock(&the_fs.lock);
	return ip;
}

void inode_get_ref(struct inode *ip)
{
	spin_lock(&the_fs.lock);
	ip->refs++;
	spin_unlock(&the_fs.lock);
}

static void unlink_from_table(struct inode *ip)
{
	struct inode **pp = &inodes;
	while (*pp != ip)
		pp = &(*pp)->next;
	*pp = ip->next;
}

void inode_put(struct inode *ip)
{
	spin_lock(&the_fs.lock);
	if (--ip->refs > 0) {
		spin_unlock(&the_fs.lock);
		return;
	}
	ip->freeing = true; /* inode_get() waits for it to go, then reads the disk afresh */
	spin_unlock(&the_fs.lock);
	spin_lock(&ip->lock);
	bool gone = !ip->initramfs && ip->din.nlink == 0;
	spin_unlock(&ip->lock);
	if (gone)
		filemap_truncate(&ip->mapping, 0); /* its pages need no write-back */
	mapping_release(&ip->mapping);		   /* writes dirty pages back (disk_writepage) */
	spin_lock(&ip->lock);
	spin_lock(&the_fs.lock);
	if (!ip->initramfs) {
		if (ip->din.nlink == 0) { /* unlinked while held: now it goes */
			mmfs_truncate(&the_fs, &ip->din, 0);
			memset(&ip->din, 0, sizeof(ip->din));
			mmfs_iwrite(&the_fs, (uint32_t)ip->ino, &ip->din);
		} else {
			sync_dinode(ip, false);
		}
	}
	unlink_from_table(ip);
	spin_unlock(&the_fs.lock);
	spin_unlock(&ip->lock);
	kfree(ip);
}

int inode_truncate(struct inode *ip, uint64_t size)
{
	if (ip->initramfs)
		return -EROFS;
	if (size > MMFS_MAX_FILE_SIZE)
		return -EFBIG;
	int err = filemap_truncate(&ip->mapping, size);
	if (err)
		return err;
	spin_lock(&ip->lock);
	spin_lock(&the_fs.lock);
	err = mmfs_truncate(&the_fs, &ip->din, size);
	int err2 = sync_dinode(ip, true);
	spin_unlock(&the_fs.lock);
	spin_unlock(&ip->lock);
	return err ?: err2;
}

int inode_fsync(struct inode *ip)
{
	if (ip->initramfs)
		return 0;
	int err = filemap_fsync(&ip->mapping);
	spin_lock(&ip->lock);
	spin_lock(&the_fs.lock);
	int err2 = sync_dinode(ip, false);
	spin_unlock(&the_fs.lock);
	spin_unlock(&ip->lock);
	return err ?: err2;
}

/* Blocks of the numbers block @b: its used entries (and below them when @inner). */
static long count_nums(uint32_t b, bool inner)
{
	long n = 1;
	uint32_t *nums = kmalloc(MMFS_BSIZE);
	if (!nums || blk_read(b, nums)) {
		kfree(nums);
		return n;
	}
	for (uint32_t i = 0; i < MMFS_NINDIRECT; i++)
		if (nums[i])
			n += inner ? count_nums(nums[i], false) : 1;
	kfree(nums);
	return n;
}

/* Blocks a disk file holds, indirect blocks included. Caller holds ip->lock. */
static long inode_blocks(struct inode *ip)
{
	long n = 0;
	for (uint32_t i = 0; i < MMFS_NDIRECT; i++)
		n += ip->din.direct[i] != 0;
	if (ip->din.indirect)
		n += count_nums(ip->din.indirect, false);
	if (ip->din.dindirect)
		n += count_nums(ip->din.dindirect, true);
	return n;
}

void fs_stat(struct file *f, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_blksize = PAGE_SIZE;
	struct inode *ip = file_inode(f);
	if (!ip)
		return; /* the syscall fills in the kind */
	st->st_ino = ip->ino;
	st->st_size = (long)ip->mapping.size;
	spin_lock(&ip->lock);
	st->st_nlink = ip->din.nlink;
	if (ip->initramfs) {
		st->st_mode = S_IFREG | 0555;
		st->st_blocks = (long)((ip->mapping.size + 511) / 512);
	} else {
		st->st_dev = 1;
		st->st_mode = S_IFREG | 0644;
		st->st_blocks = inode_blocks(ip) * (MMFS_BSIZE / 512);
	}
	spin_unlock(&ip->lock);
}
