/*
 * ch5 benchmarks of the mmap family, in instructions retired (exact and
 * repeatable under `-icount shift=0 -smp 1`, as `make bench CH=5` boots):
 * mmap, munmap, mprotect and a page fault in an address space of 100 areas
 * and of 10,000 areas, per call. The areas sit in a balanced tree, so a
 * call should cost about as much with 10,000 areas as with 100: the target
 * is at most 2x (Linux's maple tree; a list walk would be 100x). Each
 * 10,000-area line says "meets" or "short".
 *
 * The address space: single pages with three-page gaps (UP(4i)), read-only
 * and lazy, so that nothing merges and no frame is spent. Each call works
 * on a page inside the tree's range (from a quarter of the way up):
 * - mmap: a new page in a gap (MAP_FIXED, so the search is not measured);
 * - munmap: that page again;
 * - mprotect: a whole area, read-only to read-write and back (no split);
 * - fault: a write fault on an untouched page of a read-write area (a
 *   zeroed frame: the same work for both sizes, plus the area lookup).
 * A line each for mmap with no address: with the areas far under MMAP_BASE
 * (the search ends where it starts), and with them crowded right under
 * MMAP_BASE, one-page holes that a two-page mapping cannot use (ch4's
 * mm_find_free walks the holes one by one: no target, it shows the walk).
 */
#include "../../ch4/tests/mm_test.h"
#include "mman.h"
#include "printk.h"
#include "riscv.h"

enum { CALLS = 50 }; /* calls per figure, on the areas from a quarter of the way up */

#define SCALE_TARGET 2 /* 10,000 areas cost at most this many times what 100 cost */

/* Instructions per call of each kind, for one size. */
struct costs {
	uint64_t mmap, munmap, mprotect, fault, mmap_search;
};

/* An mm of @n areas (pages UP(4i), read-only; CALLS of them from n / 4 on
 * read-write, for the fault), or NULL. */
static struct mm *areas_mm(long n)
{
	struct mm *mm = mm_create();
	if (!mm)
		return NULL;
	mm->eager = false;
	for (long i = 0; i < n; i++) {
		unsigned long prot = i >= n / 4 && i < n / 4 + CALLS ? PROT_READ | PROT_WRITE : PROT_READ;
		if (do_mmap(mm, UP(4 * i), PAGE_SIZE, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) !=
		    (long)UP(4 * i)) {
			mm_put(mm);
			return NULL;
		}
	}
	return mm;
}

/* Measure each call CALLS times in an mm of @n areas; false if a call failed. */
static bool measure(long n, struct costs *c)
{
	struct mm *mm = areas_mm(n);
	if (!mm)
		return false;
	long first = n / 4; /* inside the tree, not at an end */
	bool ok = true;
	uint64_t t0 = rdinstret();
	for (long i = first; i < first + CALLS; i++)
		ok &= do_mmap(mm, UP(4 * i + 2), PAGE_SIZE, PROT_READ,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == (long)UP(4 * i + 2);
	uint64_t t1 = rdinstret();
	for (long i = first; i < first + CALLS; i++)
		ok &= do_munmap(mm, UP(4 * i + 2), PAGE_SIZE) == 0;
	uint64_t t2 = rdinstret();
	for (long i = first; i < first + CALLS; i++)
		ok &= do_mprotect(mm, UP(4 * i), PAGE_SIZE, PROT_READ | PROT_EXEC) == 0;
	for (long i = first; i < first + CALLS; i++)
		ok &= do_mprotect(mm, UP(4 * i), PAGE_SIZE, PROT_READ | PROT_WRITE) == 0;
	uint64_t t3 = rdinstret();
	for (long i = first; i < first + CALLS; i++)
		ok &= mm_fault(mm, UP(4 * i), ACCESS_WRITE) == FAULT_RESOLVED;
	uint64_t t4 = rdinstret();
	long got[CALLS];
	for (long i = 0; i < CALLS; i++)
		got[i] = do_mmap(mm, 0, PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t t5 = rdinstret();
	for (long i = 0; i < CALLS; i++)
		ok &= got[i] > 0;
	mm_put(mm);
	c->mmap = (t1 - t0) / CALLS;
	c->munmap = (t2 - t1) / CALLS;
	c->mprotect = (t3 - t2) / (2 * CALLS);
	c->fault = (t4 - t3) / CALLS;
	c->mmap_search = (t5 - t4) / CALLS;
	return ok;
}

/* Instructions per two-page mmap with no address when @n one-page areas with one-page
 * holes fill the top of the mmap range (each mapping unmapped again); 0 if one failed. */
static uint64_t crowded_search(long n)
{
	struct mm *mm = mm_create();
	if (!mm)
		return 0;
	mm->eager = false;
	bool ok = true;
	for (long i = 0; i < n && ok; i++) {
		vaddr_t va = MMAP_BASE - (vaddr_t)(2 * i + 1) * PAGE_SIZE;
		ok = do_mmap(mm, va, PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) ==
		     (long)va;
	}
	uint64_t cost = 0;
	for (long i = 0; i < CALLS && ok; i++) {
		uint64_t t0 = rdinstret();
		long got = do_mmap(mm, 0, 2 * PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		cost += rdinstret() - t0;
		ok = got == (long)(MMAP_BASE - (vaddr_t)(2 * n + 1) * PAGE_SIZE) &&
		     !do_munmap(mm, (vaddr_t)got, 2 * PAGE_SIZE);
	}
	mm_put(mm);
	return ok ? cost / CALLS : 0;
}

static void report(const char *name, const char *what, uint64_t small, uint64_t big, bool ok)
{
	char n[64], unit[200];
	snprintf(n, sizeof(n), "ch5_%s_100", name);
	snprintf(unit, sizeof(unit), "instructions per %s, 100 areas", what);
	kbench_report(n, ok ? small : 0, unit);
	snprintf(n, sizeof(n), "ch5_%s_10000", name);
	snprintf(unit, sizeof(unit),
		 "instructions per %s, 10,000 areas (target <= %dx the 100-area figure: %s)", what,
		 SCALE_TARGET,
		 !ok			       ? "failed"
		 : big <= SCALE_TARGET * small ? "meets"
					       : "short");
	kbench_report(n, ok ? big : 0, unit);
}

KBENCH(ch5_mman_scaling)
{
	struct costs small, big;
	bool ok = measure(100, &small);
	ok &= measure(10000, &big);
	report("mmap", "mmap (MAP_FIXED, a page in a gap)", small.mmap, big.mmap, ok);
	report("munmap", "munmap (a whole one-page area)", small.munmap, big.munmap, ok);
	report("mprotect", "mprotect (a whole area, no split)", small.mprotect, big.mprotect, ok);
	report("fault", "write fault (a new zeroed page)", small.fault, big.fault, ok);
	report("mmap_search", "mmap with no address (top-down search)", small.mmap_search, big.mmap_search,
	       ok);
	kbench_report(
		"ch5_mmap_search_crowded_100", crowded_search(100),
		"instructions per 2-page mmap with no address, 100 one-page holes above the free range");
	kbench_report("ch5_mmap_search_crowded_10000", crowded_search(10000),
		      "instructions per 2-page mmap with no address, 10,000 one-page holes above the free "
		      "range (no "
		      "target: the hole walk)");
}
