/*
 * Host test of ch1/src/memmap.c: frames_init() on made-up machines that QEMU
 * never produces — several RAM ranges (unsorted, overlapping, touching), RAM
 * at PA 0, reserved regions that overlap each other or lie partly or wholly
 * outside RAM, a DTB outside RAM or inside a reserved region, a first usable
 * region too small for the metadata, no RAM at all. The zone is replaced by
 * stubs that record which frames it was given; every map is checked against
 * the rules in memmap.h.
 *
 * The kernel image symbols are placed at the kernel's link addresses with
 * --defsym, so kva_to_pa() sees them where it would in the kernel.
 */
// HOSTTEST_SOURCES: ch1/src/memmap.c common/hosttest/host_kernel.c
// HOSTTEST_CFLAGS: -fno-pie -no-pie -mcmodel=large -Wl,--defsym,_kernel_start=0xffffffff80200000 -Wl,--defsym,_kernel_end=0xffffffff8023a000
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/hosttest/host_check.h"
#include "../../common/hosttest/host_kernel.h"
#include "buddy.h"
#include "errno.h"
#include "fdt.h"
#include "frame.h"
#include "frame_internal.h"
#include "memlayout.h"
#include "memmap.h"

#define KSTART 0x80200000UL
#define KEND   0x8023a000UL

/* ---- what memmap.c needs from the rest of the kernel ------------------------ */

/* printk() and panic() are common/hosttest/host_kernel.c's. */
struct machine machine;

/* The zone, as stubs that remember what they were given. */
static struct {
	bool inited;
	void *meta;
	bool (*has_ram)(pfn_t start, pfn_t end);
	pfn_t lo, hi;
	uint64_t metadata_bytes;
	pfn_t added[64][2];
	int nr_added;
	uint64_t total;
	uint64_t ram_frames;
} z;

void frame_zone_init(void *meta, pfn_t lo, pfn_t hi, bool (*has_ram)(pfn_t start, pfn_t end),
		     uint64_t metadata_bytes)
{
	z.inited = true;
	z.meta = meta;
	z.has_ram = has_ram;
	z.lo = lo;
	z.hi = hi;
	z.metadata_bytes = metadata_bytes;
}

uint64_t frame_zone_add(pfn_t start, pfn_t end)
{
	if (z.nr_added < 64) {
		z.added[z.nr_added][0] = start;
		z.added[z.nr_added++][1] = end;
	}
	z.total += end - start;
	return end - start;
}

void frame_zone_ready(uint64_t ram_frames) { z.ram_frames = ram_frames; }
uint64_t frames_nr_total(void) { return z.total; }

void frames_get_stats(struct frame_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->total = out->free = z.total;
	out->reserved = z.ram_frames - z.total;
	out->metadata_bytes = z.metadata_bytes;
}

/* ---- checks -------------------------------------------------------------------- */

static void reset(const char *name)
{
	check_context = name; /* the scenario, printed with each failure */
	memset(&machine, 0, sizeof(machine));
	memset(&z, 0, sizeof(z));
	machine.fdt_pa = 0x8fe00000;
	machine.fdt_size = 0x1234;
}

static void add_ram(paddr_t base, uint64_t size)
{
	struct phys_range *r = &machine.memory[machine.nr_memory++];
	r->base = base;
	r->size = size;
	strcpy(r->name, "memory");
}

static void add_reserved(paddr_t base, uint64_t size, const char *name)
{
	struct phys_range *r = &machine.reserved[machine.nr_reserved++];
	r->base = base;
	r->size = size;
	snprintf(r->name, sizeof(r->name), "%s", name);
}

/* True if the frame at @pa is in a usable region of the map. */
static bool usable(paddr_t pa)
{
	enum mem_kind kind;
	return memmap_kind_of(pa, &kind) && kind == MEM_USABLE;
}

/* True if the zone was given the frame at @pa. */
static bool given(paddr_t pa)
{
	for (int i = 0; i < z.nr_added; i++)
		if (pa_to_pfn(pa) >= z.added[i][0] && pa_to_pfn(pa) < z.added[i][1])
			return true;
	return false;
}

