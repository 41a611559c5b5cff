/*
 * ch2's benchmarks (bench=ch2.*; the grader boots them with -icount shift=0
 * -smp 1, so instruction counts are exact and repeat):
 *
 *   ch2.kmalloc32, ch2.kmalloc4k   instructions per kmalloc+kfree pair
 *   ch2.cache_stack, ..._locked    the same for a 32-byte kmem_cache with and
 *                                  without the per-hart stacks (does the fast path pay?)
 *   ch2.trace_<name>_util          utilization of each trace, per mille
 *   ch2.trace_<name>_insn          instructions per operation of each trace
 */
#include "heap_test.h"
#include "heap_trace.h"
#include "riscv.h"

/* Instructions per kmalloc(size)+kfree, in steady state, in normal mode. */
static uint64_t pair_cost(size_t size)
{
	enum { WARM = 100, N = 2000 };
	bool was = kmalloc_set_debug(false);
	for (int i = 0; i < WARM; i++)
		kfree(kmalloc(size));
	uint64_t start = rdinstret();
	for (int i = 0; i < N; i++) {
		void *p = kmalloc(size);
		__asm__ volatile("" ::"r"(p) : "memory");
		kfree(p);
	}
	uint64_t cost = (rdinstret() - start) / N;
	kmalloc_set_debug(was);
	return cost;
}

KBENCH(ch2_kmalloc32) { kbench_report("ch2_kmalloc32", pair_cost(32), "insn/pair"); }

KBENCH(ch2_kmalloc4k) { kbench_report("ch2_kmalloc4k", pair_cost(4096), "insn/pair"); }

/* Instructions per kmem_cache_alloc+kmem_cache_free of 32 bytes, cache made with @p flags. */
static uint64_t cache_pair_cost(unsigned flags)
{
	enum { WARM = 100, N = 2000 };
	struct kmem_cache *s = kmem_cache_create("bench-32", 32, 0, flags);
	if (!s)
		return 0;
	for (int i = 0; i < WARM; i++)
		kmem_cache_free(s, kmem_cache_alloc(s, 0));
	uint64_t start = rdinstret();
	for (int i = 0; i < N; i++)
		kmem_cache_free(s, kmem_cache_alloc(s, 0));
	uint64_t cost = (rdinstret() - start) / N;
	kmem_cache_destroy(s);
	return cost;
}

KBENCH(ch2_cache_stack)
{
	kbench_report("ch2_cache_stack", cache_pair_cost(0), "insn/pair");
	kbench_report("ch2_cache_locked", cache_pair_cost(SLAB_NO_CPU_CACHE), "insn/pair");
}

/* One trace: utilization from a replay that samples the frames held, then
 * instructions per operation from one that does nothing else. */
static void bench_trace(const char *name, const char *util_name, const char *insn_name)
{
	struct replay_stats st;
	uint64_t insn;
	bool was = kmalloc_set_debug(false);
	if (replay_kmalloc(name, REPLAY_HELD, &st, &insn) == 0)
		kbench_report(util_name, replay_utilization(&st), "permille");
	int err = replay_kmalloc(name, 0, &st, &insn);
	if (err == 0 && st.ops)
		kbench_report(insn_name, insn / st.ops, "insn/op");
	kmalloc_set_debug(was);
}

KBENCH(ch2_trace_small) { bench_trace("small", "ch2_trace_small_util", "ch2_trace_small_insn"); }
KBENCH(ch2_trace_mixed) { bench_trace("mixed", "ch2_trace_mixed_util", "ch2_trace_mixed_insn"); }
KBENCH(ch2_trace_realloc) { bench_trace("realloc", "ch2_trace_realloc_util", "ch2_trace_realloc_insn"); }
KBENCH(ch2_trace_tree) { bench_trace("tree", "ch2_trace_tree_util", "ch2_trace_tree_insn"); }
KBENCH(ch2_trace_longshort)
{
	bench_trace("longshort", "ch2_trace_longshort_util", "ch2_trace_longshort_insn");
}
