/**
 * @file vma.h
 * @brief Virtual memory areas (Linux's struct vm_area_struct) and the
 *        backends that map them (the memory_set crate's MappingBackend).
 *
 * An area is a page-aligned range [start, end) of one address space with the
 * permissions a program asked for (#VM_READ, #VM_WRITE, #VM_EXEC: the values
 * of Linux's PROT_*), flags (#VM_SHARED, #VM_STACK, ...) and a backend. The
 * area decides *what* is mapped; its backend edits the page table: it maps a
 * range (eagerly, or not at all for a lazy backend), unmaps it and frees what
 * it owned, changes its permissions and resolves a page fault inside it.
 * ch4 has two backends: anonymous memory (zero-filled pages) and initial
 * data (the pages of an ELF segment: bytes copied from the program, the rest
 * zero). ch5 adds file and shared backends without editing ch4: a backend is
 * a table of functions and a pointer of its own (vma::private_data).
 *
 * Reference: Linux include/linux/mm_types.h (vm_area_struct), mm/mmap.c;
 * the memory_set crate's MemoryArea and MappingBackend; ArceOS axmm's
 * Backend::{Linear, Alloc}.
 */
#ifndef MMLAB_VMA_H
#define MMLAB_VMA_H

#include "types.h"

struct mm;
struct tlb_flusher;
struct vma;

/** @name Permissions of an area: Linux's PROT_* values
 *  (include/uapi/asm-generic/mman-common.h).
 * @{ */
#define VM_NONE	     0x0u /**< No access: a guard, or PROT_NONE. */
#define VM_READ	     0x1u /**< Readable (PROT_READ). */
#define VM_WRITE     0x2u /**< Writable (PROT_WRITE); riscv maps it readable too. */
#define VM_EXEC	     0x4u /**< Executable (PROT_EXEC). */
#define VM_PROT_MASK (VM_READ | VM_WRITE | VM_EXEC)
/** @} */

/** @name Flags of an area (bits of vma::flags).
 * @{ */
#define VM_SHARED 0x1u /**< Pages are shared with the parent after fork, not copied. */
#define VM_STACK  0x2u /**< The main thread's stack ("[stack]" in the maps listing). */
#define VM_HEAP	  0x4u /**< The brk heap ("[heap]"). */
#define VM_GUARD  0x8u /**< The guard gap under the stack: never mapped; a touch is "stack guard". */
/** @} */

/** What a fault or an access wants: from scause (riscv.h CAUSE_*_PAGE_FAULT). */
enum vm_access {
	ACCESS_READ = VM_READ,	 /**< A load (CAUSE_LOAD_PAGE_FAULT). */
	ACCESS_WRITE = VM_WRITE, /**< A store or AMO (CAUSE_STORE_PAGE_FAULT). */
	ACCESS_EXEC = VM_EXEC,	 /**< A fetch (CAUSE_FETCH_PAGE_FAULT). */
};

/**
 * How an area's pages get into the page table. Every operation gets a
 * page-aligned sub-range [start, end) of the area, takes and releases no lock
 * (the caller holds mm->lock) and returns 0 or a negative errno.
 */
struct vm_backend {
	const char *name; /**< For the maps listing and messages ("anon", "data"). */
	/**
	 * Make [start, end) of @p vma usable: an eager backend maps every page
	 * now (with the area's permissions); a lazy one may map nothing.
	 * @return 0; -ENOMEM, having mapped nothing of the range it was given.
	 */
	int (*map)(struct vma *vma, vaddr_t start, vaddr_t end);
	/**
	 * Take down whatever is mapped in [start, end) (pages that are not mapped
	 * are skipped) and give back what the area owned there (put_page()),
	 * adding the pages to @p fl so the caller's flush reaches every hart.
	 */
	int (*unmap)(struct vma *vma, vaddr_t start, vaddr_t end, struct tlb_flusher *fl);
	/** Change the mapped pages of [start, end) to permissions @p prot (VM_*). */
	int (*protect)(struct vma *vma, vaddr_t start, vaddr_t end, unsigned prot, struct tlb_flusher *fl);
	/**
	 * Resolve a fault at @p va (page-aligned, inside @p vma, with @p access
	 * allowed by the area's permissions): map the page, or give this mm its
	 * own copy of a copy-on-write page (cow.h).
	 * @return 0 (retry the access), -ENOMEM, -EACCES if the page itself
	 *         forbids the access and no copy can change that, or -EIO if
	 *         the object behind the area has no page there (ch5: a file's
	 *         page wholly past its end), which raises SIGBUS (Linux's
	 *         VM_FAULT_SIGBUS).
	 */
	int (*fault)(struct vma *vma, vaddr_t va, enum vm_access access);
	/** Optional: @p vma is going away; drop what private_data holds. */
	void (*close)(struct vma *vma);
	/** Optional: @p copy is a new area made from @p vma (fork, split): take
	 *  its own hold on private_data. @return 0 or -ENOMEM. */
	int (*dup)(struct vma *copy, const struct vma *vma);
};

