/*
 * Host unit test of ch3's page-table logic, under AddressSanitizer: a few
 * fixed cases, then thousands of random map/unmap/protect calls (with
 * injected allocation failures) checked against a model that keeps one entry
 * per 4 KiB page, and the table invariants checked after each call.
 *
 * "Physical memory" is an array of frames; pt_table_kva() turns a fake
 * physical address into a pointer into it.
 */
// HOSTTEST_SOURCES: ch3/src/pagetable.c ch3/src/walk.c ch3/src/map.c ch3/src/unmap.c ch3/src/protect.c ch3/src/query.c ch3/src/split.c ch3/src/inject.c ch3/src/tlb_batch.c ch3/src/ptdump.c common/hosttest/host_kernel.c
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/hosttest/host_check.h"
#include "addr_space.h"
#include "errno.h"
#include "pagetable.h"
#include "ptalloc.h"
#include "ptdump.h"
#include "tlb.h"

/* ---- fake physical memory ------------------------------------------------ */

#define NFRAMES	  2048
#define PHYS_BASE 0x80000000UL

static pte_t (*arena)[PTES_PER_TABLE];
static bool frame_used[NFRAMES];
static long frames_in_use;

paddr_t pt_table_alloc(void)
{
	if (pt_alloc_should_fail())
		return 0;
	for (int i = 0; i < NFRAMES; i++) {
		if (!frame_used[i]) {
			frame_used[i] = true;
			frames_in_use++;
			memset(arena[i], 0, PAGE_SIZE);
			return PHYS_BASE + (paddr_t)i * PAGE_SIZE;
		}
	}
	return 0;
}

static long frame_index(paddr_t pa)
{
	long i = (long)((pa - PHYS_BASE) / PAGE_SIZE);
	if (pa < PHYS_BASE || i >= NFRAMES || pa % PAGE_SIZE) {
		fprintf(stderr, "bad table address 0x%lx\n", pa);
		abort();
	}
	return i;
}

void pt_table_free(paddr_t pa)
{
	long i = frame_index(pa);
	if (!frame_used[i]) {
		fprintf(stderr, "double free of table 0x%lx\n", pa);
		abort();
	}
	frame_used[i] = false;
	frames_in_use--;
	memset(arena[i], 0xa5, PAGE_SIZE); /* poison: a use after free shows */
}

pte_t *pt_table_kva(paddr_t pa) { return arena[frame_index(pa)]; }

/* What common/ provides in the kernel (printk, todo_epoch) is common/hosttest/host_kernel.c's. */

#define RW	   (PTE_R | PTE_W)
#define LEAF(perm) ((perm) | PTE_V | PTE_A | PTE_D)

static long q_size(struct pagetable *pt, vaddr_t va)
{
	struct pt_mapping m;
	int err = pt_query(pt, va, &m);
	return err ? err : (long)m.page_size;
}

static long q_pa(struct pagetable *pt, vaddr_t va)
{
	struct pt_mapping m;
	int err = pt_query(pt, va, &m);
	return err ? err : (long)m.pa;
}

/* Count table pages reachable from @table and check none below the root is empty. */
static size_t check_tables(pte_t *table, int level, bool root, bool *ok)
{
	size_t n = 1, valid = 0;
	for (int i = 0; i < PTES_PER_TABLE; i++) {
		pte_t pte = table[i];
		if (!pte_valid(pte))
			continue;
		valid++;
		if (pte_is_table(pte)) {
			if (level == 0)
				*ok = false; /* a pointer in a last-level table */
			else
				n += check_tables(pt_table_kva(pte_pa(pte)), level - 1, false, ok);
		} else if (!IS_ALIGNED(pte_pa(pte), level_size(level)) || (pte & PTE_W && !(pte & PTE_R))) {
			*ok = false; /* a misaligned superpage, or W without R */
		}
	}
	if (!root && valid == 0)
		*ok = false;
	return n;
}

static void check_invariants(struct pagetable *pt)
{
	bool ok = true;
	size_t n = check_tables(pt_table_kva(pt->root), PT_LEVELS - 1, true, &ok);
	CHECK(ok);
	CHECK_EQ(n, pt->nr_tables);
	CHECK_EQ(frames_in_use, (long)pt->nr_tables);
}

