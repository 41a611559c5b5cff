/*
 * Boot: the typed memory map, the page_info array, and the frames handed to
 * the buddy allocator.
 *
 * 1. RAM: machine.memory[] clipped to the direct map and to whole frames,
 *    sorted and merged, so ranges that touch or overlap become one.
 * 2. The map starts as RAM, all MEM_USABLE; each reservation "paints" the
 *    usable frames it covers with its kind (rounded out to whole frames, so a
 *    frame holding any reserved byte is never handed out): PA 0, every
 *    machine.reserved[] region, the kernel image, the DTB. Whatever is already
 *    painted keeps its kind, and parts outside RAM are simply not painted.
 * 3. The page_info array, sparse (buddy.h): 16 bytes for each frame of every
 *    4 MiB section that holds some RAM (0.39% of RAM, and a little more where
 *    a RAM range starts or ends inside a section), plus the sections table
 *    (8 bytes per 4 MiB from the lowest to the highest RAM frame: a hole in
 *    RAM costs only that, as in Linux's sparsemem). All of it goes in the
 *    lowest usable region that holds it, which is then painted
 *    MEM_PAGE_METADATA. It is reached through the direct map, like every
 *    other frame.
 * 4. Every MEM_USABLE region goes to the buddy allocator.
 *
 * Reference: Redox BootloaderMemoryKind and its boot memory map; Linux
 * memblock (memblock_reserve, then free everything not reserved to the buddy:
 * memblock_free_all()).
 */
#include "buddy.h"
#include "errno.h"
#include "fdt.h"
#include "frame.h"
#include "frame_internal.h"
#include "initcall.h"
#include "memlayout.h"
#include "memmap.h"
#include "panic.h"
#include "printk.h"

/* RAM: sorted, disjoint, not touching; each [base, end) whole frames. */
static struct {
	paddr_t base, end;
} ram[MAX_MEM_RANGES];
static int nr_ram;

static struct mem_region map[MEMMAP_MAX];
static int nr_map;
static paddr_t metadata_pa;

/* ---- queries ------------------------------------------------------------------ */

int memmap_count(void) { return nr_map; }

const struct mem_region *memmap_region(int i) { return i >= 0 && i < nr_map ? &map[i] : NULL; }

bool memmap_kind_of(paddr_t pa, enum mem_kind *kind)
{
	for (int i = 0; i < nr_map; i++) {
		if (pa >= map[i].base && pa - map[i].base < map[i].size) {
			*kind = map[i].kind;
			return true;
		}
	}
	return false;
}

bool memmap_is_ram(paddr_t pa, uint64_t size)
{
	if (size == 0 || pa + size < pa)
		return false;
	for (int i = 0; i < nr_ram; i++)
		if (pa >= ram[i].base && pa + size <= ram[i].end)
			return true;
	return false;
}

uint64_t memmap_ram_bytes(void)
{
	uint64_t bytes = 0;
	for (int i = 0; i < nr_ram; i++)
		bytes += ram[i].end - ram[i].base;
	return bytes;
}

const char *mem_kind_name(enum mem_kind kind)
{
	switch (kind) {
	case MEM_USABLE:
		return "usable";
	case MEM_FIRMWARE:
		return "firmware";
	case MEM_KERNEL:
		return "kernel";
	case MEM_DEVICE_TREE:
		return "device tree";
	case MEM_PAGE_METADATA:
		return "page metadata";
	}
	return "?";
}

/* ---- building the map ----------------------------------------------------------- */

