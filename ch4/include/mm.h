/**
 * @file mm.h
 * @brief A process's address space: a page table and its areas (Linux's
 *        struct mm_struct; rCore's MemorySet, ArceOS's AddrSpace).
 *
 * The lower half of the page table (below #USER_TOP) is the process's; the
 * upper half is the kernel's, shared with every address space (ch3's
 * kspace_share_kernel_half()), so traps need no satp switch. The areas sit in
 * an AVL tree keyed by start (vma_tree.h): lookup, insert, remove,
 * next and prev in O(log n). Threads share one mm (mm::refs). mm::as.harts
 * is the set of harts that may cache its translations: who a TLB shootdown
 * must reach (ch3's tlb_shootdown()).
 *
 * Locking: mm::lock guards the tree, every area's fields and the lower half
 * of the page table. Functions here that take an mm take the lock themselves
 * unless they say "caller holds mm->lock".
 *
 * Reference: Linux include/linux/mm_types.h, mm/mmap.c, kernel/fork.c
 * (dup_mmap); xv6-riscv kernel/vm.c (uvmcopy, uvmfree); ArceOS axmm
 * AddrSpace (find_free_area, clear / unmap_user_areas, clone_or_err).
 */
#ifndef MMLAB_MM_H
#define MMLAB_MM_H

#include "addr_space.h"
#include "spinlock.h"
#include "types.h"
#include "vma.h"

/** One past the highest user address: the lower half of Sv39 (256 GiB). */
#define USER_TOP (1UL << 38)
/** The lowest address an area may start at (Linux's mmap_min_addr): page 0 stays unmapped. */
#define USER_MIN 0x10000UL
/** The top of the main thread's stack (one page below USER_TOP is left unmapped). */
#define USER_STACK_TOP (USER_TOP - PAGE_SIZE)
/** Bytes of the main thread's stack area. */
#define USER_STACK_SIZE (256UL * 1024)
/** The guard gap under the stack (Linux's stack_guard_gap: 256 pages). */
#define USER_STACK_GUARD (256UL * PAGE_SIZE)
/** Linux's default vm.max_map_count (DEFAULT_MAX_MAP_COUNT, include/linux/mm.h). */
#define MM_DEFAULT_MAX_MAP_COUNT 65530
/**
 * Most areas an mm may hold: Linux's vm.max_map_count (sysctl_max_map_count,
 * mm/mmap.c), #MM_DEFAULT_MAX_MAP_COUNT unless a test lowered it
 * (SYS_mmlab_max_map_count: the tests that fill an address space up to the
 * limit need not make 65,530 areas in every configuration).
 */
extern size_t max_map_count;
/** Most areas an mm may hold now (#max_map_count). */
#define MM_MAX_VMAS max_map_count

/** The root of an area tree. */
struct vma_tree {
	struct vma_node *root; /**< NULL when empty. */
};

/** An address space. */
struct mm {
	struct addr_space as; /**< ch3: its page table and the harts that may cache it. */
	struct vma_tree vmas; /**< Its areas, by start. */
	size_t nr_vmas;	      /**< How many areas the tree holds. */
	int refs;	      /**< Users: one per thread (atomic); the last mm_put() frees it. */
	struct spinlock lock; /**< Guards the areas and the lower half of the table. */
	vaddr_t brk_start;    /**< Where the heap begins (page-aligned, after the program). */
	vaddr_t brk;	      /**< The program break: the heap is [brk_start, brk). */
	struct vma *heap;     /**< The heap area, or NULL while brk == brk_start. */
	uint64_t
		nr_pages; /**< Frames mapped now in the lower half, the zero page not counted (Linux's RSS). */
	bool eager;	  /**< Part 1's paths: areas populated when made, fork copies (cow.h). */
};

/**
 * A new, empty address space: a page table that shares the kernel half, no
 * areas, one reference; lazy (mm::eager false) unless booted with the
 * `eager` bootarg.
 * @return the mm, or NULL if out of memory (nothing is left allocated).
 */
struct mm *mm_create(void);

/** Take a reference to @p mm (a new thread). */
void mm_get(struct mm *mm);

/**
 * Drop a reference to @p mm; the last one frees every area, every page they own,
 * every table of the lower half and the mm itself.
 * @pre the mm is active on no hart when the last reference goes.
 */
void mm_put(struct mm *mm);

/**
 * Make @p mm this hart's address space (satp), adding the hart to the set
 * the mm's shootdowns reach. NULL goes back to the kernel's space.
 */
void mm_activate(struct mm *mm);

/**
 * The area of @p mm that contains @p va, or NULL. Caller holds mm->lock. O(log n).
 */
struct vma *mm_find_vma(struct mm *mm, vaddr_t va);

/**
 * The first area of @p mm that ends above @p va (it may start above @p va too), or
 * NULL: Linux's find_vma(). Caller holds mm->lock. O(log n).
 */
struct vma *mm_find_vma_after(struct mm *mm, vaddr_t va);

/** @name Flags of mm_add_vma().
 * @{ */
#define MM_ADD_REPLACE 0x1u /**< Remove (unmap) whatever overlaps first, as MAP_FIXED does. */
/** @} */

