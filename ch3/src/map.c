/*
 * Map a range: leaf by leaf, each the largest the alignment allows if asked,
 * and all or nothing (xv6 vm.c mappages; rCore PageTable::map).
 */
#include "errno.h"
#include "panic.h"
#include "pagetable.h"
#include "ptalloc.h"
#include "ptinternal.h"

/* LAB BEGIN ch3 map a range with the largest pages allowed; on failure take down all it built */

/* True if no table sits in the level-@level slot for @va (so a leaf may go there). */
static bool slot_free(struct pagetable *pt, vaddr_t va, int level)
{
	int l = level;
	pte_t *pte = pt_walk(pt, va, &l, false);
	return !pte || !pte_valid(*pte);
}

/* The level of the largest leaf that fits at @va -> @pa with @left bytes to go. */
static int pick_level(struct pagetable *pt, vaddr_t va, paddr_t pa, size_t left, bool huge)
{
	for (int level = huge ? PT_LEVELS - 1 : 0; level > 0; level--) {
		size_t size = level_size(level);
		if (IS_ALIGNED(va, size) && IS_ALIGNED(pa, size) && left >= size && slot_free(pt, va, level))
			return level;
	}
	return 0;
}

/* Free the tables on @va's path that are empty, lowest first. */
static void prune(struct pagetable *pt, vaddr_t va)
{
	pte_t *path[PT_LEVELS];
	pte_t *table = pt_table_kva(pt->root);
	int level = PT_LEVELS - 1;
	for (; level > 0; level--) {
		path[level] = &table[vpn_index(va, level)];
		if (!pte_is_table(*path[level]))
			break;
		table = pt_table_kva(pte_pa(*path[level]));
	}
	for (level++; level < PT_LEVELS; level++) {
		if (!pt_table_empty(pt_table_kva(pte_pa(*path[level]))))
			break;
		pt_unlink_table(pt, path[level], 0, NULL);
	}
}

static int map_range(struct pagetable *pt, vaddr_t va, paddr_t pa, size_t size, unsigned flags)
{
	if (!pt_range_free(pt, va, va + size))
		return -EEXIST;
	vaddr_t end = va + size;
	for (vaddr_t cur = va; cur < end;) {
		paddr_t cur_pa = pa + (cur - va);
		int level = pick_level(pt, cur, cur_pa, end - cur, flags & PT_MAP_HUGE);
		pte_t *pte = pt_walk(pt, cur, &level, true);
		if (!pte) {
			/* Out of memory: unmap what is mapped, free the tables built. */
			if (cur > va)
				pt_unmap(pt, va, cur - va, NULL);
			prune(pt, cur);
			return -ENOMEM;
		}
		*pte = pte_make_leaf(cur_pa, flags);
		cur += level_size(level);
	}
	return 0;
}
/* LAB STUB
static int map_range(struct pagetable *pt, vaddr_t va, paddr_t pa, size_t size, unsigned flags)
{
	TODO("ch3", "pt_map: map a range");
	(void)pt, (void)va, (void)pa, (void)size, (void)flags;
	return -ENOSYS;
}
LAB END */

int pt_map(struct pagetable *pt, vaddr_t va, paddr_t pa, size_t size, unsigned flags)
{
	int err = pt_check_range(va, size);
	if (err)
		return err;
	if (!IS_ALIGNED(pa, PAGE_SIZE) || !pt_perm_valid(flags & ~PT_MAP_HUGE))
		return -EINVAL;
	if (pa + size < pa || pa + size > (1UL << PA_BITS))
		return -ERANGE;
	return map_range(pt, va, pa, size, flags);
}