/* RAM from the device tree: clipped, whole frames, sorted, merged. */
static void collect_ram(void)
{
	nr_ram = 0;
	for (int i = 0; i < machine.nr_memory; i++) {
		paddr_t base = machine.memory[i].base, end = base + machine.memory[i].size;
		if (end < base || end > DIRECT_MAP_SIZE) /* beyond the direct map we cannot reach it */
			end = DIRECT_MAP_SIZE;
		base = ALIGN_UP(base, PAGE_SIZE);
		end = ALIGN_DOWN(end, PAGE_SIZE);
		if (base >= end)
			continue;
		int at = nr_ram++; /* insertion sort by base */
		while (at > 0 && ram[at - 1].base > base) {
			ram[at] = ram[at - 1];
			at--;
		}
		ram[at].base = base;
		ram[at].end = end;
	}
	int out = 0;
	for (int i = 0; i < nr_ram; i++) {
		if (out > 0 && ram[i].base <= ram[out - 1].end)
			ram[out - 1].end = MAX(ram[out - 1].end, ram[i].end);
		else
			ram[out++] = ram[i];
	}
	nr_ram = out;
}

/*
 * Give the usable frames of [base, end) kind @kind, splitting the regions it
 * cuts. Rounded out to whole frames; what is not usable RAM is left alone.
 */
static void paint(paddr_t base, paddr_t end, enum mem_kind kind, const char *name)
{
	static struct mem_region out[MEMMAP_MAX];
	int n = 0;
	if (end <= base)
		return;
	base = ALIGN_DOWN(base, PAGE_SIZE);
	end = end > UINT64_MAX - PAGE_SIZE ? ALIGN_DOWN(UINT64_MAX, PAGE_SIZE) : ALIGN_UP(end, PAGE_SIZE);
	for (int i = 0; i < nr_map; i++) {
		struct mem_region r = map[i];
		paddr_t rb = r.base, re = r.base + r.size;
		if (n + 3 > MEMMAP_MAX)
			panic("memmap: more than %d regions", MEMMAP_MAX);
		if (r.kind != MEM_USABLE || re <= base || rb >= end) {
			out[n++] = r;
			continue;
		}
		paddr_t cb = MAX(rb, base), ce = MIN(re, end);
		if (rb < cb)
			out[n++] = (struct mem_region){rb, cb - rb, MEM_USABLE, r.name};
		out[n++] = (struct mem_region){cb, ce - cb, kind, name};
		if (ce < re)
			out[n++] = (struct mem_region){ce, re - ce, MEM_USABLE, r.name};
	}
	for (int i = 0; i < n; i++)
		map[i] = out[i];
	nr_map = n;
}

/* The lowest usable region that holds @bytes; 0 if none does. */
static paddr_t find_usable(uint64_t bytes)
{
	for (int i = 0; i < nr_map; i++)
		if (map[i].kind == MEM_USABLE && map[i].size >= bytes)
			return map[i].base;
	return 0;
}

static void build_map(void)
{
	collect_ram();
	nr_map = 0;
	for (int i = 0; i < nr_ram; i++)
		map[nr_map++] = (struct mem_region){ram[i].base, ram[i].end - ram[i].base, MEM_USABLE, "RAM"};
	/* PA 0 is what a failed allocation returns: its frame is never handed out. */
	paint(0, PAGE_SIZE, MEM_FIRMWARE, "null frame");
	for (int i = 0; i < machine.nr_reserved; i++) {
		const struct phys_range *r = &machine.reserved[i];
		paddr_t end = r->base + r->size < r->base ? UINT64_MAX : r->base + r->size;
		paint(r->base, end, MEM_FIRMWARE, r->name);
	}
	paint(kva_to_pa(_kernel_start), kva_to_pa(_kernel_end), MEM_KERNEL, "kernel image");
	paint(machine.fdt_pa, machine.fdt_pa + machine.fdt_size, MEM_DEVICE_TREE, "device tree");
}

/* ---- the sparse page_info array ------------------------------------------------------ */

/* True if some RAM lies in frames [start, end): their section needs page_info. */
static bool has_ram(pfn_t start, pfn_t end)
{
	for (int i = 0; i < nr_ram; i++)
		if (ram[i].base < pfn_to_pa(end) && pfn_to_pa(start) < ram[i].end)
			return true;
	return false;
}

