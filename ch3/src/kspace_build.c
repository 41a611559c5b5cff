/*
 * The kernel's own page table: the image with W^X, the direct map of all RAM
 * with the largest pages, the devices, and a hole under every hart stack
 * (xv6 vm.c kvmmake; rCore MemorySet::new_kernel).
 */
#include "errno.h"
#include "fdt.h"
#include "kspace.h"
#include "kspace_internal.h"
#include "memlayout.h"
#include "panic.h"
#include "smp.h"

void kspace_ram_pages(paddr_t base, uint64_t size, paddr_t *start, paddr_t *end)
{
	*start = ALIGN_UP(base, PAGE_SIZE);
	*end = ALIGN_DOWN(base + size, PAGE_SIZE);
	if (*end > DIRECT_MAP_SIZE)
		*end = DIRECT_MAP_SIZE; /* the direct map reaches no further */
	if (*end < *start)
		*end = *start;
}

/* LAB BEGIN ch3 build the kernel space: image sections W^X, direct map, devices, guard pages left out */

/* Map the image's pages [start, end) to where they were loaded, 4 KiB pages. */
static int map_image(struct pagetable *pt, const void *start, const void *end, unsigned perm)
{
	if (end <= start)
		return 0;
	return pt_map(pt, (vaddr_t)start, kva_to_pa(start), (const char *)end - (const char *)start, perm);
}

/* .bss RW-, except the guard page under each hart's stack. */
static int map_bss(struct pagetable *pt)
{
	const char *cur = _bss_start;
	for (int i = 0; i < MAX_HARTS; i++) {
		const char *guard = (const char *)hart_stacks[i].guard;
		int err = map_image(pt, cur, guard, PT_KERNEL_RW);
		if (err)
			return err;
		cur = guard + PAGE_SIZE;
	}
	return map_image(pt, cur, _bss_end, PT_KERNEL_RW);
}

static int map_direct(struct pagetable *pt)
{
	for (int i = 0; i < machine.nr_memory; i++) {
		paddr_t start, end;
		kspace_ram_pages(machine.memory[i].base, machine.memory[i].size, &start, &end);
		if (end == start)
			continue;
		int err =
			pt_map(pt, (vaddr_t)pa_to_kva(start), start, end - start, PT_KERNEL_RW | PT_MAP_HUGE);
		if (err)
			return err;
	}
	return 0;
}

static int map_devices(struct pagetable *pt)
{
	for (int i = 0; i < machine.nr_devices; i++) {
		int err = kspace_map_device(pt, machine.devices[i].base, machine.devices[i].size);
		if (err)
			return err;
	}
	return 0;
}

int kspace_build(struct pagetable *pt)
{
	int err = map_image(pt, _text_start, _text_end, PT_KERNEL_TEXT);
	if (!err)
		err = map_image(pt, _rodata_start, _rodata_end, PT_KERNEL_RO);
	if (!err)
		err = map_image(pt, _data_start, _data_end, PT_KERNEL_RW);
	if (!err)
		err = map_bss(pt);
	if (!err)
		err = map_direct(pt);
	if (!err)
		err = map_devices(pt);
	return err;
}
/* LAB STUB
int kspace_build(struct pagetable *pt)
{
	TODO("ch3", "kspace_build: map the kernel image, the direct map and the devices");
	(void)pt;
	return -ENOSYS;
}
LAB END */