/* Every RAM frame of [base, base + size) is kept out of the zone. */
static void check_kept_out(paddr_t base, uint64_t size)
{
	paddr_t end = base + size < base ? UINT64_MAX : base + size;
	for (paddr_t pa = ALIGN_DOWN(base, PAGE_SIZE); pa < end && pa >= ALIGN_DOWN(base, PAGE_SIZE);
	     pa += PAGE_SIZE) {
		if (!memmap_is_ram(pa, 1))
			continue;
		if (usable(pa) || given(pa)) {
			CHECK(!usable(pa) && !given(pa));
			return;
		}
	}
}

/* The rules every map must keep, whatever the machine. */
static void check_map(void)
{
	int n = memmap_count();
	uint64_t bytes = 0, usable_frames = 0, meta_regions = 0;
	paddr_t meta = 0;
	CHECK(n > 0);
	for (int i = 0; i < n; i++) {
		const struct mem_region *r = memmap_region(i);
		CHECK(r->size > 0);
		CHECK(IS_ALIGNED(r->base, PAGE_SIZE) && IS_ALIGNED(r->size, PAGE_SIZE));
		CHECK(memmap_is_ram(r->base, r->size));
		if (i > 0)
			CHECK(memmap_region(i - 1)->base + memmap_region(i - 1)->size <= r->base);
		bytes += r->size;
		if (r->kind == MEM_USABLE)
			usable_frames += r->size / PAGE_SIZE;
		if (r->kind == MEM_PAGE_METADATA) {
			meta_regions++;
			meta = r->base;
			CHECK(r->size == z.metadata_bytes);
		}
	}
	CHECK(bytes == memmap_ram_bytes());
	CHECK(bytes / PAGE_SIZE == z.ram_frames);
	/* The zone got exactly the usable regions, never frame 0. */
	uint64_t added = 0;
	for (int i = 0; i < z.nr_added; i++) {
		added += z.added[i][1] - z.added[i][0];
		CHECK(z.added[i][0] > 0);
		for (pfn_t p = z.added[i][0]; p < z.added[i][1]; p++)
			if (!usable(pfn_to_pa(p))) {
				CHECK(usable(pfn_to_pa(p)));
				break;
			}
	}
	CHECK(added == usable_frames);
	CHECK(z.total == usable_frames);
	/* One metadata region, sized for exactly the sections that hold RAM. */
	CHECK(meta_regions == 1);
	CHECK(z.inited);
	CHECK(z.meta == pa_to_kva(meta));
	uint64_t nr_sections = buddy_nr_sections(z.lo, z.hi), present = 0;
	for (uint64_t sec = 0; sec < nr_sections; sec++) {
		pfn_t start = buddy_base(z.lo) + (sec << SECTION_ORDER);
		bool ram = false;
		for (pfn_t p = start; p < start + SECTION_FRAMES; p++)
			ram |= memmap_is_ram(pfn_to_pa(p), 1);
		CHECK_EQ(z.has_ram(start, start + SECTION_FRAMES), ram);
		present += ram;
	}
	CHECK_EQ(z.metadata_bytes, frame_zone_metadata_bytes(z.lo, z.hi, present));
	/* At most 16 bytes a frame of RAM, 32 KiB more a RAM range (its partial
	 * sections), and 8 + 4 bytes a section of the span (the table). */
	uint64_t ranges = 1;
	for (int i = 1; i < n; i++)
		ranges += memmap_region(i - 1)->base + memmap_region(i - 1)->size != memmap_region(i)->base;
	CHECK(z.metadata_bytes <=
	      ALIGN_UP(z.ram_frames * sizeof(struct page_info) +
			       ranges * 2 * SECTION_FRAMES * sizeof(struct page_info) + nr_sections * 12,
		       PAGE_SIZE));
	CHECK(pfn_to_pa(z.lo) == memmap_region(0)->base);
	CHECK(pfn_to_pa(z.hi) == memmap_region(n - 1)->base + memmap_region(n - 1)->size);
	/* Everything reserved stays out. */
	for (int i = 0; i < machine.nr_reserved; i++)
		check_kept_out(machine.reserved[i].base, machine.reserved[i].size);
	check_kept_out(KSTART, KEND - KSTART);
	check_kept_out(machine.fdt_pa, machine.fdt_size);
	check_kept_out(0, PAGE_SIZE);
	check_kept_out(meta, z.metadata_bytes);
}