/* The sections of the span of [lo, hi) that hold RAM. */
static uint64_t count_sections_with_ram(pfn_t lo, pfn_t hi)
{
	uint64_t n = 0;
	for (pfn_t s = buddy_base(lo); s < hi; s += SECTION_FRAMES)
		n += has_ram(s, s + SECTION_FRAMES);
	return n;
}

/* ---- the initcall ------------------------------------------------------------------ */

int frames_init(void)
{
	printk("frames: building the memory map and the page metadata\n");
	build_map();
	if (nr_ram == 0) {
		printk("frames: no RAM in the device tree\n");
		return -ENOMEM;
	}
	pfn_t lo = pa_to_pfn(ram[0].base), hi = pa_to_pfn(ram[nr_ram - 1].end);
	uint64_t bytes = frame_zone_metadata_bytes(lo, hi, count_sections_with_ram(lo, hi));
	metadata_pa = find_usable(bytes);
	if (!metadata_pa) {
		printk("frames: no room for %lu bytes of page metadata\n", bytes);
		return -ENOMEM;
	}
	paint(metadata_pa, metadata_pa + bytes, MEM_PAGE_METADATA, "page metadata");
	frame_zone_init(pa_to_kva(metadata_pa), lo, hi, has_ram, bytes);

	uint64_t usable = 0;
	for (int i = 0; i < nr_map; i++) {
		if (map[i].kind != MEM_USABLE)
			continue;
		pfn_t start = pa_to_pfn(map[i].base), end = start + map[i].size / PAGE_SIZE;
		usable += end - start;
		frame_zone_add(start, end);
	}
	frame_zone_ready(memmap_ram_bytes() / PAGE_SIZE);
	frames_print_summary();
	if (frames_nr_total() < usable) {
		/* Frames go to the buddy through its free path: if that is not
		 * written yet (or refuses), the allocator starts empty. */
		printk("frames: only %lu of %lu usable frames reached the free lists\n", frames_nr_total(),
		       usable);
		if (frames_nr_total() == 0)
			return -ENOMEM;
	}
	return 0;
}
initcall(INIT_FRAMES, frames_init);

/* ---- the summary ---------------------------------------------------------------------- */

/* Where reserved region @r lies with respect to RAM, for the summary. */
static const char *placement(const struct phys_range *r)
{
	if (r->size && memmap_is_ram(r->base, r->size))
		return "";
	paddr_t end = r->base + r->size < r->base ? UINT64_MAX : r->base + r->size;
	for (int i = 0; i < nr_ram; i++)
		if (r->base < ram[i].end && end > ram[i].base)
			return " (partly outside RAM)";
	return " (outside RAM: ignored)";
}

void frames_print_summary(void)
{
	struct frame_stats st;
	frames_get_stats(&st);
	uint64_t ram_bytes = memmap_ram_bytes();
	printk("frames: memory map, %d regions:\n", nr_map);
	for (int i = 0; i < nr_map; i++) {
		const struct mem_region *r = &map[i];
		printk("frames:   [0x%09lx, 0x%09lx) %8lu KiB  %-13s %s\n", r->base, r->base + r->size,
		       r->size / KiB, mem_kind_name(r->kind), r->name);
	}
	for (int i = 0; i < machine.nr_reserved; i++) {
		const struct phys_range *r = &machine.reserved[i];
		printk("frames: reserved %s: [0x%lx, 0x%lx)%s\n", r->name, r->base, r->base + r->size,
		       placement(r));
	}
	printk("frames: %lu free frames (%lu MiB) of %lu managed; %lu frames of RAM reserved\n", st.free,
	       st.free * PAGE_SIZE / MiB, st.total, st.reserved);
	uint64_t hundredths = ram_bytes ? st.metadata_bytes * 10000 / ram_bytes : 0;
	printk("frames: page metadata: %lu KiB at 0x%lx, %lu.%02lu%% of %lu MiB of RAM\n",
	       st.metadata_bytes / KiB, metadata_pa, hundredths / 100, hundredths % 100, ram_bytes / MiB);
}
