/*
 * ch1.smp: every hart allocating and freeing at once. Each hart writes its
 * own stamp into every frame it owns and checks the stamps are still there
 * before it frees, so a frame handed to two harts at once shows up as a
 * stamp the other hart overwrote. At the end every count is as it was.
 */
#include "ch1_test.h"
#include "smp.h"

/* Shared by the harts of one run; each hart writes only its own slots. */
struct smp_run {
	int ops;      /* operations per hart */
	paddr_t area; /* churn_at: the free run the harts fight over */
	uint64_t area_frames;
	uint64_t errors[MAX_HARTS];   /* stamps overwritten, frees refused, wrong errors */
	uint64_t failures[MAX_HARTS]; /* allocations that returned nothing */
	uint64_t successes[MAX_HARTS];
	uint64_t frames[MAX_HARTS]; /* churn_drain: frames drained */
};

static uint64_t stamp_of(int hart, paddr_t pa) { return ((uint64_t)(hart + 1) << 56) ^ pa; }

/* Stamp word 2 of every frame (any word would do; not 0, the one most likely to be written by mistake). */
static void stamp(paddr_t pa, uint64_t n, int hart)
{
	for (uint64_t i = 0; i < n; i++) {
		paddr_t f = pa + i * PAGE_SIZE;
		((volatile uint64_t *)pa_to_kva(f))[2] = stamp_of(hart, f);
	}
}

/* Stamps that are not this hart's any more. */
static uint64_t stamps_lost(paddr_t pa, uint64_t n, int hart)
{
	uint64_t lost = 0;
	for (uint64_t i = 0; i < n; i++) {
		paddr_t f = pa + i * PAGE_SIZE;
		lost += ((volatile uint64_t *)pa_to_kva(f))[2] != stamp_of(hart, f);
	}
	return lost;
}

/* Give back the 2^@order frames at @pa from frames_alloc_order(): this hart's
 * stamps must have survived, and the free must be accepted. */
static void release_block(struct smp_run *run, int hart, paddr_t pa, unsigned order)
{
	run->errors[hart] += stamps_lost(pa, 1UL << order, hart);
	run->errors[hart] += frames_free_order(pa, order) != 0;
}

/* The same for a run of @n frames from frames_alloc*(). */
static void release_run(struct smp_run *run, int hart, paddr_t pa, size_t n)
{
	run->errors[hart] += stamps_lost(pa, n, hart);
	run->errors[hart] += frames_free(pa, n) != 0;
}

/* Orders by slot: the large ones only in a few slots, so memory stays small even at -m 64M. */
static unsigned pick_order(int slot, uint64_t *rng)
{
	unsigned r = (unsigned)(lcg_next(rng) % 100);
	if (slot < 2 && r < 30)
		return 9;
	if (slot < 6 && r < 40)
		return 4 + r % 3;
	return r < 60 ? 0 : 1 + r % 3;
}

enum { SLOTS = 24 };

static void churn_orders(void *arg, int hart)
{
	struct smp_run *run = arg;
	paddr_t pa[SLOTS] = {0};
	unsigned order[SLOTS] = {0};
	uint64_t rng = 0x5eed + hart;
	for (int i = 0; i < run->ops; i++) {
		int s = (int)(lcg_next(&rng) % SLOTS);
		if (pa[s]) {
			release_block(run, hart, pa[s], order[s]);
			pa[s] = 0;
			continue;
		}
		order[s] = pick_order(s, &rng);
		pa[s] = frames_alloc_order(order[s], 0);
		if (!pa[s]) {
			run->failures[hart]++;
			continue;
		}
		run->successes[hart]++;
		run->errors[hart] += !IS_ALIGNED(pa[s], PAGE_SIZE << order[s]);
		stamp(pa[s], 1UL << order[s], hart);
	}
	for (int s = 0; s < SLOTS; s++) {
		if (pa[s]) {
			release_block(run, hart, pa[s], order[s]);
		}
	}
}

