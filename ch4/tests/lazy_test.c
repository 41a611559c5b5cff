/* ch4.lazy: areas map nothing until touched; a read maps the zero page, a write a frame of its own. */
#include "cow.h"
#include "mm_test.h"

#define RW (VM_READ | VM_WRITE)

/* The reference count of the frame @va maps in @mm (0 if none). */
static int refs_at(struct mm *mm, vaddr_t va)
{
	paddr_t pa = user_pa(mm, va);
	return pa ? page_ref_count(pa_to_page(ALIGN_DOWN(pa, PAGE_SIZE))) : 0;
}

KTEST(ch4_lazy, an_area_maps_nothing_until_touched)
{
	MM_BEGIN_LAZY(mm, before);
	uint64_t tables = free_frames_settled();
	KASSERT_EQ(add_anon(mm, UP(0), UP(4096), RW), 0); /* 16 MiB */
	KEXPECT_EQ(mm->nr_pages, 0);
	KEXPECT_EQ(user_pa(mm, UP(0)), 0);
	KEXPECT_EQ(user_pa(mm, UP(4095)), 0);
	KEXPECT_EQ(free_frames_settled(), tables); /* not even a table */
	MM_END(mm, before);
}

KTEST(ch4_lazy, a_write_maps_a_zeroed_frame_of_its_own)
{
	MM_BEGIN_LAZY(mm, before);
	KASSERT_EQ(add_anon(mm, UP(0), UP(16), RW), 0);
	KASSERT_EQ(mm_fault(mm, UP(5) + 123, ACCESS_WRITE), FAULT_RESOLVED);
	KEXPECT_EQ(mm->nr_pages, 1);
	KEXPECT_EQ(user_flags(mm, UP(5)) & (PTE_R | PTE_W | PTE_U | PTE_COW), PTE_R | PTE_W | PTE_U);
	KEXPECT_FALSE(is_zero_page(user_pa(mm, UP(5))));
	KEXPECT_EQ(refs_at(mm, UP(5)), 1);
	KEXPECT_EQ(peek(mm, UP(5) + 123), 0);
	KEXPECT_EQ(user_pa(mm, UP(4)), 0); /* its neighbours stay untouched */
	KEXPECT_EQ(user_pa(mm, UP(6)), 0);
	/* A second fault on it (another thread was first) changes nothing. */
	paddr_t pa = user_pa(mm, UP(5));
	KEXPECT_EQ(mm_fault(mm, UP(5), ACCESS_WRITE), FAULT_RESOLVED);
	KEXPECT_EQ(user_pa(mm, UP(5)), pa);
	KEXPECT_EQ(mm->nr_pages, 1);
	MM_END(mm, before);
}

KTEST(ch4_lazy, a_read_maps_the_zero_page)
{
	MM_BEGIN_LAZY(mm, before);
	KASSERT_EQ(add_anon(mm, UP(0), UP(64), RW), 0);
	int zero_refs = page_ref_count(pa_to_page(zero_page_pa()));
	uint64_t mid = free_frames_settled();
	for (int i = 0; i < 64; i++)
		KASSERT_EQ(mm_fault(mm, UP(i), ACCESS_READ), FAULT_RESOLVED);
	/* 64 pages read cost two tables (levels 1 and 0), and no frame for the pages. */
	KEXPECT_EQ(mid - free_frames_settled(), 2);
	KEXPECT_EQ(mm->nr_pages, 0);
	for (int i = 0; i < 64; i++) {
		KEXPECT_EQ(user_pa(mm, UP(i)), zero_page_pa());
		KEXPECT_EQ(user_flags(mm, UP(i)) & (PTE_R | PTE_W | PTE_COW), PTE_R | PTE_COW);
	}
	KEXPECT_EQ(page_ref_count(pa_to_page(zero_page_pa())), zero_refs);
	KEXPECT_EQ(peek(mm, UP(7) + 100), 0);
	MM_END(mm, before);
	/* Unmapping it neither freed it nor touched its count. */
	KEXPECT_EQ(page_ref_count(pa_to_page(zero_page_pa())), zero_refs);
}

