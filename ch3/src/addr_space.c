/*
 * Address spaces: create, destroy, and switch a hart to one, keeping the
 * mask of harts that may cache its translations (Linux's mm_cpumask,
 * switch_mm).
 */
#include "addr_space.h"
#include "errno.h"
#include "kspace.h"
#include "riscv.h"
#include "smp.h"

/* What each hart runs: written only by that hart. */
static struct addr_space *current[MAX_HARTS];

/* Drop every non-global entry of ASID 0 from this hart's TLB (spec 4.2.1). */
static inline void sfence_vma_nonglobal(void)
{
	__asm__ volatile("sfence.vma zero, %0" ::"r"(0UL) : "memory");
}

int addr_space_init(struct addr_space *as)
{
	*as = (struct addr_space){0};
	if (!kspace_active())
		return -ENODEV;
	int err = pt_init(&as->pt);
	if (err)
		return err;
	err = kspace_share_kernel_half(&as->pt);
	if (err)
		pt_destroy(&as->pt);
	return err;
}

int addr_space_destroy(struct addr_space *as)
{
	if (as->global || __atomic_load_n(&as->harts, __ATOMIC_SEQ_CST))
		return -EBUSY;
	pt_destroy(&as->pt);
	return 0;
}

int addr_space_activate(struct addr_space *as)
{
	if (!as->pt.root || (!as->global && as->pt.kernel_half != PT_HALF_SHARED))
		return -EINVAL;
	int hart = cpuid();
	uint64_t bit = 1UL << hart;
	struct addr_space *prev = current[hart];
	/* In the mask before the first walk: a change made from now on fences us. */
	__atomic_fetch_or(&as->harts, bit, __ATOMIC_SEQ_CST);
	csr_write(satp, satp_sv39(as->pt.root));
	sfence_vma_nonglobal();
	current[hart] = as;
	/* prev's entries are gone from this TLB: its shootdowns may skip us. */
	if (prev && prev != as)
		__atomic_fetch_and(&prev->harts, ~bit, __ATOMIC_SEQ_CST);
	return 0;
}

struct addr_space *addr_space_current(void) { return current[cpuid()]; }