/* Run @fn on every hart; expect no errors and every count back where it was. */
static void run_all(void (*fn)(void *, int), struct smp_run *run, bool failures_allowed)
{
	struct buddy_digest before, after;
	frames_digest(&before);
	struct frame_stats a, b;
	ch1_stats(&a);
	on_each_hart(fn, run);
	uint64_t errors = 0, failures = 0, successes = 0;
	for (int h = 0; h < MAX_HARTS; h++) {
		errors += run->errors[h];
		failures += run->failures[h];
		successes += run->successes[h];
	}
	printk("%d harts: %lu allocations, %lu failed, %lu errors\n", harts_online(), successes, failures,
	       errors);
	KEXPECT_EQ(errors, 0);
	if (!failures_allowed)
		KEXPECT_EQ(failures, 0);
	KEXPECT_GT(successes, 0);
	ch1_stats(&b);
	KEXPECT_EQ(b.free, a.free);
	KEXPECT_EQ(b.used, a.used);
	KEXPECT_EQ(b.bad_frees, a.bad_frees);
	KEXPECT_NULL(frames_check());
	frames_digest(&after);
	KEXPECT_DIGEST_EQ(before, after);
}

KTEST(ch1_smp, concurrent_orders)
{
	KTEST_REQUIRE_HARTS(2);
	CH1_REQUIRE_FRAMES();
	static struct smp_run run;
	run = (struct smp_run){.ops = 3000};
	run_all(churn_orders, &run, false);
}

/* Runs of any length, by count and in a range, freed with their n. */
static void churn_runs(void *arg, int hart)
{
	struct smp_run *run = arg;
	static const size_t sizes[] = {1, 2, 3, 5, 7, 17, 100, 1025};
	paddr_t pa[SLOTS] = {0};
	size_t n[SLOTS] = {0};
	uint64_t rng = 0xc0ffee + hart;
	paddr_t lo = ram_start(), hi = ram_end();
	for (int i = 0; i < run->ops; i++) {
		int s = (int)(lcg_next(&rng) % SLOTS);
		if (pa[s]) {
			release_run(run, hart, pa[s], n[s]);
			pa[s] = 0;
			continue;
		}
		/* 1025 frames only in slot 0 and 100 only in slots 0-3: a few MiB per hart at most. */
		size_t choices = s == 0	 ? ARRAY_SIZE(sizes)
				 : s < 4 ? ARRAY_SIZE(sizes) - 1
					 : ARRAY_SIZE(sizes) - 2;
		n[s] = sizes[lcg_next(&rng) % choices];
		pa[s] = lcg_next(&rng) % 4 ? frames_alloc(n[s], 0) : frames_alloc_in_range(n[s], lo, hi, 0);
		if (!pa[s]) {
			run->failures[hart]++;
			continue;
		}
		run->successes[hart]++;
		stamp(pa[s], n[s], hart);
	}
	for (int s = 0; s < SLOTS; s++) {
		if (pa[s]) {
			release_run(run, hart, pa[s], n[s]);
		}
	}
}

KTEST(ch1_smp, concurrent_runs)
{
	KTEST_REQUIRE_HARTS(2);
	CH1_REQUIRE_FRAMES();
	static struct smp_run run;
	run = (struct smp_run){.ops = 1500};
	run_all(churn_runs, &run, false);
}

/* All harts claim ranges at chosen addresses inside one shared area: a range
 * is won by exactly one hart, the others see -EBUSY. */
