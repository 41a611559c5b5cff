/*
 * The file backend: areas that map a file's page cache (the memory_set
 * crate's idea: the area says what, the backend maps it).
 *
 * - MAP_SHARED: the PTE points at the cache's own frame. It is mapped
 *   read-only at first, even in a writable area; the first store faults,
 *   marks the page dirty and makes the PTE writable (Linux's
 *   do_shared_fault and page_mkwrite), so that write-back knows what to
 *   write.
 * - MAP_PRIVATE: a read maps the cache's frame read-only and copy-on-write
 *   (ch4's PTE_COW); the first store gets a copy (ch4's cow_break()) and
 *   the file never sees it. A store to a page not mapped yet copies at once.
 * - A page wholly past the end of the file raises SIGBUS (-EIO); bytes of
 *   the last page past the end read as zero (the cache page holds zeros
 *   there, and write-back never writes them).
 * - An ELF segment (exec, fa->exec): only data_size bytes from pgoff are the
 *   file's; the rest of the segment is zeros (.bss), so a page that straddles
 *   data_size is a private copy with its tail cleared, and a page past it is
 *   anonymous memory (the zero page, then a zeroed frame).
 *
 * Reference: Linux mm/filemap.c filemap_fault(), mm/memory.c do_read_fault,
 * do_cow_fault, do_shared_fault, wp_page_shared; fs/binfmt_elf.c padzero.
 */
#include "cow.h"
#include "errno.h"
#include "frame.h"
#include "kmalloc.h"
#include "memlayout.h"
#include "pagecache_internal.h"
#include "pagetable.h"
#include "panic.h"
#include "string.h"
#include "tlb.h"

/* ---- which kinds of file can be mapped ------------------------------------ */

#define MAX_KINDS 8

static struct {
	const struct file_ops *ops;
	const struct file_map_ops *fmops;
} kinds[MAX_KINDS];
static int nr_kinds;

int file_mapping_register(const struct file_ops *ops, const struct file_map_ops *fmops)
{
	if (!ops || !fmops || !fmops->mapping)
		return -EINVAL;
	if (nr_kinds == MAX_KINDS)
		return -ENOSPC;
	kinds[nr_kinds].ops = ops;
	kinds[nr_kinds].fmops = fmops;
	__atomic_store_n(&nr_kinds, nr_kinds + 1, __ATOMIC_RELEASE); /* initcalls: one hart */
	return 0;
}

const struct file_map_ops *file_map_ops_of(const struct file *f)
{
	int n = __atomic_load_n(&nr_kinds, __ATOMIC_ACQUIRE);
	for (int i = 0; i < n; i++)
		if (kinds[i].ops == f->ops)
			return kinds[i].fmops;
	return NULL;
}

/* ---- the area's hold on its file ------------------------------------------- */

struct file_area *file_area_new(struct file *file, bool may_write, bool exec)
{
	const struct file_map_ops *fmops = file_map_ops_of(file);
	struct file_area *fa = fmops ? kmalloc(sizeof(*fa)) : NULL;
	if (!fa)
		return NULL;
	*fa = (struct file_area){.file = file,
				 .mapping = fmops->mapping(file),
				 .fmops = fmops,
				 .may_write = may_write,
				 .exec = exec};
	list_init(&fa->link);
	file_get(file);
	if (fmops->vma_open)
		fmops->vma_open(file);
	return fa;
}

void file_area_attach(struct file_area *fa, struct vma *vma)
{
	fa->vma = vma;
	vma->private_data = fa;
	spin_lock(&fa->mapping->lock);
	list_add_tail(&fa->link, &fa->mapping->i_mmap);
	spin_unlock(&fa->mapping->lock);
}

static void file_close(struct vma *vma)
{
	struct file_area *fa = vma->private_data;
	spin_lock(&fa->mapping->lock);
	list_del(&fa->link);
	spin_unlock(&fa->mapping->lock);
	file_area_free(fa);
}

void file_area_free(struct file_area *fa)
{
	if (fa->fmops->vma_close)
		fa->fmops->vma_close(fa->file);
	file_put(fa->file); /* the last one may release the file and its cache */
	kfree(fa);
}

