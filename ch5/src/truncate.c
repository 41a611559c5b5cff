/*
 * ftruncate(2)'s half in the page cache: the new size, the pages past it
 * dropped, and every mapping's view shrunk with them, so that a page wholly
 * past the new end raises SIGBUS in every process that maps the file, as
 * on Linux (truncate_pagecache: unmap_mapping_range, then
 * truncate_inode_pages, then unmap_mapping_range again).
 *
 * The areas are found through the mapping's i_mmap list. Their mm locks
 * come before the mapping's lock (pagecache.h), so the list is read under
 * the mapping's lock into a small batch of (mm, address) pairs, each mm
 * held by a reference, and each mm is then locked on its own.
 *
 * Reference: Linux mm/truncate.c (truncate_pagecache, truncate_setsize,
 * pagecache_isize_extended), mm/memory.c unmap_mapping_range().
 */
#include "errno.h"
#include "memlayout.h"
#include "pagecache_internal.h"
#include "string.h"
#include "tlb.h"
#include "vma_tree.h"

/* Areas handled per pass over the i_mmap list. */
#define UNMAP_BATCH 16

struct area_ref {
	struct mm *mm;
	vaddr_t start; /* identifies the area again under mm->lock */
};

/* Take out of @vma the pages of its file at offsets >= @first. Caller holds
 * mm->lock. */
static void unmap_from(struct vma *vma, uint64_t first)
{
	uint64_t from_off = first * PAGE_SIZE;
	uint64_t end_off = vma->pgoff + vma_size(vma);
	if (from_off >= end_off)
		return;
	vaddr_t start = from_off > vma->pgoff ? vma->start + (from_off - vma->pgoff) : vma->start;
	struct tlb_flusher fl;
	tlb_flusher_init(&fl, &vma->mm->as);
	/* Private copies go too (Linux's even_cows): the pages are past the end. */
	vma->backend->unmap(vma, start, vma->end, &fl);
	tlb_flusher_finish(&fl);
}

/* Unmap the file's pages at offsets >= @first from every area of @m.
 * Areas added meanwhile map nothing past the end: their faults see the new size. */
static void unmap_mapping_from(struct address_space *m, uint64_t first)
{
	struct area_ref refs[UNMAP_BATCH];
	size_t skip = 0;
	for (;;) {
		size_t n = 0, i = 0;
		spin_lock(&m->lock);
		struct file_area *fa;
		list_for_each_entry(fa, &m->i_mmap, link)
		{
			if (i++ < skip || !fa->vma->mm)
				continue;
			if (n == UNMAP_BATCH)
				break;
			mm_get(fa->vma->mm);
			refs[n++] = (struct area_ref){fa->vma->mm, fa->vma->start};
		}
		spin_unlock(&m->lock);
		for (size_t k = 0; k < n; k++) {
			struct mm *mm = refs[k].mm;
			spin_lock(&mm->lock);
			struct vma *vma = mm_find_vma(mm, refs[k].start);
			struct file_area *fa = vma ? file_area_of(vma) : NULL;
			if (fa && fa->mapping == m)
				unmap_from(vma, first);
			spin_unlock(&mm->lock);
			mm_put(mm);
		}
		if (n < UNMAP_BATCH)
			return;
		skip = i - 1;
	}
}

/* LAB BEGIN ch5 truncate: the new size, the pages past it out of the cache and out of every mapping */
int filemap_truncate(struct address_space *mapping, uint64_t size)
{
	if (size > FILEMAP_MAX_BYTES)
		return -EFBIG;
	spin_lock(&mapping->lock);
	uint64_t old = mapping->size;
	mapping->size = size;
	/* The bytes past the end of the page the end falls in read as zeros from
	 * now on (POSIX: a file grown later shows zeros there too). */
	uint64_t edge = size < old ? size : old;
	struct cache_page *cp = edge % PAGE_SIZE ? find_page(mapping, edge / PAGE_SIZE) : NULL;
	if (cp)
		memset((char *)pa_to_kva(cp->pa) + edge % PAGE_SIZE, 0, PAGE_SIZE - edge % PAGE_SIZE);
	spin_unlock(&mapping->lock);
	if (size >= old)
		return 0;
	uint64_t first = (size + PAGE_SIZE - 1) / PAGE_SIZE; /* the first page wholly past the end */
	unmap_mapping_from(mapping, first);
	spin_lock(&mapping->lock);
	uint64_t at;
	while ((cp = page_index_next(&mapping->pages, first, &at)))
		drop_page(cp);
	spin_unlock(&mapping->lock);
	return 0;
}
/* LAB STUB
int filemap_truncate(struct address_space *mapping, uint64_t size)
{
	TODO("ch5", "filemap_truncate: drop the pages past the new end from the cache and from every mapping");
	(void)mapping, (void)size, (void)unmap_mapping_from;
	return -ENOSYS;
}
LAB END */
