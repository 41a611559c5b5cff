/* ch4.cow: fork shares private pages copy-on-write; a write gives the writer its own. */
#include "cow.h"
#include "mm_test.h"

#define RW	   (VM_READ | VM_WRITE)
#define COW_BITS   (PTE_W | PTE_COW)
#define REFS(m, v) page_ref_count(pa_to_page(user_pa(m, v)))

/* A lazy mm with @n pages at UP(0) written with byte i + 1 at offset i. */
static void fill(struct mm *mm, int n)
{
	for (int i = 0; i < n; i++) {
		mm_fault(mm, UP(i), ACCESS_WRITE);
		poke(mm, UP(i) + i, i + 1);
	}
}

KTEST(ch4_cow, fork_shares_every_page_read_only)
{
	MM_BEGIN_LAZY(mm, before);
	KASSERT_EQ(add_anon(mm, UP(0), UP(16), RW), 0);
	fill(mm, 8);
	KASSERT_EQ(mm_fault(mm, UP(8), ACCESS_READ), FAULT_RESOLVED); /* the zero page */
	uint64_t mid = free_frames_settled();
	struct mm *child = mm_fork(mm);
	KASSERT_NOT_NULL(child);
	/* The child's tables and mm cost frames; its pages do not. */
	KEXPECT_LE(mid - free_frames_settled(), 4);
	KEXPECT_EQ(child->nr_pages, 8);
	KEXPECT_TRUE(!child->eager);
	for (int i = 0; i < 8; i++) {
		KEXPECT_EQ(user_pa(child, UP(i)), user_pa(mm, UP(i)));
		KEXPECT_EQ(REFS(mm, UP(i)), 2);
		KEXPECT_EQ(user_flags(mm, UP(i)) & COW_BITS, PTE_COW);
		KEXPECT_EQ(user_flags(child, UP(i)) & COW_BITS, PTE_COW);
		KEXPECT_EQ(peek(child, UP(i) + i), i + 1);
	}
	KEXPECT_EQ(user_pa(child, UP(8)), zero_page_pa());
	KEXPECT_EQ(user_pa(child, UP(9)), 0);
	mm_put(child);
	for (int i = 0; i < 8; i++)
		KEXPECT_EQ(REFS(mm, UP(i)), 1);
	MM_END(mm, before);
}

KTEST(ch4_cow, a_write_copies_a_shared_page)
{
	MM_BEGIN_LAZY(mm, before);
	KASSERT_EQ(add_anon(mm, UP(0), UP(2), RW), 0);
	fill(mm, 2);
	struct mm *child = mm_fork(mm);
	KASSERT_NOT_NULL(child);
	paddr_t shared = user_pa(mm, UP(1));
	uint64_t mid = free_frames_settled();
	KASSERT_EQ(mm_fault(child, UP(1), ACCESS_WRITE), FAULT_RESOLVED);
	KEXPECT_EQ(mid - free_frames_settled(), 1);
	KEXPECT_NE(user_pa(child, UP(1)), shared);
	KEXPECT_EQ(user_pa(mm, UP(1)), shared);
	KEXPECT_EQ(peek(child, UP(1) + 1), 2); /* the copy has the bytes */
	KEXPECT_EQ(user_flags(child, UP(1)) & COW_BITS, PTE_W);
	KEXPECT_EQ(REFS(child, UP(1)), 1);
	KEXPECT_EQ(REFS(mm, UP(1)), 1);
	KEXPECT_TRUE(poke(child, UP(1) + 1, 0x77));
	KEXPECT_EQ(peek(mm, UP(1) + 1), 2);
	/* The other page is still shared. */
	KEXPECT_EQ(user_pa(child, UP(0)), user_pa(mm, UP(0)));
	KEXPECT_EQ(child->nr_pages, 2);
	mm_put(child);
	MM_END(mm, before);
}

KTEST(ch4_cow, the_last_holder_writes_without_a_copy)
{
	MM_BEGIN_LAZY(mm, before);
	KASSERT_EQ(add_anon(mm, UP(0), UP(1), RW), 0);
	fill(mm, 1);
	paddr_t pa = user_pa(mm, UP(0));
	struct mm *child = mm_fork(mm);
	KASSERT_NOT_NULL(child);
	mm_put(child);
	/* Still read-only and marked: the parent learns it is alone on its write. */
	KEXPECT_EQ(user_flags(mm, UP(0)) & COW_BITS, PTE_COW);
	uint64_t mid = free_frames_settled();
	KASSERT_EQ(mm_fault(mm, UP(0), ACCESS_WRITE), FAULT_RESOLVED);
	KEXPECT_EQ(free_frames_settled(), mid);
	KEXPECT_EQ(user_pa(mm, UP(0)), pa);
	KEXPECT_EQ(user_flags(mm, UP(0)) & COW_BITS, PTE_W);
	KEXPECT_EQ(REFS(mm, UP(0)), 1);
	MM_END(mm, before);
}

