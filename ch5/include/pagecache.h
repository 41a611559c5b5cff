/**
 * @file pagecache.h
 * @brief ch5: the page cache (the pages of files and shm segments, shared by
 *        read(), write() and every mapping) and file mappings.
 *
 * A file's bytes live in one place in memory: its page cache, a
 * `struct address_space` (Linux's name; not ch3's `struct addr_space`,
 * which is a page table) holding one frame per page of the file that has
 * been touched, indexed by page offset in a radix tree (O(log n) lookups,
 * as Linux's xarray). read() and write() copy to and from those frames; a
 * MAP_SHARED mapping maps the frames themselves, so a write() is seen at
 * once through every mapping and a store through a mapping is seen by
 * read(); a MAP_PRIVATE mapping maps them read-only and copies a page on
 * the first write (copy-on-write), so the file never sees its stores.
 *
 * Who owns what:
 * - the file store (ch5/fs, given) and System V shm (shm.c) each embed one
 *   address_space per inode or segment and fill and write its pages
 *   through address_space_ops;
 * - the cache holds one reference to each frame (ch1's page_info refcount),
 *   every page-table entry that maps it holds another: a page with a count of
 *   1 is mapped by no one and may be reclaimed (written back first if dirty);
 * - an area that maps a file holds a reference to the open file (a mapping
 *   outlives close()) and sits on the address_space's list of areas (Linux's
 *   i_mmap), which is how ftruncate finds the mappings to shrink.
 *
 * Locks: mm->lock is taken before address_space::lock, never after. The
 * a_ops are called with address_space::lock held and must not take it
 * (nor an mm lock); callers of the filemap_*() functions hold neither.
 *
 * Reference: Linux include/linux/fs.h (struct address_space,
 * address_space_operations), mm/filemap.c (filemap_read, filemap_fault,
 * filemap_write_and_wait_range), mm/truncate.c, mm/vmscan.c; ArceOS and the
 * memory_set crate separate the area from the backend that maps it.
 */
#ifndef MMLAB_PAGECACHE_H
#define MMLAB_PAGECACHE_H

#include "file.h"
#include "list.h"
#include "mm.h"
#include "spinlock.h"
#include "types.h"

struct address_space;
struct pc_node;

/**
 * The index of one object's cached pages: a radix tree keyed by page offset
 * (Linux's xarray, simplified). Each node has #PC_FANOUT slots; a tree of
 * height h covers page offsets [0, 64^h), and grows a level on top when an
 * offset beyond that is inserted. Lookup, insert and delete visit h nodes:
 * O(log n) in the highest offset cached, at most 5 levels for the 2^28 pages
 * of #FILEMAP_MAX_BYTES. Operations: page_index.h in ch5/src.
 */
struct page_index {
	struct pc_node *root; /**< NULL when empty. */
	unsigned height;      /**< Levels; 0 when empty. */
};

/** Slots per radix-tree node (6 bits of the page offset per level). */
#define PC_FANOUT 64

/** How the pages of one kind of object get filled and written back. */
struct address_space_ops {
	/**
	 * Fill page @p index of @p mapping: PAGE_SIZE bytes at @p kva, the
	 * object's bytes there and zeros past its end and in holes.
	 * @return 0, or a negative errno (-EIO) and the page is not cached.
	 */
	int (*readpage)(struct address_space *mapping, uint64_t index, void *kva);
	/**
	 * Write page @p index of @p mapping back: the bytes of the page that
	 * lie inside mapping->size (never those past the end).
	 * NULL: the object has no backing store (shm); its pages are never
	 * reclaimed. Reclaim calls it from inside an allocation, which may have
	 * been made with any lock held by this hart: it must return -EAGAIN
	 * rather than wait for a lock this hart holds.
	 * @return 0, or a negative errno (-EIO, -ENOSPC, -EAGAIN).
	 */
	int (*writepage)(struct address_space *mapping, uint64_t index, const void *kva);
};

/** One cached page (Linux keeps these fields in struct page). */
struct cache_page {
	struct address_space *mapping; /**< Whose page it is. */
	uint64_t index;		       /**< Its offset in the object, in pages. */
	paddr_t pa;		       /**< The frame holding it. */
	bool dirty;		       /**< Newer in memory than in the backing store (PG_dirty). */
	struct list_head lru;	       /**< Place on the reclaim list (least recently used first). */
};