/* Leave only @n free frames, each full of 0xaa: the next allocations get old bytes. */
static void dirty_the_free_frames(struct drain *d, unsigned n)
{
	paddr_t pa[8];
	drain_memory(d, n);
	for (unsigned i = 0; i < n; i++) {
		pa[i] = frame_alloc(0);
		if (pa[i])
			memset(pa_to_kva(pa[i]), 0xaa, PAGE_SIZE);
	}
	for (unsigned i = 0; i < n; i++)
		if (pa[i])
			frame_free(pa[i]);
}

/* True if the page at @va of @mm reads as zeros throughout. */
static bool page_is_zero(struct mm *mm, vaddr_t va)
{
	const uint64_t *w = pa_to_kva(user_pa(mm, va));
	for (size_t i = 0; i < PAGE_SIZE / sizeof(*w); i++)
		if (w[i])
			return false;
	return true;
}

KTEST(ch4_lazy, a_write_after_a_read_replaces_the_zero_page)
{
	static struct drain d;
	MM_BEGIN_LAZY(mm, before);
	KASSERT_EQ(add_anon(mm, UP(0), UP(2), RW), 0);
	KASSERT_EQ(mm_fault(mm, UP(0), ACCESS_READ), FAULT_RESOLVED);
	KASSERT_EQ(mm_fault(mm, UP(1), ACCESS_READ), FAULT_RESOLVED);
	kmalloc_shrink();
	dirty_the_free_frames(&d, 4); /* the new frame must be zeroed, not just fresh */
	uint64_t mid = frames_nr_free();
	enum fault_result r = mm_fault(mm, UP(0) + 8, ACCESS_WRITE);
	uint64_t used = mid - frames_nr_free();
	undrain_memory(&d); /* before any assertion can end the test */
	KASSERT_EQ(r, FAULT_RESOLVED);
	KEXPECT_EQ(used, 1);
	KEXPECT_TRUE(page_is_zero(mm, UP(0)));
	KEXPECT_FALSE(is_zero_page(user_pa(mm, UP(0))));
	KEXPECT_EQ(user_flags(mm, UP(0)) & (PTE_W | PTE_COW), PTE_W);
	KEXPECT_EQ(mm->nr_pages, 1);
	KEXPECT_TRUE(poke(mm, UP(0) + 8, 0x5a));
	/* The zero page itself is untouched: the other page still reads 0. */
	KEXPECT_EQ(peek(mm, UP(1) + 8), 0);
	KEXPECT_EQ(user_pa(mm, UP(1)), zero_page_pa());
	MM_END(mm, before);
}

KTEST(ch4_lazy, the_zero_page_keeps_the_area_s_other_permissions)
{
	MM_BEGIN_LAZY(mm, before);
	KASSERT_EQ(add_anon(mm, UP(0), UP(1), VM_READ | VM_EXEC), 0);
	KASSERT_EQ(mm_fault(mm, UP(0), ACCESS_EXEC), FAULT_RESOLVED);
	KEXPECT_EQ(user_flags(mm, UP(0)) & (PTE_R | PTE_W | PTE_X), PTE_R | PTE_X);
	/* A write is the area's to refuse, before any page state. */
	KEXPECT_EQ(mm_fault(mm, UP(0), ACCESS_WRITE), FAULT_PERMISSION);
	KEXPECT_EQ(user_pa(mm, UP(0)), zero_page_pa());
	MM_END(mm, before);
}

KTEST(ch4_lazy, a_data_area_fills_a_page_on_first_touch)
{
	static const char bytes[PAGE_SIZE + 10] = {[0] = 1, [PAGE_SIZE + 9] = 2};
	MM_BEGIN_LAZY(mm, before);
	struct vma *vma = vma_alloc(UP(0), UP(3), RW, 0, &data_backend);
	KASSERT_NOT_NULL(vma);
	vma->private_data = (void *)bytes;
	vma->data_size = sizeof(bytes);
	KASSERT_EQ(mm_add_vma(mm, vma, 0), 0);
	KEXPECT_EQ(mm->nr_pages, 0);
	/* Page 1 holds data: a read fills a frame. Page 2 is past it: the zero page. */
	KASSERT_EQ(mm_fault(mm, UP(1), ACCESS_READ), FAULT_RESOLVED);
	KASSERT_EQ(mm_fault(mm, UP(2), ACCESS_READ), FAULT_RESOLVED);
	KEXPECT_EQ(peek(mm, UP(1) + 9), 2);
	KEXPECT_EQ(peek(mm, UP(1) + 10), 0);
	KEXPECT_FALSE(is_zero_page(user_pa(mm, UP(1))));
	KEXPECT_EQ(user_pa(mm, UP(2)), zero_page_pa());
	KEXPECT_EQ(user_pa(mm, UP(0)), 0);
	KEXPECT_EQ(mm->nr_pages, 1);
	MM_END(mm, before);
}