KTEST(ch4_cow, the_zero_page_is_shared_without_references)
{
	MM_BEGIN_LAZY(mm, before);
	KASSERT_EQ(add_anon(mm, UP(0), UP(1), RW), 0);
	KASSERT_EQ(mm_fault(mm, UP(0), ACCESS_READ), FAULT_RESOLVED);
	int zero_refs = page_ref_count(pa_to_page(zero_page_pa()));
	struct mm *child = mm_fork(mm);
	KASSERT_NOT_NULL(child);
	KEXPECT_EQ(user_pa(child, UP(0)), zero_page_pa());
	KEXPECT_EQ(page_ref_count(pa_to_page(zero_page_pa())), zero_refs);
	KEXPECT_EQ(child->nr_pages, 0);
	/* Each side's write takes a new zeroed frame. */
	KASSERT_EQ(mm_fault(child, UP(0), ACCESS_WRITE), FAULT_RESOLVED);
	KASSERT_EQ(mm_fault(mm, UP(0), ACCESS_WRITE), FAULT_RESOLVED);
	KEXPECT_NE(user_pa(child, UP(0)), user_pa(mm, UP(0)));
	KEXPECT_FALSE(is_zero_page(user_pa(mm, UP(0))));
	KEXPECT_EQ(peek(child, UP(0) + 4), 0);
	mm_put(child);
	KEXPECT_EQ(page_ref_count(pa_to_page(zero_page_pa())), zero_refs);
	MM_END(mm, before);
}

KTEST(ch4_cow, chains_of_forks_count_references)
{
	MM_BEGIN_LAZY(mm, before);
	KASSERT_EQ(add_anon(mm, UP(0), UP(1), RW), 0);
	fill(mm, 1);
	struct mm *gen[4] = {mm};
	for (int i = 1; i < 4; i++) {
		gen[i] = mm_fork(gen[i - 1]);
		KASSERT_NOT_NULL(gen[i]);
		KEXPECT_EQ(REFS(mm, UP(0)), i + 1);
	}
	/* The middle one writes: it leaves the sharing, the others stay. */
	KASSERT_EQ(mm_fault(gen[2], UP(0), ACCESS_WRITE), FAULT_RESOLVED);
	KEXPECT_EQ(REFS(mm, UP(0)), 3);
	KEXPECT_EQ(REFS(gen[2], UP(0)), 1);
	for (int i = 3; i >= 1; i--)
		mm_put(gen[i]);
	KEXPECT_EQ(REFS(mm, UP(0)), 1);
	MM_END(mm, before);
}

KTEST(ch4_cow, a_full_reference_count_copies_instead)
{
	MM_BEGIN_LAZY(mm, before);
	KASSERT_EQ(add_anon(mm, UP(0), UP(1), RW), 0);
	fill(mm, 1);
	struct page_info *page = pa_to_page(user_pa(mm, UP(0)));
	page->refcount = INT32_MAX; /* as if 2^31 - 1 forks shared it */
	struct mm *child = mm_fork(mm);
	page->refcount = 1;
	KASSERT_NOT_NULL(child);
	KEXPECT_NE(user_pa(child, UP(0)), user_pa(mm, UP(0)));
	KEXPECT_EQ(peek(child, UP(0)), 1);
	KEXPECT_EQ(user_flags(child, UP(0)) & COW_BITS, PTE_W);
	KEXPECT_EQ(user_flags(mm, UP(0)) & COW_BITS, PTE_W); /* not shared: left writable */
	KEXPECT_EQ(REFS(child, UP(0)), 1);
	mm_put(child);
	MM_END(mm, before);
}

KTEST(ch4_cow, protect_keeps_a_shared_page_read_only)
{
	MM_BEGIN_LAZY(mm, before);
	KASSERT_EQ(add_anon(mm, UP(0), UP(1), RW), 0);
	fill(mm, 1);
	struct mm *child = mm_fork(mm);
	KASSERT_NOT_NULL(child);
	struct tlb_flusher fl;
	spin_lock(&mm->lock);
	struct vma *vma = mm_find_vma(mm, UP(0));
	tlb_flusher_init(&fl, &mm->as);
	KEXPECT_EQ(vma->backend->protect(vma, UP(0), UP(1), RW | VM_EXEC, &fl), 0);
	tlb_flusher_finish(&fl);
	spin_unlock(&mm->lock);
	KEXPECT_EQ(user_flags(mm, UP(0)) & (COW_BITS | PTE_X), PTE_COW | PTE_X);
	KEXPECT_TRUE(poke(child, UP(0), 0x42) && peek(mm, UP(0)) == 0x42); /* still one frame */
	mm_put(child);
	MM_END(mm, before);
}

