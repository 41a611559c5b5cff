/* ch1.memmap: the typed memory map, the page_info array, and what is never handed out. */
#include "ch1_test.h"
#include "fdt.h"

/* Frames of RAM in [base, end) that the allocator manages (0 for a reserved range). */
static int count_managed(paddr_t base, paddr_t end)
{
	int managed = 0;
	for (paddr_t pa = ALIGN_DOWN(base, PAGE_SIZE); pa < end; pa += PAGE_SIZE) {
		if (!memmap_is_ram(pa, 1))
			continue;
		const struct page_info *pg = pa_to_page(pa);
		managed += !pg || pg->state != PAGE_RESERVED || frames_is_free(pa);
	}
	return managed;
}

KTEST(ch1_memmap, map_covers_ram)
{
	CH1_REQUIRE_FRAMES();
	int n = memmap_count();
	KASSERT_GT(n, 0);
	uint64_t bytes = 0;
	bool seen[MEM_PAGE_METADATA + 1] = {false};
	for (int i = 0; i < n; i++) {
		const struct mem_region *r = memmap_region(i);
		KEXPECT_GT(r->size, 0);
		KEXPECT_TRUE(IS_ALIGNED(r->base, PAGE_SIZE));
		KEXPECT_TRUE(IS_ALIGNED(r->size, PAGE_SIZE));
		KEXPECT_TRUE(memmap_is_ram(r->base, r->size));
		KEXPECT_LE(r->kind, MEM_PAGE_METADATA);
		KEXPECT_NOT_NULL(r->name);
		if (i > 0) /* sorted, no overlap */
			KEXPECT_LE(memmap_region(i - 1)->base + memmap_region(i - 1)->size, r->base);
		seen[r->kind] = true;
		bytes += r->size;
	}
	KEXPECT_EQ(bytes, memmap_ram_bytes());
	KEXPECT_TRUE(seen[MEM_USABLE]);
	KEXPECT_TRUE(seen[MEM_KERNEL]);
	KEXPECT_TRUE(seen[MEM_PAGE_METADATA]);
	KEXPECT_TRUE(seen[MEM_FIRMWARE]);
	/* Every RAM range of the device tree is in the map. */
	for (int i = 0; i < machine.nr_memory; i++)
		KEXPECT_TRUE(memmap_is_ram(machine.memory[i].base, machine.memory[i].size));
	KEXPECT_FALSE(memmap_is_ram(ram_end(), PAGE_SIZE));
	KEXPECT_FALSE(memmap_is_ram(ram_end() - PAGE_SIZE, 2 * PAGE_SIZE));
	KEXPECT_FALSE(memmap_is_ram(ram_start(), 0));
}

KTEST(ch1_memmap, kernel_image_reserved)
{
	CH1_REQUIRE_FRAMES();
	paddr_t start = kva_to_pa(_kernel_start), end = kva_to_pa(_kernel_end);
	enum mem_kind kind;
	KASSERT_TRUE(memmap_kind_of(start, &kind));
	KEXPECT_EQ(kind, MEM_KERNEL);
	KASSERT_TRUE(memmap_kind_of(end - 1, &kind));
	KEXPECT_EQ(kind, MEM_KERNEL);
	KEXPECT_EQ(count_managed(start, end), 0);
	/* The frame that holds this very test's code. */
	enum page_state st = pa_to_page(kva_to_pa((const void *)&count_managed))->state;
	KEXPECT_EQ(st, PAGE_RESERVED);
}

KTEST(ch1_memmap, device_tree_reserved)
{
	CH1_REQUIRE_FRAMES();
	KASSERT_GT(machine.fdt_size, 0);
	KEXPECT_EQ(count_managed(machine.fdt_pa, machine.fdt_pa + machine.fdt_size), 0);
	enum mem_kind kind;
	if (memmap_kind_of(machine.fdt_pa, &kind))
		KEXPECT_NE(kind, MEM_USABLE);
}

