/*
 * The free-range search: a hole of the size asked for, at the hint if it is
 * free, else the highest one under the limit (Linux's top-down
 * arch_get_unmapped_area_topdown; ArceOS find_free_area; Theseus
 * allocate_pages_in_range).
 */
#include "mm_internal.h"
#include "panic.h"
#include "vma_tree.h"

bool mm_range_free(struct mm *mm, vaddr_t start, size_t len)
{
	struct vma *v = vma_tree_find_after(&mm->vmas, start);
	return !v || v->start >= start + len;
}

vaddr_t mm_find_free(struct mm *mm, vaddr_t hint, size_t len, vaddr_t limit)
{
	if (len == 0 || !IS_ALIGNED(len, PAGE_SIZE))
		return 0;
	limit = ALIGN_DOWN(MIN(limit, USER_TOP), PAGE_SIZE);
	if (limit < USER_MIN || limit - USER_MIN < len)
		return 0;
	/* LAB BEGIN ch4 the hint if [hint, hint + len) is free, else the highest hole below limit */
	hint = ALIGN_UP(hint, PAGE_SIZE);
	if (hint >= USER_MIN && hint <= limit - len && mm_range_free(mm, hint, len))
		return hint;
	/* Walk the holes downward from limit: each lies between an area's end
	 * (or USER_MIN) and the next area's start (or limit). */
	vaddr_t hole_end = limit;
	struct vma *v = vma_tree_find_after(&mm->vmas, limit - 1);
	if (v && v->start < limit)
		hole_end = v->start; /* an area straddles limit */
	v = v ? vma_tree_prev(v) : vma_tree_last(&mm->vmas);
	for (;;) {
		vaddr_t hole_start = v ? MAX(v->end, USER_MIN) : USER_MIN;
		if (hole_end > hole_start && hole_end - hole_start >= len)
			return hole_end - len;
		if (!v || v->start <= USER_MIN)
			return 0;
		hole_end = v->start;
		v = vma_tree_prev(v);
	}
	/* LAB STUB
	TODO("ch4", "mm_find_free: find a free range");
	(void)mm, (void)hint, (void)mm_range_free;
	return 0;
	LAB END */
}
