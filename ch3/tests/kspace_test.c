/*
 * ch3.kspace: the live kernel space: every hart on it, each section with
 * exactly its permissions (checked by query and by probes that must fault),
 * the direct map with huge pages, the devices, the guard pages.
 */
#include "ch3_test.h"
#include "fdt.h"
#include "ptdump.h"

/* A `ret` (c.ret, 0x8082) in rodata and one in data: neither may run. */
static const uint16_t rodata_ret[2] __attribute__((aligned(4))) = {0x8082, 0x0001};
static uint16_t data_ret[2] __attribute__((aligned(4))) = {0x8082, 0x0001};

/* Something in .text to write to and to run. */
void ch3_text_ret(void);
__asm__(".section .text\n.globl ch3_text_ret\n.balign 4\nch3_text_ret: ret\n.previous\n");

static void read_satp(void *arg, int hart) { ((uint64_t *)arg)[hart] = csr_read(satp); }

KTEST(ch3_kspace, every_hart_switched)
{
	KSPACE_REQUIRE();
	uint64_t satp[MAX_HARTS] = {0};
	on_each_hart(read_satp, satp);
	for (int h = 0; h < MAX_HARTS; h++)
		if (harts_online_mask() & (1UL << h))
			KEXPECT_EQ(satp[h], kspace_satp());
	KEXPECT_EQ(kspace_satp(), satp_sv39(kernel_as.pt.root));
	KEXPECT_NE(kspace_satp(), satp_sv39(kva_to_pa(boot_pagetable)));
}

KTEST(ch3_kspace, remap_test)
{
	KSPACE_REQUIRE();
	KEXPECT_EQ(kspace_check(&kernel_as.pt), 0);
	struct pt_mapping m;
	KASSERT_EQ(pt_query(&kernel_as.pt, (vaddr_t)ch3_text_ret, &m), 0);
	KEXPECT_EQ(m.flags & (PTE_R | PTE_W | PTE_X | PTE_U), PTE_R | PTE_X);
	KEXPECT_EQ(m.page_size, PAGE_SIZE);
	KEXPECT_EQ(m.pa, kva_to_pa((void *)ch3_text_ret));
	KASSERT_EQ(pt_query(&kernel_as.pt, (vaddr_t)rodata_ret, &m), 0);
	KEXPECT_EQ(m.flags & (PTE_R | PTE_W | PTE_X | PTE_U), PTE_R);
	KASSERT_EQ(pt_query(&kernel_as.pt, (vaddr_t)data_ret, &m), 0);
	KEXPECT_EQ(m.flags & (PTE_R | PTE_W | PTE_X | PTE_U), PTE_R | PTE_W);
	KASSERT_EQ(pt_query(&kernel_as.pt, (vaddr_t)&kernel_as.pt, &m), 0); /* bss */
	KEXPECT_EQ(m.flags & (PTE_R | PTE_W | PTE_X | PTE_U), PTE_R | PTE_W);
	KEXPECT_TRUE(m.flags & PTE_G);
}

KTEST(ch3_kspace, text_not_writable)
{
	KSPACE_REQUIRE();
	uint8_t *text = (uint8_t *)ch3_text_ret;
	uint8_t before = *text;
	KEXPECT_EQ(probe_write8(text, 0x00), -EFAULT);
	struct fault_info f = probe_last_fault();
	KEXPECT_EQ(f.scause, CAUSE_STORE_PAGE_FAULT);
	KEXPECT_EQ(f.stval, (uint64_t)text);
	KEXPECT_EQ(*text, before);
	KEXPECT_EQ(probe_exec(ch3_text_ret), 0);
	KEXPECT_EQ(probe_write8(_text_start, 0x00), -EFAULT);
	KEXPECT_EQ(probe_write8((void *)((vaddr_t)_text_end - 1), 0x00), -EFAULT);
}