/**
 * Put @p vma into @p mm and map it (backend->map over the whole area).
 * @param mm     the address space.
 * @param vma    the area (vma_alloc()), in no address space.
 * @param flags  0, or #MM_ADD_REPLACE.
 * @return 0 (the mm owns the area now); -EINVAL if the range is not
 *         page-aligned, empty, below #USER_MIN or above #USER_TOP; -EEXIST if
 *         it overlaps an area and #MM_ADD_REPLACE is not given; -ENOMEM if
 *         #MM_MAX_VMAS areas exist or the backend ran out of frames. On an
 *         error the caller still owns @p vma and the mm is as it was, but
 *         for one case: with #MM_ADD_REPLACE, if the backend's map fails
 *         after the old areas were removed, they stay removed (as Linux's
 *         MAP_FIXED leaves the range unmapped).
 */
int mm_add_vma(struct mm *mm, struct vma *vma, unsigned flags);

/**
 * Unmap [@p start, @p end) of @p mm and remove the areas there; areas that straddle
 * an edge are split (Linux's do_vmi_munmap()). Holes are fine.
 * @return 0; -EINVAL for an unaligned or empty range; -ENOMEM if a split
 *         needed memory it could not get (nothing is changed then).
 */
int mm_remove_range(struct mm *mm, vaddr_t start, vaddr_t end);

/**
 * Find @p len free bytes (page-aligned) of @p mm in [#USER_MIN, @p limit): at
 * @p hint if [hint, hint + len) is free, else the highest free range below
 * @p limit (Linux's top-down layout; ArceOS find_free_area, Theseus
 * allocate_pages_in_range). Caller holds mm->lock.
 * @return the start address, or 0 if no range fits (or @p len is 0 or not
 *         page-aligned).
 */
vaddr_t mm_find_free(struct mm *mm, vaddr_t hint, size_t len, vaddr_t limit);

/**
 * Remove every user area of @p mm, unmapping and freeing their pages and the tables
 * of the lower half; keep the mm and the kernel half (exec: ArceOS
 * unmap_user_areas). brk is reset to 0.
 */
void mm_clear(struct mm *mm);

/**
 * A copy of @p mm for a child (fork): the same areas and brk. Every page
 * present in a private area is shared copy-on-write (cow.h): read-only with
 * #PTE_COW in both mms, one more reference to its frame (get_page()); if
 * @p mm is eager, or the frame's count is at its limit, the child gets a new
 * frame with a copy of the bytes instead (xv6's uvmcopy). #VM_SHARED areas
 * map the same frames, writable as they were. The parent's harts are
 * flushed before it returns: no thread of it can still write a shared page.
 * @return the child's mm, or NULL if out of memory (everything taken for it
 *         is given back).
 */
struct mm *mm_fork(struct mm *mm);

/**
 * Move the end of @p mm's heap to @p new_brk (brk(2)): pages above the new break
 * are unmapped and freed; new pages appear zeroed on first touch (mapped at
 * once if @p mm is eager).
 * @return the break after the call: @p new_brk, or the old break if
 *         @p new_brk is below brk_start, would overlap another area, or
 *         frames ran out (Linux's brk returns the unchanged break).
 */
vaddr_t mm_brk(struct mm *mm, vaddr_t new_brk);

/** Why a fault could not be resolved (Redox's PfError), or that it was. */
enum fault_result {
	FAULT_RESOLVED = 0, /**< The page is mapped now: retry the access. */
	FAULT_NO_AREA,	    /**< No area holds the address (SEGV_MAPERR). */
	FAULT_PERMISSION,   /**< The area forbids the access (SEGV_ACCERR). */
	FAULT_GUARD,	    /**< The address is in the guard gap under the stack. */
	FAULT_KERNEL,	    /**< The address is not a user address. */
	FAULT_OOM,	    /**< No frame for the page. */
	FAULT_SIGBUS,	    /**< The area's object has no page there (a file's page past its end): SIGBUS. */
};

/** A short name for @p r ("no area", "permission", ...). */
const char *fault_result_name(enum fault_result r);

/**
 * Handle a page fault at @p va in @p mm for @p access: find the area, check
 * its permissions, let its backend map the page.
 * @return #FAULT_RESOLVED, or why not.
 */
enum fault_result mm_fault(struct mm *mm, vaddr_t va, enum vm_access access);

/**
 * Copy @p len bytes from @p src into @p mm at user address @p va through the
 * mm's page table and the direct map (rCore's translated_byte_buffer): for
 * an mm that is not active on this hart (exec writes the new stack so).
 * Pages that are not mapped are faulted in as a write would be.
 * @return 0, or -EFAULT if a page is outside every writable area.
 */
int mm_write(struct mm *mm, vaddr_t va, const void *src, size_t len);

/**
 * Call @p fn (with @p arg) for every area of @p mm in address order (for the maps listing),
 * stopping at the first non-zero return, which it returns. @p fn runs with
 * mm->lock held: it may not sleep, fault, or touch user memory (format into
 * a kernel buffer, copy_to_user() after).
 */
int mm_for_each_vma(struct mm *mm, int (*fn)(struct vma *vma, void *arg), void *arg);

#endif