KTEST(ch4_lazy, brk_maps_nothing)
{
	MM_BEGIN_LAZY(mm, before);
	mm->brk_start = mm->brk = UP(0);
	KASSERT_EQ(mm_brk(mm, UP(1024)), UP(1024));
	KEXPECT_EQ(mm->nr_pages, 0);
	KASSERT_EQ(mm_fault(mm, UP(1000), ACCESS_WRITE), FAULT_RESOLVED);
	KEXPECT_EQ(mm->nr_pages, 1);
	KASSERT_EQ(mm_brk(mm, UP(10)), UP(10));
	KEXPECT_EQ(mm->nr_pages, 0);
	MM_END(mm, before);
}

KTEST(ch4_lazy, a_fault_out_of_memory_takes_nothing)
{
	static struct drain d;
	MM_BEGIN_LAZY(mm, before);
	KASSERT_EQ(add_anon(mm, UP(0), UP(2), RW), 0);
	KASSERT_EQ(mm_fault(mm, UP(0), ACCESS_READ), FAULT_RESOLVED); /* the table is there */
	kmalloc_shrink();
	drain_memory(&d, 0);
	uint64_t mid = free_frames_settled();
	KEXPECT_EQ(mm_fault(mm, UP(1), ACCESS_WRITE), FAULT_OOM);
	KEXPECT_EQ(mm_fault(mm, UP(0), ACCESS_WRITE), FAULT_OOM); /* the zero page's break */
	KEXPECT_EQ(free_frames_settled(), mid);
	undrain_memory(&d);
	KEXPECT_EQ(user_pa(mm, UP(1)), 0);
	KEXPECT_EQ(user_pa(mm, UP(0)), zero_page_pa());
	KEXPECT_EQ(mm->nr_pages, 0);
	/* With memory back, the same faults succeed. */
	KEXPECT_EQ(mm_fault(mm, UP(0), ACCESS_WRITE), FAULT_RESOLVED);
	KEXPECT_EQ(mm->nr_pages, 1);
	MM_END(mm, before);
}

KTEST(ch4_lazy, a_hog_leaves_the_emergency_reserve)
{
	static struct drain d;
	MM_BEGIN_LAZY(mm, before);
	KASSERT_EQ(add_anon(mm, UP(0), UP(1UL << 20), RW), 0); /* 4 GiB, lazy */
	struct frame_watermarks wm = frames_watermarks();
	kmalloc_shrink();
	drain_memory(&d, wm.min + 64);
	frames_set_watermarks(wm); /* in force for the hog */
	/* A user hog: write faults until no frame is left for it. */
	uint64_t pages = 0;
	while (mm_fault(mm, UP(pages), ACCESS_WRITE) == FAULT_RESOLVED)
		pages++;
	KEXPECT_GE(pages, 32);
	KEXPECT_EQ(mm->nr_pages, pages);
	/* It stopped at the min watermark: the reserve under it is whole, and
	 * the kernel's own emergency allocations still succeed. */
	KEXPECT_GE(frames_nr_free(), wm.min);
	paddr_t pa = frame_alloc(FRAME_EMERGENCY);
	void *obj = kmalloc_flags(2 * PAGE_SIZE, KMALLOC_EMERGENCY);
	KEXPECT_NE(pa, 0);
	KEXPECT_NOT_NULL(obj);
	if (pa)
		frame_free(pa);
	kfree(obj);
	KEXPECT_EQ(mm_remove_range(mm, UP(0), UP(1UL << 20)), 0);
	undrain_memory(&d);
	KEXPECT_EQ(mm->nr_pages, 0);
	MM_END(mm, before);
}