/* ---- scenarios --------------------------------------------------------------------- */

static void qemu_like(void)
{
	reset("qemu-like");
	add_ram(0x80000000, 256 * MiB);
	add_reserved(0x80000000, 512 * KiB, "mmode_resv0@80000000");
	CHECK(frames_init() == 0);
	check_map();
	CHECK(memmap_count() == 7);
	CHECK(z.metadata_bytes == 1 * MiB + 4 * KiB); /* 65536 frames x 16 bytes, and the table */
	CHECK(usable(0x80080000 + MiB + 4 * KiB));    /* the metadata goes right after the firmware */
	CHECK(!usable(0x80080000));
	enum mem_kind k;
	CHECK(memmap_kind_of(KSTART, &k) && k == MEM_KERNEL);
	CHECK(memmap_kind_of(0x8fe00000, &k) && k == MEM_DEVICE_TREE);
	CHECK(memmap_kind_of(0x8fe01000, &k) && k == MEM_DEVICE_TREE); /* 0x1234 bytes: two frames */
	CHECK(usable(0x8fe02000));
	CHECK(memmap_is_ram(0x8ffff000, PAGE_SIZE));
	CHECK(!memmap_is_ram(0x90000000, 1));
	CHECK(!memmap_is_ram(0x8ffff000, 2 * PAGE_SIZE));
	CHECK(!memmap_is_ram(0x80000000, 0));
	CHECK(!memmap_is_ram(-PAGE_SIZE, 2 * PAGE_SIZE));
}

static void several_ranges(void)
{
	reset("several RAM ranges, unsorted, overlapping, touching");
	add_ram(0xc0000000, 64 * MiB); /* a second bank, after a hole */
	add_ram(0x80000000, 64 * MiB);
	add_ram(0x83000000, 32 * MiB);	    /* overlaps the first, extends it */
	add_ram(0x85000000, 16 * MiB);	    /* touches it */
	add_ram(0x90000000 + 123, 4 * MiB); /* unaligned: trimmed to whole frames */
	machine.fdt_pa = 0xc3f00000;
	CHECK(frames_init() == 0);
	check_map();
	CHECK(memmap_is_ram(0x80000000, 0x6000000)); /* merged into one range */
	CHECK(!memmap_is_ram(0x86000000, 1));
	CHECK(!memmap_is_ram(0x90000000, 1)); /* the partial first frame is dropped */
	CHECK(memmap_is_ram(0x90001000, 1));
	CHECK(!memmap_is_ram(0x90400000, 1)); /* and so is the partial last one */
	CHECK(memmap_is_ram(0xc0000000, 64 * MiB));
	/* The span covers the hole, but the sections wholly inside it have no page_info. */
	CHECK(z.hi - z.lo == (0xc4000000UL - 0x80000000UL) / PAGE_SIZE);
	CHECK(z.has_ram(pa_to_pfn(0x90000000), pa_to_pfn(0x90400000)));
	CHECK(!z.has_ram(pa_to_pfn(0xa0000000), pa_to_pfn(0xa0400000)));
	CHECK(z.metadata_bytes < 2 * MiB); /* 180 MiB of RAM in a 1 GiB span: 4 MiB without holes */
}

