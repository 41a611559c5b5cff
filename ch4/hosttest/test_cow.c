/*
 * Host unit test of ch4's copy-on-write, under AddressSanitizer.
 *
 * 1. pf_decide() over a table of PTEs x accesses x zero_ok, and mm_fault()'s
 *    area-level answers (no area, guard, permission, kernel address, out of
 *    memory) on a real mm.
 * 2. The real cow.c, anon.c, fork.c, fault.c and mm.c (with ch4's area code
 *    and ch3's page table) over fake physical memory, driven by thousands of
 *    random operations on several address spaces (new area, read, write a
 *    byte pattern, fork, exit), with injected allocation failures, against a
 *    model that keeps, per mm and page, the bytes it must read and the
 *    logical frame ("group") it shares with other mms. After each operation:
 *    every PTE agrees with the model (same group <=> same frame), each
 *    frame's reference count is the number of PTEs that point at it, shared
 *    pages are read-only with PTE_COW, the zero page is all zeros, never
 *    writable, never counted; mm->nr_pages is right; no frame or table
 *    leaks. Plus a fixed case of a reference count near INT32_MAX (fork
 *    shares once, then copies: -EOVERFLOW).
 *
 * Fake physical memory: one mmap'd arena; the "physical address" of host
 * address h is h - DIRECT_MAP_BASE (mod 2^64), so the kernel's own
 * pa_to_kva() (pa + DIRECT_MAP_BASE) lands back on h without a shim.
 * "User" accesses are done as the hardware would: walk the table, fault
 * through mm_fault() if the leaf does not allow it, then read or write the
 * frame the leaf points at.
 */
// HOSTTEST_SOURCES: ch4/src/cow.c ch4/src/anon.c ch4/src/fork.c ch4/src/fault.c ch4/src/mm.c ch4/src/vma.c ch4/src/vma_tree.c ch4/src/area.c ch4/src/remove.c ch4/src/find_free.c ch3/src/pagetable.c ch3/src/walk.c ch3/src/map.c ch3/src/unmap.c ch3/src/protect.c ch3/src/query.c ch3/src/split.c ch3/src/inject.c ch3/src/tlb_batch.c common/hosttest/host_kernel.c
// HOSTTEST_INCLUDE_FIRST: ch3/hosttest/shim
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../../common/hosttest/host_check.h"
#include "addr_space.h"
#include "cow.h"
#include "errno.h"
#include "frame.h"
#include "kmalloc.h"
#include "kspace.h"
#include "memlayout.h"
#include "mm.h"
#include "mm_internal.h"
#include "page.h"
#include "pagetable.h"
#include "../../ch3/src/ptalloc.h"
#include "tlb.h"
#include "vma.h"

/* ---- injected failures: the next allocation of any kind fails after N ------- */

static long fail_countdown; /* 0: off; n: the n-th allocation from now fails (once) */
static unsigned long injected;

static bool alloc_fails(void)
{
	if (fail_countdown > 0 && --fail_countdown == 0) {
		injected++;
		return true;
	}
	return false;
}

/* ---- fake physical memory ---------------------------------------------------- */

#define NFRAMES 6144

enum fstate { F_FREE, F_TABLE, F_DATA, F_ZERO };

static uint8_t (*arena)[PAGE_SIZE];
static struct page_info pages[NFRAMES];
static uint8_t fstate[NFRAMES];
static int free_stack[NFRAMES], nfree;
static long data_in_use, tables_in_use;

static paddr_t frame_pa(long i) { return (paddr_t)(uintptr_t)arena[i] - DIRECT_MAP_BASE; }

static long frame_index_of(paddr_t pa)
{
	uintptr_t h = (uintptr_t)(pa + DIRECT_MAP_BASE);
	uintptr_t base = (uintptr_t)arena;
	if (h < base || h >= base + (uintptr_t)NFRAMES * PAGE_SIZE || (h - base) % PAGE_SIZE) {
		fprintf(stderr, "bad frame address 0x%lx\n", (unsigned long)pa);
		abort();
	}
	return (long)((h - base) / PAGE_SIZE);
}

static long take_frame(enum fstate st)
{
	if (nfree == 0) {
		fprintf(stderr, "fake memory exhausted\n");
		abort();
	}
	long i = free_stack[--nfree];
	CHECK_EQ(fstate[i], F_FREE);
	fstate[i] = st;
	return i;
}

static void tlb_check_free(long i); /* the fake TLB below: nobody may still cache frame @i */

static void give_frame(long i)
{
	tlb_check_free(i);
	memset(arena[i], 0x5a, PAGE_SIZE); /* poison: a use after free shows */
	fstate[i] = F_FREE;
	pages[i].refcount = 0;
	free_stack[nfree++] = (int)i;
}

uint64_t frames_nr_total(void) { return NFRAMES; }

paddr_t frame_alloc(unsigned flags)
{
	if (alloc_fails())
		return 0;
	long i = take_frame(F_DATA);
	pages[i].refcount = 1;
	memset(arena[i], (flags & FRAME_ZERO) ? 0 : 0xa5, PAGE_SIZE);
	data_in_use++;
	return frame_pa(i);
}

int frame_free(paddr_t pa)
{
	long i = frame_index_of(pa);
	if (fstate[i] != F_DATA || pages[i].refcount != 1) {
		check_fail(__FILE__, __LINE__, "frame_free of frame %ld: state %d refcount %d", i, fstate[i],
			   pages[i].refcount);
		return -EINVAL;
	}
	give_frame(i);
	data_in_use--;
	return 0;
}

struct page_info *pa_to_page(paddr_t pa)
{
	long i = frame_index_of(ALIGN_DOWN(pa, PAGE_SIZE));
	return &pages[i];
}

