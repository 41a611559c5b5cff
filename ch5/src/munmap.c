/*
 * munmap(2): the checks of Linux's do_vmi_munmap, then ch4's
 * mm_remove_range, which splits the areas that straddle an edge and takes
 * down every page in between (through the flusher: no hart keeps a stale
 * translation once munmap returns).
 */
#include "errno.h"
#include "mman_internal.h"

int do_munmap_locked(struct mm *mm, vaddr_t addr, size_t len)
{
	if ((addr & (PAGE_SIZE - 1)) || addr > USER_TOP || len > USER_TOP - addr)
		return -EINVAL; /* a huge length is refused here, before any arithmetic */
	len = page_align_len(len);
	if (!len)
		return -EINVAL;
	return mm_remove_range_locked(mm, addr, addr + len);
}

int do_munmap(struct mm *mm, vaddr_t addr, size_t len)
{
	spin_lock(&mm->lock);
	int err = do_munmap_locked(mm, addr, len);
	spin_unlock(&mm->lock);
	return err;
}