static void overlapping_reserved(void)
{
	reset("reserved regions overlapping each other and RAM's edges");
	add_ram(0x80000000, 128 * MiB);
	add_reserved(0x80000000, 512 * KiB, "firmware");
	add_reserved(0x80040000, 512 * KiB, "overlaps firmware");
	add_reserved(0x81000123, 0x10, "unaligned, inside one frame");
	add_reserved(0x7ff00000, 2 * MiB, "straddles RAM's start");
	add_reserved(0x87ff0000, 1 * MiB, "straddles RAM's end");
	add_reserved(0x10000000, 1 * MiB, "wholly outside RAM");
	add_reserved(0xfffffffffffff000UL, 0x2000, "wraps around");
	add_reserved(0x82000000, 0, "empty");
	add_reserved(0x81100000, 4 * MiB, "contains the next");
	add_reserved(0x81200000, 1 * MiB, "inside the previous");
	machine.fdt_pa = 0x81180000; /* the DTB inside a reserved region */
	CHECK(frames_init() == 0);
	check_map();
	enum mem_kind k;
	CHECK(memmap_kind_of(0x81180000, &k) && k == MEM_FIRMWARE); /* first painter wins */
	CHECK(!usable(0x81000000));
	CHECK(usable(0x81001000));
	CHECK(usable(0x81500000));
	CHECK(!usable(0x80000000));
	CHECK(!usable(0x87fff000));
	CHECK(usable(0x87fef000));
}

static void dtb_outside_ram(void)
{
	reset("DTB outside RAM and straddling its end");
	add_ram(0x80000000, 64 * MiB);
	machine.fdt_pa = 0x40000000;
	CHECK(frames_init() == 0);
	check_map();
	reset("DTB straddling RAM's end");
	add_ram(0x80000000, 64 * MiB);
	machine.fdt_pa = 0x83fff800;
	machine.fdt_size = 0x1000;
	CHECK(frames_init() == 0);
	check_map();
	CHECK(!usable(0x83fff000));
}

static void ram_at_zero(void)
{
	reset("RAM at physical address 0");
	add_ram(0, 64 * MiB);
	add_ram(0x80000000, 64 * MiB);
	machine.fdt_pa = 0x100000;
	CHECK(frames_init() == 0);
	check_map();
	enum mem_kind k;
	CHECK(memmap_kind_of(0, &k) && k == MEM_FIRMWARE);
	CHECK(!given(0));
	CHECK(given(PAGE_SIZE) || !usable(PAGE_SIZE));
}

static void metadata_placement(void)
{
	reset("first usable region too small for the metadata");
	add_ram(0x80000000, 1 * GiB);
	add_reserved(0x80000000, 256 * KiB, "firmware");
	add_reserved(0x80100000, 1 * MiB, "blocks the gap");
	CHECK(frames_init() == 0);
	check_map();
	/* 1 GiB needs 4 MiB of page_info: not in [256 KiB, 1 MiB), not before the kernel. */
	CHECK(usable(0x80040000));
	enum mem_kind k;
	CHECK(memmap_kind_of(KEND, &k) && k == MEM_PAGE_METADATA);
}

static void beyond_direct_map(void)
{
	reset("RAM beyond the direct map is clipped");
	machine.fdt_pa = DIRECT_MAP_SIZE - 8 * MiB;
	add_ram(DIRECT_MAP_SIZE - 16 * MiB, 64 * MiB); /* only its first 16 MiB are reachable */
	CHECK(frames_init() == 0);
	check_map();
	CHECK(memmap_is_ram(DIRECT_MAP_SIZE - PAGE_SIZE, PAGE_SIZE));
	CHECK(!memmap_is_ram(DIRECT_MAP_SIZE, 1));
}

static void no_ram(void)
{
	reset("no RAM");
	CHECK(frames_init() == -ENOMEM);
	CHECK(memmap_count() == 0);
	reset("RAM smaller than a frame");
	add_ram(0x80000100, 0x800);
	CHECK(frames_init() == -ENOMEM);
}

int main(int argc, char **argv)
{
	(void)argv;
	host_printk_echo = argc > 1;
	qemu_like();
	several_ranges();
	overlapping_reserved();
	dtb_outside_ram();
	ram_at_zero();
	metadata_placement();
	beyond_direct_map();
	no_ram();
	check_context = NULL;
	return checks_done("ch1/memmap");
}
