/**
 * @file fs.h
 * @brief ch5's files (given machinery, ch5/fs): the disk's file store mmfs
 *        (mmfs_format.h) and the initramfs programs, as inodes with a page
 *        cache and as open files of ch4's struct file.
 *
 * One flat namespace: a name (a leading "/" ignored) is a file of the disk
 * if the disk has it, else an initramfs program of that name (read-only).
 * An inode lives in memory while something holds it: an open file (and so
 * a mapping, which holds its file) or a caller of inode_get(). When the
 * last reference goes, its dirty pages are written back (mapping_release())
 * and, if it was unlinked meanwhile, its blocks and its inode are freed
 * (Linux: an unlinked file lives on while it is open).
 *
 * Reference: Linux include/linux/fs.h (struct inode, file_inode), fs/open.c,
 * fs/namei.c, fs/read_write.c; xv6-riscv kernel/fs.c and kernel/file.c.
 */
#ifndef MMLAB_FS_H
#define MMLAB_FS_H

#include "file.h"
#include "mmfs_format.h"
#include "pagecache.h"
#include "spinlock.h"
#include "types.h"

/** @name open(2) flags (Linux's asm-generic/fcntl.h values; O_CLOEXEC is in file.h).
 * @{ */
#define O_RDONLY  0	 /**< Read only. */
#define O_WRONLY  1	 /**< Write only. */
#define O_RDWR	  2	 /**< Read and write. */
#define O_ACCMODE 3	 /**< The access-mode bits (3 itself: neither read nor write, as on Linux). */
#define O_CREAT	  0100	 /**< Create if absent. */
#define O_EXCL	  0200	 /**< With O_CREAT: fail if present. */
#define O_TRUNC	  01000	 /**< Truncate to 0 bytes. */
#define O_APPEND  02000	 /**< Every write goes to the end. */
#define AT_FDCWD  (-100) /**< openat()'s "the working directory". */
/** @} */

/** @name lseek(2) whence.
 * @{ */
#define SEEK_SET 0 /**< From the start. */
#define SEEK_CUR 1 /**< From the file position. */
#define SEEK_END 2 /**< From the end. */
/** @} */

/** @name st_mode bits (Linux's include/uapi/linux/stat.h).
 * @{ */
#define S_IFMT	0170000 /**< The type bits. */
#define S_IFREG 0100000 /**< A regular file. */
#define S_IFCHR 0020000 /**< A character device. */
#define S_IFIFO 0010000 /**< A pipe. */
#define S_IFDIR 0040000 /**< A directory. */
/** @} */

/** struct stat of asm-generic (riscv64's), 128 bytes (include/uapi/asm-generic/stat.h). */
struct stat {
	unsigned long st_dev;	     /**< Device: 1 for the disk, 0 for the rest. */
	unsigned long st_ino;	     /**< Inode number. */
	unsigned int st_mode;	     /**< Type and permissions. */
	unsigned int st_nlink;	     /**< Names. */
	unsigned int st_uid;	     /**< 0. */
	unsigned int st_gid;	     /**< 0. */
	unsigned long st_rdev;	     /**< 0. */
	unsigned long __pad1;	     /**< Padding. */
	long st_size;		     /**< Bytes. */
	int st_blksize;		     /**< 4096. */
	int __pad2;		     /**< Padding. */
	long st_blocks;		     /**< 512-byte units allocated (indirect blocks included). */
	long st_atime;		     /**< 0: mmlab keeps no times. */
	unsigned long st_atime_nsec; /**< 0. */
	long st_mtime;		     /**< 0. */
	unsigned long st_mtime_nsec; /**< 0. */
	long st_ctime;		     /**< 0. */
	unsigned long st_ctime_nsec; /**< 0. */
	unsigned int __unused4;	     /**< Padding. */
	unsigned int __unused5;	     /**< Padding. */
};

/** A file in memory (Linux's struct inode): a disk file or an initramfs program. */
struct inode {
	unsigned long ino;	      /**< mmfs inode number; initramfs files: above any mmfs number. */
	bool initramfs;		      /**< An initramfs program (read-only, data below). */
	const void *data;	      /**< The initramfs program's bytes, inside the archive. */
	int refs;		      /**< Holders (the file store's lock guards it). */
	bool freeing;		      /**< The last reference is gone: being written back and dropped. */
	struct spinlock lock;	      /**< Guards din (taken before the file store's lock). */
	struct mmfs_dinode din;	      /**< The disk inode, as in memory now (disk files). */
	struct inode *next;	      /**< In the table of inodes in memory. */
	struct address_space mapping; /**< Its page cache; mapping.size is its size. */
};