/* ---- fixed cases ------------------------------------------------------ */

static void test_roundtrips(void)
{
	struct pagetable pt;
	CHECK_EQ(pt_init(&pt), 0);
	CHECK_EQ(pt_map(&pt, 0x40000000, 0x200000000, PAGE_SIZE, RW), 0);
	CHECK_EQ(q_pa(&pt, 0x40000123), 0x200000123);
	CHECK_EQ(pt.nr_tables, 3);
	CHECK_EQ(pt_unmap(&pt, 0x40000000, PAGE_SIZE, NULL), 0);
	CHECK_EQ(pt.nr_tables, 1);
	CHECK_EQ(pt_map(&pt, 0x40000000, 0x200000000, GIGAPAGE_SIZE, RW | PT_MAP_HUGE), 0);
	CHECK_EQ(q_size(&pt, 0x7fffffff), GIGAPAGE_SIZE);
	CHECK_EQ(pt_unmap(&pt, 0x40000000 + 5 * PAGE_SIZE, PAGE_SIZE, NULL), 0);
	CHECK_EQ(pt.nr_tables, 3);
	CHECK_EQ(q_size(&pt, 0x40000000 + 5 * PAGE_SIZE), -ENOENT);
	CHECK_EQ(q_size(&pt, 0x40000000 + 4 * PAGE_SIZE), PAGE_SIZE);
	CHECK_EQ(q_size(&pt, 0x40000000 + MEGAPAGE_SIZE), MEGAPAGE_SIZE);
	check_invariants(&pt);
	pt_destroy(&pt);
	CHECK_EQ(frames_in_use, 0);
}

static void test_largest_pages(void)
{
	struct pagetable pt;
	CHECK_EQ(pt_init(&pt), 0);
	vaddr_t va = 2 * GIGAPAGE_SIZE - 2 * PAGE_SIZE;
	size_t size = 2 * PAGE_SIZE + GIGAPAGE_SIZE + MEGAPAGE_SIZE + 3 * PAGE_SIZE;
	CHECK_EQ(pt_map(&pt, va, 0x200000000 - 2 * PAGE_SIZE, size, RW | PT_MAP_HUGE), 0);
	CHECK_EQ(q_size(&pt, va), PAGE_SIZE);
	CHECK_EQ(q_size(&pt, 2 * GIGAPAGE_SIZE), GIGAPAGE_SIZE);
	CHECK_EQ(q_size(&pt, 3 * GIGAPAGE_SIZE), MEGAPAGE_SIZE);
	CHECK_EQ(q_size(&pt, 3 * GIGAPAGE_SIZE + MEGAPAGE_SIZE + 2 * PAGE_SIZE), PAGE_SIZE);
	CHECK_EQ(q_pa(&pt, va + size - 1), 0x200000000 - 2 * PAGE_SIZE + size - 1);
	check_invariants(&pt);
	pt_destroy(&pt);
}

static void test_errors(void)
{
	struct pagetable pt;
	CHECK_EQ(pt_init(&pt), 0);
	CHECK_EQ(pt_map(&pt, 0x1001, 0, PAGE_SIZE, RW), -EINVAL);
	CHECK_EQ(pt_map(&pt, 0x1000, 0, 0, RW), -EINVAL);
	CHECK_EQ(pt_map(&pt, 0x1000, 0, PAGE_SIZE, PTE_W), -EINVAL);
	CHECK_EQ(pt_map(&pt, 0x4000000000, 0, PAGE_SIZE, RW), -ERANGE);
	CHECK_EQ(pt_map(&pt, 0x3fffffe000, 0, 3 * PAGE_SIZE, RW), -ERANGE);
	CHECK_EQ(pt_map(&pt, ~0UL - 4095, 0, PAGE_SIZE, RW), -ERANGE);
	CHECK_EQ(pt_map(&pt, 0x1000, 1UL << 56, PAGE_SIZE, RW), -ERANGE);
	CHECK_EQ(pt_map(&pt, 0x1000, 0, PAGE_SIZE, RW), 0);
	CHECK_EQ(pt_map(&pt, 0x0, 0, 2 * PAGE_SIZE, RW), -EEXIST);
	CHECK_EQ(pt_unmap(&pt, 0x0, 2 * PAGE_SIZE, NULL), -ENOENT);
	CHECK_EQ(pt_protect(&pt, 0x1000, PAGE_SIZE, 0, NULL), -EINVAL);
	struct pt_mapping m;
	CHECK_EQ(pt_query(&pt, 0x0000008000000000, &m), -ERANGE);
	for (unsigned long k = 1; k <= 5; k++) {
		pt_inject_alloc_failure(k);
		CHECK_EQ(pt_map(&pt, 2 * GIGAPAGE_SIZE - PAGE_SIZE, 0, MEGAPAGE_SIZE + 2 * PAGE_SIZE, RW),
			 -ENOMEM);
		pt_inject_alloc_failure(0);
		CHECK_EQ(pt.nr_tables, 3);
		check_invariants(&pt);
	}
	pt_destroy(&pt);
}