int frame_get(paddr_t pa)
{
	long i = frame_index_of(pa);
	if (fstate[i] != F_DATA || pages[i].refcount < 1) {
		check_fail(__FILE__, __LINE__, "frame_get of frame %ld: state %d refcount %d", i, fstate[i],
			   pages[i].refcount);
		return -EINVAL;
	}
	if (pages[i].refcount == INT32_MAX)
		return -EOVERFLOW;
	pages[i].refcount++;
	return 0;
}

int frame_put(paddr_t pa)
{
	long i = frame_index_of(pa);
	if (fstate[i] != F_DATA || pages[i].refcount < 1) {
		check_fail(__FILE__, __LINE__, "frame_put of frame %ld: state %d refcount %d", i, fstate[i],
			   pages[i].refcount);
		return -EINVAL;
	}
	if (--pages[i].refcount == 0) {
		pages[i].refcount = 1;
		return frame_free(pa);
	}
	return 0;
}

paddr_t pt_table_alloc(void)
{
	if (pt_alloc_should_fail() || alloc_fails())
		return 0;
	long i = take_frame(F_TABLE);
	memset(arena[i], 0, PAGE_SIZE);
	tables_in_use++;
	return frame_pa(i);
}

void pt_table_free(paddr_t pa)
{
	long i = frame_index_of(pa);
	if (fstate[i] != F_TABLE) {
		check_fail(__FILE__, __LINE__, "pt_table_free of frame %ld in state %d", i, fstate[i]);
		return;
	}
	give_frame(i);
	tables_in_use--;
}

pte_t *pt_table_kva(paddr_t pa) { return pa_to_kva(pa); }

/* The zero page: frame 0 of the arena, never handed out. */
static long zero_index;
paddr_t zero_page_pa(void) { return frame_pa(zero_index); }
bool is_zero_page(paddr_t pa) { return ALIGN_DOWN(pa, PAGE_SIZE) == zero_page_pa(); }
static bool eager_default;
bool vm_eager_default(void) { return eager_default; }

