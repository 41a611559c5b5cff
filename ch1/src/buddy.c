/*
 * The buddy system over an array of struct page_info: split, merge, claim
 * a range, find a run. Pure logic: no lock, no printk, no touching frames,
 * so it builds on the host too (ch1/hosttest/test_buddy.c).
 *
 * Indices ("idx") are frame numbers minus base_pfn, and buddy_page(b, idx)
 * is a frame's page_info. Because base_pfn is aligned to 2^MAX_ORDER, a
 * block's alignment and its buddy's index (idx ^ 2^order) are the same
 * whether computed on indices or pfns, and both lie in one section.
 *
 * Reference: Linux mm/page_alloc.c (expand, __free_one_page,
 * is_free_buddy_page, take_page_off_buddy); xv6-riscv kernel/kalloc.c.
 */
#include "buddy.h"
#include "errno.h"
#include "frame.h"
#include "panic.h"
#include "types.h"

#define RUN_FLAGS (PAGE_RUN_PREV | PAGE_RUN_NEXT)

static inline uint64_t order_size(unsigned order) { return 1UL << order; }

/* ---- free lists ------------------------------------------------------------ */

/* Put the block at @idx on free list @order: it becomes a free head. */
static inline void free_list_add(struct buddy *b, uint64_t idx, unsigned order)
{
	struct page_info *pg = buddy_page(b, idx);
	pg->state = PAGE_FREE_HEAD;
	pg->order = (uint8_t)order;
	pg->flags = 0;
	pg->refcount = 0;
	pg->free.prev = BUDDY_NONE;
	pg->free.next = b->free_list[order];
	if (pg->free.next != BUDDY_NONE)
		buddy_page(b, pg->free.next)->free.prev = (uint32_t)idx;
	b->free_list[order] = (uint32_t)idx;
	b->nr_free[order]++;
	b->free_frames += order_size(order);
}

/* Take the free block at @idx off its list; its head becomes a plain tail
 * until the caller says what it is now. */
static inline void free_list_del(struct buddy *b, uint64_t idx)
{
	struct page_info *pg = buddy_page(b, idx);
	unsigned order = pg->order;
	if (pg->free.prev != BUDDY_NONE)
		buddy_page(b, pg->free.prev)->free.next = pg->free.next;
	else
		b->free_list[order] = pg->free.next;
	if (pg->free.next != BUDDY_NONE)
		buddy_page(b, pg->free.next)->free.prev = pg->free.prev;
	pg->state = PAGE_TAIL;
	b->nr_free[order]--;
	b->free_frames -= order_size(order);
}

/* Make the frame at @idx the head of an allocated block. */
static inline void mark_alloc(struct buddy *b, uint64_t idx, unsigned order, uint16_t flags)
{
	struct page_info *pg = buddy_page(b, idx);
	pg->state = PAGE_ALLOC_HEAD;
	pg->order = (uint8_t)order;
	pg->flags = flags;
	pg->refcount = 1;
	pg->private = 0;
}

/* ---- lookups ------------------------------------------------------------ */

/* True if frame @pfn has a page_info. */
static inline bool described(const struct buddy *b, pfn_t pfn)
{
	return pfn >= b->base_pfn && buddy_has(b, pfn - b->base_pfn);
}

/* True if [pfn, pfn + n) is non-empty and every frame of it has a page_info. */
static inline bool range_described(const struct buddy *b, pfn_t pfn, uint64_t n)
{
	if (!n || pfn < b->base_pfn || n > b->nr_pages || pfn - b->base_pfn > b->nr_pages - n)
		return false;
	for (uint64_t idx = pfn - b->base_pfn; idx < pfn - b->base_pfn + n;
	     idx = ALIGN_DOWN(idx, SECTION_FRAMES) + SECTION_FRAMES)
		if (!buddy_has(b, idx))
			return false;
	return true;
}

/*
 * The block with a head of state @state that holds frame @idx: try the
 * aligned head at each order, as Linux's is_free_buddy_page() does. A head at
 * h = idx rounded down to 2^o whose order is >= o must contain idx.
 */
