/*
 * Write-back: dirty pages go to the backing store at fsync(), msync(),
 * munmap() and exit of a shared mapping, and before reclaim frees them.
 *
 * A page becomes dirty when write() stores into it, or when a shared
 * mapping's first store faults on it (file_backend.c maps shared pages
 * read-only until then). A PTE that is writable may have been stored
 * through since, so msync and munmap harvest it: the page is marked dirty,
 * and msync makes the PTE read-only again so that the next store faults
 * and dirties the page anew (Linux's page_mkclean, for the caller's own
 * mapping; see the guide for what that leaves to other processes).
 *
 * Reference: Linux mm/page-writeback.c (write_cache_pages, folio_mkclean),
 * mm/filemap.c (file_write_and_wait_range), mm/msync.c.
 */
#include "errno.h"
#include "memlayout.h"
#include "pagecache_internal.h"
#include "pagetable.h"
#include "tlb.h"

int write_page(struct cache_page *cp)
{
	if (!cp->dirty || !cp->mapping->a_ops->writepage)
		return 0;
	int err = cp->mapping->a_ops->writepage(cp->mapping, cp->index, pa_to_kva(cp->pa));
	if (!err)
		cp->dirty = false;
	return err;
}

int write_range(struct address_space *m, uint64_t first, uint64_t last)
{
	int err = 0;
	uint64_t at = first;
	struct cache_page *cp;
	while (at <= last && (cp = page_index_next(&m->pages, at, &at)) && at <= last) {
		int e = write_page(cp);
		if (e && !err)
			err = e;
		if (at == UINT64_MAX)
			break;
		at++;
	}
	return err;
}

int filemap_fsync(struct address_space *mapping)
{
	spin_lock(&mapping->lock);
	int err = write_range(mapping, 0, UINT64_MAX);
	spin_unlock(&mapping->lock);
	return err;
}

struct harvest {
	struct vma *vma;
	bool clean;
	struct tlb_flusher *fl;
};

/* pt_visit() callback: a writable leaf's cached page is dirty. */
static int harvest_leaf(pte_t *pte, int level, vaddr_t va, void *arg)
{
	struct harvest *h = arg;
	(void)level;
	if (!pte_valid(*pte) || !(*pte & PTE_W))
		return 0;
	struct file_area *fa = h->vma->private_data;
	struct cache_page *cp = find_page(fa->mapping, vma_file_index(h->vma, va));
	if (cp && cp->pa == pte_pa(*pte))
		cp->dirty = true;
	if (h->clean) {
		*pte &= ~(pte_t)PTE_W;
		tlb_flusher_add(h->fl, va, PAGE_SIZE);
	}
	return 0;
}

void harvest_dirty(struct vma *vma, vaddr_t start, vaddr_t end, bool clean, struct tlb_flusher *fl)
{
	struct file_area *fa = vma->private_data;
	struct harvest h = {vma, clean, fl};
	spin_lock(&fa->mapping->lock);
	pt_visit(&vma->mm->as.pt, start, end, harvest_leaf, &h);
	spin_unlock(&fa->mapping->lock);
}

/* LAB BEGIN ch5 msync: harvest the dirty bits of the range's shared file pages, then write them back */
int msync_area(struct vma *vma, vaddr_t start, vaddr_t end)
{
	struct file_area *fa = file_area_of(vma);
	if (!fa || !(vma->flags & VM_SHARED))
		return 0; /* anonymous or private: nothing of a file to write */
	struct tlb_flusher fl;
	tlb_flusher_init(&fl, &vma->mm->as);
	harvest_dirty(vma, start, end, true, &fl);
	tlb_flusher_finish(&fl); /* no store may slip in between clean and write */
	spin_lock(&fa->mapping->lock);
	int err = write_range(fa->mapping, vma_file_index(vma, start), vma_file_index(vma, end - 1));
	spin_unlock(&fa->mapping->lock);
	return err;
}
/* LAB STUB
int msync_area(struct vma *vma, vaddr_t start, vaddr_t end)
{
	TODO("ch5", "msync: write a shared file mapping's dirty pages back");
	(void)vma, (void)start, (void)end, (void)harvest_dirty, (void)write_range;
	return 0;
}
LAB END */