KTEST(ch3_kspace, rodata_read_only)
{
	KSPACE_REQUIRE();
	uint64_t v;
	KEXPECT_EQ(probe_read64(rodata_ret, &v), 0);
	KEXPECT_EQ(probe_write8((void *)rodata_ret, 0), -EFAULT);
	KEXPECT_EQ(probe_last_fault().scause, CAUSE_STORE_PAGE_FAULT);
	KEXPECT_EQ(probe_last_fault().stval, (uint64_t)rodata_ret);
	KEXPECT_EQ(probe_exec(rodata_ret), -EFAULT);
	KEXPECT_EQ(probe_last_fault().scause, CAUSE_FETCH_PAGE_FAULT);
	KEXPECT_EQ(probe_last_fault().stval, (uint64_t)rodata_ret);
	KEXPECT_EQ(rodata_ret[0], 0x8082);
}

KTEST(ch3_kspace, data_not_executable)
{
	KSPACE_REQUIRE();
	KEXPECT_EQ(probe_write8(&data_ret[1], 0x01), 0);
	KEXPECT_EQ(probe_exec(data_ret), -EFAULT);
	KEXPECT_EQ(probe_last_fault().scause, CAUSE_FETCH_PAGE_FAULT);
	KEXPECT_EQ(probe_last_fault().stval, (uint64_t)data_ret);
	/* Nor the stack (bss). */
	uint16_t stack_ret[2] __attribute__((aligned(4))) = {0x8082, 0x0001};
	KEXPECT_EQ(probe_exec(stack_ret), -EFAULT);
	KEXPECT_EQ(probe_last_fault().scause, CAUSE_FETCH_PAGE_FAULT);
}

KTEST(ch3_kspace, guard_pages_fault)
{
	KSPACE_REQUIRE();
	for (int h = 0; h < MAX_HARTS; h++) {
		uint8_t *guard = hart_stacks[h].guard;
		uint64_t v;
		KEXPECT_EQ(probe_read64(guard, &v), -EFAULT);
		KEXPECT_EQ(probe_last_fault().scause, CAUSE_LOAD_PAGE_FAULT);
		KEXPECT_EQ(probe_last_fault().stval, (uint64_t)guard);
		/* The byte just under the stack: where an overflow lands first. */
		KEXPECT_EQ(probe_write8(guard + PAGE_SIZE - 1, 0), -EFAULT);
		KEXPECT_EQ(probe_last_fault().scause, CAUSE_STORE_PAGE_FAULT);
		KEXPECT_EQ(probe_last_fault().stval, (uint64_t)guard + PAGE_SIZE - 1);
		KEXPECT_EQ(probe_write8(hart_stacks[h].stack, 0), 0);
		KEXPECT_EQ(q_size(&kernel_as.pt, (vaddr_t)guard), -ENOENT);
	}
}

/*
 * Leaves the greedy largest-page rule gives for [start, end) of the direct
 * map: megapages at most, since every root slot of the kernel half holds a
 * level-1 table from boot (kspace_alloc_kernel_half()).
 */
static unsigned long expected_leaves(paddr_t start, paddr_t end, int level)
{
	unsigned long n = 0;
	for (paddr_t pa = start; pa < end;) {
		int l = 1;
		while (l > 0 && !(IS_ALIGNED(pa, level_size(l)) && end - pa >= level_size(l)))
			l--;
		n += l == level;
		pa += level_size(l);
	}
	return n;
}

KTEST(ch3_kspace, direct_map_huge_pages)
{
	KSPACE_REQUIRE();
	for (int i = 0; i < machine.nr_memory; i++) {
		paddr_t start = ALIGN_UP(machine.memory[i].base, PAGE_SIZE);
		paddr_t end = ALIGN_DOWN(machine.memory[i].base + machine.memory[i].size, PAGE_SIZE);
		vaddr_t va = (vaddr_t)pa_to_kva(start);
		struct leaf_counts c = count_leaves(&kernel_as.pt, va, va + (end - start));
		for (int l = 0; l < PT_LEVELS; l++)
			KEXPECT_EQ(c.n[l], expected_leaves(start, end, l));
		KEXPECT_TRUE(pt_range_mapped(&kernel_as.pt, va, va + (end - start)));
		struct pt_mapping m;
		KASSERT_EQ(pt_query(&kernel_as.pt, va, &m), 0);
		KEXPECT_EQ(m.flags & (PTE_R | PTE_W | PTE_X | PTE_U), PTE_R | PTE_W);
		KEXPECT_EQ(m.pa, start);
		uint64_t v;
		KEXPECT_EQ(probe_read64(pa_to_kva(end - 8), &v), 0);
		printk("RAM [0x%lx, 0x%lx): %lu x 1G, %lu x 2M, %lu x 4K\n", start, end, c.n[2], c.n[1],
		       c.n[0]);
	}
}

