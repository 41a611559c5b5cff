/*
 * The frame allocator the rest of the kernel uses: one zone, one buddy
 * system, one spinlock (Linux's zone->lock), a cache of order-0 frames on
 * each hart in front of it (pcp.c), watermarks with an emergency reserve, a
 * pressure state, shrinkers asked before an allocation fails, and frees
 * checked before anything changes.
 *
 * What runs under the lock is the buddy's bookkeeping only; zeroing frames,
 * calling shrinkers and printing a refused free happen outside it.
 *
 * The free count, nr_free, is one counter of every free frame, on the free
 * lists or in a cache, changed with atomic operations so that the fast path
 * (no zone lock) and the slow path (under it) keep it exact between them.
 * An allocation takes its frames off the count before it takes the frames
 * (take_free()), and only if the count stays at a floor or above: min for
 * the slow path, so the emergency reserve holds; low for the fast path, so
 * the fast path never puts the zone under pressure, and while it is under
 * pressure every frame goes through the slow path, where the pressure
 * state is kept. Linux counts per cpu and checks watermarks approximately,
 * which scales further; one exact counter is what lets the tests (and the
 * runner's frames_returned) count frames to the frame.
 *
 * Reference: Linux mm/page_alloc.c (zone->lock, watermarks, __alloc_pages
 * slow path: reclaim then retry), Redox's pressure governor, xv6-riscv
 * kernel/kalloc.c.
 */
#include "buddy.h"
#include "errno.h"
#include "frame.h"
#include "frame_internal.h"
#include "memlayout.h"
#include "memmap.h"
#include "printk.h"
#include "spinlock.h"
#include "string.h"

/* Everything here is guarded by lock but nr_free and the two failure
 * counters, which change atomically where the lock is not held. */
static struct {
	struct spinlock lock;
	struct buddy buddy;
	struct page_info *first_page; /* the first section's page_info: the others follow */
	const uint32_t *present;      /* the sections that have page_info, in order */
	uint64_t nr_present;	      /* how many: the array holds nr_present << SECTION_ORDER */
	bool ready;		      /* frame_zone_ready() ran: the API works */
	uint64_t total;		      /* frames given to the buddy */
	uint64_t reserved;	      /* frames of RAM kept out */
	uint64_t nr_free;	      /* free frames: on the free lists or in a hart's cache */
	uint64_t metadata_bytes;
	uint64_t bad_frees;
	uint64_t failed_allocs;
	struct frame_watermarks wm;
	enum frame_pressure pressure;
	frame_shrinker_fn shrinkers[MAX_SHRINKERS];
	int nr_shrinkers;
} zone = {.lock = SPINLOCK_INIT("zone")};

/* ---- set-up (memmap.c calls these at boot) --------------------------------- */

/*
 * The metadata's layout: the page_info of each section that holds RAM, one
 * after the other, then the sections table, then the list of those sections.
 */
void frame_zone_init(void *meta, pfn_t lo, pfn_t hi, bool (*has_ram)(pfn_t start, pfn_t end),
		     uint64_t metadata_bytes)
{
	uint64_t nr_sections = buddy_nr_sections(lo, hi), nr_present = 0;
	for (uint64_t s = 0; s < nr_sections; s++) {
		pfn_t start = buddy_base(lo) + (s << SECTION_ORDER);
		nr_present += has_ram(start, start + SECTION_FRAMES);
	}
	struct page_info *pages = meta;
	struct page_info **sections = (struct page_info **)(pages + (nr_present << SECTION_ORDER));
	uint32_t *present = (uint32_t *)(sections + nr_sections);
	for (uint64_t s = 0, k = 0; s < nr_sections; s++) {
		pfn_t start = buddy_base(lo) + (s << SECTION_ORDER);
		sections[s] = NULL;
		if (has_ram(start, start + SECTION_FRAMES)) {
			sections[s] = pages + (k << SECTION_ORDER);
			present[k++] = (uint32_t)s;
		}
	}
	buddy_init(&zone.buddy, sections, lo, hi);
	zone.first_page = pages;
	zone.present = present;
	zone.nr_present = nr_present;
	zone.metadata_bytes = metadata_bytes;
}

uint64_t frame_zone_add(pfn_t start, pfn_t end)
{
	uint64_t added = buddy_add_range(&zone.buddy, start, end);
	zone.total += added;
	zone.nr_free += added;
	return added;
}