static int file_dup(struct vma *copy, const struct vma *vma)
{
	const struct file_area *fa = vma->private_data;
	struct file_area *new = file_area_new(fa->file, fa->may_write, fa->exec);
	if (!new)
		return -ENOMEM;
	file_area_attach(new, copy);
	return 0;
}

/* ---- faults ------------------------------------------------------------------ */

/* Map @pa at @va of @vma with leaf permissions @perm (plus PTE_COW if @cow). */
static int map_frame(struct vma *vma, vaddr_t va, paddr_t pa, unsigned perm, bool cow)
{
	return mm_set_pte(vma->mm, va, pte_make_leaf(pa, perm) | (cow ? PTE_COW : 0));
}

/* Map the cache's frame of @cp at @va: one more reference for the PTE. */
static int map_cache_page(struct vma *vma, vaddr_t va, struct cache_page *cp, unsigned perm, bool cow)
{
	if (frame_get(cp->pa))
		return -ENOMEM; /* the count is at its limit */
	int err = map_frame(vma, va, cp->pa, perm, cow);
	if (err)
		frame_put(cp->pa);
	return err;
}

/* The leaf that maps @va in @vma's mm, or NULL. */
static pte_t *leaf_of(struct vma *vma, vaddr_t va)
{
	int level = 0;
	pte_t *pte = pt_walk(&vma->mm->as.pt, va, &level, false);
	return pte && level == 0 && pte_is_leaf(*pte) ? pte : NULL;
}

/* Bytes of the page at @va of @vma that are the file's, from the page's
 * start: PAGE_SIZE, fewer for a page that straddles the end, or 0 past it.
 * Caller holds the mapping's lock (the size may change). */
static size_t file_bytes_at(struct vma *vma, struct file_area *fa, vaddr_t va)
{
	uint64_t off = vma->pgoff + (va - vma->start);
	uint64_t end = fa->mapping->size;
	if (fa->exec && vma->pgoff + vma->data_size < end)
		end = vma->pgoff + vma->data_size;
	return off >= end ? 0 : end - off < PAGE_SIZE ? end - off : PAGE_SIZE;
}

/* LAB BEGIN ch5 file faults: map the cache page (shared), or share it copy-on-write (private) */
/* A page of a shared area that is not mapped: the cache's frame itself,
 * writable (and dirty) only if this fault is a store. */
static int shared_fault(struct vma *vma, struct file_area *fa, vaddr_t va, enum vm_access access)
{
	if (!file_bytes_at(vma, fa, va))
		return -EIO; /* wholly past the end of the file: SIGBUS */
	int err;
	struct cache_page *cp = find_or_read_page(fa->mapping, vma_file_index(vma, va), &err);
	if (!cp)
		return err;
	if (!file_bytes_at(vma, fa, va))
		return -EIO; /* truncated while the page was read in */
	unsigned perm = vm_page_perm(vma->prot);
	if (access == ACCESS_WRITE)
		cp->dirty = true;
	else
		perm &= ~PTE_W; /* the first store must fault, to mark the page dirty */
	return map_cache_page(vma, va, cp, perm, false);
}

/* A page of a private area that is not mapped: the cache's frame,
 * read-only and copy-on-write; a private copy for a store, or for a page
 * whose tail is not the file's (an ELF segment's last page of data). */
static int private_fault(struct vma *vma, struct file_area *fa, vaddr_t va, enum vm_access access)
{
	size_t n = file_bytes_at(vma, fa, va);
	if (!n) {
		if (!fa->exec)
			return -EIO; /* wholly past the end of the file: SIGBUS */
		/* .bss: anonymous memory. */
		if (access == ACCESS_WRITE)
			return anon_map_page(vma, va, NULL, 0);
		return map_frame(vma, va, zero_page_pa(), vm_prot_to_pte(vma->prot) & ~PTE_W, true);
	}
	int err;
	struct cache_page *cp = find_or_read_page(fa->mapping, vma_file_index(vma, va), &err);
	if (!cp)
		return err;
	if (!(n = file_bytes_at(vma, fa, va)))
		return -EIO; /* truncated while the page was read in (a program file never is) */
	if (access == ACCESS_WRITE || (fa->exec && n < PAGE_SIZE))
		return anon_map_page(vma, va, pa_to_kva(cp->pa), n);
	return map_cache_page(vma, va, cp, vm_page_perm(vma->prot) & ~PTE_W, true);
}

