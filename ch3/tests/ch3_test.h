/*
 * Helpers shared by ch3's KTAP suites: scratch page tables, counting leaves,
 * draining memory, running a probe on every hart.
 *
 * Most tests work on a scratch page table of their own, in the lower half
 * (which the kernel space leaves empty), mapping physical addresses that are
 * never touched through it. Tests of the live kernel space use
 * KSPACE_VMAP_BASE and real frames.
 */
#ifndef MMLAB_CH3_TEST_H
#define MMLAB_CH3_TEST_H

#include "errno.h"
#include "frame.h"
#include "kspace.h"
#include "ktest.h"
#include "memlayout.h"
#include "pagetable.h"
#include "probe.h"
#include "riscv.h"
#include "smp.h"
#include "tlb.h"

/* A scratch virtual address: 1 GiB, aligned for every page size. */
#define T_VA 0x40000000UL
/* A scratch physical address: 8 GiB, aligned for every page size, never accessed. */
#define T_PA 0x200000000UL

/* Flags a leaf made with @perm carries (pte_make_leaf() adds V, A, D). */
#define LEAF(perm) ((perm) | PTE_V | PTE_A | PTE_D)

/* A scratch page table and the free frames before it was made. */
struct scratch {
	struct pagetable pt;
	uint64_t free_before;
};

/* Make scratch table @s for this test; fail the test if there is no frame. */
#define SCRATCH_BEGIN(s)                                                                                     \
	do {                                                                                                 \
		(s).free_before = frames_nr_free();                                                          \
		KASSERT_EQ(pt_init(&(s).pt), 0);                                                             \
	} while (0)

/* Destroy scratch table @s and expect every frame it took back. */
#define SCRATCH_END(s)                                                                                       \
	do {                                                                                                 \
		pt_destroy(&(s).pt);                                                                         \
		KEXPECT_EQ(frames_nr_free(), (s).free_before);                                               \
	} while (0)

/*
 * Say why the kernel space is not active: build one again on a scratch table,
 * so that what is missing (a stub's TODO, an error) shows under this test.
 */
static inline void kspace_explain(void)
{
	printk("the kernel space is not active: kspace_init() failed (%d)\n", kspace_last_init().err);
	struct pagetable pt;
	if (pt_init(&pt))
		return;
	int err = kspace_build(&pt);
	if (!err)
		err = kspace_check(&pt);
	pt_destroy(&pt);
	printk("building it again on a scratch table: %d\n", err);
}

/* Fail the test unless the kernel space is up; skip it when a failure was asked for. */
#define KSPACE_REQUIRE()                                                                                     \
	do {                                                                                                 \
		if (kspace_last_init().failat)                                                               \
			KTEST_SKIP("kspace_failat= given: the boot page table is in use");                   \
		if (!kspace_active())                                                                        \
			kspace_explain();                                                                    \
		KASSERT_TRUE(kspace_active());                                                               \
	} while (0)

/* Page size mapping @va in @pt, or a negative errno. */
static inline long q_size(struct pagetable *pt, vaddr_t va)
{
	struct pt_mapping m;
	int err = pt_query(pt, va, &m);
	return err ? err : (long)m.page_size;
}

/* Physical address @va translates to in @pt, or a negative errno. */
static inline long q_pa(struct pagetable *pt, vaddr_t va)
{
	struct pt_mapping m;
	int err = pt_query(pt, va, &m);
	return err ? err : (long)m.pa;
}

/* Flags of the leaf mapping @va in @pt, or a negative errno. */
static inline long q_flags(struct pagetable *pt, vaddr_t va)
{
	struct pt_mapping m;
	int err = pt_query(pt, va, &m);
	return err ? err : (long)m.flags;
}

/* Leaves per level in [start, end) of @pt: counts[0] 4 KiB .. counts[2] 1 GiB. */
struct leaf_counts {
	unsigned long n[PT_LEVELS];
};

static inline int count_leaf(pte_t *pte, int level, vaddr_t va, void *arg)
{
	(void)va;
	if (pte_is_leaf(*pte))
		((struct leaf_counts *)arg)->n[level]++;
	return 0;
}

static inline struct leaf_counts count_leaves(struct pagetable *pt, vaddr_t start, vaddr_t end)
{
	struct leaf_counts c = {{0}};
	pt_visit(pt, start, end, count_leaf, &c);
	return c;
}

/*
 * Memory drained by a test: the blocks held, in an array beside them rather
 * than linked through them (a write into each block of a 2 GiB machine would
 * make QEMU back all of guest RAM on the host, 2 MiB at a time), and the
 * watermarks to restore. Too large for a stack: make it static.
 */
#define DRAIN_MAX 4096
struct drain {
	struct frame_watermarks wm;
	unsigned n;
	paddr_t pa[DRAIN_MAX];
	uint8_t order[DRAIN_MAX];
};

/* Allocate frames until only @keep are free (watermarks off meanwhile). */
static inline void drain_memory(struct drain *d, uint64_t keep)
{
	d->n = 0;
	d->wm = frames_watermarks();
	frames_set_watermarks((struct frame_watermarks){0, 0, 0});
	for (int order = MAX_ORDER; order >= 0; order--) {
		while (d->n < DRAIN_MAX && frames_nr_free() >= keep + (1UL << order)) {
			paddr_t pa = frames_alloc_order(order, 0);
			if (!pa)
				break;
			d->pa[d->n] = pa;
			d->order[d->n++] = (uint8_t)order;
		}
	}
}

/* Give back everything drain_memory() took and restore the watermarks. */
static inline void undrain_memory(struct drain *d)
{
	while (d->n) {
		d->n--;
		frames_free_order(d->pa[d->n], d->order[d->n]);
	}
	frames_set_watermarks(d->wm);
}

/* What each hart saw when it probed an address (hart_probe()). */
struct hart_probes {
	void *addr;
	bool write;
	int err[MAX_HARTS];
	struct fault_info fault[MAX_HARTS];
	uint64_t value[MAX_HARTS];
};

/* on_each_hart() body: read (or write) probes->addr, record the outcome. */
static inline void hart_probe(void *arg, int hart)
{
	struct hart_probes *p = arg;
	if (p->write)
		p->err[hart] = probe_write8(p->addr, (uint8_t)hart);
	else
		p->err[hart] = probe_read64(p->addr, &p->value[hart]);
	p->fault[hart] = probe_last_fault();
}

#endif
