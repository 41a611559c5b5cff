/* ch4.area: adding, finding and removing areas of an mm, and the free-range search. */
#include "mm_test.h"

#define RW (VM_READ | VM_WRITE)

KTEST(ch4_area, add_maps_every_page_zeroed)
{
	MM_BEGIN(mm, before);
	KASSERT_EQ(add_anon(mm, UP(0), UP(4), RW), 0);
	KEXPECT_EQ(mm->nr_vmas, 1);
	KEXPECT_EQ(mm->nr_pages, 4);
	for (int i = 0; i < 4; i++) {
		KEXPECT_EQ(peek(mm, UP(i) + 123), 0);
		KEXPECT_EQ(user_flags(mm, UP(i)) & (PTE_R | PTE_W | PTE_X | PTE_U), PTE_R | PTE_W | PTE_U);
	}
	KEXPECT_EQ(peek(mm, UP(4)), -1);
	KEXPECT_EQ(peek(mm, UP(0) - 1), -1);
	MM_END(mm, before);
}

KTEST(ch4_area, permissions_become_pte_bits)
{
	KEXPECT_EQ(vm_prot_to_pte(VM_NONE), 0);
	KEXPECT_EQ(vm_prot_to_pte(VM_READ), PTE_R | PTE_U);
	KEXPECT_EQ(vm_prot_to_pte(VM_WRITE), PTE_R | PTE_W | PTE_U); /* W alone is reserved in Sv39 */
	KEXPECT_EQ(vm_prot_to_pte(VM_EXEC), PTE_X | PTE_U);
	KEXPECT_EQ(vm_prot_to_pte(VM_READ | VM_EXEC), PTE_R | PTE_X | PTE_U);
	MM_BEGIN(mm, before);
	/* A no-access area (a guard) maps nothing. */
	KASSERT_EQ(add_area(mm, UP(0), UP(2), VM_NONE, VM_GUARD, &anon_backend, 0), 0);
	KEXPECT_EQ(mm->nr_pages, 0);
	KEXPECT_EQ(peek(mm, UP(0)), -1);
	KASSERT_EQ(add_anon(mm, UP(2), UP(3), VM_READ | VM_EXEC), 0);
	KEXPECT_EQ(user_flags(mm, UP(2)) & (PTE_R | PTE_W | PTE_X | PTE_U), PTE_R | PTE_X | PTE_U);
	MM_END(mm, before);
}

KTEST(ch4_area, find_at_the_edges)
{
	MM_BEGIN(mm, before);
	KASSERT_EQ(add_anon(mm, UP(2), UP(4), RW), 0);
	KASSERT_EQ(add_anon(mm, UP(6), UP(7), VM_READ), 0);
	spin_lock(&mm->lock);
	struct vma *a = mm_find_vma(mm, UP(2)), *b = mm_find_vma(mm, UP(6));
	KEXPECT_NOT_NULL(a);
	KEXPECT_NOT_NULL(b);
	KEXPECT_TRUE(mm_find_vma(mm, UP(4) - 1) == a);
	KEXPECT_NULL(mm_find_vma(mm, UP(2) - 1));
	KEXPECT_NULL(mm_find_vma(mm, UP(4)));
	KEXPECT_NULL(mm_find_vma(mm, UP(7)));
	KEXPECT_TRUE(mm_find_vma_after(mm, 0) == a);
	KEXPECT_TRUE(mm_find_vma_after(mm, UP(3)) == a);
	KEXPECT_TRUE(mm_find_vma_after(mm, UP(4)) == b);
	KEXPECT_NULL(mm_find_vma_after(mm, UP(7)));
	spin_unlock(&mm->lock);
	KEXPECT_TRUE(a && a->mm == mm && a->start == UP(2) && a->end == UP(4));
	MM_END(mm, before);
}