static inline bool find_block(const struct buddy *b, uint64_t idx, enum page_state state, uint64_t *head,
			      unsigned *order)
{
	for (unsigned o = 0; o <= MAX_ORDER; o++) {
		uint64_t h = ALIGN_DOWN(idx, order_size(o));
		const struct page_info *pg = buddy_page(b, h);
		if (pg->state == state && pg->order >= o) {
			*head = h;
			*order = pg->order;
			return true;
		}
	}
	return false;
}

/* The free block that holds frame @idx, if any. */
static inline bool find_free_block(const struct buddy *b, uint64_t idx, uint64_t *head, unsigned *order)
{
	return find_block(b, idx, PAGE_FREE_HEAD, head, order);
}

/*
 * The order of the first block in the decomposition of @left frames starting
 * at @idx into maximal aligned blocks: as large as idx's alignment and the
 * frames left allow.
 */
static inline unsigned chunk_order(uint64_t idx, uint64_t left)
{
	unsigned o = idx ? (unsigned)__builtin_ctzl(idx) : MAX_ORDER;
	if (o > MAX_ORDER)
		o = MAX_ORDER;
	while (order_size(o) > left)
		o--;
	return o;
}

/* The smallest order whose block holds @n frames (n <= 2^MAX_ORDER). */
static inline unsigned order_for(uint64_t n)
{
	unsigned o = 0;
	while (order_size(o) < n)
		o++;
	return o;
}

bool buddy_is_free(const struct buddy *b, pfn_t pfn)
{
	uint64_t head;
	unsigned order;
	return described(b, pfn) && find_free_block(b, pfn - b->base_pfn, &head, &order);
}

bool buddy_range_is_free(const struct buddy *b, pfn_t pfn, uint64_t n)
{
	uint64_t idx = pfn - b->base_pfn, end = idx + n, head;
	unsigned order;
	while (idx < end) {
		if (!find_free_block(b, idx, &head, &order))
			return false;
		idx = head + order_size(order); /* the rest of this block is free too */
	}
	return true;
}

/* ---- set-up ------------------------------------------------------------- */

void buddy_init(struct buddy *b, struct page_info **sections, pfn_t lo, pfn_t hi)
{
	b->sections = sections;
	b->base_pfn = buddy_base(lo);
	b->nr_pages = buddy_nr_sections(lo, hi) << SECTION_ORDER;
	b->free_frames = 0;
	for (unsigned o = 0; o <= MAX_ORDER; o++) {
		b->free_list[o] = BUDDY_NONE;
		b->nr_free[o] = 0;
	}
	for (uint64_t s = 0; s < b->nr_pages >> SECTION_ORDER; s++)
		for (uint64_t i = 0; sections[s] && i < SECTION_FRAMES; i++)
			sections[s][i] = (struct page_info){.state = PAGE_RESERVED};
}

static int free_block(struct buddy *b, uint64_t idx, unsigned order);

/*
 * Free the frames [idx, end), whose frames other than block heads are
 * already PAGE_TAIL, as their maximal aligned blocks. Returns the frames
 * freed; stops at the first failure (a stubbed free_block()).
 */
static uint64_t give_back(struct buddy *b, uint64_t idx, uint64_t end)
{
	uint64_t start = idx;
	while (idx < end) {
		unsigned o = chunk_order(idx, end - idx);
		if (free_block(b, idx, o) != 0)
			break;
		idx += order_size(o);
	}
	return idx - start;
}

uint64_t buddy_add_range(struct buddy *b, pfn_t start, pfn_t end)
{
	uint64_t lo = start - b->base_pfn, hi = end - b->base_pfn;
	for (uint64_t i = lo; i < hi; i++)
		buddy_page(b, i)->state = PAGE_TAIL;
	uint64_t added = give_back(b, lo, hi);
	for (uint64_t i = lo + added; i < hi; i++) /* whatever could not be freed stays out */
		buddy_page(b, i)->state = PAGE_RESERVED;
	return added;
}

/* ---- allocating: split ---------------------------------------------------- */