/** True if a disk with an mmfs store is mounted. */
bool fs_mounted(void);

/** Free blocks of the store (0 without one). */
uint32_t fs_free_blocks(void);

/**
 * Open @p path (openat(2)'s rules and @p flags: O_ACCMODE bits, O_CREAT,
 * O_EXCL, O_TRUNC, O_APPEND) into *@p out, a file with one reference.
 * O_ACCMODE itself (3) opens for neither reading nor writing, as on Linux.
 * @return 0; -ENOENT, -EEXIST, -EROFS (an initramfs
 *         program for writing or O_TRUNC), -EISDIR ("/", "."),
 *         -ENAMETOOLONG, -ENOSPC (no inode or directory room), -ENOMEM, -EIO.
 */
int fs_open(const char *path, int flags, struct file **out);

/**
 * unlink(2) of @p path: the name goes now, the file when its last holder does.
 * @return 0; -ENOENT, -EROFS (initramfs), -EISDIR, -ENAMETOOLONG, -EIO.
 */
int fs_unlink(const char *path);

/**
 * The initramfs program @p name (a leading "/" ignored) as a read-only open
 * file whose page cache holds its bytes (exec maps its text from there).
 * @return the file (one reference), or NULL if absent or out of memory.
 */
struct file *fs_open_exec(const char *name);

/** The inode of @p f, or NULL if @p f is not a disk or initramfs file (pipes, the console). */
struct inode *file_inode(struct file *f);

/** Take one more reference to @p ip. */
void inode_get_ref(struct inode *ip);

/** Drop a reference to @p ip; the last writes it back and frees it (see above). */
void inode_put(struct inode *ip);

/**
 * Set the size of disk file @p ip to @p size bytes (ftruncate(2)): the page
 * cache first (filemap_truncate()), then the blocks past the end go.
 * @return 0; -EFBIG past #MMFS_MAX_FILE_SIZE; -EROFS (initramfs); -EIO, -ENOMEM.
 */
int inode_truncate(struct inode *ip, uint64_t size);

/** fsync(2) of @p ip: its dirty pages, then its size. @return 0, -EIO, -ENOSPC. */
int inode_fsync(struct inode *ip);

/**
 * Write @p len bytes from @p buf into disk file @p f at byte *@p pos (the
 * file's end instead if it was opened with O_APPEND: Linux's pwrite(2)
 * does the same, see BUGS there), through the page cache; a write that would
 * pass #MMFS_MAX_FILE_SIZE is cut short there. *@p pos becomes where the
 * write ended. write(2) calls it with the file position, pwrite64(2) with
 * its offset. Reference: Linux mm/filemap.c generic_write_checks().
 * @return bytes written (0 for @p len 0), -EFBIG at or past the largest
 *         file, or filemap_write()'s errors.
 */
long fs_write_at(struct file *f, uint64_t *pos, struct io_buf buf, size_t len);

/** fstat(2) of open file @p f into *@p st (any kind of file). */
void fs_stat(struct file *f, struct stat *st);

/** @name Positions of disk and initramfs files (for the syscalls of fs_syscalls.c).
 * @{ */
/** The file position of @p f (a disk or initramfs file). */
uint64_t fs_file_pos(struct file *f);
/** Set the file position of @p f to @p pos bytes. */
void fs_file_set_pos(struct file *f, uint64_t pos);
/**
 * Hold the file position of @p f (a disk or initramfs file) until
 * fs_file_unlock_pos(): read, write and lseek through one open file take
 * it one at a time (Linux's f_pos_lock, taken by fdget_pos()). A sleeping
 * lock for threads; a kernel test's hart spins.
 * @return 0, or -EINTR if the thread was killed while waiting (not held).
 */
int fs_file_lock_pos(struct file *f);
/** Give back the position of @p f taken with fs_file_lock_pos(). */
void fs_file_unlock_pos(struct file *f);
/** True if @p f was opened with O_APPEND. */
bool fs_file_append(struct file *f);
/** @} */

#endif
