/*
 * mmap(2) of anonymous memory: check the arguments in Linux's order, find
 * the place (get_unmapped_area), make the area and add it, replacing what
 * a fixed mapping overlaps (ArceOS's unmap_overlap), merge it with alike
 * neighbours, and fault its pages in for MAP_POPULATE (ArceOS
 * manual_alloc_for_lazy). Reference: Linux mm/mmap.c do_mmap and
 * get_unmapped_area, arch/x86/kernel/sys_x86_64.c
 * arch_get_unmapped_area_topdown, mm/vma.c mmap_region, mm/gup.c
 * populate_vma_page_range.
 */
#include "errno.h"
#include "mman_internal.h"
#include "pagecache_internal.h"
#include "panic.h"

/* A hint rounded down to its page, and lifted to USER_MIN if it lies under
 * it (Linux's round_hint_to_min). */
static vaddr_t round_hint(vaddr_t hint)
{
	hint &= ~(PAGE_SIZE - 1);
	return hint && hint < USER_MIN ? USER_MIN : hint;
}

long get_unmapped_area(struct mm *mm, vaddr_t addr, size_t len, bool fixed)
{
	if (len > USER_TOP)
		return -ENOMEM;
	/* LAB BEGIN ch5 mmap: a fixed address as it is; a free hint; else the highest free range under MMAP_BASE */
	if (fixed) {
		if (addr > USER_TOP - len)
			return -ENOMEM;
		if (addr & (PAGE_SIZE - 1))
			return -EINVAL;
		return addr < USER_MIN ? -EPERM : (long)addr;
	}
	if (addr >= USER_MIN && addr <= USER_TOP - len && mm_range_free(mm, addr, len))
		return (long)addr;
	vaddr_t found = mm_find_free(mm, 0, len, MMAP_BASE);
	return found ? (long)found : -ENOMEM;
	/* LAB STUB
	TODO("ch5", "mmap: place and map a new area");
	(void)mm, (void)addr, (void)fixed, (void)mm_range_free;
	return -ENOMEM;
	LAB END */
}

/*
 * Fault in the pages of [start, end) of @vma as a first touch would: a write
 * for a private writable area (each page gets its own frame, not the zero
 * page), a read otherwise. Best effort, as Linux's mm_populate: an
 * out-of-memory leaves the rest to fault later.
 */
static void populate(struct vma *vma, vaddr_t start, vaddr_t end)
{
	if (vma->prot == VM_NONE)
		return;
	enum vm_access access =
		(vma->prot & VM_WRITE) && !(vma->flags & VM_SHARED) ? ACCESS_WRITE : ACCESS_READ;
	for (vaddr_t va = start; va < end; va += PAGE_SIZE)
		if (vma->backend->fault(vma, va, access))
			return;
}

/* The area type of @flags (MAP_TYPE): VM_SHARED, 0 for private, or
 * -EINVAL; MAP_SHARED_VALIDATE is a file's (@file) only. */
static int type_flags(unsigned long flags, bool file)
{
	switch (flags & MAP_TYPE) {
	case MAP_SHARED_VALIDATE:
		if (!file)
			return -EINVAL;
		/* fall through */
	case MAP_SHARED:
		return (flags & MAP_GROWSDOWN) ? -EINVAL : (int)VM_SHARED; /* a shared stack: Linux refuses */
	case MAP_PRIVATE:
		return 0;
	default:
		return -EINVAL; /* none, or unknown (MAP_DROPPABLE) */
	}
}

/* What MAP_SHARED_VALIDATE accepts: Linux's LEGACY_MAP_MASK (riscv has no
 * MAP_32BIT; MAP_FIXED_NOREPLACE is not in it, on Linux either). */
#define MAP_LEGACY_MASK                                                                                      \
	(MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_DENYWRITE | MAP_EXECUTABLE |             \
	 MAP_UNINITIALIZED | MAP_GROWSDOWN | MAP_LOCKED | MAP_NORESERVE | MAP_POPULATE | MAP_NONBLOCK |      \
	 MAP_STACK | MAP_HUGETLB)

/*
 * The file's part of Linux's do_mmap() checks, in its order: the mapping
 * type, a shared writable mapping needs a file open for writing, every
 * mapping needs one open for reading, and the file must be mappable.
 */
