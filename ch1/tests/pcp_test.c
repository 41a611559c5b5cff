/*
 * ch1.pcp: the per-hart frame caches (given code, ch1/src/pcp.c). Frames in
 * a cache are free and counted so; a cache keeps at most PCP_HIGH; a cached
 * frame is no one's to free or to reference, and a shared one never gets in;
 * what comes out is zeroed when asked; a cached frame can still be claimed by
 * address or drained by an allocation that needs every frame; and the zone
 * coming under pressure empties every cache and keeps them empty.
 */
#include "ch1_test.h"
#include "smp.h"

/* Allocate @n single frames onto @h. @return how many came. */
static uint64_t take_singles(struct held *h, uint64_t n)
{
	uint64_t got = 0;
	for (paddr_t pa; got < n && (pa = frame_alloc(0)) && held_push(h, pa, 0);)
		got++;
	return got;
}

/* A frame allocated and freed, so that it waits in this hart's cache; 0 if none did. */
static paddr_t a_cached_frame(void)
{
	paddr_t pa = frame_alloc(0);
	if (!pa || frame_free(pa) != 0 || pa_to_page(pa)->state != PAGE_PCP)
		return 0;
	return pa;
}

static uint64_t cached_now(void)
{
	struct frame_stats st;
	frames_get_stats(&st);
	return st.cached;
}

KTEST(ch1_pcp, cached_frames_are_counted_free)
{
	CH1_REQUIRE_FRAMES();
	frames_drain_caches();
	uint64_t free = frames_nr_free();
	struct held *h = held_begin();
	KASSERT_EQ(take_singles(h, 3 * PCP_BATCH), 3 * PCP_BATCH);
	KEXPECT_EQ(frames_nr_free(), free - 3 * PCP_BATCH);
	paddr_t last = h->pa[h->blocks - 1];
	KEXPECT_EQ(held_release(h), 0);
	/* Every frame is free again, and the frames freed wait in this hart's cache. */
	KEXPECT_EQ(frames_nr_free(), free);
	struct frame_stats st;
	frames_get_stats(&st);
	KEXPECT_GE(st.cached, 3 * PCP_BATCH);
	KEXPECT_LE(st.cached, PCP_HIGH);
	KEXPECT_EQ(st.free + st.used, st.total);
	KEXPECT_TRUE(frames_is_free(last));
	KEXPECT_EQ(pa_to_page(last)->state, PAGE_PCP);
	/* Draining moves them to the free lists: the count does not change. */
	KEXPECT_EQ(frames_drain_caches(), st.cached);
	KEXPECT_EQ(cached_now(), 0);
	KEXPECT_EQ(frames_nr_free(), free);
	KEXPECT_TRUE(frames_is_free(last));
	KEXPECT_NULL(frames_check());
}

KTEST(ch1_pcp, a_cache_keeps_at_most_high)
{
	CH1_REQUIRE_FRAMES();
	frames_drain_caches();
	struct held *h = held_begin();
	KASSERT_EQ(take_singles(h, 2 * PCP_HIGH), 2 * PCP_HIGH);
	KEXPECT_EQ(held_release(h), 0);
	/* Each time the cache was full, its oldest batch went back: between HIGH - BATCH and HIGH stay. */
	uint64_t cached = cached_now();
	KEXPECT_LE(cached, PCP_HIGH);
	KEXPECT_GT(cached, PCP_HIGH - PCP_BATCH);
	KEXPECT_NULL(frames_check());
}

KTEST(ch1_pcp, a_cached_frame_is_refused_as_free)
{
	CH1_REQUIRE_FRAMES();
	paddr_t pa = a_cached_frame();
	KASSERT_NE(pa, 0);
	struct frame_stats a, b;
	frames_get_stats(&a);
	KEXPECT_EQ(frame_free(pa), -EINVAL);
	KEXPECT_EQ(frames_free_order(pa, 0), -EINVAL);
	KEXPECT_EQ(frames_free(pa, 1), -EINVAL);
	KEXPECT_EQ(frame_put(pa), -EINVAL);
	KEXPECT_EQ(frame_get(pa), -EINVAL);
	KEXPECT_EQ(page_set_flag(pa_to_page(pa), 0x1), -EINVAL);
	frames_get_stats(&b);
	KEXPECT_EQ(b.free, a.free);
	KEXPECT_EQ(b.cached, a.cached);
	KEXPECT_EQ(b.bad_frees, a.bad_frees + 4); /* the frees and the put; a get is not a free */
	KEXPECT_EQ(pa_to_page(pa)->state, PAGE_PCP);
	KEXPECT_EQ(page_ref_count(pa_to_page(pa)), 0);
	KEXPECT_NULL(frames_check());
}

KTEST(ch1_pcp, a_shared_frame_stays_out_of_the_cache)
{
	CH1_REQUIRE_FRAMES();
	paddr_t pa = frame_alloc(0);
	KASSERT_NE(pa, 0);
	KASSERT_EQ(frame_get(pa), 0);
	/* Two holders: the free is refused, and the frame stays allocated, held twice. */
	uint64_t free = frames_nr_free();
	KEXPECT_EQ(frame_free(pa), -EBUSY);
	KEXPECT_EQ(frames_free(pa, 1), -EBUSY);
	KEXPECT_EQ(pa_to_page(pa)->state, PAGE_ALLOC_HEAD);
	KEXPECT_EQ(page_ref_count(pa_to_page(pa)), 2);
	KEXPECT_EQ(frames_nr_free(), free);
	KEXPECT_EQ(frame_put(pa), 0);
	KEXPECT_EQ(frame_free(pa), 0); /* the sole holder's free: into the cache */
	KEXPECT_EQ(pa_to_page(pa)->state, PAGE_PCP);
	KEXPECT_EQ(frames_nr_free(), free + 1);
}