KTEST(ch1_memmap, firmware_reserved)
{
	CH1_REQUIRE_FRAMES();
	KASSERT_GT(machine.nr_reserved, 0);
	for (int i = 0; i < machine.nr_reserved; i++) {
		const struct phys_range *r = &machine.reserved[i];
		KEXPECT_EQ(count_managed(r->base, r->base + r->size), 0);
	}
}

KTEST(ch1_memmap, metadata_reserved)
{
	CH1_REQUIRE_FRAMES();
	const struct mem_region *meta = NULL;
	for (int i = 0; i < memmap_count(); i++)
		if (memmap_region(i)->kind == MEM_PAGE_METADATA)
			meta = memmap_region(i);
	KASSERT_NOT_NULL(meta);
	struct frame_stats st;
	frames_get_stats(&st);
	KEXPECT_EQ(meta->size, st.metadata_bytes);
	/* The budget: a page_info for every frame of RAM, and all of it within
	 * 0.5% of RAM (plus a page of rounding), holes in RAM or not: the array
	 * is sparse. A field added to page_info costs every frame (page.h). */
	uint64_t ram = memmap_ram_bytes();
	if (sizeof(struct page_info) * 1000 > PAGE_SIZE * 5 || st.metadata_bytes > ram / 200 + PAGE_SIZE)
		printk("over the metadata budget of 0.5%% of RAM: page_info is %lu bytes per %lu-byte frame, "
		       "the metadata %lu bytes for %lu bytes of RAM\n",
		       sizeof(struct page_info), PAGE_SIZE, st.metadata_bytes, ram);
	KEXPECT_LE(sizeof(struct page_info) * 1000, PAGE_SIZE * 5);
	KEXPECT_GE(st.metadata_bytes, ram / PAGE_SIZE * sizeof(struct page_info));
	KEXPECT_LE(st.metadata_bytes, ram / 200 + PAGE_SIZE);
	/* Every page_info of RAM lives in that region, and its frames are reserved. */
	int outside = 0;
	for (int i = 0; i < memmap_count(); i++) {
		const struct mem_region *r = memmap_region(i);
		for (paddr_t pa = r->base; pa < r->base + r->size; pa += PAGE_SIZE) {
			paddr_t at = kva_to_pa(pa_to_page(pa));
			outside += at < meta->base || at + sizeof(struct page_info) > meta->base + meta->size;
		}
	}
	KEXPECT_EQ(outside, 0);
	KEXPECT_EQ(count_managed(meta->base, meta->base + meta->size), 0);
}

KTEST(ch1_memmap, null_frame_never_managed)
{
	CH1_REQUIRE_FRAMES();
	const struct page_info *pg = pa_to_page(0);
	KEXPECT_TRUE(pg == NULL || pg->state == PAGE_RESERVED);
	KEXPECT_FALSE(frames_is_free(0));
}

KTEST(ch1_memmap, usable_frames_managed)
{
	CH1_REQUIRE_FRAMES();
	uint64_t usable = 0, unmanaged = 0;
	for (int i = 0; i < memmap_count(); i++) {
		const struct mem_region *r = memmap_region(i);
		if (r->kind != MEM_USABLE)
			continue;
		for (paddr_t pa = r->base; pa < r->base + r->size; pa += PAGE_SIZE) {
			const struct page_info *pg = pa_to_page(pa);
			KASSERT_NOT_NULL(pg);
			unmanaged += pg->state == PAGE_RESERVED;
		}
		usable += r->size / PAGE_SIZE;
	}
	KEXPECT_EQ(unmanaged, 0);
	struct frame_stats st;
	frames_get_stats(&st);
	KEXPECT_EQ(st.total, usable);
	KEXPECT_EQ(st.total + st.reserved, memmap_ram_bytes() / PAGE_SIZE);
}

