/**
 * @file pagetable.h
 * @brief ch3: Sv39 page tables: PTEs, the walk, map, unmap, protect, query.
 *
 * Sv39 (RISC-V privileged spec v1.12, 4.3 "Sv32" for the algorithm and 4.4
 * "Sv39" for the sizes) translates a 39-bit virtual address through three
 * levels of tables. Each table is one 4 KiB frame of 512 eight-byte PTEs; the
 * 27-bit virtual page number splits into three 9-bit indexes, VPN[2] (root)
 * to VPN[0] (last level):
 *
 *     38      30 29      21 20      12 11          0
 *     | VPN[2]  | VPN[1]   | VPN[0]   | page offset |
 *
 * A PTE with V set and none of R, W, X points to the next table; with R or X
 * set it is a leaf. A leaf at level 0 maps a 4 KiB page, at level 1 a 2 MiB
 * megapage, at level 2 a 1 GiB gigapage (its physical address must be aligned
 * to that size, spec 4.3.2 step 6).
 *
 * Levels are numbered as the spec numbers them: 2 is the root, 0 the last.
 *
 * A page table here is a `struct pagetable`: the physical address of its root
 * and a count of its table pages. Table pages come from ch1's frame allocator
 * and are reached through the direct map. The functions below do not lock:
 * the owner of a page table serialises calls on it (kspace.h locks the
 * kernel's). They do not flush the TLB either, except through the
 * tlb_flusher the caller hands in (tlb.h).
 *
 * Errors, shared by every function (negative errno, nothing changed):
 * - -EINVAL: an address or size not a multiple of 4 KiB, a size of 0, or
 *   permissions that no leaf may have (W without R, none of R/W/X, unknown bits);
 * - -ERANGE: a virtual range not wholly inside one canonical half of the
 *   Sv39 space (bits 63..39 must equal bit 38), one that reaches 2^64 (so the
 *   very last page of the space cannot be mapped), or a physical range past
 *   2^56;
 * - -EEXIST: pt_map() over a page that is already mapped;
 * - -ENOENT: pt_unmap() or pt_protect() over a page that is not mapped,
 *   pt_query() of an unmapped address;
 * - -ENOMEM: no frame for a table; whatever was built is taken down again.
 *
 * References: RISC-V privileged spec 4.3-4.4; xv6 kernel/vm.c (walk,
 * mappages, uvmunmap, vmprint); rCore os/src/mm/page_table.rs.
 */
#ifndef MMLAB_PAGETABLE_H
#define MMLAB_PAGETABLE_H

#include "asmdefs.h"
#include "types.h"

struct tlb_flusher;

/** @name Sv39 geometry
 *  @{ */
#define PT_LEVELS      3   /**< Levels of tables: 2 (root), 1, 0. */
#define PTES_PER_TABLE 512 /**< Entries in one table (one 4 KiB frame). */
#define VPN_BITS       9   /**< Bits of the virtual page number per level. */
#define VA_BITS	       39  /**< Significant bits of an Sv39 virtual address. */
#define PA_BITS	       56  /**< Bits of a physical address (44-bit PPN). */
/** @} */

/** @name PTE layout (spec 4.4.1, figure 4.21)
 *  PTE_V .. PTE_D (bits 0-7) come from asmdefs.h.
 *  @{ */
#define PTE_RSW	       (3UL << 8) /**< Bits 8-9, reserved for software; we leave them 0. */
#define PTE_PPN_SHIFT  10	  /**< The PPN starts at bit 10. */
#define PTE_PPN_MASK   (((1UL << 44) - 1) << PTE_PPN_SHIFT)    /**< PPN[2..0], bits 10-53. */
#define PTE_FLAGS_MASK 0x3ffUL				       /**< Bits 0-9: V R W X U G A D and RSW. */
#define PTE_PERM_MASK  (PTE_R | PTE_W | PTE_X | PTE_U | PTE_G) /**< What callers choose. */
/** @} */

/** @name Permission sets for pt_map() and pt_protect()
 *  Kernel mappings are global (in every address space, spec 4.4.1).
 *  @{ */
#define PT_KERNEL_TEXT (PTE_R | PTE_X | PTE_G) /**< Kernel code: R-X. */
#define PT_KERNEL_RO   (PTE_R | PTE_G)	       /**< Kernel read-only data: R--. */
#define PT_KERNEL_RW   (PTE_R | PTE_W | PTE_G) /**< Kernel data, bss, direct map: RW-. */
/**
 * Device (MMIO) registers: RW-, never executable, global. With the Svpbmt
 * extension these would also carry PBMT=IO (bits 61-62); QEMU 7.2's virt does
 * not enable Svpbmt and its device regions are uncached by the PMAs already
 * (spec 3.6), so the set is the permissions alone.
 */