pfn_t buddy_alloc(struct buddy *b, unsigned order)
{
	/* LAB BEGIN ch1 split: take the smallest free block >= order, split it down */
	if (order > MAX_ORDER)
		return BUDDY_NO_PFN;
	unsigned o = order;
	while (o <= MAX_ORDER && b->free_list[o] == BUDDY_NONE)
		o++;
	if (o > MAX_ORDER)
		return BUDDY_NO_PFN;
	uint64_t idx = b->free_list[o];
	free_list_del(b, idx);
	/* Keep the lower half, put the upper half back one order down (expand()). */
	while (o > order) {
		o--;
		free_list_add(b, idx + order_size(o), o);
	}
	mark_alloc(b, idx, order, 0);
	return b->base_pfn + idx;
	/* LAB STUB
	(void)b, (void)order;
	TODO("ch1", "buddy_alloc: split a free block down to the order asked for");
	return BUDDY_NO_PFN;
	LAB END */
}

/* ---- freeing: merge ------------------------------------------------------- */

/*
 * Put the block of 2^order frames at idx back, merging it with its buddy
 * (idx ^ 2^order) for as long as the buddy is a free block of the same
 * order. The caller has checked the block; its frames but the head are tails.
 * Below MAX_ORDER a buddy is in the block's own section (buddy.h), so it
 * always has a page_info; a buddy in a hole of RAM is PAGE_RESERVED.
 */
static int free_block(struct buddy *b, uint64_t idx, unsigned order)
{
	/* LAB BEGIN ch1 merge: free a block, merging it with its free buddy, order by order */
	while (order < MAX_ORDER) {
		uint64_t buddy = idx ^ order_size(order);
		const struct page_info *bp = buddy_page(b, buddy);
		if (bp->state != PAGE_FREE_HEAD || bp->order != order)
			break;
		free_list_del(b, buddy);
		buddy_page(b, idx)->state = PAGE_TAIL; /* the lower of the two heads leads now */
		idx &= ~order_size(order);
		order++;
	}
	free_list_add(b, idx, order);
	return 0;
	/* LAB STUB
	(void)b, (void)idx, (void)order;
	TODO("ch1", "free_block: free a block and merge it with its buddy");
	return -ENOSYS;
	LAB END */
}

/* Why the frame at @idx is not the head of an allocated block. */
static const char *not_allocated(const struct buddy *b, uint64_t idx)
{
	uint64_t head;
	unsigned order;
	switch (buddy_page(b, idx)->state) {
	case PAGE_RESERVED:
		return "reserved frame, never handed out";
	case PAGE_FREE_HEAD:
		return "already free (double free?)";
	case PAGE_PCP:
		return "already free (in a hart's frame cache)";
	case PAGE_TAIL:
		if (find_free_block(b, idx, &head, &order))
			return "already free (inside a free block)";
		return "not the first frame of an allocated block";
	default:
		return "not allocated";
	}
}

/*
 * Check that [idx, idx + n) is exactly one allocation: its decomposition
 * into maximal aligned blocks matches the allocated heads one for one, and
 * the run flags say it starts and ends there. NULL if so, else why not.
 */
static const char *check_run(const struct buddy *b, uint64_t idx, uint64_t n, bool by_order)
{
	uint64_t end = idx + n;
	for (uint64_t i = idx; i < end;) {
		unsigned o = chunk_order(i, end - i);
		const struct page_info *pg = buddy_page(b, i);
		if (pg->state != PAGE_ALLOC_HEAD)
			return not_allocated(b, i);
		if (pg->order != o)
			return by_order ? "wrong order" : "wrong size: n does not match the allocation";
		uint16_t want = (i > idx ? PAGE_RUN_PREV : 0) | (i + order_size(o) < end ? PAGE_RUN_NEXT : 0);
		if ((pg->flags & RUN_FLAGS) != want)
			return by_order ? "part of a larger allocation: free it with frames_free()"
					: "wrong size: n does not match the allocation";
		i += order_size(o);
	}
	return NULL;
}