KTEST(ch3_kspace, devices_mapped)
{
	KSPACE_REQUIRE();
	KASSERT_GT(machine.nr_devices, 0);
	for (int i = 0; i < machine.nr_devices; i++) {
		paddr_t base = machine.devices[i].base;
		struct pt_mapping m;
		KASSERT_EQ(pt_query(&kernel_as.pt, (vaddr_t)pa_to_kva(base), &m), 0);
		KEXPECT_EQ(m.pa, base);
		KEXPECT_EQ(m.flags & PTE_PERM_MASK, PT_DEVICE);
		KEXPECT_EQ(q_pa(&kernel_as.pt, (vaddr_t)pa_to_kva(base + machine.devices[i].size - 1)),
			   base + machine.devices[i].size - 1);
	}
	/* Mapping a device again is fine, and gives its direct-map address. */
	void *kva = NULL;
	KEXPECT_EQ(kernel_map_mmio(machine.uart, 8, &kva), 0);
	KEXPECT_TRUE(kva == pa_to_kva(machine.uart));
	KEXPECT_EQ(kernel_map_mmio(machine.uart, 0, &kva), -EINVAL);
	/* A new device range (nothing is there: it is never touched) gets huge pages. */
	paddr_t pa = 0x40000000UL + MEGAPAGE_SIZE;
	KASSERT_EQ(kernel_map_mmio(pa - PAGE_SIZE, 2 * MEGAPAGE_SIZE + PAGE_SIZE, &kva), 0);
	KEXPECT_TRUE(kva == pa_to_kva(pa - PAGE_SIZE));
	KEXPECT_EQ(q_size(&kernel_as.pt, (vaddr_t)pa_to_kva(pa - PAGE_SIZE)), PAGE_SIZE);
	KEXPECT_EQ(q_size(&kernel_as.pt, (vaddr_t)pa_to_kva(pa)), MEGAPAGE_SIZE);
	KEXPECT_EQ(q_flags(&kernel_as.pt, (vaddr_t)pa_to_kva(pa)) & PTE_PERM_MASK, PT_DEVICE);
	KEXPECT_EQ(kernel_map_mmio(pa, PAGE_SIZE, NULL), 0);
	KEXPECT_EQ(kernel_unmap((vaddr_t)pa_to_kva(pa - PAGE_SIZE), 2 * MEGAPAGE_SIZE + PAGE_SIZE), 0);
	/* Mapped otherwise there: a conflict. */
	KASSERT_EQ(kernel_map((vaddr_t)pa_to_kva(pa), pa, PAGE_SIZE, PT_KERNEL_RO), 0);
	KEXPECT_EQ(kernel_map_mmio(pa, PAGE_SIZE, NULL), -EEXIST);
	KEXPECT_EQ(kernel_map_mmio(pa - PAGE_SIZE, 2 * PAGE_SIZE, NULL), -EEXIST);
	KEXPECT_EQ(q_size(&kernel_as.pt, (vaddr_t)pa_to_kva(pa - PAGE_SIZE)), -ENOENT);
	KEXPECT_EQ(kernel_unmap((vaddr_t)pa_to_kva(pa), PAGE_SIZE), 0);
}

