/*
 * read() and write() through the page cache: a page at a time, the page
 * held by a frame reference while its bytes are copied, and the mapping's
 * lock not held then, because the user buffer may itself be a mapping of
 * the same file (its fault takes mm->lock, then this mapping's lock).
 *
 * Reference: Linux mm/filemap.c filemap_read(), generic_perform_write().
 */
#include "errno.h"
#include "frame.h"
#include "memlayout.h"
#include "pagecache_internal.h"

/* LAB BEGIN ch5 read and write through the page cache: one page at a time, copied without the lock */
long filemap_read(struct address_space *mapping, uint64_t pos, struct io_buf buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		spin_lock(&mapping->lock);
		uint64_t at = pos + done, size = mapping->size;
		if (at >= size) {
			spin_unlock(&mapping->lock);
			break;
		}
		int err;
		struct cache_page *cp = find_or_read_page(mapping, at / PAGE_SIZE, &err);
		if (!cp) {
			spin_unlock(&mapping->lock);
			return done ? (long)done : err;
		}
		size_t off = at % PAGE_SIZE, n = PAGE_SIZE - off;
		n = n < len - done ? n : len - done;
		n = n < size - at ? n : size - at;
		paddr_t pa = cp->pa;
		frame_get(pa); /* the page may leave the cache while we copy */
		spin_unlock(&mapping->lock);
		size_t copied = io_copy_to(buf, done, (char *)pa_to_kva(pa) + off, n);
		frame_put(pa);
		done += copied;
		if (copied < n)
			return done ? (long)done : -EFAULT;
	}
	return (long)done;
}

long filemap_write(struct address_space *mapping, uint64_t pos, struct io_buf buf, size_t len)
{
	if (pos >= FILEMAP_MAX_BYTES || len > FILEMAP_MAX_BYTES - pos)
		return -EFBIG;
	size_t done = 0;
	while (done < len) {
		uint64_t at = pos + done;
		size_t off = at % PAGE_SIZE, n = PAGE_SIZE - off;
		n = n < len - done ? n : len - done;
		spin_lock(&mapping->lock);
		int err;
		struct cache_page *cp = find_or_read_page(mapping, at / PAGE_SIZE, &err);
		if (!cp) {
			spin_unlock(&mapping->lock);
			return done ? (long)done : err;
		}
		paddr_t pa = cp->pa;
		frame_get(pa);
		spin_unlock(&mapping->lock);
		size_t copied = io_copy_from((char *)pa_to_kva(pa) + off, buf, done, n);
		spin_lock(&mapping->lock);
		/* Dirty, and the file grows to cover it, unless a truncate took
		 * the page out meanwhile (then the bytes are gone, as on Linux). */
		if (copied && find_page(mapping, at / PAGE_SIZE) == cp) {
			cp->dirty = true;
			if (at + copied > mapping->size)
				mapping->size = at + copied;
		}
		spin_unlock(&mapping->lock);
		frame_put(pa);
		done += copied;
		if (copied < n)
			return done ? (long)done : -EFAULT;
	}
	return (long)done;
}
/* LAB STUB
long filemap_read(struct address_space *mapping, uint64_t pos, struct io_buf buf, size_t len)
{
	TODO("ch5", "filemap_read: copy a file's bytes out of its cached pages");
	(void)mapping, (void)pos, (void)buf, (void)len;
	return -ENOSYS;
}

long filemap_write(struct address_space *mapping, uint64_t pos, struct io_buf buf, size_t len)
{
	TODO("ch5", "filemap_write: copy bytes into a file's cached pages and mark them dirty");
	(void)mapping, (void)pos, (void)buf, (void)len;
	return -ENOSYS;
}
LAB END */
