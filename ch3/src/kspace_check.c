/*
 * The remap test (rCore's remap_test): before the kernel switches to its new
 * page table, check that every page has exactly the permissions it should.
 */
#include "errno.h"
#include "fdt.h"
#include "kspace.h"
#include "kspace_internal.h"
#include "memlayout.h"
#include "printk.h"
#include "smp.h"

#define PERMS (PTE_R | PTE_W | PTE_X | PTE_U)

static void perm_string(unsigned flags, char out[4])
{
	out[0] = flags & PTE_R ? 'r' : '-';
	out[1] = flags & PTE_W ? 'w' : '-';
	out[2] = flags & PTE_X ? 'x' : '-';
	out[3] = '\0';
}

/* The hart whose stack's guard page is at @va, or -1. */
static int guard_of(vaddr_t va)
{
	for (int i = 0; i < MAX_HARTS; i++)
		if (va == (vaddr_t)hart_stacks[i].guard)
			return i;
	return -1;
}

/* Every page of [start, end) maps its own frame with exactly @perm (guard pages: unmapped). */
static int expect(struct pagetable *pt, const char *what, vaddr_t start, vaddr_t end, unsigned perm)
{
	for (vaddr_t va = start; va < end;) {
		struct pt_mapping m;
		int err = pt_query(pt, va, &m);
		int hart = guard_of(va);
		if (hart >= 0) {
			if (!err) {
				printk("kspace: the guard page below hart %d's stack (0x%lx) is mapped: an "
				       "overflow of that stack would go unnoticed\n",
				       hart, va);
				return -EACCES;
			}
			va += PAGE_SIZE;
			continue;
		}
		if (err) {
			printk("kspace: %s page 0x%lx is not mapped (%d)\n", what, va, err);
			return -EACCES;
		}
		if ((m.flags & PERMS) != (perm & PERMS) || m.pa != kva_to_pa((void *)va)) {
			char got[4], want[4];
			perm_string(m.flags, got);
			perm_string(perm, want);
			printk("kspace: %s page 0x%lx -> 0x%lx is %s, should be %s -> 0x%lx\n", what, va,
			       m.pa, got, want, kva_to_pa((void *)va));
			return -EACCES;
		}
		va = m.page_va + m.page_size;
	}
	return 0;
}

static int no_wx(pte_t *pte, int level, vaddr_t va, void *arg)
{
	(void)level, (void)arg;
	if (pte_is_leaf(*pte) && (*pte & PTE_W) && (*pte & PTE_X)) {
		printk("kspace: 0x%lx is writable and executable\n", va);
		return -EACCES;
	}
	return 0;
}

int kspace_check(struct pagetable *pt)
{
	int err = expect(pt, "text", (vaddr_t)_text_start, (vaddr_t)_text_end, PT_KERNEL_TEXT);
	if (!err)
		err = expect(pt, "rodata", (vaddr_t)_rodata_start, (vaddr_t)_rodata_end, PT_KERNEL_RO);
	if (!err)
		err = expect(pt, "data", (vaddr_t)_data_start, (vaddr_t)_data_end, PT_KERNEL_RW);
	if (!err)
		err = expect(pt, "bss", (vaddr_t)_bss_start, (vaddr_t)_bss_end, PT_KERNEL_RW);
	for (int i = 0; !err && i < machine.nr_memory; i++) {
		paddr_t start, end;
		kspace_ram_pages(machine.memory[i].base, machine.memory[i].size, &start, &end);
		err = expect(pt, "direct map", (vaddr_t)pa_to_kva(start), (vaddr_t)pa_to_kva(end),
			     PT_KERNEL_RW);
	}
	for (int i = 0; !err && i < machine.nr_devices; i++) {
		paddr_t base = machine.devices[i].base;
		vaddr_t start = (vaddr_t)pa_to_kva(ALIGN_DOWN(base, PAGE_SIZE));
		vaddr_t end = (vaddr_t)pa_to_kva(ALIGN_UP(base + machine.devices[i].size, PAGE_SIZE));
		err = expect(pt, "device", start, end, PT_DEVICE);
	}
	if (!err && !pt_range_free(pt, 0, 1UL << (VA_BITS - 1))) {
		printk("kspace: the lower half is not empty\n");
		err = -EACCES;
	}
	if (!err)
		err = pt_visit(pt, va_sign_extend(1UL << (VA_BITS - 1)), 0, no_wx, NULL);
	return err;
}
