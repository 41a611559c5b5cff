/*
 * ch4 benchmarks of the mm layer, in instructions retired (exact and
 * repeatable under `-icount shift=0 -smp 1`, as `make bench CH=4` boots):
 * the eager fork of a 16 MiB process (xv6's uvmcopy measured 33,243
 * instructions per page on this machine), and freeing it again.
 */
#include "mm_test.h"
#include "riscv.h"

#define FORK_BYTES (16 * MiB)

KBENCH(ch4_fork_eager)
{
	uint64_t pages = FORK_BYTES / PAGE_SIZE;
	struct mm *mm = mm_create();
	if (!mm || add_anon(mm, U_VA, U_VA + FORK_BYTES, VM_READ | VM_WRITE)) {
		kbench_report("ch4_fork_eager_16m", 0, "no memory for a 16 MiB process");
		mm_put(mm);
		return;
	}
	uint64_t start = rdinstret();
	struct mm *child = mm_fork(mm);
	uint64_t forked = rdinstret();
	mm_put(child);
	uint64_t freed = rdinstret();
	kbench_report("ch4_fork_eager_16m", child ? (forked - start) / pages : 0,
		      "instructions per page of an eager fork of a 16 MiB process (xv6 uvmcopy: 33243)");
	kbench_report("ch4_mm_put_16m", child ? (freed - forked) / pages : 0,
		      "instructions per page to free that child (mm_put: unmap, frames back, tables)");
	mm_put(mm);
}
