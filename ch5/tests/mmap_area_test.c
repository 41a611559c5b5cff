/*
 * ch5.mmap_area: the mmap family at the kernel level, through do_mmap ..
 * do_madvise on an mm made with mm_create(): where mappings go, how areas
 * split and merge back (counted in the tree), that pages keep their frames
 * and bytes through it, MAP_POPULATE, PROT_NONE, mremap moving frames, the
 * area limit, and that every call that takes a translation away reaches
 * the mm's other harts in one batched shootdown.
 */
#include "../../ch4/tests/mm_test.h"
#include "cow.h"
#include "mman.h"
#include "smp.h"
#include "tlb.h"

#define PRIV		  (MAP_PRIVATE | MAP_ANONYMOUS)
#define FIXED		  (MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)
#define RW		  (PROT_READ | PROT_WRITE)
#define PTE_PERMS(mm, va) (user_flags(mm, va) & (PTE_R | PTE_W | PTE_X | PTE_U))

/* The area of @mm at @va (NULL if none), read under the lock. */
static struct vma *area_at(struct mm *mm, vaddr_t va)
{
	spin_lock(&mm->lock);
	struct vma *v = mm_find_vma(mm, va);
	spin_unlock(&mm->lock);
	return v;
}

/* Write byte i + @seed at the start of page i of [UP(0), UP(n)) of @mm. */
static bool fill(struct mm *mm, int n, int seed)
{
	for (int i = 0; i < n; i++)
		if (!poke(mm, UP(i), (unsigned char)(i + seed)))
			return false;
	return true;
}

/*
 * vma_split on a lazy data area: the right piece takes the pages already
 * mapped there, and its offset into the data follows the cut, so a page it
 * fills later reads the right bytes; the count and the tree follow.
 * (Merging them back is the placement and munmap tests' business.)
 */
KTEST(ch5_mmap_area, split_cuts_an_area_and_its_data_offset)
{
	static char data[4 * PAGE_SIZE];
	for (unsigned i = 0; i < sizeof(data); i++)
		data[i] = (char)(i * 13 + 5);
	MM_BEGIN_LAZY(mm, before);
	struct vma *vma = vma_alloc(UP(0), UP(4), VM_READ, 0, &data_backend);
	KASSERT_NOT_NULL(vma);
	vma->private_data = data;
	vma->data_size = sizeof(data);
	KASSERT_EQ(mm_add_vma(mm, vma, 0), 0);
	KASSERT_EQ(mm_fault(mm, UP(3), ACCESS_READ), FAULT_RESOLVED);
	paddr_t pa3 = user_pa(mm, UP(3));
	spin_lock(&mm->lock);
	int err = vma_split(mm, vma, UP(2));
	spin_unlock(&mm->lock);
	KASSERT_EQ(err, 0);
	KEXPECT_EQ(nr_areas(mm), 2);
	KEXPECT_EQ(mm->nr_vmas, 2);
	struct vma *right = area_at(mm, UP(2));
	KASSERT_NOT_NULL(right);
	KEXPECT_TRUE(right != vma && right->start == UP(2) && right->end == UP(4) && vma->end == UP(2));
	KEXPECT_EQ(right->pgoff, 2 * PAGE_SIZE);
	KEXPECT_EQ(user_pa(mm, UP(3)), pa3); /* the page mapped before stays */
	/* A page the right piece fills now comes from its own offset. */
	KASSERT_EQ(mm_fault(mm, UP(2) + 7, ACCESS_READ), FAULT_RESOLVED);
	KEXPECT_EQ(peek(mm, UP(2) + 7), (unsigned char)data[2 * PAGE_SIZE + 7]);
	KASSERT_EQ(mm_fault(mm, UP(1) + 9, ACCESS_READ), FAULT_RESOLVED);
	KEXPECT_EQ(peek(mm, UP(1) + 9), (unsigned char)data[PAGE_SIZE + 9]);
	MM_END(mm, before);
}

