/**
 * @file blk.h
 * @brief The disk: a virtio-blk device on virtio-mmio (given machinery,
 *        ch5/fs/virtio_blk.c), read and written a 4096-byte block at a time.
 *
 * blk_init() looks for a `virtio,mmio` node of the device tree
 * whose device is a block device (DeviceID 2), maps its registers with
 * kernel_map_mmio() and sets up one request queue. Requests are
 * synchronous: the caller sleeps in wfi until the device's interrupt, which
 * it claims at the PLIC itself, with interrupts off (there is no interrupt
 * handler; without a PLIC it spins on the used ring). One request at a time
 * (a spinlock), from any hart; nothing is allocated per request.
 *
 * Reference: Virtual I/O Device (VIRTIO) Version 1.1, sections 2.6 (split
 * virtqueues), 4.2 (virtio over MMIO, the legacy interface of 4.2.4 too) and
 * 5.2 (block device); Linux drivers/virtio/virtio_mmio.c and
 * drivers/block/virtio_blk.c; xv6-riscv kernel/virtio_disk.c.
 */
#ifndef MMLAB_BLK_H
#define MMLAB_BLK_H

#include "types.h"

/** Bytes in a block: one page (one page-cache page is one block). */
#define BLK_SIZE 4096

/**
 * Find the disk and set it up (the file store's initcall calls it first).
 * No disk, or one that will not start, is not an error: blk_present() is
 * then false and every request gives -ENODEV.
 * @return 0.
 */
int blk_init(void);

/** True if a disk was found and set up. */
bool blk_present(void);

/** The disk's size in blocks (0 without a disk). */
uint64_t blk_nblocks(void);

/**
 * Read block @p block (BLK_SIZE bytes at byte BLK_SIZE * @p block) into
 * @p buf (any kernel address; BLK_SIZE bytes). Waits for the device.
 * @return 0; -ENODEV without a disk; -EIO if @p block is past the end, the
 *         device reports an error, or it does not answer within 30 s (the
 *         disk is then given up for good).
 */
int blk_read(uint64_t block, void *buf);

/**
 * Write @p buf (BLK_SIZE bytes) to block @p block. Returns once the device
 * has completed the request.
 * @return 0; -ENODEV; -EIO as blk_read(), or a read-only disk.
 */
int blk_write(uint64_t block, const void *buf);

/** Requests completed since boot (reads, writes), for tests and benchmarks. */
struct blk_stats {
	uint64_t reads;	      /**< blk_read() calls that succeeded. */
	uint64_t writes;      /**< blk_write() calls that succeeded. */
	uint64_t errors;      /**< Requests that ended in -EIO. */
	uint64_t max_wait_us; /**< The longest a request waited for the device, in microseconds. */
	int version;	      /**< The virtio-mmio Version register: 1 (legacy) or 2. */
};

/** A copy of the counters. */
struct blk_stats blk_get_stats(void);

#endif
