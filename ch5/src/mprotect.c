/*
 * mprotect(2): new permissions for a range, area by area. An area that
 * straddles an edge of the range is split there first, the backend
 * re-protects the pages that are mapped (the flusher reaches every hart
 * of the mm before the call returns), and the area is merged with alike
 * neighbours after. A hole in the range is an error, but only once the
 * areas before it are done, as on Linux (mm/mprotect.c do_mprotect_pkey,
 * mprotect_fixup; ArceOS MemorySet::protect).
 */
#include "errno.h"
#include "mman_internal.h"
#include "pagecache_internal.h"
#include "panic.h"
#include "tlb.h"

/** Linux's PROT_SEM: accepted (and meaningless) by mprotect on every architecture. */
#define PROT_SEM 0x8

/*
 * Give [start, end) (inside *@pvma) permissions @prot: split *@pvma at the
 * edges that fall inside it, re-protect, merge. *@pvma is the area that
 * holds [start, end) afterwards.
 */
static int protect_part(struct mm *mm, struct vma **pvma, vaddr_t start, vaddr_t end, unsigned prot)
{
	/* LAB BEGIN ch5 mprotect: split at the edges inside the area, backend->protect through a flusher, merge */
	struct vma *vma = *pvma;
	if (vma->prot == prot)
		return 0; /* nothing to change: no split either (Linux's newflags == oldflags) */
	if (start > vma->start) {
		int err = vma_split(mm, vma, start);
		if (err)
			return err;
		vma = vma_tree_next(vma); /* the right piece, [start, ...) */
	}
	if (end < vma->end) {
		int err = vma_split(mm, vma, end);
		if (err) {
			*pvma = vma_merge(mm, vma); /* undo the first cut */
			return err;
		}
	}
	struct tlb_flusher fl;
	tlb_flusher_init(&fl, &mm->as);
	int err = vma->backend->protect(vma, vma->start, vma->end, prot, &fl);
	tlb_flusher_finish(&fl);
	if (err)
		return err;
	vma->prot = prot;
	*pvma = vma_merge(mm, vma);
	return 0;
	/* LAB STUB
	TODO("ch5", "mprotect: change the permissions of a range");
	(void)mm, (void)pvma, (void)start, (void)end, (void)prot;
	return -ENOSYS;
	LAB END */
}

/* Linux's VM_MAYWRITE: a shared mapping of a file not open for writing
 * can never become writable (the checks of do_mprotect_pkey, per area). */
static bool may_protect(const struct vma *vma, unsigned long prot)
{
	const struct file_area *fa = file_area_of(vma);
	return !(prot & PROT_WRITE) || !fa || !(vma->flags & VM_SHARED) || fa->may_write;
}

int do_mprotect(struct mm *mm, vaddr_t start, size_t len, unsigned long prot)
{
	if (start & (PAGE_SIZE - 1))
		return -EINVAL;
	if (!len)
		return 0;
	len = page_align_len(len);
	vaddr_t end = start + len;
	if (end <= start)
		return -ENOMEM; /* wraps (or the length did) */
	if (prot & ~(unsigned long)(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM))
		return -EINVAL;
	spin_lock(&mm->lock);
	int err = -ENOMEM;
	struct vma *vma = mm_find_vma_after(mm, start);
	vaddr_t at = start;
	if (!vma || vma->start > start)
		goto out; /* a hole at the start: nothing is changed */
	err = 0;
	while (vma && vma->start < end) {
		if (vma->start > at) {
			err = -ENOMEM; /* a hole: what came before it stays changed */
			break;
		}
		if (!may_protect(vma, prot)) {
			err = -EACCES;
			break;
		}
		err = protect_part(mm, &vma, at, MIN(vma->end, end), prot & VM_PROT_MASK);
		if (err)
			break;
		/* A merge may have taken in the next area too: its pages have
		 * these permissions already. */
		at = MIN(vma->end, end);
		vma = vma_tree_next(vma);
	}
	if (!err && at < end)
		err = -ENOMEM; /* the range runs past the last area */
out:
	spin_unlock(&mm->lock);
	return err;
}
