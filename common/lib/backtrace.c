/*
 * Frame-pointer backtraces (backtrace.h). Used from panic and from the trap
 * handler, so it takes no lock and reads no word of memory that it has not
 * first bounded to a known, mapped stack.
 */
#include "backtrace.h"
#include "errno.h"
#include "ksyms.h"
#include "memlayout.h"
#include "printk.h"
#include "smp.h"
#include "trap.h"

#define MAX_LOOKUPS 4

static backtrace_stack_fn lookups[MAX_LOOKUPS];

int backtrace_register_stack_lookup(backtrace_stack_fn fn)
{
	if (!fn)
		return -EINVAL;
	for (int i = 0; i < MAX_LOOKUPS; i++) {
		backtrace_stack_fn none = NULL;
		if (__atomic_compare_exchange_n(&lookups[i], &none, fn, false, __ATOMIC_RELEASE,
						__ATOMIC_RELAXED))
			return 0;
	}
	return -ENOSPC;
}

int backtrace_unregister_stack_lookup(backtrace_stack_fn fn)
{
	for (int i = 0; i < MAX_LOOKUPS; i++) {
		backtrace_stack_fn mine = fn;
		if (fn && __atomic_compare_exchange_n(&lookups[i], &mine, NULL, false, __ATOMIC_RELEASE,
						      __ATOMIC_RELAXED))
			return 0;
	}
	return -ENOENT;
}

/* Whether the stack [base, base + size) holds @p sp (at its top: an empty stack). */
static bool holds(vaddr_t sp, vaddr_t base, size_t size, vaddr_t *lo, vaddr_t *hi)
{
	if (sp < base || sp > base + size)
		return false;
	*lo = base;
	*hi = base + size;
	return true;
}

bool backtrace_stack_bounds(vaddr_t sp, vaddr_t *lo, vaddr_t *hi)
{
	/* A hart stack is its usable part only, never the guard page below it
	 * (unmapped from ch3 on). */
	for (int h = 0; h < MAX_HARTS; h++) {
		if (holds(sp, (vaddr_t)hart_stacks[h].stack, KSTACK_SIZE, lo, hi) ||
		    holds(sp, (vaddr_t)overflow_stacks[h], sizeof(overflow_stacks[h]), lo, hi))
			return true;
	}
	for (int i = 0; i < MAX_LOOKUPS; i++) {
		backtrace_stack_fn fn = __atomic_load_n(&lookups[i], __ATOMIC_ACQUIRE);
		if (fn && fn(sp, lo, hi))
			return *lo < *hi && IS_ALIGNED(*lo | *hi, 8);
	}
	return false;
}

static bool is_text(vaddr_t pc) { return pc >= (vaddr_t)_text_start && pc < (vaddr_t)_text_end; }

/*
 * A frame pointer fp is believable if its frame record [fp - 16, fp) lies in
 * the stack [lo, hi) at or above @p sp (the callee's frame is below), and it
 * is 8-aligned. Requiring fp >= sp + 16 with sp the previous fp makes the
 * chain strictly increasing, so the walk cannot loop.
 */
static bool fp_ok(vaddr_t fp, vaddr_t sp, vaddr_t lo, vaddr_t hi)
{
	return IS_ALIGNED(fp, 8) && fp >= sp + 16 && fp >= lo + 16 && fp <= hi;
}

int backtrace_collect(vaddr_t pc, vaddr_t ra, vaddr_t fp, vaddr_t sp, vaddr_t *pcs, int max)
{
	if (max <= 0)
		return 0;
	if (max > BACKTRACE_MAX_DEPTH)
		max = BACKTRACE_MAX_DEPTH;
	int n = 0;
	pcs[n++] = pc;
	vaddr_t lo, hi;
	if (!backtrace_stack_bounds(sp, &lo, &hi))
		return n;
	while (n < max && fp_ok(fp, sp, lo, hi)) {
		const vaddr_t *record = (const vaddr_t *)(fp - 16); /* [0] caller's fp, [1] ra */
		vaddr_t next_fp = record[0], next_pc = record[1];
		/* A leaf frame saves only the caller's fp, at fp - 8: then the
		 * caller's pc is still in ra. Only the first frame can be a leaf. */
		if (n == 1 && ra && fp_ok(record[1], fp, lo, hi)) {
			next_fp = record[1];
			next_pc = ra;
		}
		if (!is_text(next_pc))
			break;
		pcs[n++] = next_pc;
		sp = fp;
		fp = next_fp;
	}
	return n;
}

void backtrace_print(const char *prefix, vaddr_t pc, vaddr_t ra, vaddr_t fp, vaddr_t sp)
{
	vaddr_t pcs[BACKTRACE_MAX_DEPTH];
	char buf[KSYM_BUF_SIZE];
	int n = backtrace_collect(pc, ra, fp, sp, pcs, BACKTRACE_MAX_DEPTH);
	for (int i = 0; i < n; i++) {
		if (i == 0) {
			ksym_snprint(buf, sizeof(buf), pcs[i]);
			printk("%s%s\n", prefix, buf);
		} else {
			ksym_snprint_ret(buf, sizeof(buf), pcs[i]);
			printk("%s  called from %s\n", prefix, buf);
		}
	}
}
