/*
 * ch3 benchmarks, in instructions retired (exact and repeatable under
 * `-icount shift=0 -smp 1`, as `make bench CH=3` boots): the cost of mapping
 * and unmapping a page, of a query, and the table pages the direct map takes.
 */
#include "ch3_test.h"
#include "fdt.h"

enum { ROUNDS = 2000 };

#define RW (PTE_R | PTE_W)

/* Instructions per map+unmap of one 4 KiB page; @warm keeps a neighbour so the tables stay. */
static uint64_t map4k_cost(bool warm)
{
	struct pagetable pt;
	if (pt_init(&pt))
		return 0;
	if (warm)
		pt_map(&pt, T_VA, T_PA, PAGE_SIZE, RW);
	vaddr_t va = T_VA + 7 * PAGE_SIZE;
	uint64_t start = rdinstret();
	for (int i = 0; i < ROUNDS; i++) {
		pt_map(&pt, va, T_PA, PAGE_SIZE, RW);
		pt_unmap(&pt, va, PAGE_SIZE, NULL);
	}
	uint64_t cost = (rdinstret() - start) / ROUNDS;
	pt_destroy(&pt);
	return cost;
}

KBENCH(ch3_map4k)
{
	kbench_report("ch3_map4k", map4k_cost(true),
		      "instructions per 4 KiB pt_map+pt_unmap (tables present)");
	kbench_report("ch3_map4k_cold", map4k_cost(false),
		      "instructions per 4 KiB pt_map+pt_unmap (2 tables allocated and freed)");
}

/* Instructions per pt_query() of an address mapped by a page of @size. */
static uint64_t query_cost(size_t size)
{
	struct pagetable pt;
	if (pt_init(&pt) || pt_map(&pt, T_VA, T_PA, size, RW | PT_MAP_HUGE)) {
		pt_destroy(&pt);
		return 0;
	}
	struct pt_mapping m;
	uint64_t start = rdinstret();
	for (int i = 0; i < ROUNDS; i++)
		pt_query(&pt, T_VA + (i * 8 & (size - 1)), &m);
	uint64_t cost = (rdinstret() - start) / ROUNDS;
	pt_destroy(&pt);
	return cost;
}

KBENCH(ch3_query)
{
	kbench_report("ch3_query", query_cost(PAGE_SIZE), "instructions per pt_query (4 KiB page)");
	kbench_report("ch3_query_2m", query_cost(MEGAPAGE_SIZE), "instructions per pt_query (2 MiB page)");
	kbench_report("ch3_query_1g", query_cost(GIGAPAGE_SIZE), "instructions per pt_query (1 GiB page)");
}

/* Table pages (root excluded) a direct map of [start, end) takes, built as kspace_build() does. */
static uint64_t direct_map_tables(paddr_t start, paddr_t end, unsigned huge)
{
	struct pagetable pt;
	if (pt_init(&pt))
		return 0;
	uint64_t tables = 0;
	if (pt_map(&pt, (vaddr_t)pa_to_kva(start), start, end - start, PT_KERNEL_RW | huge) == 0)
		tables = pt.nr_tables - 1;
	pt_destroy(&pt);
	return tables;
}

/* The same for 4 KiB pages only, counted: one level-0 table per 2 MiB, one level-1 per 1 GiB. */
static uint64_t tables_4k_only(paddr_t start, paddr_t end)
{
	uint64_t l0 = (ALIGN_UP(end, MEGAPAGE_SIZE) - ALIGN_DOWN(start, MEGAPAGE_SIZE)) / MEGAPAGE_SIZE;
	uint64_t l1 = (ALIGN_UP(end, GIGAPAGE_SIZE) - ALIGN_DOWN(start, GIGAPAGE_SIZE)) / GIGAPAGE_SIZE;
	return l0 + l1;
}

KBENCH(ch3_directmap_pt_pages)
{
	uint64_t ram = 0, tables = 0, small = 0;
	for (int i = 0; i < machine.nr_memory; i++) {
		paddr_t start = ALIGN_UP(machine.memory[i].base, PAGE_SIZE);
		paddr_t end = ALIGN_DOWN(machine.memory[i].base + machine.memory[i].size, PAGE_SIZE);
		ram += end - start;
		tables += direct_map_tables(start, end, PT_MAP_HUGE);
		small += tables_4k_only(start, end);
	}
	kbench_report("ch3_ram_mib", ram / MiB, "MiB of RAM in this boot");
	kbench_report("ch3_directmap_pt_pages", tables,
		      "table pages below the root for the direct map of this RAM (largest pages, on an empty "
		      "table)");
	kbench_report("ch3_directmap_pt_pages_4k", small, "table pages it would take with 4 KiB pages only");
	paddr_t base = 0x80000000UL;
	kbench_report("ch3_directmap_pt_pages_2g", direct_map_tables(base, base + 2 * GiB, PT_MAP_HUGE),
		      "table pages below the root for 2 GiB of RAM at 0x80000000 (gigapages: in the root)");
	kbench_report("ch3_directmap_pt_pages_2g_4k", tables_4k_only(base, base + 2 * GiB),
		      "table pages for 2 GiB of RAM at 0x80000000 (4 KiB pages only)");
	/* What the kernel space takes: the kernel half's level-1 tables, made
	 * whatever the RAM, then whatever kspace_build() adds below them. */
	struct pagetable pt;
	uint64_t half = 0;
	if (pt_init(&pt) == 0) {
		if (kspace_alloc_kernel_half(&pt) == 0)
			half = pt.nr_tables - 1;
		pt_destroy(&pt);
	}
	kbench_report("ch3_kernel_half_pt_pages", half,
		      "level-1 tables of the kernel half, made at boot (direct map, vmap area, image)");
	kbench_report("ch3_kspace_pt_pages", kernel_as.pt.nr_tables,
		      "table pages of the kernel space in this boot, the root and the kernel half included");
}
