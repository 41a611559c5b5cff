/*
 * ch3.kernel_half: the upper-half root entries, which every address space
 * copies, never change after boot: not by kernel_map/kernel_unmap in the
 * vmap area, a new MMIO mapping, nor splitting a direct-map huge page; and a
 * copy made before a kernel mapping sees it.
 */
#include "ch3_test.h"
#include "fdt.h"

#define HALF (PTES_PER_TABLE / 2)

static void snapshot(pte_t out[HALF])
{
	const pte_t *root = pa_to_kva(kernel_as.pt.root);
	for (int i = 0; i < HALF; i++)
		out[i] = root[HALF + i];
}

/* Root slots whose entry differs from @before. */
static int changed_slots(const pte_t before[HALF])
{
	pte_t now[HALF];
	snapshot(now);
	int n = 0;
	for (int i = 0; i < HALF; i++) {
		if (now[i] != before[i]) {
			printk("root entry %d: 0x%lx, was 0x%lx\n", HALF + i, now[i], before[i]);
			n++;
		}
	}
	return n;
}

KTEST(ch3_kernel_half, tables_from_boot)
{
	/* Every slot of the direct map, the vmap area and the image: a level-1 table. */
	KSPACE_REQUIRE();
	const pte_t *root = pa_to_kva(kernel_as.pt.root);
	static const struct {
		vaddr_t start, size;
	} ranges[] = {
		{DIRECT_MAP_BASE, DIRECT_MAP_SIZE}, {KSPACE_VMAP_BASE, KSPACE_VMAP_SIZE}, {KERNEL_BASE, 1}};
	for (unsigned r = 0; r < sizeof(ranges) / sizeof(ranges[0]); r++) {
		unsigned bad = 0;
		for (vaddr_t va = ranges[r].start; va - ranges[r].start < ranges[r].size; va += GIGAPAGE_SIZE)
			bad += !pte_is_table(root[vpn_index(va, 2)]);
		KEXPECT_EQ(bad, 0);
	}
	KEXPECT_EQ(kernel_as.pt.kernel_half, PT_HALF_PINNED);
	KEXPECT_EQ(kspace_check_kernel_half(&kernel_as.pt), 0);
	/* Nothing else to share: the lower half is empty. */
	for (int i = 0; i < HALF; i++)
		KEXPECT_FALSE(pte_valid(root[i]));
}

KTEST(ch3_kernel_half, root_entries_never_change)
{
	KSPACE_REQUIRE();
	static pte_t before[HALF];
	snapshot(before);
	/* kernel_map and kernel_unmap in the vmap area: tables made and freed below the root. */
	paddr_t frame = frame_alloc(FRAME_ZERO);
	KASSERT_NE(frame, 0);
	vaddr_t va = KSPACE_VMAP_BASE + 7 * GIGAPAGE_SIZE + 3 * MEGAPAGE_SIZE;
	KEXPECT_EQ(kernel_map(va, frame, PAGE_SIZE, PT_KERNEL_RW), 0);
	KEXPECT_EQ(kernel_unmap(va, PAGE_SIZE), 0);
	/* The same, out of memory: the rollback leaves the root alone too. */
	pt_inject_alloc_failure(1);
	KEXPECT_EQ(kernel_map(va, frame, PAGE_SIZE, PT_KERNEL_RW), -ENOMEM);
	pt_inject_alloc_failure(0);
	/* A new MMIO range in the direct map where nothing was (never touched):
	 * a megapage and 4 KiB pages. */
	paddr_t mmio = 0x30000000UL;
	vaddr_t mmio_va = (vaddr_t)pa_to_kva(mmio);
	KEXPECT_EQ(kernel_map_mmio(mmio, 3 * MEGAPAGE_SIZE, NULL), 0);
	KEXPECT_EQ(q_size(&kernel_as.pt, mmio_va), MEGAPAGE_SIZE);
	/* A direct-map huge page split by protecting one page inside it (the
	 * RAM's would stay split: the other suites count its megapages). */
	KEXPECT_EQ(kernel_protect(mmio_va + PAGE_SIZE, PAGE_SIZE, PT_KERNEL_RO), 0);
	KEXPECT_EQ(q_size(&kernel_as.pt, mmio_va), PAGE_SIZE);
	KEXPECT_EQ(q_flags(&kernel_as.pt, mmio_va + PAGE_SIZE) & PTE_PERM_MASK, PT_KERNEL_RO);
	KEXPECT_EQ(kernel_unmap(mmio_va, 3 * MEGAPAGE_SIZE), 0);
	/* Outside the kernel half: refused, the root untouched. */
	KEXPECT_EQ(kernel_map(0xfffffff000000000UL, frame, PAGE_SIZE, PT_KERNEL_RW), -ERANGE);
	KEXPECT_EQ(kernel_map(T_VA, frame, PAGE_SIZE, PT_KERNEL_RW), -ERANGE);
	KEXPECT_EQ(kernel_map(KSPACE_VMAP_BASE + KSPACE_VMAP_SIZE - PAGE_SIZE, frame, 2 * PAGE_SIZE,
			      PT_KERNEL_RW),
		   -ERANGE);
	KEXPECT_EQ(changed_slots(before), 0);
	KEXPECT_EQ(kspace_check_kernel_half(&kernel_as.pt), 0);
	frame_free(frame);
}