KTEST(ch4_area, add_errors_leave_the_mm_as_it_was)
{
	MM_BEGIN(mm, before);
	KASSERT_EQ(add_anon(mm, UP(2), UP(4), RW), 0);
	KEXPECT_EQ(add_anon(mm, UP(2) + 1, UP(4), RW), -EINVAL);
	KEXPECT_EQ(add_anon(mm, UP(5), UP(6) - 8, RW), -EINVAL);
	KEXPECT_EQ(add_anon(mm, UP(5), UP(5), RW), -EINVAL);
	KEXPECT_EQ(add_anon(mm, UP(6), UP(5), RW), -EINVAL);
	KEXPECT_EQ(add_anon(mm, 0, PAGE_SIZE, RW), -EINVAL);
	KEXPECT_EQ(add_anon(mm, USER_MIN - PAGE_SIZE, USER_MIN + PAGE_SIZE, RW), -EINVAL);
	KEXPECT_EQ(add_anon(mm, USER_TOP - PAGE_SIZE, USER_TOP + PAGE_SIZE, RW), -EINVAL);
	KEXPECT_EQ(add_area(mm, UP(8), UP(9), RW, 0, &anon_backend, 0x80), -EINVAL);
	KEXPECT_EQ(add_anon(mm, UP(1), UP(3), RW), -EEXIST);
	KEXPECT_EQ(add_anon(mm, UP(3), UP(5), RW), -EEXIST);
	KEXPECT_EQ(add_anon(mm, UP(0), UP(9), RW), -EEXIST);
	KEXPECT_EQ(add_anon(mm, UP(3), UP(4), RW), -EEXIST);
	KEXPECT_EQ(mm->nr_vmas, 1);
	KEXPECT_EQ(nr_areas(mm), 1);
	KEXPECT_EQ(mm->nr_pages, 2);
	/* The extremes that are allowed. */
	KEXPECT_EQ(add_anon(mm, USER_MIN, USER_MIN + PAGE_SIZE, RW), 0);
	KEXPECT_EQ(add_anon(mm, USER_TOP - PAGE_SIZE, USER_TOP, RW), 0);
	KEXPECT_EQ(nr_areas(mm), 3);
	MM_END(mm, before);
}

KTEST(ch4_area, add_out_of_memory_takes_nothing)
{
	static struct drain d;
	MM_BEGIN(mm, before);
	kmalloc_shrink();
	drain_memory(&d, 40);
	uint64_t mid = free_frames_settled();
	/* 64 pages with 40 frames left: the map fails and gives back what it took. */
	int err = add_anon(mm, U_VA, U_VA + 64 * PAGE_SIZE, RW);
	uint64_t after = free_frames_settled();
	/* Fits: the same area (and its tables) in what is left. */
	int small = add_anon(mm, U_VA, U_VA + 16 * PAGE_SIZE, RW);
	undrain_memory(&d);
	KEXPECT_EQ(err, -ENOMEM);
	KEXPECT_EQ(after, mid);
	KEXPECT_EQ(small, 0);
	KEXPECT_EQ(mm->nr_vmas, 1);
	KEXPECT_EQ(mm->nr_pages, 16);
	MM_END(mm, before);
}

KTEST(ch4_area, add_out_of_memory_at_every_point)
{
	static struct drain d;
	/* Eight pages across a 2 MiB boundary: the fifth needs a new table
	 * after its frame was taken. Run out at every frame in turn. */
	const vaddr_t start = ALIGN_UP(U_VA, MEGAPAGE_SIZE) + MEGAPAGE_SIZE - 4 * PAGE_SIZE;
	for (uint64_t keep = 0; keep < 16; keep++) {
		MM_BEGIN(mm, before);
		kmalloc_shrink();
		drain_memory(&d, keep);
		uint64_t mid = free_frames_settled();
		int err = add_anon(mm, start, start + 8 * PAGE_SIZE, RW);
		mm_clear(mm);
		uint64_t after = free_frames_settled();
		undrain_memory(&d);
		if (err) {
			KEXPECT_EQ(err, -ENOMEM);
			if (after != mid)
				printk("an add that ran out with %lu frames free kept %ld of them\n", keep,
				       (long)(mid - after));
		}
		KEXPECT_EQ(after, mid);
		KEXPECT_EQ(mm->nr_pages, 0);
		MM_END(mm, before);
	}
}

KTEST(ch4_area, replace_unmaps_what_was_there)
{
	MM_BEGIN(mm, before);
	KASSERT_EQ(add_anon(mm, UP(0), UP(8), RW), 0);
	for (int i = 0; i < 8; i++)
		KASSERT_TRUE(poke(mm, UP(i), 0xa0 + i));
	KASSERT_EQ(add_area(mm, UP(3), UP(5), VM_READ, 0, &anon_backend, MM_ADD_REPLACE), 0);
	KEXPECT_EQ(nr_areas(mm), 3);
	KEXPECT_EQ(mm->nr_vmas, 3);
	KEXPECT_EQ(mm->nr_pages, 8);
	int want[8] = {0xa0, 0xa1, 0xa2, 0, 0, 0xa5, 0xa6, 0xa7};
	for (int i = 0; i < 8; i++)
		KEXPECT_EQ(peek(mm, UP(i)), want[i]);
	KEXPECT_EQ(user_flags(mm, UP(3)) & PTE_W, 0);
	/* Replacing over several areas and a hole. */
	KASSERT_EQ(add_area(mm, UP(2), UP(12), RW, 0, &anon_backend, MM_ADD_REPLACE), 0);
	KEXPECT_EQ(nr_areas(mm), 2);
	KEXPECT_EQ(mm->nr_pages, 12);
	KEXPECT_EQ(peek(mm, UP(1)), 0xa1);
	KEXPECT_EQ(peek(mm, UP(6)), 0);
	MM_END(mm, before);
}

