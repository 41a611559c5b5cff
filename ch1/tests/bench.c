/*
 * ch1 benchmarks, in instructions retired (exact and repeatable under
 * `-icount shift=0 -smp 1`, as `make bench CH=1` boots): the cost of an
 * allocation and its free, what the metadata costs in memory, and, as the
 * anchor the order-0 figure is read against, xv6's allocator in the same
 * boot. grader/rubric.toml's [[ch1.target]] entries hold the targets.
 */
#include "ch1_test.h"
#include "riscv.h"
#include "spinlock.h"

enum { PAIRS = 10000 };

/* Instructions per frames_alloc_order(order) + frames_free_order() pair. */
static uint64_t pair_cost(unsigned order)
{
	/* One pair first, so the lists are in the state the loop keeps them in. */
	paddr_t pa = frames_alloc_order(order, 0);
	if (!pa)
		return 0;
	frames_free_order(pa, order);
	uint64_t start = rdinstret();
	for (int i = 0; i < PAIRS; i++) {
		pa = frames_alloc_order(order, 0);
		frames_free_order(pa, order);
	}
	return (rdinstret() - start) / PAIRS;
}

KBENCH(ch1_order0) { kbench_report("ch1_order0", pair_cost(0), "instructions per frame_alloc+frame_free"); }

KBENCH(ch1_order9) { kbench_report("ch1_order9", pair_cost(9), "instructions per order-9 alloc+free"); }

/*
 * The anchor: xv6-riscv's kernel/kalloc.c as it is, over a pool of frames of
 * our own: one free list under one lock (ours: xv6's acquire() is alike),
 * and a page of junk written on every kfree() and every kalloc() (to catch
 * dangling references) by xv6's byte-at-a-time memset, which is where its
 * instructions go. Without the junk fills it is a bare list, with no
 * orders, no checks of a free and no counts; that figure is printed too.
 */
enum { XV6_POOL = 16 };

struct run {
	struct run *next;
};

static struct {
	struct spinlock lock;
	struct run *freelist;
	bool junk; /* xv6 fills; false measures the bare list */
} kmem = {.lock = SPINLOCK_INIT("xv6-kmem"), .junk = true};

/* xv6's memset (kernel/string.c): a byte at a time. The pointer is
 * volatile so that the compiler keeps the loop, as xv6's -O build does,
 * instead of turning it into a call to our word-at-a-time memset. */
static void *xv6_memset(void *dst, int c, unsigned n)
{
	volatile char *cdst = (volatile char *)dst;
	for (unsigned i = 0; i < n; i++)
		cdst[i] = (char)c;
	return dst;
}

static void xv6_kfree(void *pa)
{
	if (((uintptr_t)pa % PAGE_SIZE) != 0)
		return; /* xv6 panics here */
	if (kmem.junk)
		xv6_memset(pa, 1, PAGE_SIZE); /* fill with junk to catch dangling refs */
	struct run *r = (struct run *)pa;
	spin_lock(&kmem.lock);
	r->next = kmem.freelist;
	kmem.freelist = r;
	spin_unlock(&kmem.lock);
}

static void *xv6_kalloc(void)
{
	spin_lock(&kmem.lock);
	struct run *r = kmem.freelist;
	if (r)
		kmem.freelist = r->next;
	spin_unlock(&kmem.lock);
	if (r && kmem.junk)
		xv6_memset(r, 5, PAGE_SIZE); /* fill with junk */
	return r;
}

/* Instructions per xv6 kalloc+kfree pair, with or without its junk fills. */
static uint64_t xv6_pair_cost(bool junk)
{
	paddr_t pool = frames_alloc(XV6_POOL, 0);
	if (!pool)
		return 0;
	kmem.freelist = NULL;
	kmem.junk = false;
	for (int i = 0; i < XV6_POOL; i++) /* xv6's freerange() */
		xv6_kfree(pa_to_kva(pool + (paddr_t)i * PAGE_SIZE));
	kmem.junk = junk;
	uint64_t start = rdinstret();
	for (int i = 0; i < PAIRS / 10; i++)
		xv6_kfree(xv6_kalloc());
	uint64_t cost = (rdinstret() - start) / (PAIRS / 10);
	frames_free(pool, XV6_POOL);
	return cost;
}

KBENCH(ch1_xv6)
{
	kbench_report("ch1_xv6_kalloc", xv6_pair_cost(true),
		      "instructions per xv6 kalloc+kfree (its junk fills)");
	kbench_report("ch1_xv6_kalloc_bare", xv6_pair_cost(false),
		      "instructions per xv6 kalloc+kfree, junk fills left out");
}

KBENCH(ch1_metadata)
{
	struct frame_stats st;
	frames_get_stats(&st);
	uint64_t ram = memmap_ram_bytes();
	kbench_report("ch1_metadata", st.metadata_bytes, "bytes of struct page_info");
	kbench_report("ch1_metadata_permille", ram ? (st.metadata_bytes * 1000 + ram / 2) / ram : 0,
		      "per mille of RAM (rounded)");
}
