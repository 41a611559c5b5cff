/*
 * ch4 benchmarks of the mm layer, in instructions retired (exact and
 * repeatable under `-icount shift=0 -smp 1`, as `make bench CH=4` boots,
 * with 256 MiB):
 *
 * - fork of a 16 MiB and a 64 MiB process, every page touched (written), per
 *   page: copy-on-write (mm->eager false; target at most 700) and eager
 *   (mm->eager true: every page copied; xv6's uvmcopy measured 33,243 per
 *   page on this machine), and the child's mm_put;
 * - the write fault that copies a shared page (cow_break()), less a plain
 *   4 KiB memcpy: what the fault costs beyond the copy (target at most
 *   1,500); and the one that reuses the page (the other mm gone);
 * - a lazy zero-fill fault (a write to an untouched page) and a zero-page
 *   read fault (a read of one).
 *
 * Each figure with a target says "meets" or "short" in its line. A size
 * that does not fit in the free memory reports 0 and says so.
 */
#include "mm_test.h"
#include "printk.h"
#include "riscv.h"

/* Pages each fault benchmark faults in (16 MiB: tables amortised as in a real process). */
enum { FAULT_PAGES = 4096 };

#define COW_FORK_TARGET	   700	/* instructions per page of a copy-on-write fork */
#define COW_FAULT_TARGET   1500 /* instructions per COW-copy fault beyond the 4 KiB copy */
#define XV6_EAGER_PER_PAGE 33243

static const char *verdict(uint64_t value, uint64_t target) { return value <= target ? "meets" : "short"; }

/* A lazy or eager mm with an area of @bytes at U_VA, every page written; NULL if out of memory. */
static struct mm *touched_mm(size_t bytes, bool eager)
{
	struct mm *mm = mm_create();
	if (!mm)
		return NULL;
	mm->eager = eager;
	if (add_anon(mm, U_VA, U_VA + bytes, VM_READ | VM_WRITE)) {
		mm_put(mm);
		return NULL;
	}
	for (vaddr_t va = U_VA; va < U_VA + bytes; va += PAGE_SIZE) {
		if (mm_fault(mm, va, ACCESS_WRITE) != FAULT_RESOLVED ||
		    !poke(mm, va, (unsigned char)(va >> 12))) {
			mm_put(mm);
			return NULL;
		}
	}
	return mm;
}

/* Fork a touched process of @mib MiB (@eager or copy-on-write) and report per page. */
static void fork_bench(const char *name, const char *put_name, size_t mib, bool eager)
{
	char unit[160];
	uint64_t pages = mib * MiB / PAGE_SIZE;
	/* Parent and (eager) child, their tables, and room to spare. */
	uint64_t need = (eager ? 2 : 1) * pages + pages / 256 + 1024;
	if (free_frames_settled() < need) {
		snprintf(unit, sizeof(unit), "skipped: %lu MiB free, %lu MiB needed",
			 free_frames_settled() * PAGE_SIZE / MiB, need * PAGE_SIZE / MiB);
		kbench_report(name, 0, unit);
		return;
	}
	struct mm *mm = touched_mm(mib * MiB, eager);
	if (!mm) {
		kbench_report(name, 0, "skipped: no memory for the parent");
		return;
	}
	uint64_t start = rdinstret();
	struct mm *child = mm_fork(mm);
	uint64_t forked = rdinstret();
	mm_put(child);
	uint64_t freed = rdinstret();
	mm_put(mm);
	uint64_t per_page = child ? (forked - start) / pages : 0;
	if (eager)
		snprintf(unit, sizeof(unit),
			 "instructions per page, eager fork of %zu MiB, all touched (xv6: %d)", mib,
			 XV6_EAGER_PER_PAGE);
	else
		snprintf(unit, sizeof(unit),
			 "instructions per page, COW fork of %zu MiB, all touched (target <= %d: %s; xv6 "
			 "eager: %d)",
			 mib, COW_FORK_TARGET, child ? verdict(per_page, COW_FORK_TARGET) : "failed",
			 XV6_EAGER_PER_PAGE);
	kbench_report(name, per_page, unit);
	snprintf(unit, sizeof(unit), "instructions per page to free that %s child (mm_put)",
		 eager ? "eager" : "COW");
	kbench_report(put_name, child ? (freed - forked) / pages : 0, unit);
}

