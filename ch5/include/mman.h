/**
 * @file mman.h
 * @brief The mmap family on anonymous memory: mmap, munmap, mprotect,
 *        mremap, madvise, msync, with Linux's flags, results and errno.
 *
 * Each call is a do_*() function on an address space (the system calls in
 * ch5/proc/mman_syscalls.c pass the caller's mm). They build on ch4's areas
 * (struct vma, mm.h): a call takes mm->lock, checks its arguments in the
 * order Linux does (so that a call with two faults fails as Linux's does),
 * splits the areas at the range's edges (vma_split()), changes what lies
 * between, and merges neighbours that have become alike again
 * (vma_merge()). Page-table work is the backend's, and every page a call
 * takes down or re-protects goes through ch3's flusher: when a call returns,
 * no hart of the mm can still use the old translation.
 *
 * Reference: Linux mm/mmap.c (do_mmap, get_unmapped_area), mm/vma.c
 * (vma_merge, __split_vma, do_vmi_munmap), mm/mprotect.c, mm/mremap.c,
 * mm/madvise.c, mm/msync.c and include/uapi/asm-generic/mman-common.h;
 * ArceOS axmm MemorySet (map with unmap_overlap, unmap, protect); the
 * memory_set crate (MemorySet::map/unmap/protect, split).
 */
#ifndef MMLAB_MMAN_H
#define MMLAB_MMAN_H

#include "mm.h"
#include "types.h"

/** @name prot: Linux's PROT_* (the same bits as VM_READ/WRITE/EXEC).
 * @{ */
#define PROT_NONE  0x0 /**< No access. */
#define PROT_READ  0x1 /**< Readable. */
#define PROT_WRITE 0x2 /**< Writable (riscv maps it readable too). */
#define PROT_EXEC  0x4 /**< Executable. */
/** @} */

/** @name mmap flags: Linux's MAP_* (asm-generic/mman-common.h, linux/mman.h).
 * @{ */
#define MAP_SHARED  0x01 /**< Children after fork share the pages. */
#define MAP_PRIVATE 0x02 /**< Copy-on-write after fork. */
#define MAP_SHARED_VALIDATE                                                                                  \
	0x03 /**< For files: MAP_SHARED refusing unknown flags; anonymous memory: EINVAL, as on Linux. */
#define MAP_TYPE      0x0f /**< The bits of the mapping's type. */
#define MAP_FIXED     0x10 /**< Exactly at addr, replacing what is there. */
#define MAP_ANONYMOUS 0x20 /**< Zero-filled memory, no file. */
#define MAP_GROWSDOWN                                                                                        \
	0x0100 /**< A stack that grows down: EINVAL with MAP_SHARED (as Linux); ignored otherwise. */
#define MAP_DENYWRITE	    0x0800    /**< Ignored (as Linux does). */
#define MAP_EXECUTABLE	    0x1000    /**< Ignored (as Linux does). */
#define MAP_LOCKED	    0x2000    /**< Known to Linux; accepted, not locked. */
#define MAP_NORESERVE	    0x4000    /**< Do not account swap: accepted (mmlab reserves nothing). */
#define MAP_POPULATE	    0x8000    /**< Fault every page in before returning. */
#define MAP_NONBLOCK	    0x10000   /**< With MAP_POPULATE: accepted. */
#define MAP_STACK	    0x20000   /**< A thread stack: accepted. */
#define MAP_HUGETLB	    0x40000   /**< Huge pages from hugetlbfs: not supported (ENOMEM, no hugetlbfs). */
#define MAP_SYNC	    0x80000   /**< DAX, for files only: ignored for anonymous memory. */
#define MAP_FIXED_NOREPLACE 0x100000  /**< Exactly at addr, or EEXIST if anything is there. */
#define MAP_UNINITIALIZED   0x4000000 /**< Ignored (Linux honours it only without an MMU). */
/** @} */

/** mmap's result on failure, as a pointer (user space sees (void *)-1 from libc). */
#define MAP_FAILED ((void *)-1)