KTEST(ch4_area, remove_range_splits_at_both_edges)
{
	MM_BEGIN(mm, before);
	KASSERT_EQ(add_anon(mm, UP(0), UP(8), RW), 0);
	for (int i = 0; i < 8; i++)
		KASSERT_TRUE(poke(mm, UP(i), 0x10 + i));
	uint64_t frames = frames_nr_free();
	KASSERT_EQ(mm_remove_range(mm, UP(2), UP(4)), 0);
	KEXPECT_EQ(frames_nr_free(), frames + 2);
	KEXPECT_EQ(nr_areas(mm), 2);
	KEXPECT_EQ(mm->nr_pages, 6);
	spin_lock(&mm->lock);
	struct vma *left = mm_find_vma(mm, UP(0)), *right = mm_find_vma(mm, UP(4));
	spin_unlock(&mm->lock);
	KASSERT_TRUE(left && right && left != right);
	KEXPECT_EQ(left->end, UP(2));
	KEXPECT_EQ(right->start, UP(4));
	KEXPECT_EQ(right->end, UP(8));
	KEXPECT_TRUE(right->backend == &anon_backend && right->prot == RW && right->mm == mm);
	for (int i = 0; i < 8; i++)
		KEXPECT_EQ(peek(mm, UP(i)), i == 2 || i == 3 ? -1 : 0x10 + i);
	/* Cut the left edge of one area and the right edge of another, with a hole between. */
	KASSERT_EQ(mm_remove_range(mm, UP(1), UP(5)), 0);
	KEXPECT_EQ(nr_areas(mm), 2);
	KEXPECT_EQ(left->end, UP(1));
	KEXPECT_EQ(right->start, UP(5));
	KEXPECT_EQ(mm->nr_pages, 4);
	KEXPECT_EQ(peek(mm, UP(5)), 0x15);
	/* A hole alone, and whole areas. */
	KEXPECT_EQ(mm_remove_range(mm, UP(20), UP(30)), 0);
	KEXPECT_EQ(mm_remove_range(mm, UP(0), UP(8)), 0);
	KEXPECT_EQ(nr_areas(mm), 0);
	KEXPECT_EQ(mm->nr_pages, 0);
	KEXPECT_EQ(mm->as.pt.nr_tables, 1); /* the empty tables went too */
	KEXPECT_EQ(mm_remove_range(mm, UP(1), UP(1)), -EINVAL);
	KEXPECT_EQ(mm_remove_range(mm, UP(1) + 8, UP(2)), -EINVAL);
	KEXPECT_EQ(mm_remove_range(mm, UP(2), UP(1)), -EINVAL);
	MM_END(mm, before);
}

KTEST(ch4_area, split_data_area_keeps_its_bytes)
{
	static char data[3 * PAGE_SIZE];
	for (unsigned i = 0; i < sizeof(data); i++)
		data[i] = (char)(i * 7 + 1);
	MM_BEGIN(mm, before);
	struct vma *vma = vma_alloc(UP(0), UP(4), VM_READ, 0, &data_backend);
	KASSERT_NOT_NULL(vma);
	vma->private_data = data;
	vma->pgoff = 100;		 /* not page-aligned here: an ELF file offset need not be */
	vma->data_size = PAGE_SIZE + 50; /* then zeros */
	KASSERT_EQ(mm_add_vma(mm, vma, 0), 0);
	KEXPECT_EQ(peek(mm, UP(0)), (unsigned char)data[100]);
	KEXPECT_EQ(peek(mm, UP(1) + 49), (unsigned char)data[100 + PAGE_SIZE + 49]);
	KEXPECT_EQ(peek(mm, UP(1) + 50), 0);
	KEXPECT_EQ(peek(mm, UP(3) + 10), 0);
	KASSERT_EQ(mm_remove_range(mm, UP(0), UP(1)), 0);
	KEXPECT_EQ(vma->start, UP(1));
	KEXPECT_EQ(vma->pgoff, 100 + PAGE_SIZE);
	KEXPECT_EQ(vma->data_size, 50);
	KEXPECT_EQ(peek(mm, UP(1)), (unsigned char)data[100 + PAGE_SIZE]);
	MM_END(mm, before);
}

static int note_area(struct vma *vma, void *arg)
{
	vaddr_t **out = arg;
	*(*out)++ = vma->start;
	return vma->start == UP(9) ? 7 : 0;
}