/** The pages of one file or shm segment. */
struct address_space {
	struct spinlock lock;		       /**< Guards everything below. */
	struct page_index pages;	       /**< Its cache_page pointers by page offset. */
	uint64_t nrpages;		       /**< Pages cached. */
	uint64_t size;			       /**< Bytes in the object (Linux's i_size). */
	const struct address_space_ops *a_ops; /**< Fill and write back. */
	void *host;			       /**< The inode or segment it belongs to. */
	struct list_head i_mmap;	       /**< Areas that map it (struct file_area::link). */
};

/**
 * Set up @p mapping, empty, for an object of @p size bytes filled and
 * written back by @p a_ops, belonging to @p host.
 */
void mapping_init(struct address_space *mapping, const struct address_space_ops *a_ops, void *host,
		  uint64_t size);

/**
 * The object is going away (its last open file and its last mapping are
 * gone): write back its dirty pages and free every cached page.
 * @pre no area maps @p mapping any more.
 * @return 0, or the first error of a write-back (the pages are freed anyway).
 */
int mapping_release(struct address_space *mapping);

/**
 * read(2) through the cache: copy up to @p len bytes of @p mapping from
 * byte @p pos into @p buf, stopping at the end of the object.
 * @return bytes copied (0 at or past the end), -EFAULT if none could be
 *         copied to @p buf, -ENOMEM, -EIO.
 * Reference: Linux mm/filemap.c filemap_read().
 */
long filemap_read(struct address_space *mapping, uint64_t pos, struct io_buf buf, size_t len);

/**
 * write(2) through the cache: copy @p len bytes from @p buf into @p mapping
 * at byte @p pos (a page at a time, each marked dirty), growing the object
 * if the write ends past it. The bytes reach the disk at fsync, at
 * write-back under memory pressure or when the file's last user goes.
 * @return bytes written, -EFAULT if none could be copied, -ENOMEM, -EIO,
 *         -EFBIG past #FILEMAP_MAX_BYTES.
 * Reference: Linux mm/filemap.c generic_perform_write().
 */
long filemap_write(struct address_space *mapping, uint64_t pos, struct io_buf buf, size_t len);

/** Largest object the cache indexes, in bytes (the file store's limit is smaller). */
#define FILEMAP_MAX_BYTES (1ULL << 40)

/**
 * Set the size of @p mapping to @p size bytes (ftruncate(2)). Shrinking
 * drops the cached pages past the new end, zeroes the tail of the new last
 * page, and takes those pages out of every mapping, so that an access
 * there raises SIGBUS (Linux's truncate_pagecache and unmap_mapping_range).
 * The caller frees its blocks past the end afterwards.
 * @return 0, -EFBIG past #FILEMAP_MAX_BYTES, -ENOMEM.
 */
int filemap_truncate(struct address_space *mapping, uint64_t size);

/**
 * fsync(2): write every dirty page of @p mapping back.
 * @return 0, or the first error (-EIO, -ENOSPC).
 */
int filemap_fsync(struct address_space *mapping);

/** What the page cache needs to know about a kind of file that can be mapped. */
struct file_map_ops {
	/** The address_space of open file @p f. */
	struct address_space *(*mapping)(struct file *f);
	/** Optional: an area now maps @p f (mmap, fork, a split); shm counts attaches. */
	void (*vma_open)(struct file *f);
	/** Optional: an area that mapped @p f is gone. */
	void (*vma_close)(struct file *f);
};

/**
 * Make files whose ops are @p ops mappable with mmap(2), through @p fmops
 * (both must outlive the kernel: static tables). Call from an initcall.
 * @return 0, -EINVAL for NULL, -ENOSPC once 8 kinds are registered.
 */
int file_mapping_register(const struct file_ops *ops, const struct file_map_ops *fmops);

/** The registered file_map_ops of @p f, or NULL if @p f cannot be mapped (pipes, the console). */
const struct file_map_ops *file_map_ops_of(const struct file *f);

/**
 * mmap(2) into @p mm of @p len bytes of open file @p file from byte @p off
 * (a page multiple) at @p addr, with mmap's @p prot and @p flags (MAP_SHARED or
 * MAP_PRIVATE, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_POPULATE). The area
 * takes its own reference to @p file.
 * @return the address; -EACCES if @p file is not open for reading, or
 *         MAP_SHARED with PROT_WRITE and @p file is not open for writing;
 *         -ENODEV if @p file cannot be mapped; -EINVAL, -ENOMEM, -EEXIST,
 *         -EPERM as do_mmap() (mman.h).
 * Reference: Linux mm/mmap.c do_mmap() (the file checks).
 */
long do_mmap_file(struct mm *mm, vaddr_t addr, size_t len, unsigned long prot, unsigned long flags,
		  struct file *file, uint64_t off);

#endif
