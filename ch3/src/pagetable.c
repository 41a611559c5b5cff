/*
 * Page tables as objects: create, destroy, check arguments, and visit every
 * leaf and hole of a range. The walk, map, unmap, protect, query and split
 * live in their own files.
 */
#include "errno.h"
#include "pagetable.h"
#include "ptalloc.h"
#include "ptinternal.h"
#include "tlb.h"

paddr_t pt_new_table(struct pagetable *pt)
{
	paddr_t pa = pt_table_alloc();
	if (!pa)
		return 0;
	pt->nr_tables++;
	/* The zeroes must be visible before the PTE that links the table in. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return pa;
}

/* True if @pte is one of the 256 upper-half entries of @pt's root. */
static bool in_root_upper_half(struct pagetable *pt, const pte_t *pte)
{
	const pte_t *root = pt_table_kva(pt->root);
	return pte >= root + PTES_PER_TABLE / 2 && pte < root + PTES_PER_TABLE;
}

void pt_unlink_table(struct pagetable *pt, pte_t *pte, pte_t replacement, struct tlb_flusher *fl)
{
	/* The kernel half's root entries are copied into every address space:
	 * they stay as boot made them (pagetable.h, enum pt_kernel_half). */
	if (pt->kernel_half != PT_HALF_OWN && in_root_upper_half(pt, pte))
		return;
	paddr_t table = pte_pa(*pte);
	*pte = replacement;
	pt->nr_tables--;
	tlb_flusher_free_table(fl, table);
}

bool pt_table_empty(const pte_t *table)
{
	for (int i = 0; i < PTES_PER_TABLE; i++)
		if (pte_valid(table[i]))
			return false;
	return true;
}

int pt_init(struct pagetable *pt)
{
	pt->nr_tables = 0;
	pt->kernel_half = PT_HALF_OWN;
	pt->root = pt_new_table(pt);
	return pt->root ? 0 : -ENOMEM;
}

static void free_tables(struct pagetable *pt, paddr_t table_pa, int level)
{
	pte_t *table = pt_table_kva(table_pa);
	for (int i = 0; level > 0 && i < PTES_PER_TABLE; i++)
		if (pte_is_table(table[i]))
			free_tables(pt, pte_pa(table[i]), level - 1);
	pt_table_free(table_pa);
	pt->nr_tables--;
}

void pt_destroy(struct pagetable *pt)
{
	if (!pt->root)
		return;
	if (pt->kernel_half == PT_HALF_SHARED) { /* the kernel's tables: not ours to free */
		pte_t *root = pt_table_kva(pt->root);
		for (int i = PTES_PER_TABLE / 2; i < PTES_PER_TABLE; i++)
			root[i] = 0;
	}
	free_tables(pt, pt->root, PT_LEVELS - 1);
	pt->root = 0;
}

bool pt_perm_valid(unsigned perm)
{
	if (perm & ~PTE_PERM_MASK)
		return false;
	if (!(perm & (PTE_R | PTE_X)))
		return false;
	return !(perm & PTE_W) || (perm & PTE_R);
}

int pt_check_range(vaddr_t va, size_t size)
{
	if (size == 0 || !IS_ALIGNED(va, PAGE_SIZE) || !IS_ALIGNED(size, PAGE_SIZE))
		return -EINVAL;
	vaddr_t last = va + size - 1;
	if (last < va || last == ~0UL)
		return -ERANGE; /* wraps, or reaches 2^64 */
	if (!va_is_canonical(va) || !va_is_canonical(last) || (va ^ last) >> 63)
		return -ERANGE;
	return 0;
}

/* Visit the entries of @table (at @level, mapping from @base) that meet [start, last]. */
static int visit(pte_t *table, int level, vaddr_t base, vaddr_t start, vaddr_t last, pt_visit_fn fn,
		 void *arg)
{
	size_t size = level_size(level);
	for (unsigned i = vpn_index(start, level); i < PTES_PER_TABLE; i++) {
		vaddr_t va = va_sign_extend(base + i * size);
		if (va > last)
			break;
		int r;
		if (level > 0 && pte_is_table(table[i]))
			r = visit(pt_table_kva(pte_pa(table[i])), level - 1, va, va > start ? va : start,
				  last, fn, arg);
		else
			r = fn(&table[i], level, va, arg);
		if (r)
			return r;
	}
	return 0;
}

int pt_visit(struct pagetable *pt, vaddr_t start, vaddr_t end, pt_visit_fn fn, void *arg)
{
	return visit(pt_table_kva(pt->root), PT_LEVELS - 1, 0, start, end - 1, fn, arg);
}

static int stop_at_hole(pte_t *pte, int level, vaddr_t va, void *arg)
{
	(void)level, (void)va, (void)arg;
	return !pte_is_leaf(*pte);
}

static int stop_at_leaf(pte_t *pte, int level, vaddr_t va, void *arg)
{
	(void)level, (void)va, (void)arg;
	return pte_is_leaf(*pte);
}

bool pt_range_mapped(struct pagetable *pt, vaddr_t start, vaddr_t end)
{
	return pt_visit(pt, start, end, stop_at_hole, NULL) == 0;
}

bool pt_range_free(struct pagetable *pt, vaddr_t start, vaddr_t end)
{
	return pt_visit(pt, start, end, stop_at_leaf, NULL) == 0;
}
