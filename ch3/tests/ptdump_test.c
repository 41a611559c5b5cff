/* ch3.ptdump: runs of mappings, coalesced, in the documented line format. */
#include "ch3_test.h"
#include "fdt.h"
#include "ptdump.h"
#include "string.h"

#define MAX_RUNS 32

struct runs {
	struct pt_run run[MAX_RUNS];
	int n;
};

static int collect(const struct pt_run *run, void *arg)
{
	struct runs *r = arg;
	if (r->n == MAX_RUNS)
		return -ENOSPC;
	r->run[r->n++] = *run;
	return 0;
}

KTEST(ch3_ptdump, coalesces_runs)
{
	struct scratch s;
	SCRATCH_BEGIN(s);
	/* 4 pages RW, then 2 read-only: two runs, though contiguous. */
	KASSERT_EQ(pt_map(&s.pt, T_VA, T_PA, 6 * PAGE_SIZE, PTE_R | PTE_W), 0);
	KASSERT_EQ(pt_protect(&s.pt, T_VA + 4 * PAGE_SIZE, 2 * PAGE_SIZE, PTE_R, NULL), 0);
	/* Two more pages, contiguous in va but not in pa: two runs. */
	KASSERT_EQ(pt_map(&s.pt, T_VA + 6 * PAGE_SIZE, T_PA + 100 * PAGE_SIZE, PAGE_SIZE, PTE_R), 0);
	KASSERT_EQ(pt_map(&s.pt, T_VA + 7 * PAGE_SIZE, T_PA + 50 * PAGE_SIZE, PAGE_SIZE, PTE_R), 0);
	/* Three megapages and a gigapage in the upper half. */
	KASSERT_EQ(pt_map(&s.pt, T_VA + MEGAPAGE_SIZE, T_PA + MEGAPAGE_SIZE, 3 * MEGAPAGE_SIZE,
			  PTE_R | PTE_X | PT_MAP_HUGE),
		   0);
	KASSERT_EQ(pt_map(&s.pt, KSPACE_VMAP_BASE, T_PA, GIGAPAGE_SIZE, PTE_R | PTE_G | PT_MAP_HUGE), 0);
	struct runs r = {.n = 0};
	KASSERT_EQ(ptdump_runs(&s.pt, collect, &r), 0);
	KASSERT_EQ(r.n, 6);
	KEXPECT_EQ(r.run[0].va, T_VA);
	KEXPECT_EQ(r.run[0].pa, T_PA);
	KEXPECT_EQ(r.run[0].pages, 4);
	KEXPECT_EQ(r.run[0].page_size, PAGE_SIZE);
	KEXPECT_EQ(r.run[0].flags, LEAF(PTE_R | PTE_W));
	KEXPECT_EQ(r.run[1].va, T_VA + 4 * PAGE_SIZE);
	KEXPECT_EQ(r.run[1].pages, 2);
	KEXPECT_EQ(r.run[1].flags, LEAF(PTE_R));
	KEXPECT_EQ(r.run[2].pa, T_PA + 100 * PAGE_SIZE);
	KEXPECT_EQ(r.run[2].pages, 1);
	KEXPECT_EQ(r.run[3].pa, T_PA + 50 * PAGE_SIZE);
	KEXPECT_EQ(r.run[4].va, T_VA + MEGAPAGE_SIZE);
	KEXPECT_EQ(r.run[4].pages, 3);
	KEXPECT_EQ(r.run[4].page_size, MEGAPAGE_SIZE);
	KEXPECT_EQ(r.run[5].va, KSPACE_VMAP_BASE);
	KEXPECT_EQ(r.run[5].page_size, GIGAPAGE_SIZE);
	KEXPECT_EQ(r.run[5].flags, LEAF(PTE_R | PTE_G));
	SCRATCH_END(s);
}

KTEST(ch3_ptdump, line_format)
{
	struct scratch s;
	SCRATCH_BEGIN(s);
	KASSERT_EQ(pt_map(&s.pt, KERNEL_BASE, KERNEL_LOAD_PA, 9 * PAGE_SIZE, PT_KERNEL_TEXT), 0);
	KASSERT_EQ(pt_map(&s.pt, T_VA, T_PA, 2 * MEGAPAGE_SIZE, PTE_R | PTE_W | PTE_U | PT_MAP_HUGE), 0);
	struct runs r = {.n = 0};
	KASSERT_EQ(ptdump_runs(&s.pt, collect, &r), 0);
	KASSERT_EQ(r.n, 2);
	char line[PTDUMP_LINE_MAX];
	ptdump_format_run(&r.run[0], line, sizeof(line));
	KEXPECT_EQ(strcmp(line, "0000000040000000-0000000040400000 0000000200000000-0000000200400000 "
				"2M      2 rw-u-ad"),
		   0);
	printk("%s\n", line);
	ptdump_format_run(&r.run[1], line, sizeof(line));
	KEXPECT_EQ(strcmp(line, "ffffffff80200000-ffffffff80209000 0000000080200000-0000000080209000 "
				"4K      9 r-x-gad"),
		   0);
	printk("%s\n", line);
	KEXPECT_EQ(ptdump(&s.pt), 2);
	SCRATCH_END(s);
}

KTEST(ch3_ptdump, kernel_space)
{
	KSPACE_REQUIRE();
	struct runs r = {.n = 0};
	/* More runs than MAX_RUNS is fine: the first ones are enough. */
	int err = ptdump_runs(&kernel_as.pt, collect, &r);
	KEXPECT_TRUE(err == 0 || err == -ENOSPC);
	KASSERT_GT(r.n, 4);
	bool text = false, direct = false;
	/* The direct map's first run at the lowest RAM range (the device tree
	 * may list the ranges in any order): huge pages where RAM starts on a
	 * 2 MiB boundary, 4 KiB pages up to the first boundary otherwise. */
	paddr_t ram = machine.memory[0].base;
	for (int i = 1; i < machine.nr_memory; i++)
		ram = MIN(ram, machine.memory[i].base);
	ram = ALIGN_UP(ram, PAGE_SIZE);
	for (int i = 0; i < r.n; i++) {
		if (r.run[i].va == (vaddr_t)_text_start) {
			text = true;
			KEXPECT_EQ(r.run[i].flags, LEAF(PT_KERNEL_TEXT));
			KEXPECT_EQ(r.run[i].pages * PAGE_SIZE, (size_t)(_text_end - _text_start));
		}
		if (r.run[i].pa == ram && r.run[i].va == (vaddr_t)pa_to_kva(ram)) {
			direct = true;
			KEXPECT_EQ(r.run[i].flags, LEAF(PT_KERNEL_RW));
			if (IS_ALIGNED(ram, 2 * MiB))
				KEXPECT_GT(r.run[i].page_size, PAGE_SIZE);
			else
				KEXPECT_EQ(r.run[i].page_size, PAGE_SIZE);
		}
	}
	KEXPECT_TRUE(text);
	KEXPECT_TRUE(direct);
	KEXPECT_GT(ptdump(&kernel_as.pt), 4);
}
