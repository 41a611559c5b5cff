/* Helpers shared by ch2's in-kernel tests. */
#ifndef MMLAB_HEAP_TEST_H
#define MMLAB_HEAP_TEST_H

#include "frame.h"
#include "heap_debug.h"
#include "kmalloc.h"
#include "ktest.h"
#include "slab.h"

/* Frames the heap holds once it has given back all it can. */
static inline uint64_t heap_settled(void)
{
	kmalloc_shrink();
	return heap_frames_held();
}

/* Free frames once the heap has given back all it can. */
static inline uint64_t free_settled(void)
{
	kmalloc_shrink();
	return frames_nr_free();
}

/*
 * A cache of @p size-byte objects called @p name that has held 100 objects
 * and given them all back, so its slabs are empty or hold objects parked in a
 * hart's stack; *@p st gets its statistics then. NULL if it cannot be made.
 */
static inline struct kmem_cache *cache_after_churn(const char *name, size_t size, struct kmem_cache_stats *st)
{
	struct kmem_cache *s = kmem_cache_create(name, size, 0, 0);
	if (!s)
		return NULL;
	void *v[100];
	for (int i = 0; i < 100; i++)
		v[i] = kmem_cache_alloc(s, 0);
	for (int i = 0; i < 100; i++)
		kmem_cache_free(s, v[i]);
	kmem_cache_stats(s, st);
	return s;
}

struct replay_stats;
/*
 * Replay the trace called @p name through kmalloc with trace_replay() @p mode
 * (scratch arrays taken before, the heap shrunk first); *@p insn gets the
 * instructions the replay took. @return trace_replay()'s, or -2 if no such trace.
 */
int replay_kmalloc(const char *name, unsigned mode, struct replay_stats *st, uint64_t *insn);

#endif