static void test_ptdump_format(void)
{
	struct pt_run run = {0xffffffff80200000, 0x80200000, PAGE_SIZE, 9, LEAF(PTE_R | PTE_X | PTE_G)};
	char line[PTDUMP_LINE_MAX];
	int n = ptdump_format_run(&run, line, sizeof(line));
	CHECK_EQ(strcmp(line, "ffffffff80200000-ffffffff80209000 0000000080200000-0000000080209000 "
			      "4K      9 r-x-gad"),
		 0);
	CHECK_EQ(n, (long)strlen(line));
	CHECK(n < PTDUMP_LINE_MAX);
}

static void test_flusher(void)
{
	struct addr_space as = {.global = true};
	struct tlb_flusher fl;
	tlb_flusher_init(&fl, &as);
	CHECK(fl.as == &as);
	CHECK(tlb_flusher_empty(&fl));
	for (int i = 0; i < TLB_FLUSH_BATCH; i++)
		tlb_flusher_add(&fl, 0x1000 * i, PAGE_SIZE);
	CHECK(!fl.all);
	CHECK_EQ(fl.n, TLB_FLUSH_BATCH);
	tlb_flusher_add(&fl, 0x100000, MEGAPAGE_SIZE);
	CHECK(fl.all);
	CHECK_EQ(fl.lo, 0);
	CHECK_EQ(fl.hi, 0x100000 + MEGAPAGE_SIZE);
}

/* ---- random calls against a model -------------------------------------- */

/* The window: [1 GiB, 4 GiB), so gigapages, megapages and splits all happen. */
#define WIN_BASE  GIGAPAGE_SIZE
#define WIN_PAGES (3 * GIGAPAGE_SIZE / PAGE_SIZE)

struct model_page {
	paddr_t pa; /* 0: unmapped */
	unsigned perm;
};
static struct model_page *model;

static uint64_t rng = 88172645463325252ULL;
static uint64_t rnd(uint64_t n)
{
	rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
	return rng % n;
}

/* A random page-aligned range in the window, often on huge-page boundaries. */
static void random_range(vaddr_t *va, size_t *size)
{
	static const size_t units[] = {PAGE_SIZE, MEGAPAGE_SIZE, GIGAPAGE_SIZE};
	size_t unit = units[rnd(3)];
	uint64_t start_page = rnd(WIN_PAGES);
	if (unit > PAGE_SIZE && rnd(2))
		start_page = ALIGN_DOWN(start_page, unit / PAGE_SIZE);
	if (rnd(3) == 0)
		start_page += rnd(3) - 1; /* just off a boundary */
	uint64_t pages = unit / PAGE_SIZE * (1 + rnd(2));
	if (unit > PAGE_SIZE && rnd(2))
		pages += rnd(5) - 2;
	if (unit == GIGAPAGE_SIZE && rnd(2))
		pages = rnd(1024) + 1;
	if (start_page >= WIN_PAGES)
		start_page = WIN_PAGES - 1;
	if (pages == 0 || start_page + pages > WIN_PAGES)
		pages = WIN_PAGES - start_page;
	*va = WIN_BASE + start_page * PAGE_SIZE;
	*size = pages * PAGE_SIZE;
}

static unsigned random_perm(void)
{
	static const unsigned perms[] = {PTE_R,	     RW,	 PTE_R | PTE_X, PTE_X,
					 RW | PTE_X, RW | PTE_G, PTE_R | PTE_U};
	return perms[rnd(sizeof(perms) / sizeof(perms[0]))];
}