/** @name mremap flags (linux/mman.h).
 * @{ */
#define MREMAP_MAYMOVE	 1 /**< The kernel may move the mapping to grow it. */
#define MREMAP_FIXED	 2 /**< Move it to new_addr (with MREMAP_MAYMOVE), replacing what is there. */
#define MREMAP_DONTUNMAP 4 /**< Known to Linux; not supported here (EINVAL). */
/** @} */

/** @name madvise advice (asm-generic/mman-common.h).
 * @{ */
#define MADV_NORMAL	0 /**< No special treatment: accepted, nothing to do. */
#define MADV_RANDOM	1 /**< Accepted, nothing to do. */
#define MADV_SEQUENTIAL 2 /**< Accepted, nothing to do. */
#define MADV_WILLNEED	3 /**< Will be used soon: accepted (anonymous memory has nothing to read ahead). */
#define MADV_DONTNEED	4 /**< Drop the pages: private anonymous memory reads as zero afterwards. */
/** @} */

/** @name msync flags (asm-generic/mman-common.h).
 * @{ */
#define MS_ASYNC      1 /**< Schedule write-back. */
#define MS_INVALIDATE 2 /**< Invalidate other mappings of the same file. */
#define MS_SYNC	      4 /**< Write back and wait. */
/** @} */

/**
 * The highest address the top-down search of mmap() starts from: under the
 * stack and its guard gap (Linux's mm->mmap_base, which leaves a gap for the
 * stack to grow under its rlimit).
 */
#define MMAP_BASE (USER_STACK_TOP - USER_STACK_SIZE - USER_STACK_GUARD)

/**
 * mmap(2) of anonymous memory into @p mm.
 * @param mm     the address space.
 * @param addr   with MAP_FIXED / MAP_FIXED_NOREPLACE, the exact place
 *               (page-aligned); otherwise a hint, rounded down to its page
 *               (and up to #USER_MIN if under it, as Linux's
 *               round_hint_to_min), used if that range is free.
 * @param len    bytes, rounded up to whole pages; not 0.
 * @param prot   PROT_* bits (others are ignored, as Linux does for mmap).
 * @param flags  MAP_*: one type, MAP_PRIVATE or MAP_SHARED, and
 *               MAP_ANONYMOUS (a file goes through do_mmap_file(),
 *               pagecache.h); flags Linux ignores for anonymous memory are
 *               ignored.
 * @param fd     ignored with MAP_ANONYMOUS (Linux ignores it too).
 * @param off    bytes, page-aligned (-EINVAL otherwise); ignored for anonymous memory.
 * @return the start of the new mapping, or a negative errno: -EINVAL (len 0,
 *         an unaligned offset or fixed address, no type, both or an unknown
 *         one, MAP_SHARED with MAP_GROWSDOWN), -ENOMEM (len
 *         overflows, no free range, #MM_MAX_VMAS areas, out of frames for
 *         a shared mapping), -EEXIST (MAP_FIXED_NOREPLACE over an area),
 *         -EPERM (a fixed address under #USER_MIN), -EBADF (no
 *         MAP_ANONYMOUS: there is no file here).
 * Reference: Linux mm/mmap.c do_mmap(), mm/vma.c mmap_region().
 */
long do_mmap(struct mm *mm, vaddr_t addr, size_t len, unsigned long prot, unsigned long flags, int fd,
	     uint64_t off);

/**
 * munmap(2): remove [@p addr, @p addr + @p len) (len rounded up to pages)
 * from @p mm; holes are fine, areas that straddle an edge are split.
 * @return 0; -EINVAL for an unaligned @p addr, @p len 0, or a range that
 *         leaves the user half; -ENOMEM if a split needs an area and
 *         #MM_MAX_VMAS are taken (nothing changes then).
 * Reference: Linux mm/vma.c do_vmi_munmap().
 */
int do_munmap(struct mm *mm, vaddr_t addr, size_t len);