/*
 * Two data areas side by side on the same bytes, the second starting over
 * at offset 0: made alike by mprotect, they must stay two areas (one area
 * cannot say that its second half's bytes start again), and a page of the
 * second filled afterwards reads its own offset.
 */
KTEST(ch5_mmap_area, data_areas_whose_offsets_do_not_continue_stay_apart)
{
	static char data[2 * PAGE_SIZE];
	for (unsigned i = 0; i < sizeof(data); i++)
		data[i] = (char)(i * 11 + 3);
	MM_BEGIN_LAZY(mm, before);
	for (int k = 0; k < 2; k++) {
		struct vma *v = vma_alloc(UP(2 * k), UP(2 * k + 2), VM_READ, 0, &data_backend);
		KASSERT_NOT_NULL(v);
		v->private_data = data;
		v->data_size = sizeof(data);
		KASSERT_EQ(mm_add_vma(mm, v, 0), 0);
	}
	KEXPECT_EQ(do_mprotect(mm, UP(0), 4 * PAGE_SIZE, PROT_READ | PROT_WRITE), 0);
	KEXPECT_EQ(nr_areas(mm), 2);
	KASSERT_EQ(mm_fault(mm, UP(2) + 5, ACCESS_READ), FAULT_RESOLVED);
	KEXPECT_EQ(peek(mm, UP(2) + 5), (unsigned char)data[5]);
	MM_END(mm, before);
}

KTEST(ch5_mmap_area, placement_top_down_hint_and_fixed)
{
	MM_BEGIN(mm, before);
	/* No hint: the highest free range under MMAP_BASE, the next one under it. */
	KEXPECT_EQ(do_mmap(mm, 0, 3 * PAGE_SIZE, RW, PRIV, -1, 0), (long)(MMAP_BASE - 3 * PAGE_SIZE));
	KEXPECT_EQ(do_mmap(mm, 0, PAGE_SIZE, RW, PRIV, -1, 0), (long)(MMAP_BASE - 4 * PAGE_SIZE));
	KEXPECT_EQ(nr_areas(mm), 1); /* alike neighbours: one area */
	/* A free hint is used (rounded down to its page); a busy one is not. */
	KEXPECT_EQ(do_mmap(mm, UP(0) + 100, 2 * PAGE_SIZE, PROT_READ, PRIV, -1, 0), (long)UP(0));
	KEXPECT_EQ(do_mmap(mm, UP(1), PAGE_SIZE, PROT_READ, PRIV, -1, 0), (long)(MMAP_BASE - 5 * PAGE_SIZE));
	/* A hint whose first page is free but whose range runs into an area is
	 * not free either: the top-down search places it. */
	KEXPECT_EQ(do_mmap(mm, UP(0) - PAGE_SIZE, 2 * PAGE_SIZE, PROT_READ, PRIV, -1, 0),
		   (long)(MMAP_BASE - 7 * PAGE_SIZE));
	KEXPECT_EQ(do_munmap(mm, MMAP_BASE - 7 * PAGE_SIZE, 2 * PAGE_SIZE), 0);
	/* MAP_FIXED replaces; MAP_FIXED_NOREPLACE refuses. */
	KEXPECT_EQ(do_mmap(mm, UP(1), PAGE_SIZE, RW, PRIV | MAP_FIXED_NOREPLACE, -1, 0), -EEXIST);
	/* An unaligned fixed address is EINVAL before anything is looked at. */
	KEXPECT_EQ(do_mmap(mm, UP(1) + 100, PAGE_SIZE, RW, PRIV | MAP_FIXED_NOREPLACE, -1, 0), -EINVAL);
	KEXPECT_EQ(do_mmap(mm, UP(1), PAGE_SIZE, RW, FIXED, -1, 0), (long)UP(1));
	struct vma *v = area_at(mm, UP(1));
	KEXPECT_TRUE(v && v->start == UP(1) && v->prot == (VM_READ | VM_WRITE));
	KEXPECT_EQ(nr_areas(mm), 4); /* the RW pair on top, the R page under it, UP(0) R, UP(1) RW */
	MM_END(mm, before);
}