#define PT_DEVICE (PTE_R | PTE_W | PTE_G)
/** @} */

/**
 * pt_map() option, ORed into the permissions: map with the largest pages
 * (1 GiB, 2 MiB, else 4 KiB) that the alignment of the virtual and the physical
 * address and the size left allow.
 */
#define PT_MAP_HUGE (1u << 16)

/**
 * What the upper-half root entries of a page table are (docs/layout.md, "The
 * kernel half"). Every address space shares the kernel's level-1 tables
 * there, so once the kernel space is built those 256 entries never change.
 */
enum pt_kernel_half {
	/** Plain: tables of the upper half are the page table's own, unlinked
	 *  and freed when empty like any other (scratch tables; the default). */
	PT_HALF_OWN = 0,
	/** Its own, linked for good: pt_unlink_table() leaves an upper-half root
	 *  entry alone (its table stays, empty or not), so no map, unmap or
	 *  rollback ever changes one. The kernel's page table. */
	PT_HALF_PINNED,
	/** The kernel's, copied in by kspace_share_kernel_half(): never
	 *  unlinked, not counted in nr_tables, and not freed by pt_destroy(). */
	PT_HALF_SHARED,
};

/** A page table: its root frame and how many table frames it holds. */
struct pagetable {
	paddr_t root;	  /**< Physical address of the root (level 2) table; 0 if none. */
	size_t nr_tables; /**< Table frames in use, the root included (not the kernel's, if shared). */
	/** Whose the upper half's tables are; pt_init() makes it PT_HALF_OWN. */
	enum pt_kernel_half kernel_half;
};

/** What pt_query() finds for one virtual address. */
struct pt_mapping {
	paddr_t pa;	  /**< The physical address the virtual address translates to. */
	vaddr_t page_va;  /**< First virtual address of the page (of its size) holding it. */
	paddr_t page_pa;  /**< First physical address of that page. */
	size_t page_size; /**< PAGE_SIZE, MEGAPAGE_SIZE or GIGAPAGE_SIZE. */
	int level;	  /**< Level of the leaf PTE: 0, 1 or 2. */
	unsigned flags;	  /**< The leaf's flag bits (PTE_V .. PTE_D). */
};

/** @name PTE and address helpers (pure; spec 4.4.1)
 *  @{ */

/** Bytes mapped by a leaf at @p level (0: 4 KiB, 1: 2 MiB, 2: 1 GiB). */
static inline size_t level_size(int level) { return PAGE_SIZE << (VPN_BITS * level); }

/** Index into the table at @p level of virtual address @p va: VPN[level] (xv6's PX). */
static inline unsigned vpn_index(vaddr_t va, int level)
{
	return (va >> (PAGE_SHIFT + VPN_BITS * level)) & (PTES_PER_TABLE - 1);
}

/** True if @p va is canonical for Sv39: bits 63..39 all equal bit 38 (spec 4.4.1). */
static inline bool va_is_canonical(vaddr_t va)
{
	return (int64_t)(va << (64 - VA_BITS)) >> (64 - VA_BITS) == (int64_t)va;
}

/** @p va with bit 38 copied into bits 63..39: the canonical form of an Sv39 address. */
static inline vaddr_t va_sign_extend(vaddr_t va)
{
	return (vaddr_t)((int64_t)(va << (64 - VA_BITS)) >> (64 - VA_BITS));
}

