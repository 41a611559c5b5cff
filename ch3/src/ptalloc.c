/*
 * Table frames come from ch1's frame allocator, zeroed.
 */
#include "frame.h"
#include "ptalloc.h"

paddr_t pt_table_alloc(void)
{
	if (pt_alloc_should_fail())
		return 0;
	return frame_alloc(FRAME_ZERO);
}

void pt_table_free(paddr_t pa) { frame_free(pa); }