KTEST(ch5_mmap_area, munmap_middle_splits_and_mmap_back_merges)
{
	MM_BEGIN(mm, before);
	KASSERT_EQ(do_mmap(mm, UP(0), 8 * PAGE_SIZE, RW, FIXED, -1, 0), (long)UP(0));
	KASSERT_TRUE(fill(mm, 8, 1));
	paddr_t pa7 = user_pa(mm, UP(7));
	KEXPECT_EQ(do_munmap(mm, UP(3), 2 * PAGE_SIZE), 0);
	KEXPECT_EQ(nr_areas(mm), 2);
	KEXPECT_EQ(mm->nr_pages, 6);
	KEXPECT_EQ(peek(mm, UP(3)), -1);
	KEXPECT_EQ(peek(mm, UP(4)), -1);
	KEXPECT_EQ(peek(mm, UP(2)), 3);
	KEXPECT_EQ(peek(mm, UP(5)), 6);
	KEXPECT_EQ(user_pa(mm, UP(7)), pa7); /* the right piece kept its frames */
	/* Over holes and several areas at once: fine. */
	KEXPECT_EQ(do_munmap(mm, UP(6), 8 * PAGE_SIZE), 0);
	KEXPECT_EQ(nr_areas(mm), 2);
	KEXPECT_EQ(peek(mm, UP(6)), -1);
	/* Filling the hole alike merges the pieces into one area again. */
	KEXPECT_EQ(do_mmap(mm, UP(3), 3 * PAGE_SIZE, RW, FIXED, -1, 0), (long)UP(3));
	KEXPECT_EQ(nr_areas(mm), 1);
	KEXPECT_EQ(peek(mm, UP(3)), 0);
	KEXPECT_EQ(peek(mm, UP(0)), 1);
	MM_END(mm, before);
}

KTEST(ch5_mmap_area, mprotect_middle_splits_in_three_and_back_merges)
{
	MM_BEGIN(mm, before);
	KASSERT_EQ(do_mmap(mm, UP(0), 6 * PAGE_SIZE, RW, FIXED, -1, 0), (long)UP(0));
	KASSERT_TRUE(fill(mm, 6, 10));
	paddr_t pa3 = user_pa(mm, UP(3));
	KEXPECT_EQ(do_mprotect(mm, UP(2), 2 * PAGE_SIZE, PROT_READ), 0);
	KEXPECT_EQ(nr_areas(mm), 3);
	KEXPECT_EQ(PTE_PERMS(mm, UP(2)), PTE_R | PTE_U);
	KEXPECT_EQ(PTE_PERMS(mm, UP(3)), PTE_R | PTE_U);
	KEXPECT_EQ(PTE_PERMS(mm, UP(4)), PTE_R | PTE_W | PTE_U);
	KEXPECT_EQ(user_pa(mm, UP(3)), pa3);
	/* A range that starts inside an area and runs into a hole: done up to the hole, then -ENOMEM. */
	KEXPECT_EQ(do_mprotect(mm, UP(5), 3 * PAGE_SIZE, PROT_READ), -ENOMEM);
	KEXPECT_EQ(PTE_PERMS(mm, UP(5)), PTE_R | PTE_U);
	KEXPECT_EQ(nr_areas(mm), 4);
	/* Back as they were: one area. */
	KEXPECT_EQ(do_mprotect(mm, UP(0), 6 * PAGE_SIZE, RW), 0);
	KEXPECT_EQ(nr_areas(mm), 1);
	for (int i = 0; i < 6; i++)
		KEXPECT_EQ(peek(mm, UP(i)), 10 + i);
	MM_END(mm, before);
}