/** True if @p pte is valid (V set). */
static inline bool pte_valid(pte_t pte) { return pte & PTE_V; }
/** True if @p pte is a leaf: valid with R or X set (spec 4.3.2 step 4). */
static inline bool pte_is_leaf(pte_t pte) { return (pte & PTE_V) && (pte & (PTE_R | PTE_X)); }
/** True if @p pte points to the next level's table: valid, none of R, W, X. */
static inline bool pte_is_table(pte_t pte) { return (pte & (PTE_V | PTE_R | PTE_W | PTE_X)) == PTE_V; }
/** The frame number in @p pte. */
static inline pfn_t pte_pfn(pte_t pte) { return (pte & PTE_PPN_MASK) >> PTE_PPN_SHIFT; }
/** The physical address in @p pte (of the next table or of the page). */
static inline paddr_t pte_pa(pte_t pte) { return pfn_to_pa(pte_pfn(pte)); }
/** The flag bits of @p pte (V R W X U G A D, RSW). */
static inline unsigned pte_flags(pte_t pte) { return pte & PTE_FLAGS_MASK; }
/** A PTE for physical address @p pa (4 KiB aligned) with flag bits @p flags. */
static inline pte_t pte_make(paddr_t pa, unsigned flags)
{
	return (pa_to_pfn(pa) << PTE_PPN_SHIFT) | (flags & PTE_FLAGS_MASK);
}
/** A leaf PTE: @p pa with permissions @p perm, valid, accessed and dirty set. */
static inline pte_t pte_make_leaf(paddr_t pa, unsigned perm)
{
	/* A and D set up front: hardware that does not update them would
	 * otherwise fault on first use (spec 4.3.1, "A and D bits"). */
	return pte_make(pa, (perm & PTE_PERM_MASK) | PTE_V | PTE_A | PTE_D);
}
/** A non-leaf PTE pointing to the table at @p table_pa. */
static inline pte_t pte_make_table(paddr_t table_pa) { return pte_make(table_pa, PTE_V); }
/** @} */

/**
 * Create an empty page table: allocate its root (one zeroed frame).
 * @param pt  the page table to set up.
 * @return 0, or -ENOMEM if no frame is free (then pt->root is 0).
 */
int pt_init(struct pagetable *pt);

/**
 * Free every table frame of @p pt, the root included, and set pt->root to 0.
 * The frames its leaves map are not freed (the page table does not own them),
 * nor, in a #PT_HALF_SHARED page table, the kernel's tables its upper half
 * points to.
 * @pre @p pt is not the active page table of any hart.
 */
void pt_destroy(struct pagetable *pt);

/**
 * Walk @p pt toward the PTE that maps @p va at level *@p level (spec 4.3.2,
 * steps 2-4; xv6's walk()).
 *
 * Going down from the root, a missing table (an invalid PTE above the level
 * asked for) is allocated and linked in if @p alloc, or ends the walk with
 * NULL otherwise. A leaf above the level asked for (a huge page covering
 * @p va) ends the walk too: then its PTE is returned and *@p level becomes
 * its level.
 *
 * @param pt     the page table.
 * @param va     a canonical virtual address (any offset in the page).
 * @param level  in: the level wanted (0, 1 or 2); out: the level of the PTE returned.
 * @param alloc  allocate missing tables (zeroed frames) on the way.
 * @return the PTE slot (valid or not), or NULL if a table is missing and
 *         !@p alloc, or a frame could not be had. A table allocated before
 *         a later allocation failed stays linked in, empty: the caller
 *         takes it down (pt_map() does).
 */
pte_t *pt_walk(struct pagetable *pt, vaddr_t va, int *level, bool alloc);

/**
 * Map [@p va, @p va + @p size) to [@p pa, @p pa + @p size) with permissions
 * @p flags (xv6's mappages, rCore's PageTable::map).
 *
 * @param pt     the page table.
 * @param va     first virtual address, 4 KiB aligned, canonical.
 * @param pa     first physical address, 4 KiB aligned, below 2^56.
 * @param size   bytes, a non-zero multiple of 4 KiB.
 * @param flags  PTE_R/W/X/U/G (R or X needed, W only with R), plus
 *               PT_MAP_HUGE to use 2 MiB and 1 GiB pages where alignment and
 *               size allow (and no table is already in the way).
 * @return 0; -EINVAL, -ERANGE, -EEXIST (a page of the range is already
 *         mapped) or -ENOMEM. On any error nothing is mapped and every table
 *         frame taken is given back.
 * @note New mappings need no TLB flush (spec 4.2.1: only stale entries do).
 */
int pt_map(struct pagetable *pt, vaddr_t va, paddr_t pa, size_t size, unsigned flags);

/**
 * Unmap [@p va, @p va + @p size). A huge page that only partly overlaps the
 * range is split first (pt_split()), so the rest of it stays mapped. Tables
 * that become empty are freed (the root stays).
 *
 * @param pt    the page table.
 * @param va    first virtual address, 4 KiB aligned, canonical.
 * @param size  bytes, a non-zero multiple of 4 KiB.
 * @param fl    a flusher that collects the virtual address of every leaf
 *              removed (tlb.h), or NULL for a page table no hart uses.
 * @return 0; -EINVAL, -ERANGE, -ENOENT (a page of the range is not mapped)
 *         or -ENOMEM (splitting needed a table). On error nothing changed.
 */