static bool model_any(vaddr_t va, size_t size, bool mapped)
{
	for (size_t i = (va - WIN_BASE) / PAGE_SIZE; i < (va + size - WIN_BASE) / PAGE_SIZE; i++)
		if ((model[i].pa != 0) == mapped)
			return true;
	return false;
}

/* Compare the model with the page table over [va, va + size). */
static bool model_matches(struct pagetable *pt, vaddr_t va, size_t size)
{
	for (vaddr_t v = va; v < va + size;) {
		struct model_page *mp = &model[(v - WIN_BASE) / PAGE_SIZE];
		struct pt_mapping m;
		int err = pt_query(pt, v, &m);
		if (err != (mp->pa ? 0 : -ENOENT)) {
			printf("at 0x%lx: query %d, model %s\n", v, err, mp->pa ? "mapped" : "unmapped");
			return false;
		}
		if (err) {
			v += PAGE_SIZE;
			continue;
		}
		/* Every model page under this leaf must agree with it. */
		vaddr_t end = m.page_va + m.page_size;
		for (vaddr_t p = v; p < end && p < va + size; p += PAGE_SIZE) {
			struct model_page *q = &model[(p - WIN_BASE) / PAGE_SIZE];
			paddr_t want = m.page_pa + (p - m.page_va);
			if (q->pa != want || LEAF(q->perm) != m.flags) {
				printf("at 0x%lx: pa 0x%lx flags 0x%x, model pa 0x%lx perm 0x%x\n", p, want,
				       m.flags, q->pa, q->perm);
				return false;
			}
		}
		v = end;
	}
	return true;
}

/* model_matches() over [v - 2 MiB, v + 2 MiB), clipped to the window. */
static bool model_matches_near(struct pagetable *pt, vaddr_t v)
{
	vaddr_t lo = v > WIN_BASE + MEGAPAGE_SIZE * 2 ? v - MEGAPAGE_SIZE * 2 : WIN_BASE;
	vaddr_t top = WIN_BASE + WIN_PAGES * PAGE_SIZE;
	vaddr_t hi = v + MEGAPAGE_SIZE * 2 < top ? v + MEGAPAGE_SIZE * 2 : top;
	return model_matches(pt, lo, hi - lo);
}

static void test_random(int rounds)
{
	model = calloc(WIN_PAGES, sizeof(*model));
	struct pagetable pt;
	CHECK_EQ(pt_init(&pt), 0);
	int ok[3] = {0}, nomem = 0;
	for (int r = 0; r < rounds; r++) {
		vaddr_t va;
		size_t size;
		random_range(&va, &size);
		unsigned long failat = rnd(6) == 0 ? 1 + rnd(3) : 0;
		int op = (int)rnd(3), err;
		unsigned perm = random_perm();
		struct tlb_flusher fl;
		tlb_flusher_init(&fl, NULL);
		pt_inject_alloc_failure(failat);
		if (op == 0) {
			paddr_t pa = 0x100000000UL + (rnd(64) << 30) + (va & (GIGAPAGE_SIZE - 1));
			if (rnd(4) == 0)
				pa += PAGE_SIZE * (1 + rnd(511)); /* congruent mod 4 KiB only */
			err = pt_map(&pt, va, pa, size, perm | (rnd(2) ? PT_MAP_HUGE : 0));
			int want = model_any(va, size, true) ? -EEXIST : 0;
			CHECK(err == want || (err == -ENOMEM && failat && want == 0));
			struct model_page *mp = &model[(va - WIN_BASE) / PAGE_SIZE];
			for (size_t i = 0; err == 0 && i < size / PAGE_SIZE; i++)
				mp[i] = (struct model_page){pa + i * PAGE_SIZE, perm};
		} else {
			err = op == 1 ? pt_unmap(&pt, va, size, &fl) : pt_protect(&pt, va, size, perm, &fl);
			int want = model_any(va, size, false) ? -ENOENT : 0;
			CHECK(err == want || (err == -ENOMEM && failat && want == 0));
			for (size_t i = 0; err == 0 && i < size / PAGE_SIZE; i++) {
				struct model_page *mp = &model[(va - WIN_BASE) / PAGE_SIZE + i];
				if (op == 1)
					mp->pa = 0;
				else
					mp->perm = perm;
			}
		}
		pt_inject_alloc_failure(0);
		/* The deferred tables go back now, as tlb_flusher_finish() would. */
		while (fl.tables) {
			paddr_t pa = fl.tables;
			fl.tables = pt_table_kva(pa)[0];
			pt_table_free(pa);
		}
		if (err == 0)
			ok[op]++;
		nomem += err == -ENOMEM;
		/* Check around both edges (where splits happen) and a sample of the inside. */
		bool match = model_matches_near(&pt, va) && model_matches_near(&pt, va + size);
		for (vaddr_t v = va; match && v < va + size; v += 61 * PAGE_SIZE)
			match = model_matches(&pt, v, PAGE_SIZE);
		CHECK(match);
		if (r % 16 == 0 || err == -ENOMEM)
			check_invariants(&pt);
		if (!match || checks_failed) {
			printf("round %d: op %d va 0x%lx size 0x%zx failat %lu -> %d\n", r, op, va, size,
			       failat, err);
			break;
		}
		if (r % 500 == 499)
			CHECK(model_matches(&pt, WIN_BASE, WIN_PAGES * PAGE_SIZE));
	}
	check_invariants(&pt);
	printf("random: %d maps, %d unmaps, %d protects succeeded, %d ran out of memory\n", ok[0], ok[1],
	       ok[2], nomem);
	pt_destroy(&pt);
	CHECK_EQ(frames_in_use, 0);
	free(model);
}