static void memory_init(void)
{
	arena = mmap(NULL, (size_t)NFRAMES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		     -1, 0);
	if (arena == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	for (long i = NFRAMES - 1; i >= 1; i--)
		give_frame(i);
	zero_index = 0;
	fstate[0] = F_ZERO;
	pages[0].refcount = 1; /* zero_page.c's one reference, never dropped */
	memset(arena[0], 0, PAGE_SIZE);
}

/* ---- the rest of the kernel ---------------------------------------------------- */

int cpuid(void) { return 0; }
uint64_t harts_online_mask(void) { return 1; }
void sfence_vma_all(void) {}
void sfence_vma_va(vaddr_t va) { (void)va; }

static long live_allocs;

void *kmalloc(size_t size)
{
	if (alloc_fails())
		return NULL;
	live_allocs++;
	return malloc(size);
}

void *kzalloc(size_t size)
{
	void *p = kmalloc(size);
	if (p)
		memset(p, 0, size);
	return p;
}

void kfree(const void *p)
{
	if (p)
		live_allocs--;
	free((void *)p);
}

static unsigned long flushes;

static void tlb_drop(const struct tlb_flusher *fl); /* the fake TLB below */

/* The flushes since flush_log_reset(): whose harts, which pages (or all). */
#define FLUSH_LOG 4096
static struct {
	struct addr_space *as;
	bool all;
	unsigned n;
	vaddr_t va[TLB_FLUSH_BATCH];
} flush_log[FLUSH_LOG];
static int nr_flush_log;

static void flush_log_reset(void) { nr_flush_log = 0; }

/* True if every hart of @as was told to flush @va since flush_log_reset(). */
static bool flushed(struct addr_space *as, vaddr_t va)
{
	for (int i = 0; i < nr_flush_log; i++) {
		if (flush_log[i].as != as)
			continue;
		if (flush_log[i].all)
			return true;
		for (unsigned k = 0; k < flush_log[i].n; k++)
			if (flush_log[i].va[k] == ALIGN_DOWN(va, PAGE_SIZE))
				return true;
	}
	return false;
}

/* tlb.c's finish without the instructions: note it, free the tables, start over. */
void tlb_flusher_finish(struct tlb_flusher *fl)
{
	if (tlb_flusher_empty(fl))
		return;
	flushes++;
	tlb_drop(fl);
	if (nr_flush_log < FLUSH_LOG) {
		flush_log[nr_flush_log].as = fl->as;
		flush_log[nr_flush_log].all = fl->all;
		flush_log[nr_flush_log].n = fl->n;
		memcpy(flush_log[nr_flush_log].va, fl->va, sizeof(fl->va));
		nr_flush_log++;
	}
	while (fl->tables) {
		paddr_t t = fl->tables;
		fl->tables = pt_table_kva(t)[0];
		pt_table_free(t);
	}
	tlb_flusher_init(fl, fl->as);
}

struct addr_space kernel_as;

int addr_space_init(struct addr_space *as)
{
	*as = (struct addr_space){0};
	return pt_init(&as->pt);
}

int addr_space_destroy(struct addr_space *as)
{
	pt_destroy(&as->pt);
	return 0;
}

int addr_space_activate(struct addr_space *as)
{
	(void)as;
	return 0;
}

/* ---- part 1: the decisions ------------------------------------------------------- */

#define U      PTE_U
#define LF     (PTE_V | PTE_A | PTE_D | PTE_U)
#define SOMEPA 0x87654000UL

static const char *action_name(enum pf_action a)
{
	static const char *names[] = {"RETRY", "MAP_NEW", "MAP_ZERO", "COW_BREAK", "DENY"};
	return (unsigned)a < 5 ? names[a] : "?";
}

static void test_pf_decide(void)
{
	struct {
		const char *what;
		pte_t pte;
		enum pf_action rd, wr, ex;	    /* zero_ok true */
		enum pf_action rd_nz, wr_nz, ex_nz; /* zero_ok false */
	} cases[] = {
		/* Nothing mapped: a read (and, as in Linux's do_anonymous_page, any
		 * non-write) takes the zero page if allowed; a write, a new frame. */
		{"none", 0, PF_MAP_ZERO, PF_MAP_NEW, PF_MAP_ZERO, PF_MAP_NEW, PF_MAP_NEW, PF_MAP_NEW},
		{"invalid with COW", PTE_COW | PTE_R, PF_MAP_ZERO, PF_MAP_NEW, PF_MAP_ZERO, PF_MAP_NEW,
		 PF_MAP_NEW, PF_MAP_NEW},
		{"R", pte_make(SOMEPA, LF | PTE_R), PF_RETRY, PF_DENY, PF_DENY, PF_RETRY, PF_DENY, PF_DENY},
		{"RW", pte_make(SOMEPA, LF | PTE_R | PTE_W), PF_RETRY, PF_RETRY, PF_DENY, PF_RETRY, PF_RETRY,
		 PF_DENY},
		{"RX", pte_make(SOMEPA, LF | PTE_R | PTE_X), PF_RETRY, PF_DENY, PF_RETRY, PF_RETRY, PF_DENY,
		 PF_RETRY},
		{"RWX", pte_make(SOMEPA, LF | PTE_R | PTE_W | PTE_X), PF_RETRY, PF_RETRY, PF_RETRY, PF_RETRY,
		 PF_RETRY, PF_RETRY},
		{"X only", pte_make(SOMEPA, LF | PTE_X), PF_DENY, PF_DENY, PF_RETRY, PF_DENY, PF_DENY,
		 PF_RETRY},
		{"COW R", pte_make(SOMEPA, LF | PTE_R) | PTE_COW, PF_RETRY, PF_COW_BREAK, PF_DENY, PF_RETRY,
		 PF_COW_BREAK, PF_DENY},
		{"COW RX", pte_make(SOMEPA, LF | PTE_R | PTE_X) | PTE_COW, PF_RETRY, PF_COW_BREAK, PF_RETRY,
		 PF_RETRY, PF_COW_BREAK, PF_RETRY},
		{"COW X only", pte_make(SOMEPA, LF | PTE_X) | PTE_COW, PF_DENY, PF_COW_BREAK, PF_RETRY,
		 PF_DENY, PF_COW_BREAK, PF_RETRY},
		/* Broken by another thread first: writable now, retry. */
		{"COW RW (already broken)", pte_make(SOMEPA, LF | PTE_R | PTE_W) | PTE_COW, PF_RETRY,
		 PF_RETRY, PF_DENY, PF_RETRY, PF_RETRY, PF_DENY},
		{"zero page COW", pte_make(0x80001000UL, LF | PTE_R) | PTE_COW, PF_RETRY, PF_COW_BREAK,
		 PF_DENY, PF_RETRY, PF_COW_BREAK, PF_DENY},
	};
	enum vm_access acc[3] = {ACCESS_READ, ACCESS_WRITE, ACCESS_EXEC};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		enum pf_action want[2][3] = {{cases[c].rd, cases[c].wr, cases[c].ex},
					     {cases[c].rd_nz, cases[c].wr_nz, cases[c].ex_nz}};
		for (int z = 0; z < 2; z++)
			for (int a = 0; a < 3; a++) {
				enum pf_action got = pf_decide(cases[c].pte, acc[a], z == 0);
				if (got == want[z][a])
					check_pass();
				else
					check_fail(__FILE__, __LINE__,
						   "pf_decide(%s, %s, zero_ok %d) = %s, want %s",
						   cases[c].what,
						   a == 0   ? "read"
						   : a == 1 ? "write"
							    : "exec",
						   z == 0, action_name(got), action_name(want[z][a]));
			}
	}
	/* The area check: riscv's write implies read. */
	CHECK(vm_access_allowed(VM_READ, ACCESS_READ));
	CHECK(vm_access_allowed(VM_WRITE, ACCESS_READ));
	CHECK(!vm_access_allowed(VM_EXEC, ACCESS_READ));
	CHECK(!vm_access_allowed(VM_READ, ACCESS_WRITE));
	CHECK(vm_access_allowed(VM_WRITE, ACCESS_WRITE));
	CHECK(!vm_access_allowed(VM_READ | VM_WRITE, ACCESS_EXEC));
	CHECK(vm_access_allowed(VM_EXEC, ACCESS_EXEC));
	CHECK(!vm_access_allowed(VM_NONE, ACCESS_READ));
}

static pte_t *leaf(struct mm *mm, vaddr_t va)
{
	int level = 0;
	pte_t *p = pt_walk(&mm->as.pt, va, &level, false);
	return p && pte_valid(*p) && pte_is_leaf(*p) && level == 0 ? p : NULL;
}

static struct vma *add_area(struct mm *mm, vaddr_t start, vaddr_t end, unsigned prot, unsigned flags)
{
	struct vma *v = vma_alloc(start, end, prot, flags, &anon_backend);
	CHECK(v != NULL);
	int err = mm_add_vma(mm, v, 0);
	CHECK_EQ(err, 0);
	if (err) {
		vma_free(v);
		return NULL;
	}
	return v;
}

