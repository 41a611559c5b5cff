/*
 * Host unit test of ch3's TLB flusher (tlb.c, tlb_batch.c) with a recording
 * sfence. In QEMU every sfence.vma empties the whole TLB, so a flusher that
 * fences the wrong page, or too few, still passes every in-kernel test; here
 * each fence, each SBI remote fence and each table free is recorded in order,
 * and checked exactly: which addresses, when the flush turns into a full one,
 * which harts and range the shootdown names, and that table frames are freed
 * only after every flush.
 *
 * shim/ stands in for common/include's riscv.h and smp.h (their inline
 * functions are RISC-V instructions); this file defines what they declare.
 */
// HOSTTEST_SOURCES: ch3/src/tlb.c ch3/src/tlb_batch.c
// HOSTTEST_INCLUDE_FIRST: ch3/hosttest/shim
#include <stdio.h>
#include <string.h>

#include "../../common/hosttest/host_check.h"
#include "addr_space.h"
#include "errno.h"
#include "pagetable.h"
#include "ptalloc.h"
#include "riscv.h"
#include "sbi.h"
#include "smp.h"
#include "tlb.h"

/* ---- the recording machine --------------------------------------------- */

enum ev_kind { EV_FENCE_VA, EV_FENCE_ALL, EV_REMOTE, EV_TABLE_FREE };

struct event {
	enum ev_kind kind;
	uint64_t a, b, c; /* FENCE_VA: va; REMOTE: hart mask, start, size; TABLE_FREE: pa */
};

static struct event ev[4 * TLB_FLUSH_BATCH];
static int nev;
static int this_hart;
static uint64_t online = 1;
static long sbi_result = SBI_SUCCESS;

static void print_events(void)
{
	static const char *names[] = {"sfence.vma va", "sfence.vma all", "remote_sfence_vma", "table free"};
	for (int i = 0; i < nev; i++)
		printf("  event %d: %s 0x%lx 0x%lx 0x%lx\n", i, names[ev[i].kind], ev[i].a, ev[i].b, ev[i].c);
}

static void record(enum ev_kind kind, uint64_t a, uint64_t b, uint64_t c)
{
	if (nev == (int)(sizeof(ev) / sizeof(ev[0]))) {
		/* No case here makes this many: a loop that never ends. Stop now. */
		check_fail(__FILE__, __LINE__,
			   "more than %d fences and frees in one case: a loop that never ends?", nev);
		print_events();
		exit(checks_done("ch3/tlb"));
	}
	ev[nev++] = (struct event){kind, a, b, c};
}

void sfence_vma_all(void) { record(EV_FENCE_ALL, 0, 0, 0); }
void sfence_vma_va(vaddr_t va) { record(EV_FENCE_VA, va, 0, 0); }
int cpuid(void) { return this_hart; }
uint64_t harts_online_mask(void) { return online; }

long sbi_remote_sfence_vma(unsigned long hart_mask, vaddr_t start, unsigned long size)
{
	record(EV_REMOTE, hart_mask, start, size);
	return sbi_result;
}

/* Table frames: a few, at made-up physical addresses. */
#define NTABLES	    4
#define TABLE_PA(i) (0x80000000UL + (paddr_t)(i)*PAGE_SIZE)
static pte_t tables[NTABLES][PTES_PER_TABLE];

pte_t *pt_table_kva(paddr_t pa)
{
	size_t i = (pa - TABLE_PA(0)) / PAGE_SIZE;
	if (pa < TABLE_PA(0) || i >= NTABLES || pa % PAGE_SIZE) {
		fprintf(stderr, "bad table address 0x%lx\n", pa);
		abort();
	}
	return tables[i];
}

void pt_table_free(paddr_t pa)
{
	pt_table_kva(pa); /* a real table */
	record(EV_TABLE_FREE, pa, 0, 0);
}

/* Start over: no events, hart 0 alone. */
static void reset(const char *context)
{
	check_context = context;
	nev = 0;
	this_hart = 0;
	online = 1;
	sbi_result = SBI_SUCCESS;
}

/* Events of @kind (with first value @a, unless @a is -1). */
static int count(enum ev_kind kind, uint64_t a)
{
	int n = 0;
	for (int i = 0; i < nev; i++)
		n += ev[i].kind == kind && (a == -1UL || ev[i].a == a);
	return n;
}