/** A node of the area tree (vma_tree.h): an AVL tree keyed by vma::start. */
struct vma_node {
	struct vma_node *left;	 /**< Lower starts; NULL if none. */
	struct vma_node *right;	 /**< Higher starts; NULL if none. */
	struct vma_node *parent; /**< NULL at the root. */
	int height;		 /**< 1 for a leaf. */
};

/** One area of an address space. */
struct vma {
	vaddr_t start;			  /**< First byte, page-aligned. */
	vaddr_t end;			  /**< One past the last byte, page-aligned, > start. */
	unsigned prot;			  /**< VM_READ | VM_WRITE | VM_EXEC: what was asked for. */
	unsigned flags;			  /**< VM_SHARED, VM_STACK, VM_HEAP, VM_GUARD. */
	const struct vm_backend *backend; /**< Who maps its pages. */
	void *private_data;		  /**< The backend's: the initial data, a file, ... */
	uint64_t pgoff;			  /**< Offset of start into private_data, in bytes (page-aligned). */
	uint64_t data_size;   /**< data backend: bytes of private_data from pgoff on; 0 past that. */
	const char *name;     /**< For the maps listing: a program name, or NULL. */
	struct mm *mm;	      /**< The address space it belongs to (NULL before it is added). */
	struct vma_node node; /**< Its place in mm->vmas. */
};

/** The area that tree node @p n is in (NULL for NULL). */
static inline struct vma *vma_of(struct vma_node *n)
{
	return n ? (struct vma *)((char *)n - __builtin_offsetof(struct vma, node)) : NULL;
}

/** Bytes area @p vma spans. */
static inline size_t vma_size(const struct vma *vma) { return vma->end - vma->start; }

/** PTE permission bits (PTE_R/W/X, PTE_U) for an area's VM_* @p prot; W
 *  alone maps R|W (Sv39 reserves W without R, spec 4.3.1). */
unsigned vm_prot_to_pte(unsigned prot);

/**
 * The leaf of a page that stays present in a #VM_NONE area (mprotect to
 * PROT_NONE keeps the page's contents): X alone, U clear. Sv39 has no
 * "present, no access" leaf (R, W and X all clear is a pointer to a
 * table), so the frame stays in a leaf that user mode cannot use at all
 * (U clear) and the kernel cannot load from or store to (no R or W; sstatus.MXR
 * is never set): a user access faults (SIGSEGV) and a user copy fails with
 * EFAULT, as on Linux, whose riscv PROT_NONE entry keeps the frame with V
 * clear (_PAGE_PROT_NONE).
 */
#define PTE_PROT_NONE PTE_X

/** The leaf permissions of a present page of an area with VM_* @p prot:
 *  vm_prot_to_pte(@p prot), or #PTE_PROT_NONE when that is 0. */
unsigned vm_page_perm(unsigned prot);

/**
 * Anonymous memory: zero-filled pages (Linux's anonymous VMAs). Lazy in a
 * lazy mm: a read of an untouched page maps the zero page, a write a zeroed
 * frame; a #VM_SHARED area is populated when made, in every mm (its pages
 * must be the same frames in parent and child).
 */
extern const struct vm_backend anon_backend;

/**
 * Initial data: pages filled from vma::private_data (data_size bytes from
 * pgoff on; zero past them), then private to the area. ELF segments. A page
 * is filled on first touch in a lazy mm (a read of one wholly past the data
 * maps the zero page). The data must outlive the area (the initramfs does).
 */
extern const struct vm_backend data_backend;

/**
 * A new area [@p start, @p end) with @p prot and @p flags, backed by
 * @p backend, not yet in any address space (mm_add_vma() puts it in).
 * @return the area (kmalloc'd; free with vma_free()), or NULL if out of memory.
 */
struct vma *vma_alloc(vaddr_t start, vaddr_t end, unsigned prot, unsigned flags,
		      const struct vm_backend *backend);

/** Free area @p vma, which is in no address space (calls backend->close). NULL is ignored. */
void vma_free(struct vma *vma);

#endif