KTEST(ch3_kspace, nothing_else_mapped)
{
	KSPACE_REQUIRE();
	uint64_t v;
	KEXPECT_EQ(probe_read64((void *)0x1000, &v), -EFAULT);
	KEXPECT_EQ(probe_read64((void *)KERNEL_LOAD_PA, &v), -EFAULT); /* the boot identity entry */
	KEXPECT_EQ(probe_read64(pa_to_kva(0x40000000), &v), -EFAULT);  /* no RAM, no device there */
	KEXPECT_EQ(probe_read64((void *)KSPACE_VMAP_BASE, &v), -EFAULT);
	KEXPECT_EQ(probe_read64((void *)(KERNEL_BASE - PAGE_SIZE), &v), -EFAULT);
	KEXPECT_EQ(probe_read64((void *)((vaddr_t)_kernel_end + 64 * PAGE_SIZE), &v), -EFAULT);
	KEXPECT_TRUE(pt_range_free(&kernel_as.pt, 0, 1UL << (VA_BITS - 1)));
}

KTEST(ch3_kspace, kernel_map_and_access)
{
	KSPACE_REQUIRE();
	uint64_t free_before = frames_nr_free();
	paddr_t frame = frame_alloc(FRAME_ZERO);
	KASSERT_NE(frame, 0);
	vaddr_t va = KSPACE_VMAP_BASE + 5 * PAGE_SIZE;
	KASSERT_EQ(kernel_map(va, frame, PAGE_SIZE, PT_KERNEL_RW), 0);
	*(volatile uint64_t *)va = 0x1234567890abcdefUL;
	KEXPECT_EQ(*(volatile uint64_t *)pa_to_kva(frame), 0x1234567890abcdefUL);
	KEXPECT_EQ(kernel_map(va, frame, PAGE_SIZE, PT_KERNEL_RW), -EEXIST);
	KEXPECT_EQ(kernel_protect(va, PAGE_SIZE, PT_KERNEL_RO), 0);
	KEXPECT_EQ(probe_write8((void *)va, 1), -EFAULT);
	KEXPECT_EQ(kernel_unmap(va, PAGE_SIZE), 0);
	uint64_t v;
	KEXPECT_EQ(probe_read64((void *)va, &v), -EFAULT);
	KEXPECT_EQ(kernel_unmap(va, PAGE_SIZE), -ENOENT);
	frame_free(frame);
	KEXPECT_EQ(frames_nr_free(), free_before);
}

KTEST(ch3_kspace, build_failure_frees_everything)
{
	/* Fail each table allocation of a full build in turn, on a scratch table. */
	uint64_t free_before = frames_nr_free();
	struct pagetable pt;
	KASSERT_EQ(pt_init(&pt), 0);
	int err = kspace_build(&pt);
	size_t tables = pt.nr_tables;
	KEXPECT_EQ(err, 0);
	if (!err)
		KEXPECT_EQ(kspace_check(&pt), 0);
	pt_destroy(&pt);
	KASSERT_EQ(err, 0);
	KEXPECT_EQ(frames_nr_free(), free_before);
	for (unsigned long failat = 2; failat <= tables; failat++) {
		KASSERT_EQ(pt_init(&pt), 0);
		pt_inject_alloc_failure(failat - 1); /* the root is taken already */
		err = kspace_build(&pt);
		pt_inject_alloc_failure(0);
		pt_destroy(&pt);
		KEXPECT_EQ(err, -ENOMEM);
		KEXPECT_EQ(frames_nr_free(), free_before);
	}
}

KTEST(ch3_kspace, init_failure_keeps_boot_table)
{
	/* Needs a boot with `kspace_failat=N` (the grader's fallback configuration). */
	struct kspace_init_report r = kspace_last_init();
	if (!r.failat)
		KTEST_SKIP("boot with kspace_failat=N to test the fallback");
	KEXPECT_FALSE(kspace_active());
	KEXPECT_EQ(r.err, -ENOMEM);
	KEXPECT_EQ(r.frames_after, r.frames_before);
	KEXPECT_EQ(kernel_as.pt.root, 0);
	KEXPECT_EQ(csr_read(satp), satp_sv39(kva_to_pa(boot_pagetable)));
	KEXPECT_EQ(kernel_map(KSPACE_VMAP_BASE, 0x80000000, PAGE_SIZE, PT_KERNEL_RW), -ENODEV);
	/* The boot table still maps all RAM. */
	uint64_t v;
	KEXPECT_EQ(probe_read64(pa_to_kva(machine.memory[0].base + machine.memory[0].size - 8), &v), 0);
}