static void test_mm_fault_areas(void)
{
	struct mm *mm = mm_create();
	CHECK(mm != NULL);
	vaddr_t rw = 0x100000, ro = 0x200000, x = 0x300000, guard = 0x400000;
	add_area(mm, rw, rw + 4 * PAGE_SIZE, VM_READ | VM_WRITE, 0);
	add_area(mm, ro, ro + 4 * PAGE_SIZE, VM_READ, 0);
	add_area(mm, x, x + 4 * PAGE_SIZE, VM_READ | VM_EXEC, 0);
	add_area(mm, guard, guard + 4 * PAGE_SIZE, VM_NONE, VM_GUARD);
	CHECK_EQ(mm_fault(mm, 0x50000, ACCESS_READ), FAULT_NO_AREA);
	CHECK_EQ(mm_fault(mm, rw + 4 * PAGE_SIZE, ACCESS_WRITE), FAULT_NO_AREA);
	CHECK_EQ(mm_fault(NULL, rw, ACCESS_READ), FAULT_NO_AREA);
	CHECK_EQ(mm_fault(mm, guard + 5, ACCESS_READ), FAULT_GUARD);
	CHECK_EQ(mm_fault(mm, guard, ACCESS_WRITE), FAULT_GUARD);
	CHECK_EQ(mm_fault(mm, ro + 8, ACCESS_WRITE), FAULT_PERMISSION);
	CHECK_EQ(mm_fault(mm, ro, ACCESS_EXEC), FAULT_PERMISSION);
	CHECK_EQ(mm_fault(mm, rw, ACCESS_EXEC), FAULT_PERMISSION);
	CHECK_EQ(mm_fault(mm, x, ACCESS_WRITE), FAULT_PERMISSION);
	CHECK_EQ(mm_fault(mm, USER_TOP, ACCESS_READ), FAULT_KERNEL);
	CHECK_EQ(mm_fault(mm, DIRECT_MAP_BASE + 0x1000, ACCESS_WRITE), FAULT_KERNEL);
	CHECK_EQ(mm_fault(NULL, KERNEL_BASE, ACCESS_EXEC), FAULT_KERNEL);
	CHECK_EQ(mm->nr_pages, 0);
	/* Out of memory in the backend: the frame, or a table on the way. */
	for (long k = 1; k <= 3; k++) {
		fail_countdown = k;
		enum fault_result r = mm_fault(mm, rw + 3 * PAGE_SIZE + 1, ACCESS_WRITE);
		bool failed = fail_countdown == 0;
		fail_countdown = 0;
		if (failed) {
			CHECK_EQ(r, FAULT_OOM);
			CHECK(leaf(mm, rw + 3 * PAGE_SIZE) == NULL);
		} else {
			CHECK_EQ(r, FAULT_RESOLVED);
		}
	}
	CHECK_EQ(mm_fault(mm, rw + 3 * PAGE_SIZE, ACCESS_WRITE), FAULT_RESOLVED);
	/* Reads: the zero page, read-only, copy-on-write, not counted. */
	CHECK_EQ(mm_fault(mm, rw, ACCESS_READ), FAULT_RESOLVED);
	pte_t *p = leaf(mm, rw);
	CHECK(p && is_zero_page(pte_pa(*p)) && !(*p & PTE_W) && (*p & PTE_COW));
	CHECK_EQ(mm->nr_pages, 1);
	CHECK_EQ(mm_fault(mm, x, ACCESS_EXEC), FAULT_RESOLVED);
	p = leaf(mm, x);
	CHECK(p && is_zero_page(pte_pa(*p)) && (*p & PTE_X) && !(*p & PTE_W));
	/* A read-only leaf without PTE_COW in a writable area: the backend says no. */
	CHECK_EQ(mm_fault(mm, rw + PAGE_SIZE, ACCESS_WRITE), FAULT_RESOLVED);
	p = leaf(mm, rw + PAGE_SIZE);
	CHECK(p && (*p & PTE_W));
	*p &= ~(pte_t)PTE_W;
	CHECK_EQ(mm_fault(mm, rw + PAGE_SIZE, ACCESS_WRITE), FAULT_PERMISSION);
	CHECK_EQ(mm_fault(mm, rw + PAGE_SIZE, ACCESS_READ), FAULT_RESOLVED);
	/* The zero page broken by a write: a new zeroed frame, counted. */
	CHECK_EQ(mm_fault(mm, rw, ACCESS_WRITE), FAULT_RESOLVED);
	p = leaf(mm, rw);
	CHECK(p && !is_zero_page(pte_pa(*p)) && (*p & PTE_W) && !(*p & PTE_COW));
	CHECK_EQ(mm->nr_pages, 3);
	mm_put(mm);
	CHECK_EQ(data_in_use, 0);
	CHECK_EQ(tables_in_use, 0);
	CHECK_EQ(live_allocs, 0);
}

/* ---- part 2: the model -------------------------------------------------------------- */

#define MAXMM	 8
#define NPAGES	 48
#define WIN_BASE 0x10000000UL
#define VA(p)	 (WIN_BASE + (vaddr_t)(p)*PAGE_SIZE)

struct mslot {
	struct mm *mm;
	bool in_area[NPAGES];
	bool shared[NPAGES]; /* in a VM_SHARED area: fork shares the frame, writable */
	long group[NPAGES];  /* 0: untouched; -1: the zero page; else a logical frame */
	uint8_t bytes[NPAGES][PAGE_SIZE];
};

static struct mslot slots[MAXMM];
static long next_group = 1;

/*
 * A fake TLB: the frame each mm's page was last reached through (index + 1;
 * 0: nothing cached), filled by the test's user accesses and emptied only
 * by a flusher's finish for that mm. A frame freed while cached is a frame
 * another hart could still read or write.
 */
static long tlb_cache[MAXMM][NPAGES];

static void tlb_fill(int s, int p, paddr_t pa) { tlb_cache[s][p] = frame_index_of(pa) + 1; }

static void tlb_drop(const struct tlb_flusher *fl)
{
	for (int s = 0; s < MAXMM; s++) {
		if (!slots[s].mm || &slots[s].mm->as != fl->as)
			continue;
		for (int p = 0; p < NPAGES; p++) {
			bool hit = fl->all;
			for (unsigned k = 0; k < fl->n && !hit; k++)
				hit = fl->va[k] == VA(p);
			if (hit)
				tlb_cache[s][p] = 0;
		}
	}
}

static void tlb_check_free(long i)
{
	for (int s = 0; s < MAXMM; s++)
		for (int p = 0; p < NPAGES; p++)
			if (tlb_cache[s][p] == i + 1) {
				check_fail(__FILE__, __LINE__,
					   "frame %ld freed while mm %d may still cache it at page %d", i, s,
					   p);
				tlb_cache[s][p] = 0;
			}
}