static void churn_at(void *arg, int hart)
{
	struct smp_run *run = arg;
	paddr_t pa[SLOTS] = {0};
	size_t n[SLOTS] = {0};
	uint64_t rng = 0xa7 + hart;
	for (int i = 0; i < run->ops; i++) {
		int s = (int)(lcg_next(&rng) % SLOTS);
		if (pa[s]) {
			release_run(run, hart, pa[s], n[s]);
			pa[s] = 0;
			continue;
		}
		n[s] = 1 + lcg_next(&rng) % 8;
		paddr_t want = run->area + (lcg_next(&rng) % (run->area_frames - n[s] + 1)) * PAGE_SIZE;
		int err = frames_alloc_at(want, n[s], FRAME_EMERGENCY);
		if (err == 0) {
			pa[s] = want;
			run->successes[hart]++;
			stamp(want, n[s], hart);
		} else {
			run->failures[hart]++;
			run->errors[hart] += err != -EBUSY;
		}
	}
	for (int s = 0; s < SLOTS; s++) {
		if (pa[s]) {
			release_run(run, hart, pa[s], n[s]);
		}
	}
}

KTEST(ch1_smp, concurrent_at_same_addresses)
{
	KTEST_REQUIRE_HARTS(2);
	CH1_REQUIRE_FRAMES();
	static struct smp_run run;
	run = (struct smp_run){.ops = 2000, .area_frames = 256};
	run.area = free_run(run.area_frames);
	KASSERT_NE(run.area, 0);
	run_all(churn_at, &run, true); /* -EBUSY is the expected answer to losing a race */
}

/*
 * Every hart drains memory at once, largest blocks first, then gives it all
 * back. The blocks go into one shared table (a hart's own stack could not
 * hold them); only the first frame of blocks up to order 4 is stamped, since
 * writing into every block of a 2 GiB machine would make QEMU back all of
 * guest RAM on the host. The accounting does the rest: the blocks add up to
 * exactly the free count, which overlapping blocks could only do if frames
 * also went missing, and frames_check() would see that.
 */
static struct {
	paddr_t pa;
	uint8_t order;
	uint8_t hart;
} drained[HELD_MAX];
static uint64_t nr_drained;

static void churn_drain(void *arg, int hart)
{
	struct smp_run *run = arg;
	uint64_t limit = frames_nr_total();
	for (int o = MAX_ORDER; o >= 0; o--) {
		for (paddr_t pa;
		     run->frames[hart] < limit && (pa = frames_alloc_order(o, FRAME_EMERGENCY));) {
			uint64_t i = __atomic_fetch_add(&nr_drained, 1, __ATOMIC_RELAXED);
			if (i >= HELD_MAX) { /* no room to note it: give it back and count an error */
				frames_free_order(pa, o);
				run->errors[hart]++;
				break;
			}
			drained[i].pa = pa;
			drained[i].order = (uint8_t)o;
			drained[i].hart = (uint8_t)hart;
			if (o <= 4)
				stamp(pa, 1, hart);
			run->frames[hart] += 1UL << o;
			run->successes[hart]++;
		}
	}
	/* Wait for the others to finish draining: only then is nothing left anywhere. */
	__atomic_add_fetch(&run->ops, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(&run->ops, __ATOMIC_ACQUIRE) < harts_online())
		;
	uint64_t n = MIN(__atomic_load_n(&nr_drained, __ATOMIC_ACQUIRE), (uint64_t)HELD_MAX);
	for (uint64_t i = 0; i < n; i++) {
		if (drained[i].hart != hart)
			continue;
		if (drained[i].order <= 4)
			run->errors[hart] += stamps_lost(drained[i].pa, 1, hart);
		run->errors[hart] += frames_free_order(drained[i].pa, drained[i].order) != 0;
	}
}

KTEST(ch1_smp, concurrent_drain)
{
	KTEST_REQUIRE_HARTS(2);
	CH1_REQUIRE_FRAMES();
	struct ch1_env env;
	ch1_env_save(&env);
	static struct smp_run run;
	run = (struct smp_run){.ops = 0};
	nr_drained = 0;
	uint64_t free = frames_nr_free();
	run_all(churn_drain, &run, true);
	uint64_t drained = 0;
	for (int h = 0; h < MAX_HARTS; h++)
		drained += run.frames[h];
	KEXPECT_EQ(drained, free); /* together the harts got every frame, each exactly once */
	ch1_env_restore(&env);
}
