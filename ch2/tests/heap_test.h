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
	return frames_free_count();
}

struct replay_stats;
/*
 * Replay the trace called @p name through kmalloc with trace_replay() @p mode
 * (scratch arrays taken before, the heap shrunk first); *@p insn gets the
 * instructions the replay took. @return trace_replay()'s, or -2 if no such trace.
 */
int replay_kmalloc(const char *name, unsigned mode, struct replay_stats *st, uint64_t *insn);

#endif
