/*
 * References to allocated blocks: get_page() and put_page(). A block comes
 * from the allocator with one reference; sharing it (ch4: fork, copy on
 * write) adds more, and the put of the last one frees it.
 *
 * A get or a put that leaves references behind is one compare-and-swap on
 * page_info.refcount, with no lock: the count goes from n to n + 1 only if n
 * is at least 1 and below INT32_MAX, so a block already going back (count 0)
 * is never revived and the count never wraps. The last put is a free through
 * frame.c, under the zone lock, where buddy_free() takes the count from 1 to
 * 0 with a compare-and-swap of its own before it frees; if a get came in
 * first, that fails and the put goes round again, now dropping one of two.
 *
 * Reference: Linux include/linux/page_ref.h (page_ref_inc,
 * page_ref_add_unless), mm/swap.c (put_page, __folio_put).
 */
#include "errno.h"
#include "frame.h"
#include "frame_internal.h"
#include "page.h"
#include "printk.h"

/* Refuse @what on @page for @why: one line, and @err back. */
static int refuse(const char *what, const struct page_info *page, const char *why, int err)
{
	paddr_t pa = page_to_pa(page);
	if (pa)
		printk("frames: refused %s of 0x%lx: %s\n", what, pa, why);
	else
		printk("frames: refused %s of page_info %p: %s\n", what, (const void *)page, why);
	return err;
}

/* Why @page cannot be referenced: not an allocated head, or one block of a run. */
static const char *not_referenceable(const struct page_info *page)
{
	const char *why = page_not_allocated_head(page);
	if (!why && (__atomic_load_n(&page->flags, __ATOMIC_RELAXED) & PAGE_FLAGS_CH1))
		why = "one block of a multi-block allocation: references are per block";
	return why;
}

int get_page(struct page_info *page)
{
	const char *why = not_referenceable(page);
	if (why)
		return refuse("get_page", page, why, -EINVAL);
	int32_t n = __atomic_load_n(&page->refcount, __ATOMIC_RELAXED);
	do {
		if (n < 1)
			return refuse("get_page", page, "no reference held: the block is being freed",
				      -EINVAL);
		if (n == INT32_MAX)
			return refuse("get_page", page, "reference count at INT32_MAX", -EOVERFLOW);
	} while (!__atomic_compare_exchange_n(&page->refcount, &n, n + 1, true, __ATOMIC_ACQUIRE,
					      __ATOMIC_RELAXED));
	return 0;
}

/* A put refused: counted as a refused free, reported, nothing else changed. */
static int refuse_put(const struct page_info *page, const char *why)
{
	frames_count_bad_free();
	return refuse("put_page", page, why, -EINVAL);
}

int put_page(struct page_info *page)
{
	const char *why = not_referenceable(page);
	if (why)
		return refuse_put(page, why);
	int32_t n = __atomic_load_n(&page->refcount, __ATOMIC_RELAXED);
	for (;;) {
		if (n < 1)
			return refuse_put(page, "no reference held");
		if (n == 1) {
			/* The last one: the block goes back, through the checked free. */
			int err = frames_free_last_ref(page_to_pa(page), page->order);
			if (err != -EBUSY)
				return err;
			n = __atomic_load_n(&page->refcount, __ATOMIC_RELAXED); /* a get came first */
		} else if (__atomic_compare_exchange_n(&page->refcount, &n, n - 1, true, __ATOMIC_RELEASE,
						       __ATOMIC_RELAXED)) {
			return 0;
		}
	}
}

/* The page_info of the frame at @pa, or NULL if @pa is misaligned or not RAM. */
static struct page_info *aligned_page(paddr_t pa)
{
	return IS_ALIGNED(pa, PAGE_SIZE) ? pa_to_page(pa) : NULL;
}

int frame_get(paddr_t pa)
{
	struct page_info *page = aligned_page(pa);
	if (!page) {
		printk("frames: refused get_page of 0x%lx: not a page-aligned address of RAM\n", pa);
		return -EINVAL;
	}
	return get_page(page);
}

int frame_put(paddr_t pa)
{
	struct page_info *page = aligned_page(pa);
	if (!page) {
		frames_count_bad_free();
		printk("frames: refused put_page of 0x%lx: not a page-aligned address of RAM\n", pa);
		return -EINVAL;
	}
	return put_page(page);
}
