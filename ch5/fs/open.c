/*
 * Names to open files (Linux fs/namei.c, fs/open.c; xv6 sys_open): the
 * disk's directory first, then the initramfs programs; and the file
 * operations of both kinds, which go through the page cache (read and write
 * are filemap_read() and filemap_write() at the file position).
 */
#include "blk.h"
#include "cpio.h"
#include "errno.h"
#include "fs_internal.h"
#include "initcall.h"
#include "kmalloc.h"
#include "printk.h"
#include "string.h"

/* Strip the leading '/'s of @path and check what is left. */
static int name_of(const char *path, const char **name)
{
	bool slash = false;
	while (*path == '/') {
		path++;
		slash = true;
	}
	*name = path;
	return mmfs_check_name(path, slash);
}

static struct fs_file *fs_file_of(struct file *f) { return f->private_data; }

struct inode *file_inode(struct file *f)
{
	if (f->ops != &disk_file_ops && f->ops != &initramfs_file_ops)
		return NULL;
	return fs_file_of(f)->ip;
}

uint64_t fs_file_pos(struct file *f) { return __atomic_load_n(&fs_file_of(f)->pos, __ATOMIC_RELAXED); }

void fs_file_set_pos(struct file *f, uint64_t pos)
{
	__atomic_store_n(&fs_file_of(f)->pos, pos, __ATOMIC_RELAXED);
}

bool fs_file_append(struct file *f) { return fs_file_of(f)->append; }

int fs_file_lock_pos(struct file *f)
{
	struct fs_file *ff = fs_file_of(f);
	spin_lock(&ff->pos_lk);
	while (ff->pos_busy) {
		if (!current_thread()) { /* a kernel test's hart: no thread to put to sleep, so spin */
			spin_unlock(&ff->pos_lk);
			spin_lock(&ff->pos_lk);
		} else if (wq_sleep(&ff->pos_wq, &ff->pos_lk)) {
			spin_unlock(&ff->pos_lk);
			return -EINTR; /* killed: it never returns to user mode */
		}
	}
	ff->pos_busy = true;
	spin_unlock(&ff->pos_lk);
	return 0;
}

void fs_file_unlock_pos(struct file *f)
{
	struct fs_file *ff = fs_file_of(f);
	spin_lock(&ff->pos_lk);
	ff->pos_busy = false;
	wq_wake_all(&ff->pos_wq);
	spin_unlock(&ff->pos_lk);
}

struct file *fs_file_alloc(struct inode *ip, unsigned mode, bool append)
{
	struct fs_file *ff = kzalloc(sizeof(*ff));
	struct file *f =
		ff ? file_alloc(ip->initramfs ? &initramfs_file_ops : &disk_file_ops, mode, ff) : NULL;
	if (!f) {
		kfree(ff);
		return NULL;
	}
	ff->ip = ip;
	ff->append = append;
	spin_init(&ff->pos_lk, "f_pos");
	wq_init(&ff->pos_wq);
	return f;
}

/* The disk file @name: its inode into *@out (a reference), creating it
 * when @flags has O_CREAT. -ENOENT without a disk. */
static int open_disk(const char *name, int flags, struct inode **out)
{
	if (!the_fs.mounted)
		return -ENOENT;
	uint32_t ino;
	spin_lock(&the_fs.lock);
	int err = mmfs_dir_lookup(&the_fs, name, &ino);
	if (!err && (flags & O_CREAT) && (flags & O_EXCL))
		err = -EEXIST;
	else if (err == -ENOENT && (flags & O_CREAT)) {
		struct cpio_file cf;
		if ((flags & O_EXCL) && initramfs_find(name, &cf) == 0)
			err = -EEXIST; /* the name is an initramfs program's */
		else if (initramfs_find(name, &cf) == 0)
			err = -ENOENT; /* not created: the caller opens the program (EROFS for writing) */
		else if (!(err = mmfs_ialloc(&the_fs, MMFS_T_FILE, &ino)) &&
			 (err = mmfs_dir_add(&the_fs, name, ino))) {
			struct mmfs_dinode free_inode = {0};
			mmfs_iwrite(&the_fs, ino, &free_inode);
		}
	}
	spin_unlock(&the_fs.lock);
	return err ?: inode_get(ino, out);
}

int fs_open(const char *path, int flags, struct file **out)
{
	const char *name;
	int acc = flags & O_ACCMODE;
	int err = name_of(path, &name);
	if (err)
		return err;
	/* O_ACCMODE itself (3) opens for neither reading nor writing, though
	 * it asks the rights of both: Linux's OPEN_FMODE and ACC_MODE. */
	unsigned mode = acc == O_RDONLY	  ? FMODE_READ
			: acc == O_WRONLY ? FMODE_WRITE
			: acc == O_RDWR	  ? FMODE_READ | FMODE_WRITE
					  : 0;
	struct inode *ip;
	err = open_disk(name, flags, &ip);
	if (err == -ENOENT) { /* not on the disk: an initramfs program? */
		struct cpio_file cf;
		if (initramfs_find(name, &cf) != 0)
			return -ENOENT;
		if ((flags & O_CREAT) && (flags & O_EXCL))
			return -EEXIST;
		if (acc != O_RDONLY || (flags & O_TRUNC))
			return -EROFS;
		ip = inode_get_initramfs(cf.data, cf.size);
		if (!ip)
			return -ENOMEM;
	} else if (err) {
		return err;
	} else if ((flags & O_TRUNC) && (err = inode_truncate(ip, 0))) {
		inode_put(ip);
		return err;
	}
	*out = fs_file_alloc(ip, mode, flags & O_APPEND);
	if (!*out) {
		inode_put(ip);
		return -ENOMEM;
	}
	return 0;
}