static long file_check(struct file *file, unsigned long prot, unsigned long flags)
{
	switch (flags & MAP_TYPE) {
	case MAP_SHARED:
	case MAP_SHARED_VALIDATE:
		if ((flags & MAP_TYPE) == MAP_SHARED_VALIDATE && (flags & ~MAP_LEGACY_MASK))
			return -EOPNOTSUPP;
		if ((prot & PROT_WRITE) && !(file->mode & FMODE_WRITE))
			return -EACCES;
		/* fall through */
	case MAP_PRIVATE:
		if (!(file->mode & FMODE_READ))
			return -EACCES;
		if (!file_map_ops_of(file))
			return -ENODEV;
		return (flags & MAP_GROWSDOWN) ? -EINVAL : 0;
	default:
		return -EINVAL;
	}
}

/* mmap_region(): make the area of [addr, addr + len) and put it in @mm;
 * @fa (NULL: anonymous) becomes its file area. */
static long map_region(struct mm *mm, vaddr_t addr, size_t len, unsigned long prot, unsigned long flags,
		       struct file_area *fa, uint64_t off)
{
	int vm_flags = type_flags(flags, fa);
	struct vma *vma = vm_flags < 0 ? NULL
				       : vma_alloc(addr, addr + len, prot & VM_PROT_MASK, (unsigned)vm_flags,
						   fa ? &file_backend : &anon_backend);
	if (!vma) {
		if (fa)
			file_area_free(fa);
		return vm_flags < 0 ? vm_flags : -ENOMEM;
	}
	if (fa) {
		vma->pgoff = off;
		file_area_attach(fa, vma);
	}
	int err = mm_add_vma_locked(mm, vma, (flags & MAP_FIXED) ? MM_ADD_REPLACE : 0);
	if (err) {
		vma_free(vma);
		return err;
	}
	vma = vma_merge(mm, vma);
	if ((flags & (MAP_POPULATE | MAP_NONBLOCK)) == MAP_POPULATE)
		populate(vma, addr, addr + len);
	return (long)addr;
}

/*
 * Linux's do_mmap() for both kinds: the arguments, then the place, then the
 * area. @file is NULL for anonymous memory; its checks come after the place
 * is found, as in Linux. map_region() owns the file area once called.
 */
static long mmap_common(struct mm *mm, vaddr_t addr, size_t len, unsigned long prot, unsigned long flags,
			struct file *file, uint64_t off)
{
	if (off & (PAGE_SIZE - 1))
		return -EINVAL; /* the system call's own check, before everything */
	if (!len)
		return -EINVAL;
	if (flags & MAP_FIXED_NOREPLACE)
		flags |= MAP_FIXED; /* before the hint is rounded: an unaligned address is EINVAL */
	if (!(flags & MAP_FIXED))
		addr = round_hint(addr);
	len = page_align_len(len);
	if (!len)
		return -ENOMEM; /* the length overflows */
	if ((off / PAGE_SIZE) + (len / PAGE_SIZE) < off / PAGE_SIZE)
		return -EOVERFLOW; /* the offset in pages wraps (Linux checks it for anonymous memory too) */
	spin_lock(&mm->lock);
	/* (Linux's vm.max_map_count check comes with the new area: mm_add_vma.) */
	long ret = get_unmapped_area(mm, addr, len, flags & MAP_FIXED);
	if (ret >= 0) {
		addr = (vaddr_t)ret;
		if ((flags & MAP_FIXED_NOREPLACE) && !mm_range_free(mm, addr, len))
			ret = -EEXIST;
		else
			ret = file ? file_check(file, prot, flags) : 0;
	}
	struct file_area *fa = NULL;
	if (ret >= 0 && file) {
		bool shared = (flags & MAP_TYPE) != MAP_PRIVATE;
		fa = file_area_new(file, shared && (file->mode & FMODE_WRITE), false);
		ret = fa ? 0 : -ENOMEM;
	}
	if (ret >= 0)
		ret = map_region(mm, addr, len, prot, flags, fa, off);
	else if (fa)
		file_area_free(fa);
	spin_unlock(&mm->lock);
	return ret;
}

long do_mmap(struct mm *mm, vaddr_t addr, size_t len, unsigned long prot, unsigned long flags, int fd,
	     uint64_t off)
{
	(void)fd; /* ignored with MAP_ANONYMOUS, as Linux does */
	if (!(flags & MAP_ANONYMOUS))
		return (off & (PAGE_SIZE - 1)) ? -EINVAL : -EBADF; /* a file comes through do_mmap_file() */
	return mmap_common(mm, addr, len, prot, flags, NULL, off);
}

long do_mmap_file(struct mm *mm, vaddr_t addr, size_t len, unsigned long prot, unsigned long flags,
		  struct file *file, uint64_t off)
{
	return mmap_common(mm, addr, len, prot, flags & ~MAP_ANONYMOUS, file, off);
}