/* Check that @va was fenced (sfence.vma va) exactly @times times. */
#define CHECK_FENCED(va, times)                                                                              \
	do {                                                                                                 \
		int _n = count(EV_FENCE_VA, (va));                                                           \
		if (_n == (times))                                                                           \
			check_pass();                                                                        \
		else                                                                                         \
			check_fail(__FILE__, __LINE__, "sfence.vma 0x%lx: %d times, expected %d",            \
				   (unsigned long)(va), _n, (times));                                        \
	} while (0)

/* Index of the first / last event of @kind, or -1. */
static int first(enum ev_kind kind)
{
	for (int i = 0; i < nev; i++)
		if (ev[i].kind == kind)
			return i;
	return -1;
}

static int last(enum ev_kind kind)
{
	for (int i = nev - 1; i >= 0; i--)
		if (ev[i].kind == kind)
			return i;
	return -1;
}

/* ---- the tests ------------------------------------------------------------ */

#define VA 0x40000000UL

/* One fence per leaf, of that leaf's address, nothing else. */
static void test_page_flushes(void)
{
	reset("page flushes");
	int failed = checks_failed;
	static const struct {
		vaddr_t va;
		size_t size;
	} leaves[] = {
		{VA + 5 * PAGE_SIZE, PAGE_SIZE},
		{VA + PAGE_SIZE, PAGE_SIZE},
		{VA + MEGAPAGE_SIZE, MEGAPAGE_SIZE},
		{VA + 9 * PAGE_SIZE, PAGE_SIZE},
	};
	struct tlb_flusher fl;
	tlb_flusher_init(&fl, NULL);
	tlb_flusher_finish(&fl); /* empty: nothing to do */
	CHECK_EQ(nev, 0);
	struct tlb_stats before = tlb_get_stats();
	for (unsigned i = 0; i < 4; i++)
		tlb_flusher_add(&fl, leaves[i].va, leaves[i].size);
	CHECK_EQ(nev, 0); /* nothing until finish */
	tlb_flusher_finish(&fl);
	CHECK_EQ(nev, 4);
	for (unsigned i = 0; i < 4; i++)
		CHECK_FENCED(leaves[i].va, 1);
	CHECK_EQ(count(EV_FENCE_ALL, -1UL), 0);
	CHECK_EQ(count(EV_REMOTE, -1UL), 0);
	CHECK_EQ(tlb_get_stats().page_flushes - before.page_flushes, 4);
	CHECK(tlb_flusher_empty(&fl));
	if (checks_failed > failed)
		print_events();
	nev = 0;
	tlb_flusher_finish(&fl); /* emptied: a second finish does nothing */
	CHECK_EQ(nev, 0);
	tlb_flusher_add(NULL, VA, PAGE_SIZE); /* allowed, does nothing */
}

/* Up to TLB_FLUSH_BATCH leaves one by one; one more and a single full flush. */
static void test_batch_threshold(void)
{
	static const unsigned sizes[] = {TLB_FLUSH_BATCH - 1, TLB_FLUSH_BATCH, TLB_FLUSH_BATCH + 1,
					 3 * TLB_FLUSH_BATCH};
	for (unsigned k = 0; k < 4; k++) {
		unsigned n = sizes[k];
		char ctx[64];
		snprintf(ctx, sizeof(ctx), "%u leaves (batch %d)", n, TLB_FLUSH_BATCH);
		reset(ctx);
		int failed = checks_failed;
		struct tlb_flusher fl;
		tlb_flusher_init(&fl, NULL);
		for (unsigned i = 0; i < n; i++) /* from the top down: the lowest is not the first */
			tlb_flusher_add(&fl, VA + (n - i) * PAGE_SIZE, PAGE_SIZE);
		struct tlb_stats before = tlb_get_stats();
		tlb_flusher_finish(&fl);
		struct tlb_stats after = tlb_get_stats();
		if (n <= TLB_FLUSH_BATCH) {
			CHECK_EQ(nev, n);
			for (unsigned i = 0; i < n; i++)
				CHECK_FENCED(VA + (i + 1) * PAGE_SIZE, 1);
			CHECK_EQ(after.page_flushes - before.page_flushes, n);
		} else {
			CHECK_EQ(nev, 1);
			CHECK_EQ(count(EV_FENCE_ALL, -1UL), 1);
			CHECK_EQ(after.full_flushes - before.full_flushes, 1);
		}
		CHECK(tlb_flusher_empty(&fl));
		if (checks_failed > failed)
			print_events();
	}
}

