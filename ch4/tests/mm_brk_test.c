/* ch4.brk: the program break moves up with zeroed pages and down by unmapping. */
#include "mm_test.h"

#define RW (VM_READ | VM_WRITE)

KTEST(ch4_brk, up_and_down)
{
	MM_BEGIN(mm, before);
	mm->brk_start = mm->brk = UP(4);
	KEXPECT_EQ(mm_brk(mm, UP(4)), UP(4));
	KEXPECT_NULL(mm->heap);
	KEXPECT_EQ(mm_brk(mm, UP(4) + 100), UP(4) + 100);
	KASSERT_NOT_NULL(mm->heap);
	KEXPECT_TRUE(mm->heap->flags & VM_HEAP);
	KEXPECT_EQ(mm->heap->start, UP(4));
	KEXPECT_EQ(mm->heap->end, UP(5));
	KEXPECT_EQ(mm->nr_pages, 1);
	KASSERT_TRUE(poke(mm, UP(4) + 99, 0x5a));
	/* Within the same page: nothing to map. */
	KEXPECT_EQ(mm_brk(mm, UP(5)), UP(5));
	KEXPECT_EQ(mm->nr_pages, 1);
	KEXPECT_EQ(mm_brk(mm, UP(8) + 1), UP(8) + 1);
	KEXPECT_EQ(mm->heap->end, UP(9));
	KEXPECT_EQ(mm->nr_pages, 5);
	KEXPECT_EQ(nr_areas(mm), 1);
	for (int i = 5; i < 9; i++)
		KEXPECT_EQ(peek(mm, UP(i) + 7), 0);
	KEXPECT_EQ(peek(mm, UP(4) + 99), 0x5a);
	/* Down: pages above the new break go. */
	uint64_t frames = frames_nr_free();
	KEXPECT_EQ(mm_brk(mm, UP(6)), UP(6));
	KEXPECT_EQ(frames_nr_free(), frames + 3);
	KEXPECT_EQ(mm->heap->end, UP(6));
	KEXPECT_EQ(peek(mm, UP(6)), -1);
	KEXPECT_EQ(peek(mm, UP(4) + 99), 0x5a);
	/* Down to the start: the heap area goes. */
	KEXPECT_EQ(mm_brk(mm, UP(4)), UP(4));
	KEXPECT_NULL(mm->heap);
	KEXPECT_EQ(nr_areas(mm), 0);
	KEXPECT_EQ(mm->nr_pages, 0);
	/* And up again: fresh zeroed pages. */
	KEXPECT_EQ(mm_brk(mm, UP(5)), UP(5));
	KEXPECT_EQ(peek(mm, UP(4) + 99), 0);
	MM_END(mm, before);
}

KTEST(ch4_brk, refusals_keep_the_break)
{
	MM_BEGIN(mm, before);
	mm->brk_start = mm->brk = UP(4);
	KASSERT_EQ(add_anon(mm, UP(10), UP(11), RW), 0);
	KEXPECT_EQ(mm_brk(mm, UP(2)), UP(4));	   /* below brk_start */
	KEXPECT_EQ(mm_brk(mm, UP(10) + 1), UP(4)); /* into another area */
	KEXPECT_EQ(mm_brk(mm, UP(10)), UP(10));	   /* right up to it */
	KEXPECT_EQ(mm_brk(mm, USER_TOP + PAGE_SIZE), UP(10));
	KEXPECT_EQ(mm_brk(mm, 0), UP(10)); /* brk(0) asks for the break */
	KEXPECT_EQ(mm->nr_pages, 7);
	MM_END(mm, before);
}