static uint64_t rng = 0x2545f4914f6cdd1dUL;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}
static long rnd_range(long lo, long hi) { return lo + (long)(rnd() % (uint64_t)(hi - lo)); }

static unsigned long counts[16];
enum {
	C_SHARED_WRITE = 15,
	C_UNMAP = 14,
	C_OOM_UNMAP = 13,
	C_AREA = 0,
	C_READ,
	C_WRITE,
	C_FORK,
	C_EXIT,
	C_OOM_FAULT,
	C_OOM_FORK,
	C_OOM_AREA,
	C_COPY,
	C_REUSE
};

/* How many (mm, page) pairs hold logical frame @g. */
static long group_users(long g)
{
	long n = 0;
	for (int s = 0; s < MAXMM; s++)
		if (slots[s].mm)
			for (int p = 0; p < NPAGES; p++)
				n += slots[s].group[p] == g;
	return n;
}

/* Which frame each group is in (frame index), over a full check. */
static long group_frame[1 << 20];
static long frame_refs_seen[NFRAMES];
static long frame_group[NFRAMES];

static void check_everything(const char *after)
{
	check_context = after;
	memset(frame_refs_seen, 0, sizeof(frame_refs_seen));
	memset(frame_group, 0, sizeof(frame_group));
	long tables = 0;
	for (int s = 0; s < MAXMM; s++) {
		struct mslot *m = &slots[s];
		if (!m->mm)
			continue;
		tables += (long)m->mm->as.pt.nr_tables;
		long counted = 0;
		for (int p = 0; p < NPAGES; p++) {
			pte_t *pte = leaf(m->mm, VA(p));
			long g = m->group[p];
			if (!pte) {
				if (g != 0)
					check_fail(__FILE__, __LINE__,
						   "mm %d page %d: no PTE, model group %ld", s, p, g);
				continue;
			}
			CHECK(m->in_area[p]);
			paddr_t pa = pte_pa(*pte);
			long f = frame_index_of(pa);
			if (g == -1 || g == 0) {
				if (!is_zero_page(pa) || (*pte & PTE_W) || !(*pte & PTE_COW))
					check_fail(
						__FILE__, __LINE__,
						"mm %d page %d: model zero page (%ld), PTE 0x%lx (frame %ld)",
						s, p, g, (unsigned long)*pte, f);
				if (g == 0)
					check_fail(__FILE__, __LINE__, "mm %d page %d: untouched page mapped",
						   s, p);
				continue;
			}
			counted++;
			if (g >= (long)(sizeof(group_frame) / sizeof(group_frame[0]))) {
				fprintf(stderr,
					"test_cow: too many groups for group_frame[]: fewer rounds\n");
				exit(2);
			}
			if (fstate[f] != F_DATA) {
				check_fail(__FILE__, __LINE__,
					   "mm %d page %d: PTE points at frame %ld in state %d", s, p, f,
					   fstate[f]);
				continue;
			}
			frame_refs_seen[f]++;
			if (frame_group[f] == 0)
				frame_group[f] = g;
			else if (frame_group[f] != g)
				check_fail(__FILE__, __LINE__, "frame %ld holds groups %ld and %ld", f,
					   frame_group[f], g);
			if (group_frame[g] == 0)
				group_frame[g] = f + 1;
			else if (group_frame[g] != f + 1)
				check_fail(__FILE__, __LINE__, "group %ld in frames %ld and %ld", g,
					   group_frame[g] - 1, f);
			if (m->shared[p]) {
				if (!(*pte & PTE_W) || (*pte & PTE_COW))
					check_fail(__FILE__, __LINE__,
						   "mm %d page %d: shared area, PTE 0x%lx", s, p,
						   (unsigned long)*pte);
			} else if (group_users(g) > 1 && ((*pte & PTE_W) || !(*pte & PTE_COW)))
				check_fail(__FILE__, __LINE__,
					   "mm %d page %d: shared (group %ld) but PTE 0x%lx", s, p, g,
					   (unsigned long)*pte);
			else if ((*pte & PTE_W) && (*pte & PTE_COW))
				check_fail(__FILE__, __LINE__, "mm %d page %d: writable and COW", s, p);
			else if (!(*pte & PTE_W) && !(*pte & PTE_COW))
				check_fail(__FILE__, __LINE__,
					   "mm %d page %d: read-only, not COW, in an RW area", s, p);
			if (memcmp(arena[f], m->bytes[p], PAGE_SIZE) != 0)
				check_fail(__FILE__, __LINE__, "mm %d page %d: bytes differ from the model",
					   s, p);
		}
		if ((long)m->mm->nr_pages != counted)
			check_fail(__FILE__, __LINE__, "mm %d: nr_pages %lu, frames mapped %ld", s,
				   (unsigned long)m->mm->nr_pages, counted);
	}
	long frames = 0;
	for (long f = 0; f < NFRAMES; f++) {
		if (fstate[f] == F_DATA) {
			frames++;
			if (pages[f].refcount != frame_refs_seen[f])
				check_fail(__FILE__, __LINE__, "frame %ld: refcount %d, PTEs %ld (leak if 0)",
					   f, pages[f].refcount, frame_refs_seen[f]);
		}
		if (frame_group[f])
			group_frame[frame_group[f]] = 0; /* reset for the next check */
	}
	CHECK_EQ(frames, data_in_use);
	CHECK_EQ(tables, tables_in_use);
	/* The zero page: never freed, never counted, all zeros. */
	CHECK_EQ(fstate[zero_index], F_ZERO);
	CHECK_EQ(pages[zero_index].refcount, 1);
	for (int i = 0; i < (int)PAGE_SIZE; i++)
		if (arena[zero_index][i]) {
			check_fail(__FILE__, __LINE__, "the zero page was written at byte %d", i);
			break;
		}
	check_context = NULL;
}

