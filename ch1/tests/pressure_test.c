/*
 * ch1.pressure: watermarks, the emergency reserve, the pressure state and
 * its hysteresis, and shrinkers asked before an allocation fails. Tests set
 * watermarks just below the free count, so a few frames are enough to cross
 * them, and put the old ones back.
 */
#include "ch1_test.h"

KTEST(ch1_pressure, default_watermarks)
{
	CH1_REQUIRE_FRAMES();
	uint64_t total = frames_nr_total();
	struct frame_watermarks wm = frames_watermarks(), def = frames_default_watermarks(total);
	KEXPECT_EQ(wm.min, def.min);
	KEXPECT_EQ(wm.low, def.low);
	KEXPECT_EQ(wm.high, def.high);
	KEXPECT_EQ(wm.min, MIN(MAX(total / 256, (uint64_t)16), total / 4));
	KEXPECT_LE(wm.min, wm.low);
	KEXPECT_LT(wm.low, wm.high);
	KEXPECT_LE(wm.high, total);
	KEXPECT_EQ(frames_pressure(), PRESSURE_NONE);
	/* Small totals clamp the reserve to a quarter. */
	KEXPECT_EQ(frames_default_watermarks(40).min, 10);
	KEXPECT_EQ(frames_default_watermarks(1000).min, 16);
	KEXPECT_EQ(frames_default_watermarks(1 << 20).min, 4096);
}

/* With min 8 frames below the free count: 8 frames go, the 9th only as an emergency. */
static void reserve(void)
{
	uint64_t free = frames_nr_free();
	struct frame_watermarks wm = {.min = free - 8, .low = free - 8, .high = free - 8};
	KASSERT_EQ(frames_set_watermarks(wm), 0);
	paddr_t got[9] = {0};
	for (int i = 0; i < 8; i++) {
		got[i] = frame_alloc(0);
		KEXPECT_NE(got[i], 0);
	}
	KEXPECT_EQ(frames_nr_free(), wm.min);
	paddr_t run = free_run(4); /* free frames to ask for by address */
	KASSERT_NE(run, 0);
	struct frame_stats a, b;
	ch1_stats(&a);
	KEXPECT_EQ(frame_alloc(0), 0);
	KEXPECT_EQ(frames_alloc_order(1, 0), 0);
	KEXPECT_EQ(frames_alloc(3, 0), 0);
	KEXPECT_EQ(frames_alloc_in_range(1, run, run + 4 * PAGE_SIZE, 0), 0);
	KEXPECT_EQ(frames_alloc_at(run, 1, 0), -ENOMEM);
	ch1_stats(&b);
	KEXPECT_STATS_SAME(a, b, 0, 5);
	KEXPECT_EQ(frames_alloc_at(run, 1, FRAME_EMERGENCY), 0);
	KEXPECT_EQ(frame_free(run), 0);
	got[8] = frame_alloc(FRAME_EMERGENCY);
	KEXPECT_NE(got[8], 0);
	for (int i = 0; i < 9; i++)
		if (got[i])
			KEXPECT_EQ(frame_free(got[i]), 0);
	KEXPECT_EQ(frames_nr_free(), free);
}

KTEST(ch1_pressure, reserve_is_for_emergencies)
{
	CH1_REQUIRE_FRAMES();
	struct ch1_env env;
	ch1_env_save(&env);
	reserve();
	ch1_env_restore(&env);
}

/* Take @n frames (normal allocations, or emergency ones); pushed on @h. */
static int take_frames(struct held *h, int n, unsigned flags)
{
	int got = 0;
	for (int i = 0; i < n; i++) {
		paddr_t pa = frame_alloc(flags);
		if (!pa)
			break;
		held_push(h, pa, 0);
		got++;
	}
	return got;
}

/* Give back @n of the frames on @h. */
static void give_frames(struct held *h, int n)
{
	unsigned order;
	for (int i = 0; i < n; i++) {
		paddr_t pa = held_pop(h, &order);
		if (pa)
			frame_free(pa);
	}
}

static void hysteresis(void)
{
	uint64_t f = frames_nr_free();
	struct frame_watermarks wm = {.min = f - 30, .low = f - 20, .high = f - 10};
	KASSERT_EQ(frames_set_watermarks(wm), 0);
	KASSERT_EQ(frames_pressure(), PRESSURE_NONE);
	struct held *h = held_begin();
	take_frames(h, 20, 0); /* f - 20: at low, not below it */
	KEXPECT_EQ(frames_pressure(), PRESSURE_NONE);
	take_frames(h, 1, 0); /* f - 21: below low */
	KEXPECT_EQ(frames_pressure(), PRESSURE_LOW);
	KEXPECT_EQ(take_frames(h, 9, 0), 9); /* f - 30: exactly min, still allowed */
	KEXPECT_EQ(frames_pressure(), PRESSURE_LOW);
	KEXPECT_EQ(take_frames(h, 1, 0), 0); /* would go below min */
	KEXPECT_EQ(take_frames(h, 1, FRAME_EMERGENCY), 1);
	KEXPECT_EQ(frames_pressure(), PRESSURE_CRITICAL);
	give_frames(h, 1); /* f - 30 */
	KEXPECT_EQ(frames_pressure(), PRESSURE_LOW);
	give_frames(h, 19); /* f - 11: above low but below high: still LOW */
	KEXPECT_EQ(frames_pressure(), PRESSURE_LOW);
	give_frames(h, 1); /* f - 10: back at high */
	KEXPECT_EQ(frames_pressure(), PRESSURE_NONE);
	take_frames(h, 5, 0); /* f - 15: between again, but coming from NONE */
	KEXPECT_EQ(frames_pressure(), PRESSURE_NONE);
	KEXPECT_EQ(held_release(h), 0);
	KEXPECT_EQ(frames_nr_free(), f);
}

