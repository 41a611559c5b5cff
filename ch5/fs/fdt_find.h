/*
 * A walk of the flattened device tree for the nodes of one `compatible`
 * string (common's fdt.c keeps only what struct machine needs; the disk
 * driver needs the virtio-mmio slots, which it does not keep).
 */
#ifndef MMLAB_FS_FDT_FIND_H
#define MMLAB_FS_FDT_FIND_H

#include "types.h"

/**
 * Called once per matching node with its first `reg` range and the first
 * cell of its `interrupts` property (the interrupt number at its
 * interrupt parent, the PLIC on QEMU's virt machine; 0 if it has none).
 * Non-zero stops the walk.
 */
typedef int (*fdt_node_fn)(paddr_t base, uint64_t size, uint32_t irq, void *arg);

/**
 * Call @p fn(base, size, irq, @p arg) for every node of the DTB at @p blob (a
 * kernel address) whose `compatible` list holds @p compat and that has a
 * `reg` property, in the order of the blob. Addresses and sizes are read
 * with the parent's #address-cells and #size-cells (defaults 2 and 1).
 * @return 0 when the walk ends; @p fn's non-zero value; -EINVAL for a blob
 *         that is not a DTB or is damaged (nothing is read past totalsize).
 */
int fdt_find_compatible(const void *blob, const char *compat, fdt_node_fn fn, void *arg);

#endif