int fs_unlink(const char *path)
{
	const char *name;
	int err = name_of(path, &name);
	if (err)
		return err;
	uint32_t ino = 0;
	if (the_fs.mounted) {
		spin_lock(&the_fs.lock);
		err = mmfs_dir_lookup(&the_fs, name, &ino);
		spin_unlock(&the_fs.lock);
	}
	if (!ino) {
		struct cpio_file cf;
		return initramfs_find(name, &cf) == 0 ? -EROFS : -ENOENT;
	}
	struct inode *ip;
	if ((err = inode_get(ino, &ip)))
		return err;
	spin_lock(&ip->lock);
	spin_lock(&the_fs.lock);
	uint32_t removed;
	err = mmfs_dir_remove(&the_fs, name, &removed);
	if (!err && removed == ino && ip->din.nlink > 0) {
		ip->din.nlink--;
		err = mmfs_iwrite(&the_fs, ino, &ip->din);
	}
	spin_unlock(&the_fs.lock);
	spin_unlock(&ip->lock);
	inode_put(ip); /* the last holder frees its blocks */
	return err;
}

struct file *fs_open_exec(const char *name)
{
	while (*name == '/')
		name++;
	struct cpio_file cf;
	if (initramfs_find(name, &cf) != 0)
		return NULL;
	struct inode *ip = inode_get_initramfs(cf.data, cf.size);
	if (!ip)
		return NULL;
	struct file *f = fs_file_alloc(ip, FMODE_READ, false);
	if (!f)
		inode_put(ip);
	return f;
}

/* ---- file operations (Linux's generic_file_read_iter / write_iter) ---- */

/* read(2): at the file position, which it advances; the position is held
 * throughout (Linux's fdget_pos in ksys_read), so two reads through one
 * open file (threads, or parent and child after fork) never read the same
 * bytes. */
static long fs_read(struct file *f, struct io_buf buf, size_t len)
{
	struct fs_file *ff = fs_file_of(f);
	int err = fs_file_lock_pos(f);
	if (err)
		return err;
	long n = filemap_read(&ff->ip->mapping, ff->pos, buf, len);
	if (n > 0)
		__atomic_store_n(&ff->pos, ff->pos + (uint64_t)n, __ATOMIC_RELAXED);
	fs_file_unlock_pos(f);
	return n;
}

/* write(2): at the file position (the end with O_APPEND), the position
 * held as for read. */
long fs_write_at(struct file *f, uint64_t *pos, struct io_buf buf, size_t len)
{
	struct fs_file *ff = fs_file_of(f);
	if (ff->append)
		*pos = __atomic_load_n(&ff->ip->mapping.size, __ATOMIC_RELAXED);
	if (!len)
		return 0;
	if (*pos >= MMFS_MAX_FILE_SIZE)
		return -EFBIG;
	if (len > MMFS_MAX_FILE_SIZE - *pos)
		len = MMFS_MAX_FILE_SIZE - *pos; /* a short write up to the largest file */
	long n = filemap_write(&ff->ip->mapping, *pos, buf, len);
	if (n > 0)
		*pos += (uint64_t)n;
	return n;
}

static long fs_write(struct file *f, struct io_buf buf, size_t len)
{
	struct fs_file *ff = fs_file_of(f);
	int err = fs_file_lock_pos(f);
	if (err)
		return err;
	uint64_t pos = ff->pos;
	long n = fs_write_at(f, &pos, buf, len);
	if (n > 0)
		__atomic_store_n(&ff->pos, pos, __ATOMIC_RELAXED);
	fs_file_unlock_pos(f);
	return n;
}

static void fs_release(struct file *f)
{
	struct fs_file *ff = fs_file_of(f);
	inode_put(ff->ip);
	kfree(ff);
}

const struct file_ops disk_file_ops = {.read = fs_read, .write = fs_write, .release = fs_release};
/* The same read; write never runs (no initramfs file has FMODE_WRITE). */
const struct file_ops initramfs_file_ops = {.read = fs_read, .write = NULL, .release = fs_release};

static struct address_space *fs_mapping(struct file *f) { return &fs_file_of(f)->ip->mapping; }

static const struct file_map_ops fs_map_ops = {.mapping = fs_mapping};

/* The store's start: the disk, the superblock, mappable files. At
 * INIT_PROC, after ch4's (ch5 links later), so before any test or init=. */
static int fs_init(void)
{
	blk_init();
	if (blk_present()) {
		spin_lock(&the_fs.lock);
		int err = mmfs_mount(&the_fs);
		spin_unlock(&the_fs.lock);
		if (err)
			printk("mmfs: no file store on the disk (%d)\n", err);
		else
			printk("mmfs: %u blocks (%u free), %u inodes\n", the_fs.sb.nblocks,
			       the_fs.free_blocks, the_fs.sb.ninodes);
	}
	int err = file_mapping_register(&disk_file_ops, &fs_map_ops);
	return err ?: file_mapping_register(&initramfs_file_ops, &fs_map_ops);
}
initcall(INIT_PROC, fs_init);
