/*
 * ch1.errors: every free the allocator must refuse. Each is -EINVAL, counts
 * in bad_frees, prints one "frames: refused free" line, and changes nothing
 * else: not the counts, not the free lists.
 */
#include "ch1_test.h"
#include "fdt.h"

/* Expect @call to be refused with -EINVAL, one more bad free, nothing else changed. */
#define EXPECT_REFUSED(call) EXPECT_REFUSED_WITH(call, -EINVAL, 1)

KTEST(ch1_errors, free_of_unallocated_frame)
{
	CH1_REQUIRE_FRAMES();
	paddr_t run = free_run(16);
	KASSERT_NE(run, 0);
	EXPECT_REFUSED(frame_free(run));		 /* a free block's head, or inside one */
	EXPECT_REFUSED(frame_free(run + 5 * PAGE_SIZE)); /* inside a free block */
	EXPECT_REFUSED(frames_free_order(run, 2));
	EXPECT_REFUSED(frames_free(run + PAGE_SIZE, 3));
}

KTEST(ch1_errors, double_free)
{
	CH1_REQUIRE_FRAMES();
	paddr_t pa = frame_alloc(0);
	KASSERT_NE(pa, 0);
	KEXPECT_EQ(frame_free(pa), 0);
	EXPECT_REFUSED(frame_free(pa));
	paddr_t big = frames_alloc_order(3, 0);
	KASSERT_NE(big, 0);
	KEXPECT_EQ(frames_free_order(big, 3), 0);
	EXPECT_REFUSED(frames_free_order(big, 3));
	paddr_t run = frames_alloc(5, 0);
	KASSERT_NE(run, 0);
	KEXPECT_EQ(frames_free(run, 5), 0);
	EXPECT_REFUSED(frames_free(run, 5));
}

KTEST(ch1_errors, wrong_order)
{
	CH1_REQUIRE_FRAMES();
	paddr_t pa = frames_alloc_order(2, 0);
	KASSERT_NE(pa, 0);
	EXPECT_REFUSED(frames_free_order(pa, 1));
	EXPECT_REFUSED(frames_free_order(pa, 3));
	EXPECT_REFUSED(frame_free(pa));
	EXPECT_REFUSED(frames_free_order(pa, MAX_ORDER + 1));
	KEXPECT_EQ(frames_free_order(pa, 2), 0);
}

KTEST(ch1_errors, tail_of_block)
{
	CH1_REQUIRE_FRAMES();
	paddr_t pa = frames_alloc_order(2, 0);
	KASSERT_NE(pa, 0);
	EXPECT_REFUSED(frame_free(pa + PAGE_SIZE));
	EXPECT_REFUSED(frames_free_order(pa + 2 * PAGE_SIZE, 1));
	EXPECT_REFUSED(frames_free(pa + PAGE_SIZE, 3));
	KEXPECT_EQ(frames_free_order(pa, 2), 0);
}

KTEST(ch1_errors, address_outside_ram)
{
	CH1_REQUIRE_FRAMES();
	EXPECT_REFUSED(frame_free(0));
	EXPECT_REFUSED(frame_free(0x1000));
	EXPECT_REFUSED(frame_free(ram_end()));
	EXPECT_REFUSED(frames_free(ram_end() - PAGE_SIZE, 2)); /* runs off the end */
	EXPECT_REFUSED(frame_free(-PAGE_SIZE));
	EXPECT_REFUSED(frames_free(ram_start(), (size_t)-1));
}

KTEST(ch1_errors, misaligned_address)
{
	CH1_REQUIRE_FRAMES();
	paddr_t pa = frame_alloc(0);
	KASSERT_NE(pa, 0);
	EXPECT_REFUSED(frame_free(pa + 8));
	EXPECT_REFUSED(frame_free(pa + PAGE_SIZE - 1));
	EXPECT_REFUSED(frames_free(pa + 1, 1));
	KEXPECT_EQ(frame_free(pa), 0);
}

KTEST(ch1_errors, reserved_frames)
{
	CH1_REQUIRE_FRAMES();
	EXPECT_REFUSED(frame_free(kva_to_pa(_kernel_start)));
	EXPECT_REFUSED(frame_free(kva_to_pa(pa_to_page(ram_start())) & ~(PAGE_SIZE - 1))); /* the metadata */
	if (memmap_is_ram(machine.fdt_pa, 1))
		EXPECT_REFUSED(frame_free(ALIGN_DOWN(machine.fdt_pa, PAGE_SIZE)));
	for (int i = 0; i < machine.nr_reserved; i++)
		if (memmap_is_ram(machine.reserved[i].base, PAGE_SIZE))
			EXPECT_REFUSED(frame_free(ALIGN_DOWN(machine.reserved[i].base, PAGE_SIZE)));
}