/* Address spaces: the kernel's (every hart) and a user one whose mask is set by hand. */
static struct addr_space kspace = {.global = true};
static struct addr_space uspace;

/* The other online harts get one remote fence of [lo, hi), or of everything. */
static void test_shootdown(void)
{
	reset("shootdown of pages");
	int failed = checks_failed;
	this_hart = 2;
	online = 0x27; /* harts 0, 1, 2 and 5 */
	struct tlb_flusher fl;
	tlb_flusher_init(&fl, &kspace);
	tlb_flusher_add(&fl, VA + 5 * PAGE_SIZE, PAGE_SIZE);
	tlb_flusher_add(&fl, VA + 2 * MEGAPAGE_SIZE, MEGAPAGE_SIZE);
	tlb_flusher_add(&fl, VA + PAGE_SIZE, PAGE_SIZE);
	struct tlb_stats before = tlb_get_stats();
	tlb_flusher_finish(&fl);
	CHECK_EQ(count(EV_FENCE_VA, -1UL), 3);
	CHECK_FENCED(VA + 5 * PAGE_SIZE, 1);
	CHECK_FENCED(VA + 2 * MEGAPAGE_SIZE, 1);
	CHECK_FENCED(VA + PAGE_SIZE, 1);
	CHECK_EQ(count(EV_REMOTE, -1UL), 1);
	int r = first(EV_REMOTE);
	if (r >= 0) {
		CHECK_EQ(ev[r].a, 0x23); /* not this hart */
		CHECK_EQ(ev[r].b, VA + PAGE_SIZE);
		CHECK_EQ(ev[r].c, 3 * MEGAPAGE_SIZE - PAGE_SIZE); /* up to the end of the megapage */
	}
	CHECK_EQ(tlb_get_stats().remote_calls - before.remote_calls, 1);
	CHECK(fl.as == &kspace); /* finish keeps the kind of flusher */
	if (checks_failed > failed)
		print_events();

	reset("shootdown past the batch");
	this_hart = 1;
	online = 0x3;
	tlb_flusher_init(&fl, &kspace);
	for (unsigned i = 0; i <= TLB_FLUSH_BATCH; i++)
		tlb_flusher_add(&fl, VA + i * PAGE_SIZE, PAGE_SIZE);
	before = tlb_get_stats();
	tlb_flusher_finish(&fl);
	CHECK_EQ(count(EV_FENCE_ALL, -1UL), 1);
	CHECK_EQ(count(EV_FENCE_VA, -1UL), 0);
	CHECK_EQ(count(EV_REMOTE, 0x1), 1);
	r = first(EV_REMOTE);
	if (r >= 0)
		CHECK_EQ(ev[r].c, -1UL); /* the whole TLB */
	CHECK_EQ(tlb_get_stats().remote_full - before.remote_full, 1);

	reset("shootdown with one hart online");
	this_hart = 3;
	online = 1UL << 3;
	tlb_flusher_init(&fl, &kspace);
	tlb_flusher_add(&fl, VA, PAGE_SIZE);
	tlb_flusher_finish(&fl);
	CHECK_EQ(nev, 1);
	CHECK_FENCED(VA, 1);
	CHECK_EQ(tlb_shootdown(&kspace, VA, PAGE_SIZE), 0);
	CHECK_EQ(nev, 1);

	reset("the firmware refuses");
	online = 0x3;
	sbi_result = -2;
	CHECK_EQ(tlb_shootdown(&kspace, VA, PAGE_SIZE), -EIO);
	CHECK_EQ(count(EV_REMOTE, 0x2), 1);
}