/* A store to a shared page mapped read-only: it becomes dirty and writable. */
static int shared_mkwrite(struct vma *vma, struct file_area *fa, vaddr_t va, pte_t *pte)
{
	struct cache_page *cp = find_page(fa->mapping, vma_file_index(vma, va));
	if (cp && cp->pa == pte_pa(*pte))
		cp->dirty = true;
	/* No flush: the entry only gains a permission (spec 4.2.1), and
	 * mm_fault() fences this hart's stale copy. */
	*pte |= PTE_W;
	return 0;
}

static int file_fault(struct vma *vma, vaddr_t va, enum vm_access access)
{
	struct file_area *fa = vma->private_data;
	pte_t *pte = leaf_of(vma, va);
	int err = -EACCES;
	/* The page's state, as ch4 decides it for anonymous memory. */
	switch (pf_decide(pte ? *pte : 0, access, false)) {
	case PF_RETRY:
		return 0; /* another hart mapped it meanwhile */
	case PF_COW_BREAK:
		return cow_break(vma, va, pte);
	case PF_MAP_NEW:
	case PF_MAP_ZERO: /* (not with zero_ok false) */
		spin_lock(&fa->mapping->lock);
		err = (vma->flags & VM_SHARED) ? shared_fault(vma, fa, va, access)
					       : private_fault(vma, fa, va, access);
		spin_unlock(&fa->mapping->lock);
		return err;
	case PF_DENY:
		if (access == ACCESS_WRITE && (vma->flags & VM_SHARED)) {
			spin_lock(&fa->mapping->lock);
			err = shared_mkwrite(vma, fa, va, pte);
			spin_unlock(&fa->mapping->lock);
		}
		return err;
	}
	return err;
}
/* LAB STUB
static int file_fault(struct vma *vma, vaddr_t va, enum vm_access access)
{
	TODO("ch5", "file_fault: map the cache page (shared) or share it copy-on-write (private)");
	(void)vma, (void)va, (void)access, (void)leaf_of, (void)file_bytes_at, (void)map_cache_page;
	return -EIO;
}
LAB END */

/* ---- map, unmap, protect ------------------------------------------------------ */

/* Nothing up front: every page comes at its first touch (or MAP_POPULATE). */
static int file_map(struct vma *vma, vaddr_t start, vaddr_t end)
{
	(void)vma, (void)start, (void)end;
	return 0;
}

static int file_unmap(struct vma *vma, vaddr_t start, vaddr_t end, struct tlb_flusher *fl)
{
	struct file_area *fa = vma->private_data;
	bool shared = vma->flags & VM_SHARED;
	if (shared)
		harvest_dirty(vma, start, end, false, NULL); /* stores through writable PTEs */
	/* The page-table half is anonymous memory's: each PTE's reference goes. */
	anon_backend.unmap(vma, start, end, fl);
	if (!shared)
		return 0;
	/* munmap and exit write a shared mapping's dirty pages back (the issue's
	 * rule; Linux leaves them to its flusher threads). */
	spin_lock(&fa->mapping->lock);
	write_range(fa->mapping, vma_file_index(vma, start), vma_file_index(vma, end - 1));
	spin_unlock(&fa->mapping->lock);
	return 0;
}

static int file_protect(struct vma *vma, vaddr_t start, vaddr_t end, unsigned prot, struct tlb_flusher *fl)
{
	if (vma->flags & VM_SHARED) {
		/* Shared pages lose W here and win it back at their next store,
		 * which marks them dirty: note the stores so far first. */
		harvest_dirty(vma, start, end, false, NULL);
		if (prot & VM_WRITE)
			prot = (prot & ~VM_WRITE) | VM_READ;
	}
	return anon_backend.protect(vma, start, end, prot, fl);
}

const struct vm_backend file_backend = {
	.name = "file",
	.map = file_map,
	.unmap = file_unmap,
	.protect = file_protect,
	.fault = file_fault,
	.close = file_close,
	.dup = file_dup,
};
