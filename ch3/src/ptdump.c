/*
 * ptdump: a page table as runs of mappings, one line each (format in ptdump.h).
 */
#include "printk.h"
#include "ptdump.h"
#include "riscv.h"

struct coalesce {
	struct pt_run run;
	bool have;
	pt_run_fn fn;
	void *arg;
};

/* True if the leaf (@va, @pa, @size, @flags) continues the run. */
static bool extends(const struct pt_run *run, vaddr_t va, paddr_t pa, size_t size, unsigned flags)
{
	return run->page_size == size && run->flags == flags && run->va + run->pages * size == va &&
	       run->pa + run->pages * size == pa;
}

static int on_entry(pte_t *pte, int level, vaddr_t va, void *arg)
{
	struct coalesce *c = arg;
	if (!pte_is_leaf(*pte))
		return 0;
	size_t size = level_size(level);
	paddr_t pa = pte_pa(*pte);
	unsigned flags = pte_flags(*pte);
	if (c->have && extends(&c->run, va, pa, size, flags)) {
		c->run.pages++;
		return 0;
	}
	if (c->have) {
		int r = c->fn(&c->run, c->arg);
		if (r)
			return r;
	}
	c->run = (struct pt_run){.va = va, .pa = pa, .page_size = size, .pages = 1, .flags = flags};
	c->have = true;
	return 0;
}

int ptdump_runs(struct pagetable *pt, pt_run_fn fn, void *arg)
{
	struct coalesce c = {.fn = fn, .arg = arg};
	const vaddr_t half = 1UL << (VA_BITS - 1);
	int r = pt_visit(pt, 0, half, on_entry, &c);
	if (!r)
		r = pt_visit(pt, va_sign_extend(half), 0, on_entry, &c); /* to 2^64 */
	if (!r && c.have)
		r = fn(&c.run, arg);
	return r;
}

int ptdump_format_run(const struct pt_run *run, char *buf, size_t len)
{
	static const char letters[] = "rwxugad";
	static const unsigned bits[] = {PTE_R, PTE_W, PTE_X, PTE_U, PTE_G, PTE_A, PTE_D};
	char flags[8];
	for (int i = 0; i < 7; i++)
		flags[i] = run->flags & bits[i] ? letters[i] : '-';
	flags[7] = '\0';
	const char *size = run->page_size == GIGAPAGE_SIZE   ? "1G"
			   : run->page_size == MEGAPAGE_SIZE ? "2M"
							     : "4K";
	size_t bytes = run->pages * run->page_size;
	return snprintf(buf, len, "%016lx-%016lx %016lx-%016lx %s %6zu %s", run->va, run->va + bytes, run->pa,
			run->pa + bytes, size, run->pages, flags);
}

static int print_run(const struct pt_run *run, void *arg)
{
	char line[PTDUMP_LINE_MAX];
	ptdump_format_run(run, line, sizeof(line));
	printk("%s\n", line);
	(*(int *)arg)++;
	return 0;
}

int ptdump(struct pagetable *pt)
{
	int runs = 0;
	printk("ptdump: root %016lx satp %016lx tables %zu\n", pt->root, satp_sv39(pt->root), pt->nr_tables);
	ptdump_runs(pt, print_run, &runs);
	printk("ptdump: end %d runs\n", runs);
	return runs;
}