/*
 * A pinned kernel half keeps its root entries whatever is unmapped or rolled
 * back; a page table sharing it frees none of its tables.
 */
static void test_kernel_half(void)
{
	const vaddr_t kva = 0xffffffe000000000UL; /* root slot 384 */
	pte_t *slot;
	struct pagetable kpt, upt;
	CHECK_EQ(pt_init(&kpt), 0);
	CHECK_EQ(pt_map(&kpt, kva, 0x80000000UL, PAGE_SIZE, RW | PTE_G), 0);
	kpt.kernel_half = PT_HALF_PINNED;
	slot = &pt_table_kva(kpt.root)[vpn_index(kva, 2)];
	pte_t before = *slot;
	CHECK(pte_is_table(before));
	CHECK_EQ(pt_unmap(&kpt, kva, PAGE_SIZE, NULL), 0);
	CHECK_EQ(*slot, before);    /* the level-1 table stays, empty */
	CHECK_EQ(kpt.nr_tables, 2); /* the level-0 table went */
	/* A map that runs out of memory under the pinned slot rolls back without unlinking it. */
	pt_inject_alloc_failure(1);
	CHECK_EQ(pt_map(&kpt, kva, 0x80000000UL, PAGE_SIZE, RW | PTE_G), -ENOMEM);
	pt_inject_alloc_failure(0);
	CHECK_EQ(*slot, before);
	CHECK_EQ(pt_map(&kpt, kva, 0x80000000UL, PAGE_SIZE, RW | PTE_G), 0);
	/* Shared: the copy's upper half points into kpt, and destroying it frees only its root. */
	CHECK_EQ(pt_init(&upt), 0);
	memcpy(pt_table_kva(upt.root) + PTES_PER_TABLE / 2, pt_table_kva(kpt.root) + PTES_PER_TABLE / 2,
	       PTES_PER_TABLE / 2 * sizeof(pte_t));
	upt.kernel_half = PT_HALF_SHARED;
	CHECK_EQ(q_pa(&upt, kva), 0x80000000UL);
	long in_use = frames_in_use;
	pt_destroy(&upt);
	CHECK_EQ(frames_in_use, in_use - 1);
	CHECK_EQ(q_pa(&kpt, kva), 0x80000000UL); /* kpt's tables untouched (not poisoned) */
	pt_destroy(&kpt);
	CHECK_EQ(frames_in_use, 0);
}

int main(void)
{
	arena = aligned_alloc(PAGE_SIZE, (size_t)NFRAMES * PAGE_SIZE);
	test_roundtrips();
	test_largest_pages();
	test_errors();
	test_ptdump_format();
	test_flusher();
	test_kernel_half();
	test_random(3000);
	free(arena);
	return checks_done("ch3/pagetable");
}
