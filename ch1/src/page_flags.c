/*
 * Page flags for later chapters: atomic set, clear and test of bits of
 * page_info.flags in the head of an allocated block (page.h says which bits
 * belong to whom). ch1's own bits are refused here: the allocator sets them
 * under its lock when it hands a run out.
 *
 * RV64 has 32- and 64-bit atomics only, so a change is an atomic or/and on
 * the 32-bit word the flags share with state and order (page_info.word),
 * with the other bits of that word left as they are.
 *
 * Reference: Linux include/linux/page-flags.h (SetPageXxx, ClearPageXxx,
 * PageXxx over set_bit, clear_bit, test_bit).
 */
#include "errno.h"
#include "frame.h"
#include "frame_internal.h"
#include "page.h"
#include "printk.h"

/* Where flags sit in page_info.word: the upper half (RISC-V is little-endian). */
#define FLAGS_SHIFT 16
_Static_assert(offsetof(struct page_info, flags) == 2 && offsetof(struct page_info, word) == 0,
	       "page_info.flags must be the upper half of page_info.word");

/* Why @flag may not be changed on @page, or NULL. */
static const char *flag_problem(const struct page_info *page, uint16_t flag)
{
	if (flag == 0)
		return "no flag given";
	if (flag & PAGE_FLAGS_CH1)
		return "ch1's own run flags";
	return page_not_allocated_head(page);
}

/* Refuse changing @flag of @page: one line, -EINVAL. */
static int refuse(const char *what, const struct page_info *page, uint16_t flag, const char *why)
{
	paddr_t pa = page_to_pa(page);
	if (pa)
		printk("frames: refused %s 0x%x of 0x%lx: %s\n", what, flag, pa, why);
	else
		printk("frames: refused %s 0x%x of page_info %p: %s\n", what, flag, (const void *)page, why);
	return -EINVAL;
}

int page_set_flag(struct page_info *page, uint16_t flag)
{
	const char *why = flag_problem(page, flag);
	if (why)
		return refuse("page_set_flag", page, flag, why);
	__atomic_fetch_or(&page->word, (uint32_t)flag << FLAGS_SHIFT, __ATOMIC_ACQ_REL);
	return 0;
}

int page_clear_flag(struct page_info *page, uint16_t flag)
{
	const char *why = flag_problem(page, flag);
	if (why)
		return refuse("page_clear_flag", page, flag, why);
	__atomic_fetch_and(&page->word, ~((uint32_t)flag << FLAGS_SHIFT), __ATOMIC_ACQ_REL);
	return 0;
}

bool page_test_flag(const struct page_info *page, uint16_t flag)
{
	if (flag == 0 || page_not_allocated_head(page))
		return false;
	uint32_t word = __atomic_load_n(&page->word, __ATOMIC_ACQUIRE);
	return ((word >> FLAGS_SHIFT) & flag) == flag;
}
