/*
 * ch2.trace: replay the shipped allocation traces (ch2/traces/NAME.rep) through
 * kmalloc/krealloc/kfree, stamping every block and checking the stamps, and
 * check that every frame comes back. heap_bench.c replays them for figures.
 */
#include "heap_test.h"
#include "heap_trace.h"
#include "riscv.h"
#include "string.h"

static void *k_alloc(size_t n) { return kmalloc(n); }
static void *k_realloc(void *p, size_t n) { return krealloc(p, n); }
static void k_free(void *p) { kfree(p); }
static uint64_t k_held(void) { return heap_frames_held() * PAGE_SIZE; }

static const struct heap_ops kmalloc_ops = {k_alloc, k_realloc, k_free, k_held};

int replay_kmalloc(const char *name, unsigned mode, struct replay_stats *st, uint64_t *insn)
{
	for (unsigned i = 0; i < heap_nr_traces; i++) {
		const struct heap_trace *t = heap_traces[i];
		if (strcmp(t->name, name))
			continue;
		void **slot = kmalloc(t->nr_ids * sizeof(void *));
		uint32_t *size = kmalloc(t->nr_ids * sizeof(uint32_t));
		int err = -1;
		if (slot && size) {
			kmalloc_shrink(); /* start from as little as possible */
			uint64_t start = rdinstret();
			err = trace_replay(t, &kmalloc_ops, slot, size, mode, st);
			*insn = rdinstret() - start;
		}
		kfree(slot);
		kfree(size);
		return err;
	}
	return -2;
}

static void check_trace(const char *name)
{
	uint64_t held = heap_settled();
	struct replay_stats st;
	uint64_t insn;
	int err = replay_kmalloc(name, REPLAY_CHECK | REPLAY_HELD, &st, &insn);
	printk("trace %s: %lu ops, peak live %lu B, peak held %lu B, utilization %lu/1000\n", name,
	       (unsigned long)st.ops, (unsigned long)st.peak_live, (unsigned long)st.peak_held,
	       (unsigned long)replay_utilization(&st));
	KEXPECT_EQ(err, 0);
	KEXPECT_EQ(st.failed, 0);
	KEXPECT_EQ(st.corrupted, 0);
	KEXPECT_GT(st.ops, 0);
	KEXPECT_EQ(kmem_check_all(), 0);
	KEXPECT_EQ(heap_settled(), held);
}

KTEST(ch2_trace, small) { check_trace("small"); }
KTEST(ch2_trace, mixed) { check_trace("mixed"); }
KTEST(ch2_trace, realloc) { check_trace("realloc"); }
KTEST(ch2_trace, tree) { check_trace("tree"); }
KTEST(ch2_trace, longshort) { check_trace("longshort"); }