KTEST(ch1_pcp, a_cached_frame_comes_zeroed_when_asked)
{
	CH1_REQUIRE_FRAMES();
	paddr_t pa = frame_alloc(0);
	KASSERT_NE(pa, 0);
	memset(pa_to_kva(pa), 0xa5, PAGE_SIZE);
	KASSERT_EQ(frame_free(pa), 0);
	/* The top of the cache: the same frame again, dirty, unless asked for zeros. */
	paddr_t z = frame_alloc(FRAME_ZERO);
	KASSERT_EQ(z, pa);
	const uint64_t *w = pa_to_kva(z);
	uint64_t nonzero = 0;
	for (size_t i = 0; i < PAGE_SIZE / 8; i++)
		nonzero += w[i] != 0;
	KEXPECT_EQ(nonzero, 0);
	KEXPECT_EQ(frame_free(z), 0);
}

KTEST(ch1_pcp, a_cached_frame_can_be_claimed_by_address)
{
	CH1_REQUIRE_FRAMES();
	paddr_t pa = a_cached_frame();
	KASSERT_NE(pa, 0);
	uint64_t free = frames_nr_free();
	KEXPECT_EQ(frames_alloc_at(pa, 1, 0), 0);
	KEXPECT_EQ(pa_to_page(pa)->state, PAGE_ALLOC_HEAD);
	KEXPECT_EQ(frames_nr_free(), free - 1);
	KEXPECT_EQ(frames_free(pa, 1), 0);
	KEXPECT_EQ(frames_nr_free(), free);
}

/* Each hart leaves frames in its own cache. */
static void fill_own_cache(void *arg, int hart)
{
	(void)hart;
	paddr_t pa[8];
	for (int i = 0; i < 8; i++)
		pa[i] = frame_alloc(0);
	for (int i = 0; i < 8; i++)
		if (pa[i] && frame_free(pa[i]) != 0)
			__atomic_add_fetch((uint64_t *)arg, 1, __ATOMIC_RELAXED);
}

KTEST(ch1_pcp, allocate_everything_reaches_every_harts_cache)
{
	CH1_REQUIRE_FRAMES();
	KTEST_REQUIRE_HARTS(2);
	uint64_t errors = 0;
	on_each_hart(fill_own_cache, &errors);
	KEXPECT_EQ(errors, 0);
	KEXPECT_GE(cached_now(), 8 * (uint64_t)harts_online());
	uint64_t free = frames_nr_free();
	struct held *h = held_begin();
	KEXPECT_EQ(drain_all(h), free);
	KEXPECT_EQ(frames_nr_free(), 0);
	KEXPECT_EQ(cached_now(), 0);
	KEXPECT_EQ(held_release(h), 0);
	KEXPECT_EQ(frames_nr_free(), free);
	KEXPECT_NULL(frames_check());
}

static void under_pressure(void)
{
	KASSERT_NE(a_cached_frame(), 0);
	uint64_t f = frames_nr_free();
	struct frame_watermarks wm = {.min = f - 30, .low = f - 20, .high = f - 10};
	KASSERT_EQ(frames_set_watermarks(wm), 0);
	struct held *h = held_begin();
	KEXPECT_EQ(take_singles(h, 20), 20); /* f - 20: at low, served by the cache */
	KEXPECT_EQ(frames_pressure(), PRESSURE_NONE);
	KEXPECT_GT(cached_now(), 0);
	KEXPECT_EQ(take_singles(h, 1), 1); /* below low: under pressure, every cache drained */
	KEXPECT_EQ(frames_pressure(), PRESSURE_LOW);
	KEXPECT_EQ(cached_now(), 0);
	unsigned order;
	for (int i = 0; i < 5; i++) /* f - 16: still under pressure, so the frees go to the lists */
		KEXPECT_EQ(frames_free_order(held_pop(h, &order), 0), 0);
	KEXPECT_EQ(cached_now(), 0);
	KEXPECT_EQ(frames_nr_free(), f - 16);
	KEXPECT_EQ(held_release(h), 0);
	KEXPECT_EQ(frames_pressure(), PRESSURE_NONE);
	/* Watermarks set above the free count: pressure at once, and the caches go
	 * too. One frame stays allocated, so that low can be one above the count. */
	paddr_t kept = frame_alloc(0);
	KASSERT_NE(kept, 0);
	KASSERT_NE(a_cached_frame(), 0);
	wm = (struct frame_watermarks){.min = f - 10, .low = f, .high = f};
	KASSERT_EQ(frames_set_watermarks(wm), 0);
	KEXPECT_EQ(frames_pressure(), PRESSURE_LOW);
	KEXPECT_EQ(cached_now(), 0);
	KEXPECT_EQ(frames_nr_free(), f - 1);
	KEXPECT_EQ(frame_free(kept), 0); /* back at high: no pressure */
	KEXPECT_EQ(frames_pressure(), PRESSURE_NONE);
}

KTEST(ch1_pcp, pressure_drains_the_caches_and_keeps_them_empty)
{
	CH1_REQUIRE_FRAMES();
	struct ch1_env env;
	ch1_env_save(&env);
	under_pressure();
	ch1_env_restore(&env);
	KEXPECT_EQ(frames_pressure(), PRESSURE_NONE);
}
