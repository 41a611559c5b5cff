/* Helpers for user tests under memory pressure (pressure.h). */
#include "pressure.h"
#include "ulib.h"

__attribute__((noinline)) void prefault_stack(void)
{
	volatile char deep[32 * 1024];
	for (unsigned long i = 0; i < sizeof(deep); i += PAGE_SIZE / 2)
		deep[i] = 0;
}

void break_shared_pages(void)
{
	static char maps[4096];
	long n = mmlab_maps(maps, sizeof(maps) - 1);
	if (n <= 0)
		return;
	maps[n] = '\0';
	for (char *line = maps; *line;) {
		char *end;
		unsigned long start = (unsigned long)strtol(line, &end, 16);
		unsigned long stop = (unsigned long)strtol(end + 1, &end, 16);
		bool writable = end[2] == 'w';
		for (unsigned long va = start; writable && va < stop; va += PAGE_SIZE) {
			long info = mmlab_page_info((void *)va);
			if ((info & MMLAB_PAGE_COW) && !(info & MMLAB_PAGE_ZERO)) {
				volatile long *q = (long *)va;
				*q = *q;
			}
		}
		char *nl = strchr(line, '\n');
		if (!nl)
			break;
		line = nl + 1;
	}
}