KTEST(ch5_mmap_area, prot_none_keeps_the_frames)
{
	MM_BEGIN(mm, before);
	KASSERT_EQ(do_mmap(mm, UP(0), 2 * PAGE_SIZE, RW, FIXED, -1, 0), (long)UP(0));
	KASSERT_TRUE(fill(mm, 2, 42));
	paddr_t pa = user_pa(mm, UP(1));
	KEXPECT_EQ(do_mprotect(mm, UP(0), 2 * PAGE_SIZE, PROT_NONE), 0);
	KEXPECT_EQ(user_pa(mm, UP(1)), pa);
	KEXPECT_EQ(user_flags(mm, UP(1)) & (PTE_R | PTE_W | PTE_U), 0); /* no access at all */
	KEXPECT_EQ(mm_fault(mm, UP(1), ACCESS_READ), FAULT_PERMISSION);
	KEXPECT_EQ(mm->nr_pages, 2);
	KEXPECT_EQ(do_mprotect(mm, UP(0), 2 * PAGE_SIZE, PROT_WRITE), 0); /* W alone reads too */
	KEXPECT_EQ(PTE_PERMS(mm, UP(1)), PTE_R | PTE_W | PTE_U);
	KEXPECT_EQ(peek(mm, UP(1)), 43);
	MM_END(mm, before);
}

KTEST(ch5_mmap_area, populate_makes_pages_present)
{
	MM_BEGIN_LAZY(mm, before);
	KASSERT_EQ(do_mmap(mm, UP(0), 4 * PAGE_SIZE, RW, FIXED, -1, 0), (long)UP(0));
	KEXPECT_EQ(mm->nr_pages, 0); /* lazy: nothing until touched */
	KASSERT_EQ(do_mmap(mm, UP(8), 4 * PAGE_SIZE, RW, FIXED | MAP_POPULATE, -1, 0), (long)UP(8));
	for (int i = 8; i < 12; i++) {
		KEXPECT_NE(user_pa(mm, UP(i)), 0);
		KEXPECT_FALSE(is_zero_page(user_pa(mm, UP(i)))); /* writable: its own frame */
		KEXPECT_TRUE(user_flags(mm, UP(i)) & PTE_W);
	}
	KEXPECT_EQ(mm->nr_pages, 4);
	/* MAP_POPULATE | MAP_NONBLOCK populates nothing (Linux). */
	KASSERT_EQ(do_mmap(mm, UP(16), PAGE_SIZE, RW, FIXED | MAP_POPULATE | MAP_NONBLOCK, -1, 0),
		   (long)UP(16));
	KEXPECT_EQ(user_pa(mm, UP(16)), 0);
	MM_END(mm, before);
}