static int pick_live(void)
{
	int live[MAXMM], n = 0;
	for (int s = 0; s < MAXMM; s++)
		if (slots[s].mm)
			live[n++] = s;
	return n ? live[rnd() % (unsigned)n] : -1;
}

static int pick_free(void)
{
	for (int s = 0; s < MAXMM; s++)
		if (!slots[s].mm)
			return s;
	return -1;
}

static void new_root(void)
{
	int s = pick_free();
	if (s < 0)
		return;
	eager_default = rnd() % 5 == 0;
	struct mm *mm = mm_create();
	eager_default = false;
	CHECK(mm != NULL);
	memset(&slots[s], 0, sizeof(slots[s]));
	slots[s].mm = mm;
}

/* A page, most often one in an area. */
static int pick_page(const struct mslot *m)
{
	int p = (int)rnd_range(0, NPAGES);
	for (int tries = 0; tries < 6 && !m->in_area[p]; tries++)
		p = (int)rnd_range(0, NPAGES);
	return p;
}

static void op_area(int s)
{
	struct mslot *m = &slots[s];
	long p0 = rnd_range(0, NPAGES), p1 = MIN((long)NPAGES, p0 + rnd_range(1, 12));
	for (long p = p0; p < p1; p++)
		if (m->in_area[p])
			return;
	bool shared = rnd() % 6 == 0;
	struct vma *v = vma_alloc(VA(p0), VA(p1), VM_READ | VM_WRITE, shared ? VM_SHARED : 0, &anon_backend);
	CHECK(v != NULL);
	if (rnd() % 4 == 0)
		fail_countdown = rnd_range(1, 1 + (m->mm->eager ? 2 * (p1 - p0) : 2));
	int err = mm_add_vma(m->mm, v, 0);
	fail_countdown = 0;
	if (err) {
		CHECK_EQ(err, -ENOMEM);
		vma_free(v);
		counts[C_OOM_AREA]++;
		return;
	}
	counts[C_AREA]++;
	for (long p = p0; p < p1; p++) {
		m->in_area[p] = true;
		m->shared[p] = shared;
		memset(m->bytes[p], 0, PAGE_SIZE);
		m->group[p] = m->mm->eager ? next_group++ : 0;
		/* A shared area's pages are faulted in at once: a page untouched at
		 * fork would not be shared afterwards (test_shared_untouched()). */
		if (shared && !m->mm->eager) {
			CHECK_EQ(mm_fault(m->mm, VA(p), ACCESS_WRITE), FAULT_RESOLVED);
			m->group[p] = next_group++;
		}
	}
}

/* A user load at page @p: fault if the leaf does not allow it, then read the frame. */
static void op_read(int s)
{
	struct mslot *m = &slots[s];
	int p = pick_page(m);
	pte_t *pte = leaf(m->mm, VA(p));
	if (!pte || !(*pte & PTE_R)) {
		if (rnd() % 8 == 0)
			fail_countdown = rnd_range(1, 4);
		injected = 0;
		enum fault_result r = mm_fault(m->mm, VA(p) + rnd_range(0, PAGE_SIZE), ACCESS_READ);
		bool failed = injected != 0;
		fail_countdown = 0;
		if (!m->in_area[p]) {
			CHECK_EQ(r, FAULT_NO_AREA);
			return;
		}
		if (r == FAULT_OOM) {
			CHECK(failed);
			counts[C_OOM_FAULT]++;
			CHECK(leaf(m->mm, VA(p)) == NULL);
			return;
		}
		CHECK_EQ(r, FAULT_RESOLVED);
		pte = leaf(m->mm, VA(p));
		CHECK(pte != NULL);
		if (!pte)
			return;
		if (m->group[p] == 0) /* a read of an untouched page: the zero page, unless shared */
			m->group[p] = m->shared[p] ? next_group++ : -1;
	}
	counts[C_READ]++;
	tlb_fill(s, p, pte_pa(*pte));
	uint8_t *frame = pa_to_kva(pte_pa(*pte));
	long off = rnd_range(0, PAGE_SIZE - 64);
	if (memcmp(frame + off, m->bytes[p] + off, 64) != 0)
		check_fail(__FILE__, __LINE__, "mm %d page %d: read differs at %ld", s, p, off);
}