int pt_unmap(struct pagetable *pt, vaddr_t va, size_t size, struct tlb_flusher *fl);

/**
 * Set the permissions of every page in [@p va, @p va + @p size) to @p perm
 * (mprotect at the page-table level). A huge page that only partly overlaps
 * the range is split first.
 *
 * @param pt    the page table.
 * @param va    first virtual address, 4 KiB aligned, canonical.
 * @param size  bytes, a non-zero multiple of 4 KiB.
 * @param perm  the new PTE_R/W/X/U/G bits, replacing the old ones (R or X
 *              needed, W only with R).
 * @param fl    flusher for the leaves changed, or NULL (see pt_unmap()).
 * @return 0; -EINVAL, -ERANGE, -ENOENT (a page is not mapped) or -ENOMEM.
 *         On error nothing changed.
 */
int pt_protect(struct pagetable *pt, vaddr_t va, size_t size, unsigned perm, struct tlb_flusher *fl);

/**
 * Translate @p va in software, as the MMU would (spec 4.3.2; ArceOS's query,
 * Theseus's translate).
 * @param pt   the page table.
 * @param va   any virtual address.
 * @param out  filled with the physical address, the page's bounds, size,
 *             level and flags.
 * @return 0; -ERANGE for a non-canonical @p va; -ENOENT if it is not mapped.
 */
int pt_query(struct pagetable *pt, vaddr_t va, struct pt_mapping *out);

/**
 * Split the huge leaf *@p pte at @p level (1 or 2) into a new table of 512
 * leaves one level down, with the same permissions and physical pages; the
 * translation of every address stays the same, so no TLB flush is needed.
 * @param pt     the page table holding @p pte (its table count grows by one).
 * @param pte    a leaf PTE at @p level.
 * @param level  1 (2 MiB into 4 KiB pages) or 2 (1 GiB into 2 MiB pages).
 * @return 0, -EINVAL if @p pte is not a leaf or @p level is 0, -ENOMEM.
 */
int pt_split(struct pagetable *pt, pte_t *pte, int level);

/**
 * Called by pt_visit() for every non-table entry that intersects the range:
 * a leaf (@p pte valid) or a hole (@p pte invalid, covering
 * level_size(@p level) bytes from @p va, which may start before the range).
 * @return 0 to go on; anything else stops the visit and is returned.
 */
typedef int (*pt_visit_fn)(pte_t *pte, int level, vaddr_t va, void *arg);

/**
 * Call @p fn (with @p arg), in address order, on every leaf and every hole of
 * @p pt that intersects [@p start, @p end) (a missing table is one hole of
 * its level).
 * @pre @p start and @p end - 1 canonical and in one half, @p start < @p end;
 *      @p end == 0 stands for 2^64 (the top of the upper half).
 * @return 0, or the first non-zero value @p fn returned.
 */
int pt_visit(struct pagetable *pt, vaddr_t start, vaddr_t end, pt_visit_fn fn, void *arg);

/** True if every page of [@p start, @p end) is mapped in @p pt (pt_visit() finds no hole). */
bool pt_range_mapped(struct pagetable *pt, vaddr_t start, vaddr_t end);

/** True if no page of [@p start, @p end) is mapped in @p pt (pt_visit() finds no leaf). */
bool pt_range_free(struct pagetable *pt, vaddr_t start, vaddr_t end);

/**
 * True if @p perm is a permission set a leaf may have: only PTE_R/W/X/U/G
 * bits, R or X among them, and W only with R (spec 4.4.1, table 4.5: W
 * without R is reserved; no R, W, X is a pointer to a table).
 */
bool pt_perm_valid(unsigned perm);

/**
 * Check a virtual range for the map/unmap/protect family.
 * @return 0; -EINVAL if @p va or @p size is not a multiple of 4 KiB or @p size
 *         is 0; -ERANGE if the range leaves one canonical half or reaches 2^64.
 */
int pt_check_range(vaddr_t va, size_t size);

/**
 * Test hook: make the @p n-th table allocation from now on fail (1 = the
 * next one), as if memory had run out; 0 turns it off. Lets tests and the
 * `kspace_failat=` bootarg reach every error path of a map.
 */
void pt_inject_alloc_failure(unsigned long n);

#endif
