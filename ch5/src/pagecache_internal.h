/*
 * What the files of the page cache share: finding (or reading in) a page,
 * dropping one, writing one back, the reclaim list, and the file areas
 * (file_backend.c) that msync, truncate and mprotect look into.
 */
#ifndef MMLAB_PAGECACHE_INTERNAL_H
#define MMLAB_PAGECACHE_INTERNAL_H

#include "mm_locked.h"
#include "page_index.h"
#include "pagecache.h"

/*
 * The page at @index of @m, read in from the backing store if it is not
 * cached (a page wholly past the end is zero-filled without asking it),
 * and moved to the young end of the reclaim list. Caller holds m->lock,
 * which is dropped and taken again around the allocation of a new page (so
 * that reclaim can free this file's other pages): what the caller read
 * under the lock before (the size) must be read again after. The page stays
 * the cache's (frame_get() it to keep it past the lock).
 * @return the page, or NULL with *@err set (-ENOMEM, -EIO).
 */
struct cache_page *find_or_read_page(struct address_space *m, uint64_t index, int *err);

/* The cached page at @index of @m, or NULL. Caller holds m->lock. */
struct cache_page *find_page(struct address_space *m, uint64_t index);

/* Take @cp out of its mapping's cache and drop the cache's reference to
 * its frame (mapped copies keep theirs). Caller holds the mapping's lock. */
void drop_page(struct cache_page *cp);

/* Write @cp back if it is dirty. Caller holds the mapping's lock.
 * @return 0 or the a_ops' error (the page stays dirty). */
int write_page(struct cache_page *cp);

/* Write back the dirty pages of @m at offsets [first, last]. Caller holds m->lock.
 * @return 0 or the first error. */
int write_range(struct address_space *m, uint64_t first, uint64_t last);

/* Pages on the reclaim list (every cached page of a mapping that has a
 * writepage: shm pages are never on it). */
uint64_t pagecache_nr_pages(void);

/* Reclaim, ch1's shrinker: free up to @want frames of cached pages that no
 * one maps, least recently used first, dirty ones written back first.
 * @return the frames freed. */
uint64_t pagecache_reclaim(uint64_t want);

/** An area's hold on the file it maps: vma::private_data of a file area. */
struct file_area {
	struct file *file;		  /**< A reference of its own. */
	struct address_space *mapping;	  /**< The file's pages. */
	const struct file_map_ops *fmops; /**< The file's kind. */
	struct vma *vma;		  /**< The area. */
	struct list_head link;		  /**< In mapping->i_mmap. */
	bool may_write;			  /**< Shared, and the file is open for writing (VM_MAYWRITE). */
	bool exec;			  /**< An ELF segment: bytes past data_size are zeros, not SIGBUS. */
};

/* A new hold on @file for an area (a reference to it; the kind's
 * vma_open() called), not yet attached: NULL if out of memory or @file
 * cannot be mapped. */
struct file_area *file_area_new(struct file *file, bool may_write, bool exec);

/* Make @fa the file area of @vma (private_data) and put it on its
 * mapping's i_mmap list; vma_free() undoes both (the backend's close). */
void file_area_attach(struct file_area *fa, struct vma *vma);

/* Drop @fa, which is on no list (file_area_new() undone). */
void file_area_free(struct file_area *fa);

/* The areas that map files have this backend (file_backend.c). */
extern const struct vm_backend file_backend;

/* The file area of @vma, or NULL if @vma does not map a file. */
static inline struct file_area *file_area_of(const struct vma *vma)
{
	return vma->backend == &file_backend ? vma->private_data : NULL;
}

/*
 * Mark dirty every cached page that a writable PTE of shared area @vma maps
 * in [start, end), and make those PTEs read-only if @clean (the next store
 * faults and marks the page dirty again: Linux's page_mkclean), adding them
 * to @fl. Caller holds mm->lock.
 */
void harvest_dirty(struct vma *vma, vaddr_t start, vaddr_t end, bool clean, struct tlb_flusher *fl);

/*
 * msync() of [start, end) of @vma (inside it): for a shared file area, mark
 * the pages its writable PTEs map dirty, make those PTEs read-only, and
 * write the range's dirty pages back. Other areas: nothing. Caller holds
 * mm->lock. @return 0 or the first write-back error (-EIO, -ENOSPC).
 */
int msync_area(struct vma *vma, vaddr_t start, vaddr_t end);

/* The page offset in its file of address @va of file area @vma. */
static inline uint64_t vma_file_index(const struct vma *vma, vaddr_t va)
{
	return (vma->pgoff + (va - vma->start)) / PAGE_SIZE;
}

#endif