KTEST(ch1_errors, frames_free_wrong_n)
{
	CH1_REQUIRE_FRAMES();
	paddr_t pa = frames_alloc(3, 0);
	KASSERT_NE(pa, 0);
	EXPECT_REFUSED(frames_free(pa, 1));
	EXPECT_REFUSED(frames_free(pa, 2)); /* a whole block of the run, but not the run */
	EXPECT_REFUSED(frames_free(pa, 4));
	EXPECT_REFUSED(frames_free(pa, 5));
	EXPECT_REFUSED(frames_free_order(pa, 1));
	EXPECT_REFUSED(frame_free(pa + 2 * PAGE_SIZE)); /* the run's last block alone */
	EXPECT_REFUSED(frames_free(pa, 0));
	EXPECT_REFUSED(frames_free_bytes(pa, 0));
	KEXPECT_EQ(frames_free(pa, 3), 0);

	paddr_t big = frames_alloc(1025, 0);
	KASSERT_NE(big, 0);
	EXPECT_REFUSED(frames_free(big, 1024));
	EXPECT_REFUSED(frames_free(big, 1026));
	EXPECT_REFUSED(frames_free(big + PAGE_SIZE, 1024));
	EXPECT_REFUSED(frames_free_order(big, MAX_ORDER));
	KEXPECT_EQ(frames_free(big, 1025), 0);
}

KTEST(ch1_errors, neighbours_are_not_one_allocation)
{
	CH1_REQUIRE_FRAMES();
	paddr_t run = free_run(8);
	KASSERT_NE(run, 0);
	KASSERT_EQ(frames_alloc_at(run, 2, 0), 0);
	KASSERT_EQ(frames_alloc_at(run + 2 * PAGE_SIZE, 2, 0), 0);
	EXPECT_REFUSED(frames_free(run, 4));
	EXPECT_REFUSED(frames_free(run + PAGE_SIZE, 2));
	KEXPECT_EQ(frames_free(run + 2 * PAGE_SIZE, 2), 0);
	KEXPECT_EQ(frames_free(run, 2), 0);
}

KTEST(ch1_errors, bad_frees_are_counted)
{
	CH1_REQUIRE_FRAMES();
	struct frame_stats a, b;
	ch1_stats(&a);
	for (int i = 0; i < 3; i++)
		KEXPECT_EQ(frame_free(0), -EINVAL);
	ch1_stats(&b);
	KEXPECT_EQ(b.bad_frees, a.bad_frees + 3);
}

KTEST(ch1_errors, bad_allocation_arguments)
{
	CH1_REQUIRE_FRAMES();
	struct frame_stats a, b;
	ch1_stats(&a);
	KEXPECT_EQ(frames_alloc_order(MAX_ORDER + 1, 0), 0);
	KEXPECT_EQ(frames_alloc_order(64, 0), 0);
	KEXPECT_EQ(frames_alloc(0, 0), 0);
	KEXPECT_EQ(frames_alloc_bytes(0, 0), 0);
	ch1_stats(&b);
	KEXPECT_STATS_SAME(a, b, 0, 4);
}

KTEST(ch1_errors, bad_watermarks)
{
	CH1_REQUIRE_FRAMES();
	struct frame_watermarks wm = frames_watermarks(), bad;
	uint64_t total = frames_nr_total();
	bad = (struct frame_watermarks){.min = 10, .low = 5, .high = 20};
	KEXPECT_EQ(frames_set_watermarks(bad), -EINVAL);
	bad = (struct frame_watermarks){.min = 10, .low = 30, .high = 20};
	KEXPECT_EQ(frames_set_watermarks(bad), -EINVAL);
	bad = (struct frame_watermarks){.min = 10, .low = 20, .high = total + 1};
	KEXPECT_EQ(frames_set_watermarks(bad), -EINVAL);
	struct frame_watermarks now = frames_watermarks();
	KEXPECT_EQ(now.min, wm.min);
	KEXPECT_EQ(now.low, wm.low);
	KEXPECT_EQ(now.high, wm.high);
}

static uint64_t no_shrink(uint64_t frames)
{
	(void)frames;
	return 0;
}
static uint64_t no_shrink2(uint64_t frames)
{
	(void)frames;
	return 0;
}

KTEST(ch1_errors, shrinker_slots)
{
	CH1_REQUIRE_FRAMES();
	struct ch1_env env;
	ch1_env_save(&env);
	for (int i = 0; i < MAX_SHRINKERS; i++)
		KEXPECT_EQ(frames_register_shrinker(no_shrink), 0);
	KEXPECT_EQ(frames_register_shrinker(no_shrink2), -ENOSPC);
	KEXPECT_EQ(frames_unregister_shrinker(no_shrink2), -ENOENT);
	for (int i = 0; i < MAX_SHRINKERS; i++)
		KEXPECT_EQ(frames_unregister_shrinker(no_shrink), 0);
	KEXPECT_EQ(frames_unregister_shrinker(no_shrink), -ENOENT);
	KEXPECT_EQ(frames_register_shrinker(NULL), -EINVAL);
	ch1_env_restore(&env);
}