KTEST(ch5_mmap_area, mremap_moves_frames_not_bytes)
{
	MM_BEGIN(mm, before);
	KASSERT_EQ(do_mmap(mm, UP(0), 3 * PAGE_SIZE, RW, FIXED, -1, 0), (long)UP(0));
	KASSERT_EQ(do_mmap(mm, UP(3), PAGE_SIZE, PROT_READ, FIXED, -1, 0), (long)UP(3));
	KASSERT_TRUE(fill(mm, 3, 7));
	paddr_t pa[3];
	for (int i = 0; i < 3; i++)
		pa[i] = user_pa(mm, UP(i));
	/* Cannot grow in place (UP(3) is taken), may not move: -ENOMEM, nothing changed. */
	KEXPECT_EQ(do_mremap(mm, UP(0), 3 * PAGE_SIZE, 5 * PAGE_SIZE, 0, 0), -ENOMEM);
	KEXPECT_EQ(user_pa(mm, UP(0)), pa[0]);
	/* A range that ends before its area does cannot grow in place either,
	 * though the pages after the area are free. */
	KASSERT_EQ(do_munmap(mm, UP(3), PAGE_SIZE), 0);
	KEXPECT_EQ(do_mremap(mm, UP(0), PAGE_SIZE, 5 * PAGE_SIZE, 0, 0), -ENOMEM);
	KEXPECT_NULL(area_at(mm, UP(3)));
	KASSERT_EQ(do_mmap(mm, UP(3), PAGE_SIZE, PROT_READ, FIXED, -1, 0), (long)UP(3));
	/* May move: the same frames at the new place, the new tail zeroed. */
	long to = do_mremap(mm, UP(0), 3 * PAGE_SIZE, 5 * PAGE_SIZE, MREMAP_MAYMOVE, 0);
	KASSERT_EQ(to, (long)(MMAP_BASE - 5 * PAGE_SIZE));
	for (int i = 0; i < 3; i++) {
		KEXPECT_EQ(user_pa(mm, (vaddr_t)to + i * PAGE_SIZE), pa[i]);
		KEXPECT_EQ(peek(mm, (vaddr_t)to + i * PAGE_SIZE), 7 + i);
		KEXPECT_EQ(peek(mm, UP(i)), -1);
	}
	KEXPECT_EQ(peek(mm, (vaddr_t)to + 4 * PAGE_SIZE), 0);
	KEXPECT_NULL(area_at(mm, UP(0)));
	KEXPECT_EQ(nr_areas(mm), 2);
	/* Shrink in place: the tail goes. */
	KEXPECT_EQ(do_mremap(mm, (vaddr_t)to, 5 * PAGE_SIZE, PAGE_SIZE, 0, 0), to);
	KEXPECT_EQ(peek(mm, (vaddr_t)to + PAGE_SIZE), -1);
	KEXPECT_EQ(mm->nr_pages, 2);
	MM_END(mm, before);
}

