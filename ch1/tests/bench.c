/*
 * ch1 benchmarks, in instructions retired (exact and repeatable under
 * `-icount shift=0 -smp 1`, as `make bench CH=1` boots): the cost of an
 * allocation and its free, and what the metadata costs in memory.
 */
#include "ch1_test.h"
#include "riscv.h"

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

KBENCH(ch1_metadata)
{
	struct frame_stats st;
	frames_get_stats(&st);
	uint64_t ram = memmap_ram_bytes();
	kbench_report("ch1_metadata", st.metadata_bytes, "bytes of struct page_info");
	kbench_report("ch1_metadata_permille", ram ? (st.metadata_bytes * 1000 + ram / 2) / ram : 0,
		      "per mille of RAM (rounded)");
}