/* A user store of a byte pattern at page @p: fault unless the leaf is writable, then write. */
static void op_write(int s)
{
	struct mslot *m = &slots[s];
	int p = pick_page(m);
	pte_t *pte = leaf(m->mm, VA(p));
	long g = m->group[p];
	if (!pte || !(*pte & PTE_W)) {
		paddr_t before = pte ? pte_pa(*pte) : 0;
		long users = g > 0 ? group_users(g) : 0;
		if (rnd() % 6 == 0)
			fail_countdown = rnd_range(1, 4);
		injected = 0;
		flush_log_reset();
		enum fault_result r = mm_fault(m->mm, VA(p) + rnd_range(0, PAGE_SIZE), ACCESS_WRITE);
		bool failed = injected != 0;
		fail_countdown = 0;
		if (!m->in_area[p]) {
			CHECK_EQ(r, FAULT_NO_AREA);
			return;
		}
		if (r == FAULT_OOM) {
			CHECK(failed);
			counts[C_OOM_FAULT]++;
			pte = leaf(m->mm, VA(p));
			CHECK((pte ? pte_pa(*pte) : 0) == before);
			return;
		}
		CHECK_EQ(r, FAULT_RESOLVED);
		pte = leaf(m->mm, VA(p));
		CHECK(pte && (*pte & PTE_W) && !(*pte & PTE_COW));
		if (!pte)
			return;
		if (users == 1) {
			/* Ours alone: the same frame, made writable (no copy). */
			CHECK_EQ(pte_pa(*pte), before);
			counts[C_REUSE]++;
		} else {
			CHECK(pte_pa(*pte) != before);
			CHECK(!is_zero_page(pte_pa(*pte)));
			/* A copy: every hart of the mm drops the old frame's entry before it goes. */
			if (before && !flushed(&m->mm->as, VA(p)))
				check_fail(__FILE__, __LINE__, "COW copy of mm %d page %d without a flush", s,
					   p);
			m->group[p] = next_group++;
			counts[C_COPY]++;
		}
	}
	CHECK(!is_zero_page(pte_pa(*pte)));
	tlb_fill(s, p, pte_pa(*pte));
	uint8_t *frame = pa_to_kva(pte_pa(*pte));
	long off = rnd_range(0, PAGE_SIZE), len = rnd_range(1, PAGE_SIZE - off + 1);
	uint8_t v = (uint8_t)rnd();
	for (long i = off; i < off + len; i++)
		frame[i] = (uint8_t)(v + i);
	/* Everyone on this frame sees the bytes: a shared area's sharers (a private page is alone now). */
	for (int t = 0; t < MAXMM; t++)
		for (int q = 0; slots[t].mm && q < NPAGES; q++)
			if (slots[t].group[q] == m->group[p] && (t != s || q == p)) {
				CHECK(slots[t].shared[q] || (t == s && q == p));
				for (long i = off; i < off + len; i++)
					slots[t].bytes[q][i] = (uint8_t)(v + i);
			}
	counts[m->shared[p] ? C_SHARED_WRITE : C_WRITE]++;
}

static void op_fork(int s)
{
	int c = pick_free();
	if (c < 0)
		return;
	struct mslot *m = &slots[s];
	bool inject = rnd() % 5 == 0;
	bool was_writable[NPAGES];
	for (int p = 0; p < NPAGES; p++) {
		pte_t *pte = leaf(m->mm, VA(p));
		was_writable[p] = pte && (*pte & PTE_W);
	}
	if (inject)
		fail_countdown = rnd_range(1, 24);
	injected = 0;
	flush_log_reset();
	struct mm *child = mm_fork(m->mm);
	fail_countdown = 0;
	/* A page the parent could write and cannot now: its harts were told. */
	for (int p = 0; p < NPAGES; p++) {
		pte_t *pte = leaf(m->mm, VA(p));
		if (was_writable[p] && !(pte && (*pte & PTE_W)) && !flushed(&m->mm->as, VA(p)))
			check_fail(__FILE__, __LINE__, "fork: parent page %d lost PTE_W without a flush", p);
	}
	if (!child) {
		CHECK(injected != 0);
		counts[C_OOM_FORK]++;
		return;
	}
	counts[C_FORK]++;
	struct mslot *k = &slots[c];
	k->mm = child;
	CHECK_EQ(child->eager, m->mm->eager);
	memcpy(k->in_area, m->in_area, sizeof(k->in_area));
	memcpy(k->shared, m->shared, sizeof(k->shared));
	memcpy(k->bytes, m->bytes, sizeof(k->bytes));
	for (int p = 0; p < NPAGES; p++) {
		long g = m->group[p];
		/* Eager: every page copied; lazy: shared (the zero page stays the zero page). */
		k->group[p] = child->eager && g > 0 && !m->shared[p] ? next_group++ : g;
	}
}

/* munmap of a range: pages go (references dropped), areas split at the edges. */
static void op_unmap(int s)
{
	struct mslot *m = &slots[s];
	long p0 = rnd_range(0, NPAGES), p1 = MIN((long)NPAGES, p0 + rnd_range(1, 8));
	if (rnd() % 4 == 0)
		fail_countdown = rnd_range(1, 3);
	injected = 0;
	bool had[NPAGES] = {0};
	for (long p = p0; p < p1; p++)
		had[p] = leaf(m->mm, VA(p)) != NULL;
	flush_log_reset();
	int err = mm_remove_range(m->mm, VA(p0), VA(p1));
	fail_countdown = 0;
	if (err) {
		CHECK_EQ(err, -ENOMEM); /* a split's copy of the area: nothing changed */
		CHECK(injected != 0);
		counts[C_OOM_UNMAP]++;
		return;
	}
	for (long p = p0; p < p1; p++) {
		if (had[p] && !flushed(&m->mm->as, VA(p)))
			check_fail(__FILE__, __LINE__, "unmap of mm %d page %ld without a flush", s, p);
		m->in_area[p] = m->shared[p] = false;
		m->group[p] = 0;
	}
	counts[C_UNMAP]++;
}

static void op_exit(int s)
{
	/* Its harts have switched away (and flushed) before the last mm_put(). */
	memset(tlb_cache[s], 0, sizeof(tlb_cache[s]));
	mm_put(slots[s].mm);
	slots[s].mm = NULL;
	counts[C_EXIT]++;
}

static void test_random(long rounds)
{
	for (long i = 0; i < rounds; i++) {
		int s = pick_live();
		if (s < 0) {
			new_root();
			continue;
		}
		unsigned r = rnd() % 100;
		if (r < 8)
			op_area(s);
		else if (r < 11)
			op_unmap(s);
		else if (r < 41)
			op_read(s);
		else if (r < 82)
			op_write(s);
		else if (r < 92)
			op_fork(s);
		else if (r < 97)
			op_exit(s);
		else
			new_root();
		if (checks_failed > 20)
			break;
		if (i % 7 == 0 || r >= 80)
			check_everything("random operations");
	}
	for (int s = 0; s < MAXMM; s++)
		if (slots[s].mm)
			op_exit(s);
	check_everything("all exited");
	CHECK_EQ(data_in_use, 0);
	CHECK_EQ(tables_in_use, 0);
	CHECK_EQ(live_allocs, 0);
}

