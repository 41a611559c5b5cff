/*
 * mremap(2): shrink a mapping (unmap its tail), grow it in place when the
 * range after it is free, or move it (MREMAP_MAYMOVE, MREMAP_FIXED): a new
 * area takes the pages as they are (move_pages) and the old range is
 * unmapped. Reference: Linux mm/mremap.c (mremap syscall, vma_to_resize,
 * vma_expandable, move_vma, mremap_to).
 */
#include "errno.h"
#include "mman_internal.h"
#include "panic.h"

/*
 * The area that holds [addr, addr + old_len), able to grow to @new_len
 * (Linux's vma_to_resize).
 * @return the area, or NULL with *@err -EFAULT (no area at @addr, or the
 *         range leaves it) or -EINVAL (old_len 0).
 */
static struct vma *area_to_resize(struct mm *mm, vaddr_t addr, size_t old_len, long *err)
{
	struct vma *vma = mm_find_vma(mm, addr);
	*err = -EFAULT;
	if (!vma)
		return NULL;
	if (!old_len) {
		/* Linux duplicates a shared area for old_len 0 (a deprecated
		 * feature, kept for a DOS emulator) and refuses a private one;
		 * mmlab refuses both. */
		*err = -EINVAL;
		return NULL;
	}
	if (old_len > vma->end - addr)
		return NULL;
	return vma;
}

/*
 * Move [addr, addr + old_len) of @vma to a new area [to, to + new_len) (free,
 * and disjoint from the old range) and unmap the old range.
 */
static long move_area(struct mm *mm, struct vma *vma, vaddr_t addr, size_t old_len, size_t new_len,
		      vaddr_t to)
{
	/* LAB BEGIN ch5 mremap: the old range an area of its own, a copy of it at to, the pages moved, the rest mapped, the old area dropped */
	if (mm->nr_vmas >= MM_MAX_VMAS - 3)
		return -ENOMEM; /* the move may split the old area twice (Linux's check) */
	/* Cut the old range out as an area of its own first, as Linux does:
	 * once the pages have moved, dropping it cannot fail. */
	int err = 0;
	if (addr > vma->start) {
		err = vma_split(mm, vma, addr);
		if (err)
			return err;
		vma = vma_tree_next(vma);
	}
	if (addr + old_len < vma->end)
		err = vma_split(mm, vma, addr + old_len);
	struct vma *copy = err ? NULL : vma_dup(vma);
	if (!copy) {
		vma_merge(mm, vma); /* undo the first cut */
		return -ENOMEM;
	}
	copy->start = to;
	copy->end = to + new_len;
	copy->mm = mm;
	size_t moved = MIN(old_len, new_len);
	err = move_pages(mm, addr, to, moved);
	if (err) {
		copy->mm = NULL;
		vma_free(copy);
		vma_merge(mm, vma);
		return err;
	}
	vma_tree_insert(&mm->vmas, copy); /* [to, to + new_len) is free */
	mm->nr_vmas++;
	if (new_len > moved && copy->backend->map(copy, to + moved, to + new_len)) {
		/* No frames for the new part of a shared area: put everything back. */
		move_pages(mm, to, addr, moved);
		mm_remove_range_locked(mm, to, to + new_len);
		vma_merge(mm, vma);
		return -ENOMEM;
	}
	mm_remove_range_locked(mm, addr, addr + old_len); /* vma, whole: its pages have gone */
	vma_merge(mm, copy);
	return (long)to;
	/* LAB STUB
	TODO("ch5", "mremap: grow, shrink or move a mapping");
	(void)mm, (void)vma, (void)addr, (void)old_len, (void)new_len, (void)to;
	return -ENOSYS;
	LAB END */
}

/* Grow @vma, which ends at addr + old_len, to end at addr + new_len if the range after it is free. */
static bool grow_in_place(struct mm *mm, struct vma *vma, vaddr_t addr, size_t new_len)
{
	vaddr_t end = addr + new_len;
	if (new_len > USER_TOP || addr > USER_TOP - new_len || !mm_range_free(mm, vma->end, end - vma->end))
		return false;
	if (vma->backend->map(vma, vma->end, end))
		return false;
	vma->end = end;
	return true;
}

/* mremap with MREMAP_FIXED: to @new_addr, replacing what is there (Linux's mremap_to). */
static long remap_to(struct mm *mm, vaddr_t addr, size_t old_len, vaddr_t new_addr, size_t new_len)
{
	if (new_addr & (PAGE_SIZE - 1))
		return -EINVAL;
	if (new_len > USER_TOP || new_addr > USER_TOP - new_len)
		return -EINVAL;
	if (addr + old_len > new_addr && new_addr + new_len > addr)
		return -EINVAL; /* the ranges overlap */
	long ret;
	if (!area_to_resize(mm, addr, MIN(old_len, new_len), &ret))
		return ret; /* the source first: a bad one changes nothing */
	int err = mm_remove_range_locked(mm, new_addr, new_addr + new_len);
	if (err)
		return err;
	if (old_len > new_len) {
		err = mm_remove_range_locked(mm, addr + new_len, addr + old_len);
		if (err)
			return err;
		old_len = new_len;
	}
	struct vma *vma = area_to_resize(mm, addr, old_len, &ret);
	if (!vma)
		return ret;
	if (new_addr < USER_MIN)
		return -EPERM; /* mmap_min_addr */
	return move_area(mm, vma, addr, old_len, new_len, new_addr);
}

/* do_mremap() with mm->lock held and the arguments checked. */
static long remap_locked(struct mm *mm, vaddr_t addr, size_t old_len, size_t new_len, unsigned long flags,
			 vaddr_t new_addr)
{
	if (flags & MREMAP_FIXED)
		return remap_to(mm, addr, old_len, new_addr, new_len); /* new_addr is checked first */
	if (!mm_find_vma(mm, addr))
		return -EFAULT;
	if (old_len >= new_len) {
		/* Shrinking always works: unmap the tail, wherever its pages are. */
		if (old_len > new_len) {
			int err = do_munmap_locked(mm, addr + new_len, old_len - new_len);
			if (err)
				return err;
		}
		return (long)addr;
	}
	long ret;
	struct vma *vma = area_to_resize(mm, addr, old_len, &ret);
	if (!vma)
		return ret;
	if (old_len == vma->end - addr && grow_in_place(mm, vma, addr, new_len)) {
		vma_merge(mm, vma); /* it may reach an alike neighbour */
		return (long)addr;
	}
	if (!(flags & MREMAP_MAYMOVE))
		return -ENOMEM;
	ret = get_unmapped_area(mm, 0, new_len, false);
	if (ret < 0)
		return ret;
	return move_area(mm, vma, addr, old_len, new_len, (vaddr_t)ret);
}

long do_mremap(struct mm *mm, vaddr_t addr, size_t old_len, size_t new_len, unsigned long flags,
	       vaddr_t new_addr)
{
	if (flags & ~(unsigned long)(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP))
		return -EINVAL;
	if ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE))
		return -EINVAL;
	if (flags & MREMAP_DONTUNMAP)
		return -EINVAL; /* not supported here (Linux keeps the old range mapped, empty) */
	if (addr & (PAGE_SIZE - 1))
		return -EINVAL;
	old_len = page_align_len(old_len);
	new_len = page_align_len(new_len);
	if (!new_len || new_len > USER_TOP)
		return -EINVAL; /* Linux 6.x checks the length before the address */
	spin_lock(&mm->lock);
	long ret = remap_locked(mm, addr, old_len, new_len, flags, new_addr);
	spin_unlock(&mm->lock);
	return ret;
}