KTEST(ch3_kernel_half, copy_sees_later_kernel_maps)
{
	KSPACE_REQUIRE();
	uint64_t free_before = frames_nr_free();
	struct pagetable pt;
	KASSERT_EQ(pt_init(&pt), 0);
	KEXPECT_EQ(kspace_share_kernel_half(&pt), 0);
	KEXPECT_EQ(pt.kernel_half, PT_HALF_SHARED);
	KEXPECT_EQ(pt.nr_tables, 1);
	KEXPECT_EQ(kspace_check_kernel_half(&pt), 0);
	KEXPECT_EQ(kspace_share_kernel_half(&pt), -EEXIST);
	/* Mapped after the copy, in the kernel: the copy translates it too. */
	paddr_t frame = frame_alloc(FRAME_ZERO);
	KASSERT_NE(frame, 0);
	vaddr_t va = KSPACE_VMAP_BASE + 9 * GIGAPAGE_SIZE;
	KEXPECT_EQ(kernel_map(va, frame, PAGE_SIZE, PT_KERNEL_RW), 0);
	KEXPECT_EQ(q_pa(&pt, va), frame);
	KEXPECT_EQ(q_pa(&pt, (vaddr_t)_text_start), kva_to_pa(_text_start));
	KEXPECT_EQ(kernel_unmap(va, PAGE_SIZE), 0);
	KEXPECT_EQ(q_pa(&pt, va), -ENOENT);
	/* A lower-half mapping of the copy is its own; destroying it frees only its tables. */
	KEXPECT_EQ(pt_map(&pt, T_VA, T_PA, PAGE_SIZE, PTE_R | PTE_W | PTE_U), 0);
	KEXPECT_EQ(pt.nr_tables, 3);
	pt_destroy(&pt);
	frame_free(frame);
	KEXPECT_EQ(frames_nr_free(), free_before);
	KEXPECT_EQ(kspace_check_kernel_half(&kernel_as.pt), 0);
	/* A page table whose upper half is in use cannot share. */
	KASSERT_EQ(pt_init(&pt), 0);
	KEXPECT_EQ(pt_map(&pt, KSPACE_VMAP_BASE, T_PA, PAGE_SIZE, PT_KERNEL_RW), 0);
	KEXPECT_EQ(kspace_share_kernel_half(&pt), -EEXIST);
	KEXPECT_EQ(pt.kernel_half, PT_HALF_OWN);
	pt_destroy(&pt);
}

KTEST(ch3_kernel_half, alloc_failure_frees_everything)
{
	/* The kernel half of a scratch table, failing at a few of its tables. */
	uint64_t free_before = frames_nr_free();
	struct pagetable pt;
	KASSERT_EQ(pt_init(&pt), 0);
	KEXPECT_EQ(kspace_alloc_kernel_half(&pt), 0);
	size_t tables = pt.nr_tables - 1;
	KEXPECT_EQ(tables, DIRECT_MAP_SIZE / GIGAPAGE_SIZE + KSPACE_VMAP_SIZE / GIGAPAGE_SIZE + 1);
	KEXPECT_EQ(pt.kernel_half, PT_HALF_PINNED);
	pt_destroy(&pt);
	KEXPECT_EQ(frames_nr_free(), free_before);
	const unsigned long failat[] = {1, 2, 128, 129, tables};
	for (unsigned i = 0; i < sizeof(failat) / sizeof(failat[0]); i++) {
		KASSERT_EQ(pt_init(&pt), 0);
		pt_inject_alloc_failure(failat[i]);
		int err = kspace_alloc_kernel_half(&pt);
		pt_inject_alloc_failure(0);
		KEXPECT_EQ(err, -ENOMEM);
		KEXPECT_EQ(pt.nr_tables, failat[i]);
		pt_destroy(&pt);
		KEXPECT_EQ(frames_nr_free(), free_before);
	}
}