/* A frame whose count is at the limit: fork copies it instead of sharing. */
static void test_overflow(void)
{
	struct mm *mm = mm_create();
	add_area(mm, WIN_BASE, WIN_BASE + 2 * PAGE_SIZE, VM_READ | VM_WRITE, 0);
	CHECK_EQ(mm_fault(mm, WIN_BASE, ACCESS_WRITE), FAULT_RESOLVED);
	pte_t *pte = leaf(mm, WIN_BASE);
	CHECK(pte != NULL);
	if (!pte)
		return;
	paddr_t pa = pte_pa(*pte);
	memset(pa_to_kva(pa), 0x3c, PAGE_SIZE);
	struct page_info *pg = pa_to_page(pa);
	const int32_t others = INT32_MAX - 2; /* references nobody here holds */
	pg->refcount += others;		      /* INT32_MAX - 1 */
	struct mm *c1 = mm_fork(mm);	      /* shares: INT32_MAX */
	CHECK(c1 != NULL);
	if (!c1)
		return;
	CHECK_EQ(pg->refcount, INT32_MAX);
	pte_t *p1 = leaf(c1, WIN_BASE);
	CHECK(p1 && pte_pa(*p1) == pa && (*p1 & PTE_COW) && !(*p1 & PTE_W));
	CHECK((*pte & PTE_COW) && !(*pte & PTE_W));
	struct mm *c2 = mm_fork(mm); /* -EOVERFLOW: copies */
	CHECK(c2 != NULL);
	if (!c2)
		return;
	CHECK_EQ(pg->refcount, INT32_MAX);
	pte_t *p2 = leaf(c2, WIN_BASE);
	CHECK(p2 && pte_pa(*p2) != pa && (*p2 & PTE_W) && !(*p2 & PTE_COW));
	if (p2)
		CHECK(memcmp(pa_to_kva(pte_pa(*p2)), pa_to_kva(pa), PAGE_SIZE) == 0);
	CHECK_EQ(c2->nr_pages, 1);
	/* A write in the parent: count > 1, so a copy; the old frame loses one. */
	CHECK_EQ(mm_fault(mm, WIN_BASE, ACCESS_WRITE), FAULT_RESOLVED);
	CHECK_EQ(pg->refcount, INT32_MAX - 1);
	pg->refcount -= others; /* 1: c1's */
	mm_put(c2);
	mm_put(c1);
	mm_put(mm);
	CHECK_EQ(data_in_use, 0);
	CHECK_EQ(tables_in_use, 0);
	CHECK_EQ(live_allocs, 0);
}

/*
 * A VM_SHARED anonymous area of a lazy mm, a page untouched at fork: the
 * area is populated when made (anon.c), so the page is one frame in both;
 * were it lazy, parent and child would each fault their own frame in and
 * their writes would not be shared.
 */
static void test_shared_untouched(void)
{
	struct mm *mm = mm_create();
	add_area(mm, WIN_BASE, WIN_BASE + 3 * PAGE_SIZE, VM_READ | VM_WRITE, VM_SHARED);
	/* A read of a shared area's page: its own frame, never the zero page. */
	CHECK_EQ(mm_fault(mm, WIN_BASE + 2 * PAGE_SIZE, ACCESS_READ), FAULT_RESOLVED);
	pte_t *r = leaf(mm, WIN_BASE + 2 * PAGE_SIZE);
	CHECK(r && !is_zero_page(pte_pa(*r)) && (*r & PTE_W) && !(*r & PTE_COW));
	CHECK_EQ(mm_fault(mm, WIN_BASE, ACCESS_WRITE), FAULT_RESOLVED); /* page 0 present at fork */
	struct mm *child = mm_fork(mm);
	CHECK(child != NULL);
	if (!child) {
		mm_put(mm);
		return;
	}
	CHECK_EQ(mm_fault(mm, WIN_BASE + PAGE_SIZE, ACCESS_WRITE), FAULT_RESOLVED);
	CHECK_EQ(mm_fault(child, WIN_BASE + PAGE_SIZE, ACCESS_WRITE), FAULT_RESOLVED);
	pte_t *a0 = leaf(mm, WIN_BASE), *b0 = leaf(child, WIN_BASE);
	pte_t *a1 = leaf(mm, WIN_BASE + PAGE_SIZE), *b1 = leaf(child, WIN_BASE + PAGE_SIZE);
	CHECK(a0 && b0 && a1 && b1);
	if (a0 && b0 && a1 && b1) {
		CHECK_EQ(pte_pa(*a0), pte_pa(*b0));
		CHECK_EQ(pte_pa(*a1), pte_pa(*b1));
	}
	mm_put(child);
	mm_put(mm);
	CHECK_EQ(data_in_use, 0);
	CHECK_EQ(tables_in_use, 0);
}

int main(int argc, char **argv)
{
	long rounds = argc > 1 ? atol(argv[1]) : 60000;
	if (argc > 2) /* another seed, to explore: test_cow ROUNDS SEED */
		rng = strtoull(argv[2], NULL, 0) | 1;
	memory_init();
	test_pf_decide();
	test_mm_fault_areas();
	test_overflow();
	test_shared_untouched();
	test_random(rounds);
	printf("test_cow: %ld rounds: %lu areas (%lu failed), %lu reads, %lu writes (%lu copies, %lu "
	       "reuses), "
	       "%lu writes to shared areas, %lu unmaps (%lu failed), %lu forks (%lu failed), %lu exits, %lu "
	       "faults out of memory, "
	       "%lu flushes\n",
	       rounds, counts[C_AREA], counts[C_OOM_AREA], counts[C_READ], counts[C_WRITE], counts[C_COPY],
	       counts[C_REUSE], counts[C_SHARED_WRITE], counts[C_UNMAP], counts[C_OOM_UNMAP], counts[C_FORK],
	       counts[C_OOM_FORK], counts[C_EXIT], counts[C_OOM_FAULT], flushes);
	return checks_done("test_cow");
}