/**
 * mprotect(2): give every page of [@p start, @p start + @p len) of @p mm
 * permissions @p prot, splitting the areas at the edges and merging alike
 * neighbours.
 * @return 0 (also for @p len 0); -EINVAL for an unaligned @p start or a
 *         PROT_* bit that does not exist; -ENOMEM if the range wraps, leaves
 *         the user half, or holds a hole. As on Linux, the areas before the
 *         first hole are changed before -ENOMEM is returned; -EACCES
 *         (likewise after the areas before it) for PROT_WRITE on a shared
 *         mapping of a file not open for writing.
 * Reference: Linux mm/mprotect.c do_mprotect_pkey().
 */
int do_mprotect(struct mm *mm, vaddr_t start, size_t len, unsigned long prot);

/**
 * mremap(2): resize [@p old_addr, + @p old_len) of @p mm to @p new_len
 * bytes, in place if it can, or somewhere else if @p flags has
 * MREMAP_MAYMOVE, or at @p new_addr with MREMAP_FIXED. The old range must lie
 * in one area.
 * @return the mapping's new start, or -EINVAL (unknown flags, FIXED without
 *         MAYMOVE, unaligned addresses, new_len 0, overlapping old and new
 *         ranges), -EFAULT (the old range is not all in one area), -ENOMEM
 *         (cannot grow in place and may not move, or no room).
 * Reference: Linux mm/mremap.c.
 */
long do_mremap(struct mm *mm, vaddr_t old_addr, size_t old_len, size_t new_len, unsigned long flags,
	       vaddr_t new_addr);

/**
 * madvise(2) of [@p start, @p start + @p len) of @p mm with @p advice:
 * MADV_DONTNEED (private anonymous pages are dropped and
 * read as zero afterwards; shared ones keep their contents, as Linux's
 * shmem does), MADV_WILLNEED, MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL
 * (nothing to do).
 * @return 0 (also for @p len 0); -EINVAL for an unaligned @p start, a range
 *         that wraps, or unknown advice; -ENOMEM if the range holds a hole
 *         (the mapped parts are advised first, as on Linux).
 * Reference: Linux mm/madvise.c.
 */
int do_madvise(struct mm *mm, vaddr_t start, size_t len, int advice);

/**
 * msync(2) of [@p start, @p start + @p len) of @p mm with @p flags: the
 * dirty pages of the shared file mappings in the range are written back
 * (MS_SYNC and MS_ASYNC alike: at once); anonymous memory has nothing to write.
 * @return 0; -EINVAL for an unaligned @p start, unknown flags, or MS_SYNC
 *         with MS_ASYNC; -ENOMEM if the range wraps or holds a hole (the
 *         areas before it are synced); -EIO or -ENOSPC if a write-back failed.
 * Reference: Linux mm/msync.c.
 */
int do_msync(struct mm *mm, vaddr_t start, size_t len, int flags);

/**
 * Split @p vma of @p mm at @p addr (page-aligned, strictly inside it): @p vma keeps
 * [start, addr), a new area takes [addr, end) with the same fields and the
 * pages already mapped there. Caller holds mm->lock.
 * @return 0; -ENOMEM if #MM_MAX_VMAS areas exist or no memory for the new
 *         area (nothing changes then).
 * Reference: Linux mm/vma.c __split_vma().
 */
int vma_split(struct mm *mm, struct vma *vma, vaddr_t addr);

/**
 * True if areas @p a and @p b (a ends where b starts) could be one area:
 * the same permissions, flags, backend, name and private data, and (for a
 * backend with data) offsets that continue (vma_merge's is_mergeable_vma()).
 */
bool vma_mergeable(const struct vma *a, const struct vma *b);

/**
 * Merge @p vma with its neighbours in @p mm's tree where vma_mergeable() says
 * they could be one area. Caller holds mm->lock.
 * @return the area that holds @p vma's range now (@p vma, or the previous
 *         area that absorbed it); the others are freed.
 * Reference: Linux mm/vma.c vma_merge_existing_range().
 */
struct vma *vma_merge(struct mm *mm, struct vma *vma);

#endif