KTEST(ch1_memmap, counts_add_up)
{
	CH1_REQUIRE_FRAMES();
	struct frame_stats st;
	frames_get_stats(&st);
	KEXPECT_EQ(st.free + st.used, st.total);
	uint64_t listed = 0;
	for (unsigned o = 0; o <= MAX_ORDER; o++)
		listed += st.free_blocks[o] << o;
	KEXPECT_EQ(listed, st.free);
	KEXPECT_EQ(frames_nr_free(), st.free);
	KEXPECT_EQ(frames_nr_used(), st.used);
	KEXPECT_EQ(frames_nr_total(), st.total);
	KEXPECT_NULL(frames_check());
}

KTEST(ch1_memmap, page_lookup)
{
	CH1_REQUIRE_FRAMES();
	for (int i = 0; i < memmap_count(); i++) {
		const struct mem_region *r = memmap_region(i);
		paddr_t last = r->base + r->size - PAGE_SIZE;
		KEXPECT_EQ(page_to_pa(pa_to_page(r->base)), r->base);
		KEXPECT_EQ(page_to_pa(pa_to_page(last)), last);
		KEXPECT_EQ(pa_to_page(last + 123), pa_to_page(last)); /* any byte of the frame */
	}
	KEXPECT_NULL(pa_to_page(ram_end()));
	KEXPECT_NULL(pa_to_page(ram_start() - 1));
	KEXPECT_NULL(pa_to_page(0x1000));
	KEXPECT_NULL(pa_to_page(-4096UL));
	/* Holes between the regions (RAM with holes): no page_info, nothing free there. */
	for (int i = 1; i < memmap_count(); i++) {
		paddr_t gap = memmap_region(i - 1)->base + memmap_region(i - 1)->size;
		if (gap == memmap_region(i)->base)
			continue;
		KEXPECT_NULL(pa_to_page(gap));
		KEXPECT_NULL(pa_to_page(memmap_region(i)->base - PAGE_SIZE));
		KEXPECT_FALSE(frames_is_free(gap));
		KEXPECT_EQ(frames_alloc_at(gap, 1, 0), -EINVAL);
	}
}

/* True if [pa, pa + size) overlaps a region of the map that is not usable. */
static bool overlaps_reserved(paddr_t pa, uint64_t size)
{
	for (int i = 0; i < memmap_count(); i++) {
		const struct mem_region *r = memmap_region(i);
		if (r->kind != MEM_USABLE && pa < r->base + r->size && r->base < pa + size)
			return true;
	}
	/* And the kernel, DTB and firmware as the device tree gives them, in case the map lost one. */
	paddr_t kstart = kva_to_pa(_kernel_start), kend = kva_to_pa(_kernel_end);
	if (pa < kend && kstart < pa + size)
		return true;
	if (pa < machine.fdt_pa + machine.fdt_size && machine.fdt_pa < pa + size)
		return true;
	for (int i = 0; i < machine.nr_reserved; i++) {
		const struct phys_range *r = &machine.reserved[i];
		if (pa < r->base + r->size && r->base < pa + size)
			return true;
	}
	return false;
}

KTEST(ch1_memmap, allocate_everything_avoids_reserved)
{
	CH1_REQUIRE_FRAMES();
	struct ch1_env env;
	ch1_env_save(&env);
	struct buddy_digest before, after;
	struct held *h = held_begin();
	drain_everything(h, &before);
	/* Walk the blocks handed out: none touches anything reserved, or PA 0. */
	int bad = 0;
	for (uint64_t i = 0; i < h->blocks; i++) {
		paddr_t pa = h->pa[i];
		uint64_t size = PAGE_SIZE << h->order[i];
		bad += pa == 0 || overlaps_reserved(pa, size) || !memmap_is_ram(pa, size);
	}
	KEXPECT_EQ(bad, 0);
	KEXPECT_EQ(held_release(h), 0);
	frames_digest(&after);
	KEXPECT_DIGEST_EQ(before, after);
	ch1_env_restore(&env);
}