KTEST(ch5_mmap_area, madvise_dontneed_zeroes_private_keeps_shared)
{
	MM_BEGIN(mm, before);
	KASSERT_EQ(do_mmap(mm, UP(0), 2 * PAGE_SIZE, RW, FIXED, -1, 0), (long)UP(0));
	KASSERT_EQ(do_mmap(mm, UP(2), 2 * PAGE_SIZE, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
		   (long)UP(2));
	KASSERT_TRUE(fill(mm, 4, 1));
	KEXPECT_EQ(do_madvise(mm, UP(0), 4 * PAGE_SIZE, MADV_DONTNEED), 0);
	KEXPECT_EQ(peek(mm, UP(0)), -1); /* dropped: the next touch gets a zeroed page */
	KEXPECT_EQ(mm_fault(mm, UP(0), ACCESS_READ), FAULT_RESOLVED);
	KEXPECT_EQ(peek(mm, UP(0)), 0);
	KEXPECT_EQ(peek(mm, UP(2)), 3);
	KEXPECT_EQ(peek(mm, UP(3)), 4);
	/* A hole: the mapped part is advised, the answer is -ENOMEM. */
	KEXPECT_EQ(do_madvise(mm, UP(3), 2 * PAGE_SIZE, MADV_WILLNEED), -ENOMEM);
	KEXPECT_EQ(nr_areas(mm), 2);
	MM_END(mm, before);
}

/* The areas must fit in the heap: a little over 100 bytes each. */
KTEST(ch5_mmap_area, area_limit_is_enomem_and_changes_nothing)
{
	if (free_frames_settled() < 2 * 1024 * 1024 / PAGE_SIZE)
		KTEST_SKIP("less than 2 MiB free for 1024 areas");
	MM_BEGIN_LAZY(mm, before);
	/* Area 0 of three pages, then single pages with one-page gaps: no frame, no table (PROT_NONE, lazy). */
	KASSERT_EQ(do_mmap(mm, UP(0), 3 * PAGE_SIZE, PROT_NONE, FIXED, -1, 0), (long)UP(0));
	/* The rule is the same at 1024 as at 65530 areas, which ch5's host test
	 * fills (test_mman.c): vm.max_map_count lowered, as `sysctl` does. */
	max_map_count = 1024;
	long made = 1;
	for (long i = 1; i < (long)MM_MAX_VMAS; i++, made++)
		if (do_mmap(mm, UP(2 * i + 2), PAGE_SIZE, PROT_NONE, FIXED | MAP_FIXED_NOREPLACE, -1, 0) !=
		    (long)UP(2 * i + 2))
			break;
	KEXPECT_EQ(made, (long)MM_MAX_VMAS);
	KEXPECT_EQ(mm->nr_vmas, MM_MAX_VMAS);
	KEXPECT_EQ(do_mmap(mm, 0, PAGE_SIZE, PROT_NONE, PRIV, -1, 0), -ENOMEM);
	KEXPECT_EQ(do_munmap(mm, UP(1), PAGE_SIZE), -ENOMEM); /* a split */
	KEXPECT_EQ(do_mprotect(mm, UP(1), PAGE_SIZE, PROT_READ), -ENOMEM);
	struct vma *v = area_at(mm, UP(1));
	KEXPECT_TRUE(v && v->start == UP(0) && v->end == UP(3) && v->prot == VM_NONE);
	KEXPECT_EQ(nr_areas(mm), MM_MAX_VMAS);
	/* A whole area goes: room for one more. */
	KEXPECT_EQ(do_munmap(mm, UP(4), PAGE_SIZE), 0);
	KEXPECT_EQ(do_mmap(mm, 0, PAGE_SIZE, PROT_NONE, PRIV, -1, 0), (long)(MMAP_BASE - PAGE_SIZE));
	KEXPECT_EQ(mm->nr_vmas, MM_MAX_VMAS);
	max_map_count = MM_DEFAULT_MAX_MAP_COUNT;
	MM_END(mm, before);
}

KTEST(ch5_mmap_area, shootdown_reaches_the_mm_harts_once_per_call)
{
	MM_BEGIN(mm, before);
	KASSERT_EQ(do_mmap(mm, UP(0), 64 * PAGE_SIZE, RW, FIXED, -1, 0), (long)UP(0));
	/* As if a thread of the mm ran on every hart. */
	mm->as.harts = harts_online_mask();
	uint64_t calls = harts_online() > 1 ? 1 : 0;
	struct tlb_stats s0 = tlb_get_stats();
	KEXPECT_EQ(do_mprotect(mm, UP(0), 64 * PAGE_SIZE, PROT_READ), 0);
	struct tlb_stats s1 = tlb_get_stats();
	/* 64 pages are past the batch: one remote call that flushes everything. */
	KEXPECT_EQ(s1.remote_calls - s0.remote_calls, calls);
	KEXPECT_EQ(s1.remote_full - s0.remote_full, calls);
	KEXPECT_EQ(do_mprotect(mm, UP(5), PAGE_SIZE, PROT_NONE), 0);
	struct tlb_stats s2 = tlb_get_stats();
	KEXPECT_EQ(s2.remote_calls - s1.remote_calls, calls);
	KEXPECT_EQ(s2.remote_full - s1.remote_full, 0);
	KEXPECT_EQ(do_munmap(mm, UP(7), PAGE_SIZE), 0);
	KEXPECT_EQ(do_madvise(mm, UP(9), PAGE_SIZE, MADV_DONTNEED), 0);
	struct tlb_stats s3 = tlb_get_stats();
	KEXPECT_EQ(s3.remote_calls - s2.remote_calls, 2 * calls);
	/* Nothing taken away, nothing to flush. */
	KEXPECT_EQ(do_mmap(mm, UP(100), PAGE_SIZE, RW, FIXED, -1, 0), (long)UP(100));
	KEXPECT_EQ(do_msync(mm, UP(0), PAGE_SIZE, MS_SYNC), 0);
	struct tlb_stats s4 = tlb_get_stats();
	KEXPECT_EQ(s4.remote_calls - s3.remote_calls, 0);
	mm->as.harts = 0; /* active nowhere before the last reference goes */
	MM_END(mm, before);
}