/* A user address space: only the online harts of its mask, never this one, each counted. */
static void test_shootdown_mask(void)
{
	reset("shootdown to a mask");
	int failed = checks_failed;
	this_hart = 2;
	online = 0x27;	     /* harts 0, 1, 2 and 5 */
	uspace.harts = 0x65; /* 0, 2, 5 and 6 (offline) */
	struct tlb_stats before = tlb_get_stats();
	struct tlb_flusher fl;
	tlb_flusher_init(&fl, &uspace);
	tlb_flusher_add(&fl, VA, PAGE_SIZE);
	tlb_flusher_finish(&fl);
	CHECK_FENCED(VA, 1);
	CHECK_EQ(count(EV_REMOTE, -1UL), 1);
	CHECK_EQ(count(EV_REMOTE, 0x21), 1); /* 0 and 5: not 1 (not in the mask), 2 (self), 6 (offline) */
	struct tlb_stats after = tlb_get_stats();
	static const uint64_t sent[MAX_HARTS] = {1, 0, 0, 0, 0, 1, 0, 0};
	for (int h = 0; h < MAX_HARTS; h++)
		CHECK_EQ(after.remote_fences[h] - before.remote_fences[h], sent[h]);
	if (checks_failed > failed)
		print_events();

	reset("shootdown to a mask of this hart alone");
	this_hart = 5;
	online = 0x27;
	uspace.harts = 1UL << 5;
	CHECK_EQ(tlb_shootdown(&uspace, VA, PAGE_SIZE), 0);
	CHECK_EQ(nev, 0);
	uspace.harts = 0;
	CHECK_EQ(tlb_shootdown(&uspace, VA, PAGE_SIZE), 0);
	CHECK_EQ(tlb_shootdown(NULL, VA, PAGE_SIZE), 0);
	CHECK_EQ(nev, 0);

	reset("the kernel space: every online hart, mask or not");
	this_hart = 0;
	online = 0xf;
	kspace.harts = 0x1;
	CHECK_EQ(tlb_shootdown(&kspace, VA, PAGE_SIZE), 0);
	CHECK_EQ(count(EV_REMOTE, 0xe), 1);
}

/* Table frames wait for every flush, local and remote, then go back once each. */
static void test_tables_after_flush(void)
{
	for (int shootdown = 0; shootdown <= 1; shootdown++) {
		reset(shootdown ? "tables, with shootdown" : "tables");
		int failed = checks_failed;
		online = 0x3;
		struct tlb_flusher fl;
		tlb_flusher_init(&fl, shootdown ? &kspace : NULL);
		tlb_flusher_add(&fl, VA, PAGE_SIZE);
		tlb_flusher_free_table(&fl, TABLE_PA(1));
		tlb_flusher_free_table(&fl, TABLE_PA(2));
		CHECK_EQ(nev, 0); /* nothing freed yet */
		CHECK(fl.all);
		CHECK_EQ(fl.nr_tables, 2);
		struct tlb_stats before = tlb_get_stats();
		tlb_flusher_finish(&fl);
		CHECK_EQ(count(EV_FENCE_ALL, -1UL), 1);
		CHECK_EQ(count(EV_FENCE_VA, -1UL), 0);
		CHECK_EQ(count(EV_REMOTE, -1UL), shootdown);
		CHECK_EQ(count(EV_TABLE_FREE, TABLE_PA(1)), 1);
		CHECK_EQ(count(EV_TABLE_FREE, TABLE_PA(2)), 1);
		CHECK_EQ(count(EV_TABLE_FREE, -1UL), 2);
		int flushed = last(EV_FENCE_ALL) > last(EV_REMOTE) ? last(EV_FENCE_ALL) : last(EV_REMOTE);
		if (flushed >= 0 && first(EV_TABLE_FREE) > flushed)
			check_pass();
		else
			check_fail(__FILE__, __LINE__,
				   "a table was freed (event %d) before the last flush (event %d)",
				   first(EV_TABLE_FREE), flushed);
		CHECK_EQ(tlb_get_stats().tables_freed - before.tables_freed, 2);
		CHECK_EQ(fl.tables, 0);
		CHECK_EQ(fl.nr_tables, 0);
		CHECK(tlb_flusher_empty(&fl));
		if (checks_failed > failed)
			print_events();
	}
	reset("table without a flusher");
	tlb_flusher_free_table(NULL, TABLE_PA(3)); /* no hart uses it: freed at once */
	CHECK_EQ(nev, 1);
	CHECK_EQ(count(EV_TABLE_FREE, TABLE_PA(3)), 1);
}

int main(void)
{
	test_page_flushes();
	test_batch_threshold();
	test_shootdown();
	test_shootdown_mask();
	test_tables_after_flush();
	check_context = NULL;
	return checks_done("ch3/tlb");
}