struct frame_watermarks frames_default_watermarks(uint64_t total)
{
	uint64_t min = MAX(total / 256, (uint64_t)16);
	min = MIN(min, total / 4);
	return (struct frame_watermarks){.min = min, .low = min * 5 / 4, .high = min * 3 / 2};
}

void frame_zone_ready(uint64_t ram_frames)
{
	zone.reserved = ram_frames - zone.total;
	zone.wm = frames_default_watermarks(zone.total);
	zone.pressure = PRESSURE_NONE;
	zone.ready = true;
}

/* ---- the free count ---------------------------------------------------------- */

static inline uint64_t nr_free(void) { return __atomic_load_n(&zone.nr_free, __ATOMIC_RELAXED); }

/* Take @n frames off the free count if at least @floor stay counted; false (nothing taken) if not. */
static inline bool take_free(uint64_t n, uint64_t floor)
{
	uint64_t free = nr_free();
	do {
		if (free < n || free - n < floor)
			return false;
	} while (!__atomic_compare_exchange_n(&zone.nr_free, &free, free - n, true, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	return true;
}

/* Count @n frames free again: freed, or taken by take_free() and not used. */
static inline void give_free(uint64_t n) { __atomic_add_fetch(&zone.nr_free, n, __ATOMIC_RELAXED); }

/* ---- watermarks and pressure ------------------------------------------------ */

/*
 * Under the lock: the pressure state for the free count now. Between low and
 * high the state stays what it was (hysteresis), so a count that hovers
 * around low does not flap between NONE and LOW. Returns true if the zone
 * has just come under pressure: the caller drains the caches (without the
 * lock), so that what they hold can merge again.
 */
static bool update_pressure(void)
{
	uint64_t free = nr_free();
	enum frame_pressure was = zone.pressure;
	if (free < zone.wm.min)
		zone.pressure = PRESSURE_CRITICAL;
	else if (free < zone.wm.low)
		zone.pressure = PRESSURE_LOW;
	else if (free >= zone.wm.high)
		zone.pressure = PRESSURE_NONE;
	else if (zone.pressure == PRESSURE_CRITICAL)
		zone.pressure = PRESSURE_LOW;
	return was == PRESSURE_NONE && zone.pressure != PRESSURE_NONE;
}

/* Under the lock: take @n frames off the free count, unless that leaves
 * fewer than min free and the caller may not use the emergency reserve. */
static bool reserve(uint64_t n, unsigned flags)
{
	return take_free(n, (flags & FRAME_EMERGENCY) ? 0 : zone.wm.min);
}

struct frame_watermarks frames_watermarks(void)
{
	spin_lock(&zone.lock);
	struct frame_watermarks wm = zone.wm;
	spin_unlock(&zone.lock);
	return wm;
}

int frames_set_watermarks(struct frame_watermarks wm)
{
	int err = -EINVAL;
	bool rose = false;
	spin_lock(&zone.lock);
	if (wm.min <= wm.low && wm.low <= wm.high && wm.high <= zone.total) {
		zone.wm = wm;
		rose = update_pressure();
		err = 0;
	}
	spin_unlock(&zone.lock);
	if (rose)
		frames_drain_caches();
	return err;
}

enum frame_pressure frames_pressure(void) { return READ_ONCE(zone.pressure); }

/* ---- shrinkers ----------------------------------------------------------------- */

int frames_register_shrinker(frame_shrinker_fn fn)
{
	int err = -ENOSPC;
	if (!fn)
		return -EINVAL;
	spin_lock(&zone.lock);
	if (zone.nr_shrinkers < MAX_SHRINKERS) {
		zone.shrinkers[zone.nr_shrinkers++] = fn;
		err = 0;
	}
	spin_unlock(&zone.lock);
	return err;
}

int frames_unregister_shrinker(frame_shrinker_fn fn)
{
	int err = -ENOENT;
	spin_lock(&zone.lock);
	for (int i = 0; i < zone.nr_shrinkers; i++) {
		if (zone.shrinkers[i] == fn) {
			for (int j = i + 1; j < zone.nr_shrinkers; j++)
				zone.shrinkers[j - 1] = zone.shrinkers[j];
			zone.nr_shrinkers--;
			err = 0;
			break;
		}
	}
	spin_unlock(&zone.lock);
	return err;
}

/*
 * Ask every shrinker for @frames frames, with the lock not held (a shrinker
 * frees through frame_free(), which takes it). Returns how many shrinkers
 * were asked: with none, a retry cannot find more than the first try.
 */
static int shrink(uint64_t frames)
{
	frame_shrinker_fn fns[MAX_SHRINKERS];
	spin_lock(&zone.lock);
	int n = zone.nr_shrinkers;
	memcpy(fns, zone.shrinkers, sizeof(fns));
	spin_unlock(&zone.lock);
	for (int i = 0; i < n; i++)
		fns[i](frames);
	return n;
}

/* ---- allocating ----------------------------------------------------------------- */

enum request_kind { BY_ORDER, BY_COUNT, AT, IN_RANGE };

/* One allocation request, as the public functions phrase it. */
struct request {
	enum request_kind kind;
	uint64_t n;	/* frames */
	unsigned order; /* BY_ORDER */
	pfn_t pfn;	/* AT: the first frame wanted */
	pfn_t lo, hi;	/* IN_RANGE: frames [lo, hi) */
	unsigned flags; /* FRAME_* */
};

/* Under the lock: the lowest run of n free frames in [lo, hi), claimed. */
static pfn_t claim_run(uint64_t n, pfn_t lo, pfn_t hi)
{
	pfn_t pfn = buddy_find_run(&zone.buddy, n, lo, hi);
	if (pfn != BUDDY_NO_PFN && buddy_claim(&zone.buddy, pfn, n) != 0)
		pfn = BUDDY_NO_PFN;
	return pfn;
}

/* Under the lock: one attempt at @r. The first frame, or BUDDY_NO_PFN and *err. */
static pfn_t try_alloc(const struct request *r, int *err)
{
	struct buddy *b = &zone.buddy;
	pfn_t pfn = BUDDY_NO_PFN;
	if (r->kind == AT) {
		/* Busy comes before short of memory: the caller asked for these frames. */
		if (!buddy_range_is_free(b, r->pfn, r->n))
			*err = -EBUSY;
		else if (!reserve(r->n, r->flags))
			*err = -ENOMEM;
		else if ((*err = buddy_claim(b, r->pfn, r->n)) == 0)
			pfn = r->pfn;
		else
			give_free(r->n);
		return pfn;
	}
	*err = -ENOMEM;
	if (!reserve(r->n, r->flags))
		return BUDDY_NO_PFN;
	if (r->kind != BY_ORDER && r->n > b->free_frames) {
		give_free(r->n); /* spare the search below: the rest are in caches */
		return BUDDY_NO_PFN;
	}
	switch (r->kind) {
	case BY_ORDER:
		pfn = buddy_alloc(b, r->order);
		break;
	case BY_COUNT:
		if (r->n <= 1UL << MAX_ORDER)
			pfn = buddy_alloc_run(b, r->n);
		/* No block large enough (or n too large for one): a run of free
		 * frames may still exist across blocks. Search for it. */
		if (pfn == BUDDY_NO_PFN && r->n > 1)
			pfn = claim_run(r->n, b->base_pfn, b->base_pfn + b->nr_pages);
		break;
	case IN_RANGE:
		pfn = claim_run(r->n, r->lo, r->hi);
		break;
	default:
		break;
	}
	if (pfn == BUDDY_NO_PFN)
		give_free(r->n);
	return pfn;
}

/*
 * Serve @r under the zone lock (the slow path): try; if the frames wanted
 * are short or busy, drain the harts' caches, whose frames are free but out
 * of the buddy's reach, and try again; if still out of memory, ask the
 * shrinkers and try once more (Linux's slow path, drain_all_pages() and
 * reclaim then retry, in miniature). On failure count it and return 0 with
 * *errp set; on success zero the frames if asked, outside the lock.
 */
static paddr_t alloc(const struct request *r, int *errp)
{
	int err = -EINVAL;
	pfn_t pfn = BUDDY_NO_PFN;
	bool drained = false, reclaimed = false;
	while (zone.ready) {
		spin_lock(&zone.lock);
		pfn = try_alloc(r, &err);
		bool rose = pfn != BUDDY_NO_PFN && update_pressure();
		spin_unlock(&zone.lock);
		if (rose)
			frames_drain_caches();
		if (pfn != BUDDY_NO_PFN || (err != -ENOMEM && err != -EBUSY))
			break;
		if (!drained) {
			drained = true;
			if (frames_drain_caches())
				continue;
		}
		if (err != -ENOMEM || reclaimed || shrink(r->n) == 0)
			break;
		reclaimed = true;
		drained = false; /* what the shrinkers freed may wait in a cache */
	}
	if (pfn == BUDDY_NO_PFN) {
		__atomic_add_fetch(&zone.failed_allocs, 1, __ATOMIC_RELAXED);
		if (errp)
			*errp = err;
		return 0;
	}
	paddr_t pa = pfn_to_pa(pfn);
	if (r->flags & FRAME_ZERO)
		memset(pa_to_kva(pa), 0, r->n * PAGE_SIZE);
	return pa;
}

/* True if the @n frames at @pa are all RAM (n * PAGE_SIZE cannot overflow). */
static bool frames_are_ram(paddr_t pa, uint64_t n)
{
	return n <= DIRECT_MAP_SIZE / PAGE_SIZE && memmap_is_ram(pa, n * PAGE_SIZE);
}

/* A request that is wrong before it starts still counts as a failed allocation. */
static paddr_t refuse(void)
{
	__atomic_add_fetch(&zone.failed_allocs, 1, __ATOMIC_RELAXED);
	return 0;
}

/* The page_info of frame @pfn, or NULL if the zone has none (outside the span, or a section with no RAM). */
static inline struct page_info *pfn_page(pfn_t pfn)
{
	uint64_t idx = pfn - zone.buddy.base_pfn; /* below the span, this wraps past nr_pages */
	return buddy_has(&zone.buddy, idx) ? buddy_page(&zone.buddy, idx) : NULL;
}

/*
 * The fast path of an order-0 allocation: a frame off this hart's cache,
 * without the zone lock. 0 if it cannot serve: the zone is under pressure,
 * or would come under it (fewer than low free), or no frame is left to
 * lend; the slow path then decides, and reports.
 */
static paddr_t alloc_cached(unsigned flags)
{
	pfn_t pfn;
	if (READ_ONCE(zone.pressure) != PRESSURE_NONE || !zone.ready || !take_free(1, zone.wm.low))
		return 0;
	if (!pcp_pop(&pfn)) {
		give_free(1);
		return 0;
	}
	/* Allocated as buddy_alloc() hands a block out: order 0, one reference, no flags, private 0. */
	*buddy_page(&zone.buddy, pfn - zone.buddy.base_pfn) =
		(struct page_info){.state = PAGE_ALLOC_HEAD, .refcount = 1};
	paddr_t pa = pfn_to_pa(pfn);
	if (flags & FRAME_ZERO)
		memset(pa_to_kva(pa), 0, PAGE_SIZE);
	return pa;
}

/* frames_alloc_order() through the zone lock: out of line, so the fast path's frame stays small. */
static __attribute__((noinline)) paddr_t alloc_order_locked(unsigned order, unsigned flags)
{
	if (order > MAX_ORDER)
		return refuse();
	struct request r = {.kind = BY_ORDER, .n = 1UL << order, .order = order, .flags = flags};
	return alloc(&r, NULL);
}

paddr_t frame_alloc(unsigned flags) { return frames_alloc_order(0, flags); }

paddr_t frames_alloc_order(unsigned order, unsigned flags)
{
	if (order == 0) {
		paddr_t pa = alloc_cached(flags);
		if (pa)
			return pa;
	}
	return alloc_order_locked(order, flags);
}

paddr_t frames_alloc(size_t n, unsigned flags)
{
	if (n == 0 || n > zone.total)
		return refuse();
	struct request r = {.kind = BY_COUNT, .n = n, .flags = flags};
	return alloc(&r, NULL);
}

int frames_alloc_at(paddr_t pa, size_t n, unsigned flags)
{
	if (!IS_ALIGNED(pa, PAGE_SIZE) || n == 0 || !frames_are_ram(pa, n)) {
		refuse();
		return -EINVAL;
	}
	int err = 0;
	struct request r = {.kind = AT, .n = n, .pfn = pa_to_pfn(pa), .flags = flags};
	return alloc(&r, &err) ? 0 : err;
}

paddr_t frames_alloc_in_range(size_t n, paddr_t lo, paddr_t hi, unsigned flags)
{
	pfn_t first = pa_to_pfn(ALIGN_UP(lo, PAGE_SIZE)), end = pa_to_pfn(ALIGN_DOWN(hi, PAGE_SIZE));
	if (n == 0 || lo > UINT64_MAX - PAGE_SIZE || first >= end || n > end - first)
		return refuse();
	struct request r = {.kind = IN_RANGE, .n = n, .lo = first, .hi = end, .flags = flags};
	return alloc(&r, NULL);
}

/* Frames that @bytes takes, rounded up. */
static size_t bytes_to_frames(size_t bytes) { return bytes / PAGE_SIZE + (bytes % PAGE_SIZE != 0); }

paddr_t frames_alloc_bytes(size_t bytes, unsigned flags)
{
	return frames_alloc(bytes_to_frames(bytes), flags);
}

/* ---- freeing ---------------------------------------------------------------------- */

/*
 * The fast path of an order-0 free: onto this hart's cache, without the
 * zone lock. False, nothing changed, unless @pa is the head of an allocated
 * block of order 0 on its own, held once, and the zone is not under
 * pressure: everything else (a wrong free to report, a shared block, a
 * frame that should merge now) takes the checked path.
 */
static bool free_cached(paddr_t pa)
{
	if (READ_ONCE(zone.pressure) != PRESSURE_NONE || !IS_ALIGNED(pa, PAGE_SIZE))
		return false;
	struct page_info *pg = pfn_page(pa_to_pfn(pa));
	if (!pg || pg->state != PAGE_ALLOC_HEAD || pg->order != 0 || (pg->flags & PAGE_FLAGS_CH1))
		return false;
	/* The last reference goes, 1 to 0, as drop_last_refs() does in buddy.c. */
	int32_t one = 1;
	if (!__atomic_compare_exchange_n(&pg->refcount, &one, 0, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		return false;
	/* Its owner's flags and private word are forgotten, so a stale one can mislead no one. */
	*pg = (struct page_info){.state = PAGE_PCP};
	pcp_push(pa_to_pfn(pa));
	give_free(1);
	return true;
}

/*
 * Free @n frames at @pa: the block of order @order, or (order < 0) the run
 * of n frames. Checked whole before anything changes; a refused free is
 * counted and reported with its reason, and the caller gets -EINVAL, or
 * -EBUSY for a block still shared. @quiet_busy: the last put_page(), which
 * retries when a get_page() got in first, neither counts nor reports that.
 */
static __attribute__((noinline)) int free_checked(paddr_t pa, uint64_t n, int order, bool quiet_busy)
{
	const char *why = NULL;
	int err = -EINVAL;
	if (!zone.ready)
		why = "no frame allocator";
	else if (!IS_ALIGNED(pa, PAGE_SIZE))
		why = "not page-aligned";
	else if (n == 0)
		why = "zero frames";
	else if (order > MAX_ORDER)
		why = "order above MAX_ORDER";
	else if (!frames_are_ram(pa, n))
		why = "outside RAM";
	if (!why) {
		spin_lock(&zone.lock);
		if (order >= 0)
			err = buddy_free(&zone.buddy, pa_to_pfn(pa), (unsigned)order, &why);
		else
			err = buddy_free_range(&zone.buddy, pa_to_pfn(pa), n, &why);
		if (err == 0) {
			give_free(n);
			update_pressure(); /* a free only relieves pressure: nothing to drain */
		}
		spin_unlock(&zone.lock);
	}
	if (err == -EINVAL || (err == -EBUSY && !quiet_busy)) {
		__atomic_add_fetch(&zone.bad_frees, 1, __ATOMIC_RELAXED);
		printk("frames: refused free of 0x%lx (%lu frames): %s\n", pa, n, why);
	}
	return err;
}

/* Free the block of 2^@order frames at @pa: a single frame tries this hart's
 * cache first; the rest, and a refusal, go the checked way. */
static inline int free_order(paddr_t pa, unsigned order, bool quiet_busy)
{
	if (order == 0 && free_cached(pa))
		return 0;
	return free_checked(pa, 1UL << order, (int)order, quiet_busy);
}

int frame_free(paddr_t pa) { return frames_free_order(pa, 0); }

int frames_free_order(paddr_t pa, unsigned order)
{
	if (order > MAX_ORDER)
		return free_checked(pa, 1, MAX_ORDER + 1, false);
	return free_order(pa, order, false);
}

int frames_free(paddr_t pa, size_t n)
{
	if (n == 1 && free_cached(pa))
		return 0;
	return free_checked(pa, n, -1, false);
}

int frames_free_last_ref(paddr_t pa, unsigned order) { return free_order(pa, order, true); }

void frames_count_bad_free(void) { __atomic_add_fetch(&zone.bad_frees, 1, __ATOMIC_RELAXED); }

int frames_free_bytes(paddr_t pa, size_t bytes) { return frames_free(pa, bytes_to_frames(bytes)); }

/* ---- counters and lookups --------------------------------------------------------- */

uint64_t frames_nr_free(void) { return nr_free(); }

uint64_t frames_nr_used(void) { return zone.total - nr_free(); }

uint64_t frames_nr_total(void) { return zone.total; }

void frames_get_stats(struct frame_stats *out)
{
	spin_lock(&zone.lock);
	out->total = zone.total;
	out->free = nr_free();
	out->cached = pcp_nr_cached();
	out->used = zone.total - out->free;
	out->reserved = zone.reserved;
	out->bad_frees = __atomic_load_n(&zone.bad_frees, __ATOMIC_RELAXED);
	out->failed_allocs = __atomic_load_n(&zone.failed_allocs, __ATOMIC_RELAXED);
	out->metadata_bytes = zone.metadata_bytes;
	for (unsigned o = 0; o <= MAX_ORDER; o++)
		out->free_blocks[o] = zone.buddy.nr_free[o];
	spin_unlock(&zone.lock);
}

struct page_info *pa_to_page(paddr_t pa)
{
	struct page_info *page = zone.ready ? pfn_page(pa_to_pfn(pa)) : NULL;
	/* A frame the buddy ever had is RAM; a reserved one may be RAM (the
	 * kernel's) or a hole inside a section, which only the map can tell. */
	if (page && page->state == PAGE_RESERVED && !memmap_is_ram(pa, 1))
		return NULL;
	return page;
}

paddr_t page_to_pa(const struct page_info *page)
{
	uintptr_t off = (uintptr_t)page - (uintptr_t)zone.first_page;
	if (!zone.ready || (uintptr_t)page < (uintptr_t)zone.first_page || off % sizeof(*page) ||
	    off / sizeof(*page) >= zone.nr_present << SECTION_ORDER)
		return 0; /* not one of ours */
	/* The sections' page_info lie one after the other: which one, then where in it. */
	uint64_t at = off / sizeof(*page);
	uint64_t section = zone.present[at >> SECTION_ORDER];
	return pfn_to_pa(zone.buddy.base_pfn + (section << SECTION_ORDER) + (at & (SECTION_FRAMES - 1)));
}

/* ---- for pcp.c: batches between a cache and the buddy -------------------------------- */

unsigned frame_zone_lend(pfn_t *pfns, unsigned n)
{
	spin_lock(&zone.lock);
	unsigned got = buddy_alloc_bulk(&zone.buddy, pfns, n);
	spin_unlock(&zone.lock);
	return got;
}

void frame_zone_take_back(const pfn_t *pfns, unsigned n)
{
	spin_lock(&zone.lock);
	buddy_free_bulk(&zone.buddy, pfns, n);
	spin_unlock(&zone.lock);
}

/* ---- for ch1's tests ----------------------------------------------------------------- */

void frames_digest(struct buddy_digest *d)
{
	frames_drain_caches();
	spin_lock(&zone.lock);
	buddy_digest(&zone.buddy, d);
	spin_unlock(&zone.lock);
}

const char *frames_check(void)
{
	spin_lock(&zone.lock);
	const char *why = buddy_check(&zone.buddy);
	spin_unlock(&zone.lock);
	return why;
}

bool frames_is_free(paddr_t pa)
{
	if (!zone.ready)
		return false;
	spin_lock(&zone.lock);
	const struct page_info *page = pfn_page(pa_to_pfn(pa));
	bool free = buddy_is_free(&zone.buddy, pa_to_pfn(pa)) || (page && page->state == PAGE_PCP);
	spin_unlock(&zone.lock);
	return free;
}

int frames_shrinkers_save(frame_shrinker_fn saved[MAX_SHRINKERS])
{
	spin_lock(&zone.lock);
	int n = zone.nr_shrinkers;
	memcpy(saved, zone.shrinkers, sizeof(zone.shrinkers));
	zone.nr_shrinkers = 0;
	spin_unlock(&zone.lock);
	return n;
}

void frames_shrinkers_restore(const frame_shrinker_fn saved[MAX_SHRINKERS], int n)
{
	spin_lock(&zone.lock);
	memcpy(zone.shrinkers, saved, sizeof(zone.shrinkers));
	zone.nr_shrinkers = n;
	spin_unlock(&zone.lock);
}