KTEST(ch4_cow, a_write_through_mm_write_breaks_the_sharing)
{
	MM_BEGIN_LAZY(mm, before);
	KASSERT_EQ(add_anon(mm, UP(0), UP(1), RW), 0);
	fill(mm, 1);
	struct mm *child = mm_fork(mm);
	KASSERT_NOT_NULL(child);
	char v = 9;
	KEXPECT_EQ(mm_write(child, UP(0), &v, 1), 0);
	KEXPECT_EQ(peek(child, UP(0)), 9);
	KEXPECT_EQ(peek(mm, UP(0)), 1);
	mm_put(child);
	MM_END(mm, before);
}

KTEST(ch4_cow, a_break_out_of_memory_changes_nothing)
{
	static struct drain d;
	MM_BEGIN_LAZY(mm, before);
	KASSERT_EQ(add_anon(mm, UP(0), UP(1), RW), 0);
	fill(mm, 1);
	struct mm *child = mm_fork(mm);
	KASSERT_NOT_NULL(child);
	paddr_t pa = user_pa(mm, UP(0));
	kmalloc_shrink();
	drain_memory(&d, 0);
	KEXPECT_EQ(mm_fault(child, UP(0), ACCESS_WRITE), FAULT_OOM);
	undrain_memory(&d);
	KEXPECT_EQ(user_pa(child, UP(0)), pa);
	KEXPECT_EQ(user_flags(child, UP(0)) & COW_BITS, PTE_COW);
	KEXPECT_EQ(REFS(mm, UP(0)), 2);
	mm_put(child);
	MM_END(mm, before);
}

KTEST(ch4_cow, fork_out_of_memory_gives_everything_back)
{
	static struct drain d;
	MM_BEGIN_LAZY(mm, before);
	/* Two runs of pages, 1 GiB apart: the child needs new tables in the
	 * middle of its copy. */
	KASSERT_EQ(add_anon(mm, U_VA, U_VA + 8 * PAGE_SIZE, RW), 0);
	KASSERT_EQ(add_anon(mm, U_VA + GIGAPAGE_SIZE, U_VA + GIGAPAGE_SIZE + 8 * PAGE_SIZE, RW), 0);
	for (int i = 0; i < 8; i++) {
		mm_fault(mm, U_VA + i * PAGE_SIZE, ACCESS_WRITE);
		mm_fault(mm, U_VA + GIGAPAGE_SIZE + i * PAGE_SIZE, ACCESS_WRITE);
	}
	for (uint64_t keep = 0; keep < 8; keep++) {
		kmalloc_shrink();
		drain_memory(&d, keep);
		uint64_t mid = free_frames_settled();
		struct mm *child = mm_fork(mm);
		uint64_t after = free_frames_settled();
		undrain_memory(&d);
		if (child) {
			mm_put(child);
			continue;
		}
		KEXPECT_EQ(after, mid);
		/* What stays marked copy-on-write in the parent has one holder again. */
		KEXPECT_EQ(REFS(mm, U_VA), 1);
		KEXPECT_EQ(REFS(mm, U_VA + GIGAPAGE_SIZE + 7 * PAGE_SIZE), 1);
	}
	KEXPECT_EQ(mm->nr_pages, 16);
	MM_END(mm, before);
}

KTEST(ch4_cow, a_shared_area_stays_shared_after_fork)
{
	MM_BEGIN_LAZY(mm, before);
	/* Untouched before the fork: both mms must still reach one frame per page. */
	KASSERT_EQ(add_area(mm, UP(0), UP(2), RW, VM_SHARED, &anon_backend, 0), 0);
	struct mm *child = mm_fork(mm);
	KASSERT_NOT_NULL(child);
	char v = 7;
	KEXPECT_EQ(mm_write(child, UP(1) + 3, &v, 1), 0);
	KEXPECT_EQ(peek(mm, UP(1) + 3), 7);
	KEXPECT_EQ(user_pa(child, UP(1)), user_pa(mm, UP(1)));
	KEXPECT_EQ(user_flags(mm, UP(1)) & COW_BITS, PTE_W);
	mm_put(child);
	MM_END(mm, before);
}
