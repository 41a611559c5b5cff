/*
 * An address space's life: create it on a ch3 address space that shares the
 * kernel half, count its users, free everything with the last one, and
 * switch harts to it (Linux kernel/fork.c mm_alloc/mmput, switch_mm; xv6
 * proc_pagetable/proc_freepagetable).
 */
#include "cow.h"
#include "kmalloc.h"
#include "kspace.h"
#include "mm_internal.h"
#include "panic.h"
#include "printk.h"
#include "spinlock.h"

struct mm *mm_create(void)
{
	struct mm *mm = kzalloc(sizeof(*mm));
	if (!mm)
		return NULL;
	if (addr_space_init(&mm->as)) {
		kfree(mm);
		return NULL;
	}
	spin_init(&mm->lock, "mm");
	mm->refs = 1;
	mm->eager = vm_eager_default();
	return mm;
}

void mm_get(struct mm *mm) { __atomic_add_fetch(&mm->refs, 1, __ATOMIC_RELAXED); }

void mm_put(struct mm *mm)
{
	if (!mm || __atomic_sub_fetch(&mm->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	/* LAB BEGIN ch4 the last user is gone: free the areas and their pages, then the page table */
	mm_clear_locked(mm); /* nobody else can reach it: no lock needed */
	int err = addr_space_destroy(&mm->as);
	if (err) {
		/* A hart still runs on it (a caller's bug): leaking the table is
		 * better than freeing it under that hart's feet. */
		printk("mm: mm_put of an mm still active on harts 0x%lx: page table leaked\n", mm->as.harts);
		return;
	}
	kfree(mm);
	/* LAB STUB
	TODO("ch4", "mm_put: free the areas, their pages and the page table");
	LAB END */
}

void mm_activate(struct mm *mm)
{
	/* No move to another hart between the mask update and satp. */
	intr_push();
	addr_space_activate(mm ? &mm->as : &kernel_as);
	intr_pop();
}