KBENCH(ch4_fork)
{
	fork_bench("ch4_fork_cow_16m", "ch4_mm_put_cow_16m", 16, false);
	fork_bench("ch4_fork_eager_16m", "ch4_mm_put_16m", 16, true);
	fork_bench("ch4_fork_cow_64m", "ch4_mm_put_cow_64m", 64, false);
	fork_bench("ch4_fork_eager_64m", "ch4_mm_put_64m", 64, true);
}

/* Instructions per 4 KiB memcpy between frames (what a COW break must do anyway). */
static uint64_t memcpy_cost(void)
{
	enum { N = 256 };
	paddr_t src = frame_alloc(FRAME_ZERO), dst = frame_alloc(0);
	uint64_t cost = 0;
	if (src && dst) {
		uint64_t start = rdinstret();
		for (int i = 0; i < N; i++)
			memcpy(pa_to_kva(dst), pa_to_kva(src), PAGE_SIZE);
		cost = (rdinstret() - start) / N;
	}
	if (src)
		frame_free(src);
	if (dst)
		frame_free(dst);
	return cost;
}

/* Instructions per mm_fault(@access) over FAULT_PAGES pages of @mm from U_VA; 0 if one failed. */
static uint64_t fault_cost(struct mm *mm, enum vm_access access)
{
	uint64_t start = rdinstret();
	for (int i = 0; i < FAULT_PAGES; i++)
		if (mm_fault(mm, UP(i), access) != FAULT_RESOLVED)
			return 0;
	return (rdinstret() - start) / FAULT_PAGES;
}

KBENCH(ch4_cow_fault)
{
	char unit[160];
	uint64_t copy = memcpy_cost();
	struct mm *mm = touched_mm(FAULT_PAGES * PAGE_SIZE, false);
	struct mm *child = mm ? mm_fork(mm) : NULL;
	if (!child) {
		kbench_report("ch4_cow_fault_copy", 0, "skipped: no memory for the process and its child");
		mm_put(mm);
		return;
	}
	/* Both hold every frame: the parent's writes copy. */
	uint64_t fault = fault_cost(mm, ACCESS_WRITE);
	uint64_t beyond = fault > copy ? fault - copy : 0;
	kbench_report("ch4_memcpy_4k", copy, "instructions per 4 KiB memcpy (frame to frame)");
	kbench_report("ch4_cow_fault_copy", fault, "instructions per write fault that copies a shared page");
	snprintf(unit, sizeof(unit),
		 "instructions per COW-copy fault beyond the 4 KiB copy (target <= %d: %s)", COW_FAULT_TARGET,
		 fault ? verdict(beyond, COW_FAULT_TARGET) : "failed");
	kbench_report("ch4_cow_fault_overhead", fault ? beyond : 0, unit);
	/* The parent has its own pages now: the child holds the only reference to the old ones. */
	kbench_report("ch4_cow_fault_reuse", fault_cost(child, ACCESS_WRITE),
		      "instructions per write fault on a COW page held by this mm alone (made writable)");
	mm_put(child);
	mm_put(mm);
}

KBENCH(ch4_lazy_fault)
{
	/* Lazy whatever the bootargs: eager is set before the area is added. */
	struct mm *mm = mm_create();
	if (mm)
		mm->eager = false;
	if (!mm || add_anon(mm, U_VA, UP(2 * FAULT_PAGES), VM_READ | VM_WRITE)) {
		kbench_report("ch4_zero_fill_fault", 0, "skipped: no memory");
		mm_put(mm);
		return;
	}
	kbench_report("ch4_zero_fill_fault", fault_cost(mm, ACCESS_WRITE),
		      "instructions per write fault on an untouched page (a new zeroed frame)");
	uint64_t start = rdinstret();
	int ok = 0;
	for (int i = 0; i < FAULT_PAGES; i++)
		ok += mm_fault(mm, UP(FAULT_PAGES + i), ACCESS_READ) == FAULT_RESOLVED;
	uint64_t read = ok == FAULT_PAGES ? (rdinstret() - start) / FAULT_PAGES : 0;
	kbench_report("ch4_zero_page_fault", read,
		      "instructions per read fault on an untouched page (the zero page)");
	mm_put(mm);
}