/*
 * The last reference of each allocated head of [idx, idx + n) goes: its
 * count from 1 to 0 by compare-and-swap, all or none. A get_page() (which
 * takes no lock) either comes first, and the free is refused, or finds 0 and
 * is refused itself. Only a block on its own can be shared (get_page()
 * refuses a block of a multi-block run), so undoing the first ones is rare.
 */
static bool drop_last_refs(struct buddy *b, uint64_t idx, uint64_t n)
{
	uint64_t end = idx + n, i;
	for (i = idx; i < end; i += order_size(buddy_page(b, i)->order)) {
		int32_t one = 1;
		if (!__atomic_compare_exchange_n(&buddy_page(b, i)->refcount, &one, 0, false,
						 __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			break;
	}
	if (i == end)
		return true;
	for (uint64_t j = idx; j < i; j += order_size(buddy_page(b, j)->order))
		__atomic_store_n(&buddy_page(b, j)->refcount, 1, __ATOMIC_RELEASE);
	return false;
}

#define STILL_SHARED "still shared: get_page() took a reference no put_page() dropped"

int buddy_free(struct buddy *b, pfn_t pfn, unsigned order, const char **why)
{
	const char *problem = NULL;
	if (order > MAX_ORDER)
		problem = "order above MAX_ORDER";
	else if (!range_described(b, pfn, order_size(order)))
		problem = "outside the frames managed";
	else if (!IS_ALIGNED(pfn, order_size(order)))
		problem = buddy_page(b, pfn - b->base_pfn)->state == PAGE_ALLOC_HEAD
				  ? "wrong order"
				  : not_allocated(b, pfn - b->base_pfn);
	else
		problem = check_run(b, pfn - b->base_pfn, order_size(order), true);
	if (problem) {
		*why = problem;
		return -EINVAL;
	}
	if (!drop_last_refs(b, pfn - b->base_pfn, order_size(order))) {
		*why = STILL_SHARED;
		return -EBUSY;
	}
	return free_block(b, pfn - b->base_pfn, order);
}

int buddy_free_range(struct buddy *b, pfn_t pfn, uint64_t n, const char **why)
{
	if (!range_described(b, pfn, n)) {
		*why = n ? "outside the frames managed" : "zero frames";
		return -EINVAL;
	}
	uint64_t idx = pfn - b->base_pfn;
	const char *problem = check_run(b, idx, n, false);
	if (problem) {
		*why = problem;
		return -EINVAL;
	}
	if (!drop_last_refs(b, idx, n)) {
		*why = STILL_SHARED;
		return -EBUSY;
	}
	/* Every block checked: now free them all (none can fail but a stub). */
	uint64_t freed = give_back(b, idx, idx + n);
	return freed == n ? 0 : -ENOSYS;
}

/* ---- frame caches: order-0 blocks in batches --------------------------------- */

unsigned buddy_alloc_bulk(struct buddy *b, pfn_t *pfns, unsigned n)
{
	unsigned got = 0;
	for (pfn_t pfn; got < n && (pfn = buddy_alloc(b, 0)) != BUDDY_NO_PFN; got++) {
		struct page_info *pg = buddy_page(b, pfn - b->base_pfn);
		pg->state = PAGE_PCP;
		pg->refcount = 0;
		pfns[got] = pfn;
	}
	return got;
}

unsigned buddy_free_bulk(struct buddy *b, const pfn_t *pfns, unsigned n)
{
	unsigned freed = 0;
	for (unsigned i = 0; i < n; i++) {
		struct page_info *pg = described(b, pfns[i]) ? buddy_page(b, pfns[i] - b->base_pfn) : NULL;
		if (!pg || pg->state != PAGE_PCP)
			continue; /* not a cached frame: leave it be */
		pg->state = PAGE_TAIL;
		freed += free_block(b, pfns[i] - b->base_pfn, 0) == 0;
	}
	return freed;
}

/* ---- runs: alloc a count, claim a range, find a run ------------------------ */

/*
 * Make [idx, idx + n), whose frames are all PAGE_TAIL now, an allocated run:
 * one allocated head per block of its decomposition, linked by run flags.
 */
static inline void mark_run(struct buddy *b, uint64_t idx, uint64_t n)
{
	uint64_t end = idx + n;
	for (uint64_t i = idx; i < end;) {
		unsigned o = chunk_order(i, end - i);
		uint16_t flags =
			(i > idx ? PAGE_RUN_PREV : 0) | (i + order_size(o) < end ? PAGE_RUN_NEXT : 0);
		mark_alloc(b, i, o, flags);
		i += order_size(o);
	}
}

pfn_t buddy_alloc_run(struct buddy *b, uint64_t n)
{
	if (n == 0 || n > order_size(MAX_ORDER))
		return BUDDY_NO_PFN;
	unsigned order = order_for(n);
	pfn_t pfn = buddy_alloc(b, order);
	if (pfn == BUDDY_NO_PFN || n == order_size(order))
		return pfn;
	/* Keep the first n frames; the tail's blocks go back (a tail block's
	 * buddy is part of the run, so none of them merges). */
	uint64_t idx = pfn - b->base_pfn;
	buddy_page(b, idx)->state = PAGE_TAIL;
	mark_run(b, idx, n);
	give_back(b, idx + n, idx + order_size(order));
	return pfn;
}

int buddy_claim(struct buddy *b, pfn_t pfn, uint64_t n)
{
	/* LAB BEGIN ch1 claim: take the free blocks covering [pfn, pfn+n), give back what lies outside */
	if (!range_described(b, pfn, n))
		return -EINVAL;
	if (!buddy_range_is_free(b, pfn, n))
		return -EBUSY;
	uint64_t idx = pfn - b->base_pfn, end = idx + n, head = 0, first = 0, last = 0;
	unsigned order = 0;
	/* Off the lists with every free block that covers a part of the range. */
	for (uint64_t i = idx; i < end; i = last) {
		find_free_block(b, i, &head, &order);
		if (i == idx)
			first = head;
		free_list_del(b, head);
		last = head + order_size(order);
	}
	mark_run(b, idx, n);
	/* What those blocks held before and after the range is free again. */
	give_back(b, first, idx);
	give_back(b, end, last);
	return 0;
	/* LAB STUB
	(void)b, (void)pfn, (void)n;
	TODO("ch1", "buddy_claim: take the free blocks that cover a range");
	return -ENOSYS;
	LAB END */
}

/* One past the allocated block that holds frame @idx, or idx + 1 if none does. */
static uint64_t skip_allocated(const struct buddy *b, uint64_t idx)
{
	uint64_t head;
	unsigned order;
	if (find_block(b, idx, PAGE_ALLOC_HEAD, &head, &order))
		return head + order_size(order);
	return idx + 1;
}

pfn_t buddy_find_run(const struct buddy *b, uint64_t n, pfn_t lo, pfn_t hi)
{
	pfn_t end_pfn = b->base_pfn + b->nr_pages;
	if (lo < b->base_pfn)
		lo = b->base_pfn;
	if (hi > end_pfn)
		hi = end_pfn;
	if (n == 0 || lo >= hi || n > hi - lo)
		return BUDDY_NO_PFN;
	uint64_t start = lo - b->base_pfn, i = start, stop = hi - b->base_pfn, head;
	unsigned order;
	/* Walk whole blocks: a free block extends the run, anything else restarts it. */
	while (i < stop && stop - start >= n) {
		if (!buddy_has(b, i)) { /* a hole in RAM: no run goes across */
			i = ALIGN_DOWN(i, SECTION_FRAMES) + SECTION_FRAMES;
			start = i;
		} else if (find_free_block(b, i, &head, &order)) {
			i = head + order_size(order);
			if ((i < stop ? i : stop) - start >= n)
				return b->base_pfn + start;
		} else {
			i = skip_allocated(b, i);
			start = i;
		}
	}
	return BUDDY_NO_PFN;
}

/* ---- inspection ------------------------------------------------------------ */

void buddy_digest(const struct buddy *b, struct buddy_digest *d)
{
	d->free_frames = b->free_frames;
	for (unsigned o = 0; o <= MAX_ORDER; o++) {
		d->blocks[o] = d->pfn_sum[o] = d->pfn_xor[o] = 0;
		uint64_t guard = b->nr_pages; /* a cycle in a broken list must not hang us */
		for (uint32_t i = b->free_list[o]; i != BUDDY_NONE && buddy_has(b, i) && guard--;
		     i = buddy_page(b, i)->free.next) {
			d->blocks[o]++;
			d->pfn_sum[o] += b->base_pfn + i;
			d->pfn_xor[o] ^= b->base_pfn + i;
		}
	}
}

/* The free lists: linked both ways, heads of the right order, counts right. */
static const char *check_lists(const struct buddy *b, uint64_t *heads)
{
	uint64_t frames = 0;
	*heads = 0;
	for (unsigned o = 0; o <= MAX_ORDER; o++) {
		uint64_t count = 0;
		uint32_t prev = BUDDY_NONE;
		for (uint32_t i = b->free_list[o]; i != BUDDY_NONE;
		     prev = i, i = buddy_page(b, i)->free.next) {
			if (!buddy_has(b, i) || count > b->nr_pages)
				return "free list runs off the frames described or loops";
			const struct page_info *pg = buddy_page(b, i);
			if (pg->state != PAGE_FREE_HEAD || pg->order != o)
				return "block on a free list is not a free head of that order";
			if (pg->free.prev != prev)
				return "free list prev link is wrong";
			if (!IS_ALIGNED(i, order_size(o)) || i + order_size(o) > b->nr_pages)
				return "free block misaligned or past the array";
			count++;
		}
		if (count != b->nr_free[o])
			return "nr_free does not match the free list";
		frames += count << o;
		*heads += count;
	}
	return frames == b->free_frames ? NULL : "free_frames does not match the free lists";
}

const char *buddy_check(const struct buddy *b)
{
	uint64_t listed, heads = 0;
	const char *why = check_lists(b, &listed);
	if (why)
		return why;
	bool want_prev = false; /* the block before had PAGE_RUN_NEXT */
	for (uint64_t i = 0; i < b->nr_pages;) {
		if (!buddy_has(b, i)) { /* a hole: nothing to check, and no run goes across */
			if (want_prev)
				return "a run ends before its last block";
			i += SECTION_FRAMES;
			continue;
		}
		const struct page_info *pg = buddy_page(b, i);
		if (pg->state == PAGE_RESERVED) {
			if (want_prev)
				return "a run ends before its last block";
			i++;
			continue;
		}
		if (pg->state == PAGE_TAIL)
			return "tail frame outside any block";
		if (pg->order > MAX_ORDER || !IS_ALIGNED(i, order_size(pg->order)) ||
		    i + order_size(pg->order) > b->nr_pages)
			return "block head with a bad order or alignment";
		for (uint64_t t = i + 1; t < i + order_size(pg->order); t++)
			if (buddy_page(b, t)->state != PAGE_TAIL)
				return "frame inside a block is not a tail";
		if (pg->state == PAGE_PCP && pg->order != 0)
			return "a cached frame is not a block of order 0";
		if (pg->state == PAGE_ALLOC_HEAD ? page_ref_count(pg) < 1 : page_ref_count(pg) != 0)
			return "reference count wrong: 0 in a free head or a cached frame, 1 or more in an "
			       "allocated one";
		bool has_prev = pg->state == PAGE_ALLOC_HEAD && (pg->flags & PAGE_RUN_PREV);
		if (has_prev != want_prev)
			return "run flags do not link up";
		want_prev = pg->state == PAGE_ALLOC_HEAD && (pg->flags & PAGE_RUN_NEXT);
		if (pg->state == PAGE_FREE_HEAD) {
			heads++;
			uint64_t buddy = i ^ order_size(pg->order);
			if (pg->order < MAX_ORDER && buddy_page(b, buddy)->state == PAGE_FREE_HEAD &&
			    buddy_page(b, buddy)->order == pg->order)
				return "two free buddies left unmerged";
		}
		i += order_size(pg->order);
	}
	if (want_prev)
		return "a run ends before its last block";
	return heads == listed ? NULL : "a free head is on no free list";
}
