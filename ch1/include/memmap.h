/**
 * @file memmap.h
 * @brief ch1: the typed map of physical memory built from the device tree.
 *
 * At boot, ch1 turns what `machine` says (RAM ranges, /reserved-memory,
 * /memreserve/, the DTB) plus the kernel image into a sorted list of
 * non-overlapping regions, each of one kind, that together cover RAM exactly
 * (Redox's BootloaderMemoryKind). Only MEM_USABLE regions go to the frame
 * allocator. Reserved regions that lie partly or wholly outside RAM are
 * clipped to it; regions that overlap each other keep the kind of the one
 * listed first (firmware, then kernel, then device tree, then metadata).
 */
#ifndef MMLAB_MEMMAP_H
#define MMLAB_MEMMAP_H

#include "types.h"

/** What a region of RAM holds. */
enum mem_kind {
	MEM_USABLE,	   /**< Free RAM: given to the frame allocator. */
	MEM_FIRMWARE,	   /**< Firmware or other reserved memory (/reserved-memory, /memreserve/, PA 0). */
	MEM_KERNEL,	   /**< The kernel image, [_kernel_start, _kernel_end). */
	MEM_DEVICE_TREE,   /**< The device tree blob OpenSBI passed. */
	MEM_PAGE_METADATA, /**< The struct page_info array. */
};

/** One region of the map: [base, base + size), page-aligned. */
struct mem_region {
	paddr_t base;	    /**< First byte. */
	uint64_t size;	    /**< Length in bytes, a multiple of PAGE_SIZE. */
	enum mem_kind kind; /**< What it holds. */
	const char *name;   /**< Where it came from: "RAM", "kernel image", a DT node name... */
};

/** Most regions the map holds (RAM ranges, each split by every reservation). */
#define MEMMAP_MAX 64

/** Regions in the map (0 before the frames initcall ran). */
int memmap_count(void);
/** Region @p i (0 <= i < memmap_count()), in address order. */
const struct mem_region *memmap_region(int i);
/** The kind of the region holding @p pa. @return true and *@p kind if @p pa is RAM. */
bool memmap_kind_of(paddr_t pa, enum mem_kind *kind);
/** True if every byte of [@p pa, @p pa + @p size) is RAM (of any kind); false for size 0. */
bool memmap_is_ram(paddr_t pa, uint64_t size);
/** Bytes of RAM the map covers (all kinds). */
uint64_t memmap_ram_bytes(void);
/** A short name for @p kind ("usable", "firmware", ...). */
const char *mem_kind_name(enum mem_kind kind);

#endif