KTEST(ch4_area, for_each_in_address_order)
{
	MM_BEGIN(mm, before);
	vaddr_t starts[] = {UP(9), UP(1), UP(5), UP(12)};
	for (unsigned i = 0; i < ARRAY_SIZE(starts); i++)
		KASSERT_EQ(add_anon(mm, starts[i], starts[i] + PAGE_SIZE, VM_READ), 0);
	vaddr_t seen[4] = {0}, *p = seen;
	KEXPECT_EQ(mm_for_each_vma(mm, note_area, &p), 7); /* stops at UP(9) */
	KEXPECT_EQ(p - seen, 3);
	KEXPECT_EQ(seen[0], UP(1));
	KEXPECT_EQ(seen[1], UP(5));
	KEXPECT_EQ(seen[2], UP(9));
	MM_END(mm, before);
}

KTEST(ch4_area, find_free_at_the_edges)
{
	MM_BEGIN(mm, before);
	size_t len = 4 * PAGE_SIZE;
	vaddr_t limit = UP(64);
	spin_lock(&mm->lock);
	/* Empty: the top, or the hint. */
	KEXPECT_EQ(mm_find_free(mm, 0, len, limit), limit - len);
	KEXPECT_EQ(mm_find_free(mm, UP(8), len, limit), UP(8));
	KEXPECT_EQ(mm_find_free(mm, UP(8) + 1, len, limit), UP(9)); /* an unaligned hint rounds up */
	KEXPECT_EQ(mm_find_free(mm, USER_MIN, len, limit), USER_MIN);
	KEXPECT_EQ(mm_find_free(mm, limit - len, len, limit), limit - len);
	KEXPECT_EQ(mm_find_free(mm, limit - len + PAGE_SIZE, len, limit), limit - len); /* hint past limit */
	KEXPECT_EQ(mm_find_free(mm, PAGE_SIZE, len, limit), limit - len); /* hint below USER_MIN */
	KEXPECT_EQ(mm_find_free(mm, 0, 0, limit), 0);
	KEXPECT_EQ(mm_find_free(mm, 0, len + 1, limit), 0);
	KEXPECT_EQ(mm_find_free(mm, 0, len, USER_MIN + len - PAGE_SIZE), 0);
	KEXPECT_EQ(mm_find_free(mm, 0, len, USER_MIN + len), USER_MIN);
	KEXPECT_EQ(mm_find_free(mm, 0, len, ~0UL), USER_TOP - len);
	KEXPECT_EQ(mm_find_free(mm, 0, USER_TOP, ~0UL), 0);
	KEXPECT_EQ(mm_find_free(mm, 0, USER_TOP - USER_MIN, ~0UL), USER_MIN);
	spin_unlock(&mm->lock);
	/* Areas: [56, 66) straddles limit, [50, 53) leaves a 3-page gap, [20, 30). */
	KASSERT_EQ(add_anon(mm, UP(56), UP(66), VM_READ), 0);
	KASSERT_EQ(add_anon(mm, UP(50), UP(53), VM_READ), 0);
	KASSERT_EQ(add_anon(mm, UP(20), UP(30), VM_READ), 0);
	spin_lock(&mm->lock);
	KEXPECT_EQ(mm_find_free(mm, 0, len, limit), UP(46));
	KEXPECT_EQ(mm_find_free(mm, 0, 3 * PAGE_SIZE, limit), UP(53));
	KEXPECT_EQ(mm_find_free(mm, UP(27), len, limit), UP(46));	     /* hint inside an area */
	KEXPECT_EQ(mm_find_free(mm, UP(18), len, limit), UP(46));	     /* hint overlapping one */
	KEXPECT_EQ(mm_find_free(mm, UP(16), len, limit), UP(16));	     /* ends where it starts */
	KEXPECT_EQ(mm_find_free(mm, UP(30), len, limit), UP(30));	     /* starts where it ends */
	KEXPECT_EQ(mm_find_free(mm, 0, UP(20) - USER_MIN, limit), USER_MIN); /* only the bottom fits */
	KEXPECT_EQ(mm_find_free(mm, 0, UP(20) - USER_MIN + PAGE_SIZE, limit), 0);
	KEXPECT_EQ(mm_find_free(mm, 0, len, UP(60)), UP(46)); /* limit inside an area */
	spin_unlock(&mm->lock);
	/* Nothing free below limit at all. */
	KASSERT_EQ(add_area(mm, USER_MIN, UP(70), VM_NONE, VM_GUARD, &anon_backend, MM_ADD_REPLACE), 0);
	spin_lock(&mm->lock);
	KEXPECT_EQ(mm_find_free(mm, 0, PAGE_SIZE, limit), 0);
	KEXPECT_EQ(mm_find_free(mm, UP(10), PAGE_SIZE, limit), 0);
	KEXPECT_EQ(mm_find_free(mm, 0, PAGE_SIZE, UP(71)), UP(70));
	spin_unlock(&mm->lock);
	MM_END(mm, before);
}
