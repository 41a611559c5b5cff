/*
 * ch5.blk: the virtio-blk driver on the disk the grader attaches: a block
 * written and read back (from a heap page and from a buffer in the kernel
 * image, which take different paths to the device), a block past the end,
 * and the instructions one read costs. SKIPs without a disk.
 */
#include "blk.h"
#include "errno.h"
#include "kmalloc.h"
#include "ktest.h"
#include "riscv.h"
#include "string.h"

static uint8_t image_buf[BLK_SIZE]; /* in the kernel image (.bss) */

#define NEED_DISK()                                                                                          \
	do {                                                                                                 \
		if (!blk_present())                                                                          \
			KTEST_SKIP("no disk attached (-device virtio-blk-device)");                          \
	} while (0)

/* Write a pattern over the disk's last block from @buf, read it back into
 * @check, then put the old contents back. */
static void round_trip(uint8_t *buf, uint8_t *check, uint8_t seed)
{
	uint64_t b = blk_nblocks() - 1;
	uint8_t *saved = kmalloc(BLK_SIZE);
	KASSERT_NOT_NULL(saved);
	KEXPECT_EQ(blk_read(b, saved), 0);
	for (int i = 0; i < BLK_SIZE; i++)
		buf[i] = (uint8_t)(i * 7 + seed);
	KEXPECT_EQ(blk_write(b, buf), 0);
	memset(check, 0, BLK_SIZE);
	KEXPECT_EQ(blk_read(b, check), 0);
	KEXPECT_EQ(memcmp(buf, check, BLK_SIZE), 0);
	KEXPECT_EQ(blk_write(b, saved), 0);
	kfree(saved);
}

KTEST(ch5_blk, write_then_read_back)
{
	NEED_DISK();
	uint8_t *a = kmalloc(BLK_SIZE), *b = kmalloc(BLK_SIZE);
	KASSERT_NOT_NULL(a);
	KASSERT_NOT_NULL(b);
	struct blk_stats before = blk_get_stats();
	round_trip(a, b, 1);
	round_trip(image_buf, b, 2);
	struct blk_stats after = blk_get_stats();
	KEXPECT_EQ(after.reads - before.reads, 4);
	KEXPECT_EQ(after.writes - before.writes, 4);
	KEXPECT_EQ(after.errors, before.errors);
	kfree(a);
	kfree(b);
}

KTEST(ch5_blk, past_the_end_is_eio)
{
	NEED_DISK();
	uint8_t *a = kmalloc(BLK_SIZE);
	KASSERT_NOT_NULL(a);
	KEXPECT_EQ(blk_read(blk_nblocks(), a), -EIO);
	KEXPECT_EQ(blk_write(blk_nblocks(), a), -EIO);
	KEXPECT_EQ(blk_read(~0ULL, a), -EIO);
	KEXPECT_EQ(blk_read(0, a), 0); /* the disk still works */
	kfree(a);
}

KTEST(ch5_blk, instructions_per_read)
{
	NEED_DISK();
	uint8_t *a = kmalloc(BLK_SIZE);
	KASSERT_NOT_NULL(a);
	uint64_t t0 = rdinstret();
	for (int i = 0; i < 16; i++)
		KEXPECT_EQ(blk_read((uint64_t)i, a), 0);
	uint64_t per = (rdinstret() - t0) / 16;
	printk("blk_read: %lu instructions a block (polling included; exact only under -icount); "
	       "the longest wait for the device so far %lu us\n",
	       (unsigned long)per, (unsigned long)blk_get_stats().max_wait_us);
	KEXPECT_GT(per, 0);
	kfree(a);
}

/* Two (or more) harts at once, each on a block of its own at the disk's
 * end: every request goes through the one queue, so blk_lock must keep
 * them apart. Each hart writes a pattern of its own and reads it back,
 * ROUNDS times (each hart's requests interleave with the others' from the
 * first round on); the counters must add up exactly. */
#define ROUNDS 8

static struct {
	uint8_t *buf[MAX_HARTS], *check[MAX_HARTS];
	int bad[MAX_HARTS];
} two;

static void hart_round_trips(void *arg, int hart)
{
	(void)arg;
	uint64_t b = blk_nblocks() - 1 - (uint64_t)hart;
	for (int r = 0; r < ROUNDS; r++) {
		for (int i = 0; i < BLK_SIZE; i++)
			two.buf[hart][i] = (uint8_t)(i * 13 + hart * 71 + r);
		if (blk_write(b, two.buf[hart]) || blk_read(b, two.check[hart]) ||
		    memcmp(two.buf[hart], two.check[hart], BLK_SIZE))
			two.bad[hart]++;
	}
}

KTEST(ch5_blk, two_harts_at_once)
{
	NEED_DISK();
	KTEST_REQUIRE_HARTS(2);
	int n = harts_online();
	uint8_t *saved = kmalloc((size_t)MAX_HARTS * BLK_SIZE);
	KASSERT_NOT_NULL(saved);
	for (int h = 0; h < MAX_HARTS; h++) {
		two.buf[h] = kmalloc(BLK_SIZE);
		two.check[h] = kmalloc(BLK_SIZE);
		two.bad[h] = 0;
		KASSERT_NOT_NULL(two.buf[h]);
		KASSERT_NOT_NULL(two.check[h]);
		KASSERT_EQ(blk_read(blk_nblocks() - 1 - (uint64_t)h, saved + h * BLK_SIZE), 0);
	}
	struct blk_stats before = blk_get_stats();
	on_each_hart(hart_round_trips, NULL);
	struct blk_stats after = blk_get_stats();
	int bad = 0;
	for (int h = 0; h < MAX_HARTS; h++)
		bad += two.bad[h];
	KEXPECT_EQ(bad, 0);
	KEXPECT_EQ(after.reads - before.reads, (uint64_t)n * ROUNDS);
	KEXPECT_EQ(after.writes - before.writes, (uint64_t)n * ROUNDS);
	KEXPECT_EQ(after.errors, before.errors);
	printk("%d harts: %d round trips each; the longest wait for the device so far %lu us\n", n, ROUNDS,
	       (unsigned long)after.max_wait_us);
	for (int h = 0; h < MAX_HARTS; h++) {
		KEXPECT_EQ(blk_write(blk_nblocks() - 1 - (uint64_t)h, saved + h * BLK_SIZE), 0);
		kfree(two.buf[h]);
		kfree(two.check[h]);
	}
	kfree(saved);
}