KTEST(ch1_pressure, pressure_states_with_hysteresis)
{
	CH1_REQUIRE_FRAMES();
	struct ch1_env env;
	ch1_env_save(&env);
	hysteresis();
	ch1_env_restore(&env);
	KEXPECT_EQ(frames_pressure(), PRESSURE_NONE);
}

KTEST(ch1_pressure, drained_is_critical)
{
	CH1_REQUIRE_FRAMES();
	struct ch1_env env;
	ch1_env_save(&env);
	struct held *h = held_begin();
	drain_all(h);
	KEXPECT_EQ(frames_pressure(), PRESSURE_CRITICAL);
	KEXPECT_EQ(held_release(h), 0);
	KEXPECT_EQ(frames_pressure(), PRESSURE_NONE);
	ch1_env_restore(&env);
}

/* A shrinker with a pocket of frames it gives back when asked. */
static struct {
	int calls;
	uint64_t asked;
	paddr_t pocket; /* one frame, or 0 */
	bool lock_free; /* it could allocate while called: the allocator's lock was not held */
} shr;

static uint64_t test_shrinker(uint64_t frames)
{
	shr.calls++;
	shr.asked = frames;
	if (!shr.pocket)
		return 0;
	/* Freeing takes the allocator's lock: this would panic if it were held. */
	shr.lock_free = frame_free(shr.pocket) == 0;
	shr.pocket = 0;
	return 1;
}

static void shrinker_before_failure(void)
{
	struct held *h = held_begin();
	paddr_t pocket = frame_alloc(FRAME_EMERGENCY);
	KASSERT_NE(pocket, 0);
	drain_all(h);
	KASSERT_EQ(frames_nr_free(), 0);
	shr = (typeof(shr)){0};
	shr.pocket = pocket;
	KASSERT_EQ(frames_register_shrinker(test_shrinker), 0);

	/* Out of frames: the shrinker is asked, frees its frame, and the retry gets it. */
	paddr_t pa = frame_alloc(FRAME_EMERGENCY);
	KEXPECT_EQ(shr.calls, 1);
	KEXPECT_GE(shr.asked, 1);
	KEXPECT_TRUE(shr.lock_free);
	KEXPECT_EQ(pa, pocket);
	/* Asked again with nothing left to give: one call, one retry, then failure. */
	struct frame_stats a, b;
	ch1_stats(&a);
	KEXPECT_EQ(frame_alloc(FRAME_EMERGENCY), 0);
	KEXPECT_EQ(shr.calls, 2);
	KEXPECT_EQ(frames_alloc(4, FRAME_EMERGENCY), 0);
	KEXPECT_EQ(shr.calls, 3);
	KEXPECT_EQ(shr.asked, 4);
	ch1_stats(&b);
	KEXPECT_STATS_SAME(a, b, 0, 2);
	/* A refused argument never gets as far as the shrinkers. */
	KEXPECT_EQ(frames_alloc_order(MAX_ORDER + 1, 0), 0);
	KEXPECT_EQ(shr.calls, 3);

	KEXPECT_EQ(frames_unregister_shrinker(test_shrinker), 0);
	if (pa)
		KEXPECT_EQ(frame_free(pa), 0);
	KEXPECT_EQ(held_release(h), 0);
}

KTEST(ch1_pressure, shrinker_called_before_failure)
{
	CH1_REQUIRE_FRAMES();
	struct ch1_env env;
	ch1_env_save(&env);
	struct buddy_digest before, after;
	frames_digest(&before);
	shrinker_before_failure();
	frames_unregister_shrinker(test_shrinker); /* in case a check bailed out early */
	frames_digest(&after);
	KEXPECT_DIGEST_EQ(before, after);
	ch1_env_restore(&env);
}

KTEST(ch1_pressure, shrinker_not_called_when_frames_are_free)
{
	CH1_REQUIRE_FRAMES();
	struct ch1_env env;
	ch1_env_save(&env);
	shr = (typeof(shr)){0};
	KASSERT_EQ(frames_register_shrinker(test_shrinker), 0);
	paddr_t pa = frame_alloc(0);
	KEXPECT_NE(pa, 0);
	KEXPECT_EQ(shr.calls, 0);
	if (pa)
		KEXPECT_EQ(frame_free(pa), 0);
	KEXPECT_EQ(frames_unregister_shrinker(test_shrinker), 0);
	ch1_env_restore(&env);
}

KTEST(ch1_pressure, set_watermarks_roundtrip)
{
	CH1_REQUIRE_FRAMES();
	struct frame_watermarks old = frames_watermarks();
	struct frame_watermarks wm = {.min = 100, .low = 200, .high = 300};
	KASSERT_EQ(frames_set_watermarks(wm), 0);
	struct frame_watermarks now = frames_watermarks();
	KEXPECT_EQ(now.min, 100);
	KEXPECT_EQ(now.low, 200);
	KEXPECT_EQ(now.high, 300);
	KEXPECT_EQ(frames_set_watermarks(old), 0);
	now = frames_watermarks();
	KEXPECT_EQ(now.min, old.min);
	KEXPECT_EQ(now.high, old.high);
}
