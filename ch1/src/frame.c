/*
 * The frame allocator the rest of the kernel uses: one zone, one buddy
 * system, one spinlock (Linux's zone->lock), watermarks with an emergency
 * reserve, a pressure state, shrinkers asked before an allocation fails, and
 * frees checked before anything changes.
 *
 * What runs under the lock is the buddy's bookkeeping only; zeroing frames,
 * calling shrinkers and printing a refused free happen outside it.
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

/* Everything here is guarded by lock but the two failure counters, which are
 * bumped atomically where the lock is not held. */
static struct {
	struct spinlock lock;
	struct buddy buddy;
	struct page_info *first_page; /* the first section's page_info: the others follow */
	const uint32_t *present;      /* the sections that have page_info, in order */
	uint64_t nr_present;	      /* how many: the array holds nr_present << SECTION_ORDER */
	bool ready;		      /* frame_zone_ready() ran: the API works */
	uint64_t total;		      /* frames given to the buddy */
	uint64_t reserved;	      /* frames of RAM kept out */
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

/* ---- watermarks and pressure ------------------------------------------------ */

/*
 * Under the lock: the pressure state for the free count now. Between low and
 * high the state stays what it was (hysteresis), so a count that hovers
 * around low does not flap between NONE and LOW.
 */
static void update_pressure(void)
{
	uint64_t free = zone.buddy.free_frames;
	if (free < zone.wm.min)
		zone.pressure = PRESSURE_CRITICAL;
	else if (free < zone.wm.low)
		zone.pressure = PRESSURE_LOW;
	else if (free >= zone.wm.high)
		zone.pressure = PRESSURE_NONE;
	else if (zone.pressure == PRESSURE_CRITICAL)
		zone.pressure = PRESSURE_LOW;
}

/* Under the lock: may @n frames go? Not if that leaves fewer than min free,
 * unless the caller may use the emergency reserve (then the buddy decides). */
static bool reserve_allows(uint64_t n, unsigned flags)
{
	uint64_t free = zone.buddy.free_frames;
	return (flags & FRAME_EMERGENCY) || (n <= free && free - n >= zone.wm.min);
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
	spin_lock(&zone.lock);
	if (wm.min <= wm.low && wm.low <= wm.high && wm.high <= zone.total) {
		zone.wm = wm;
		update_pressure();
		err = 0;
	}
	spin_unlock(&zone.lock);
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
		else if (!reserve_allows(r->n, r->flags))
			*err = -ENOMEM;
		else if ((*err = buddy_claim(b, r->pfn, r->n)) == 0)
			pfn = r->pfn;
		return pfn;
	}
	*err = -ENOMEM;
	if (!reserve_allows(r->n, r->flags))
		return BUDDY_NO_PFN;
	if (r->kind != BY_ORDER && r->n > b->free_frames)
		return BUDDY_NO_PFN; /* spare the search below */
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
	return pfn;
}

/*
 * Serve @r: try; if out of memory, ask the shrinkers and try once more
 * (Linux's slow path, reclaim and retry, in miniature). On failure count it
 * and return 0 with *errp set; on success zero the frames if asked, outside
 * the lock.
 */
static paddr_t alloc(const struct request *r, int *errp)
{
	int err = -EINVAL;
	pfn_t pfn = BUDDY_NO_PFN;
	for (int attempt = 0; zone.ready; attempt++) {
		spin_lock(&zone.lock);
		pfn = try_alloc(r, &err);
		if (pfn != BUDDY_NO_PFN)
			update_pressure();
		spin_unlock(&zone.lock);
		if (pfn != BUDDY_NO_PFN || err != -ENOMEM || attempt == 1 || shrink(r->n) == 0)
			break;
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

paddr_t frame_alloc(unsigned flags) { return frames_alloc_order(0, flags); }

paddr_t frames_alloc_order(unsigned order, unsigned flags)
{
	if (order > MAX_ORDER)
		return refuse();
	struct request r = {.kind = BY_ORDER, .n = 1UL << order, .order = order, .flags = flags};
	return alloc(&r, NULL);
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
 * Free @n frames at @pa: the block of order @order, or (order < 0) the run
 * of n frames. Checked whole before anything changes; a refused free is
 * counted and reported with its reason, and the caller gets -EINVAL, or
 * -EBUSY for a block still shared. @quiet_busy: the last put_page(), which
 * retries when a get_page() got in first, neither counts nor reports that.
 */
static int free_checked(paddr_t pa, uint64_t n, int order, bool quiet_busy)
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
		if (err == 0)
			update_pressure();
		spin_unlock(&zone.lock);
	}
	if (err == -EINVAL || (err == -EBUSY && !quiet_busy)) {
		__atomic_add_fetch(&zone.bad_frees, 1, __ATOMIC_RELAXED);
		printk("frames: refused free of 0x%lx (%lu frames): %s\n", pa, n, why);
	}
	return err;
}

int frame_free(paddr_t pa) { return free_checked(pa, 1, 0, false); }

int frames_free_order(paddr_t pa, unsigned order)
{
	if (order > MAX_ORDER)
		return free_checked(pa, 1, MAX_ORDER + 1, false);
	return free_checked(pa, 1UL << order, (int)order, false);
}

int frames_free(paddr_t pa, size_t n) { return free_checked(pa, n, -1, false); }

int frames_free_last_ref(paddr_t pa, unsigned order)
{
	return free_checked(pa, 1UL << order, (int)order, true);
}

void frames_count_bad_free(void) { __atomic_add_fetch(&zone.bad_frees, 1, __ATOMIC_RELAXED); }

int frames_free_bytes(paddr_t pa, size_t bytes) { return frames_free(pa, bytes_to_frames(bytes)); }

/* ---- counters and lookups --------------------------------------------------------- */

uint64_t frames_nr_free(void) { return READ_ONCE(zone.buddy.free_frames); }

uint64_t frames_nr_used(void)
{
	spin_lock(&zone.lock);
	uint64_t used = zone.total - zone.buddy.free_frames;
	spin_unlock(&zone.lock);
	return used;
}

uint64_t frames_nr_total(void) { return zone.total; }

void frames_get_stats(struct frame_stats *out)
{
	spin_lock(&zone.lock);
	out->total = zone.total;
	out->free = zone.buddy.free_frames;
	out->used = zone.total - zone.buddy.free_frames;
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
	if (!zone.ready || !memmap_is_ram(pa, 1))
		return NULL;
	return buddy_page(&zone.buddy, pa_to_pfn(pa) - zone.buddy.base_pfn);
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

/* ---- for ch1's tests ----------------------------------------------------------------- */

void frames_digest(struct buddy_digest *d)
{
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
	bool free = buddy_is_free(&zone.buddy, pa_to_pfn(pa));
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
