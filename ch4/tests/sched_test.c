/*
 * ch4.sched: the pieces under the scheduler: swtch() between two kernel
 * contexts, thread stacks with their guard pages, a thread's frame at the
 * top of its stack, and the wait-status encoding.
 */
#include "errno.h"
#include "frame.h"
#include "kmalloc.h"
#include "ktest.h"
#include "mm.h"
#include "probe.h"
#include "proc.h"
#include "sched.h"
#include "syscall.h"

static struct context main_ctx, side_ctx;
static int visits;

/* The side context: count, switch back, three times; never returns. */
static void side(void)
{
	for (;;) {
		visits++;
		swtch(&side_ctx, &main_ctx);
	}
}

KTEST(ch4_sched, swtch_ping_pong_keeps_callee_saved_registers)
{
	paddr_t pa;
	vaddr_t slot = kstack_alloc(&pa);
	KASSERT_NE(slot, 0);
	side_ctx = (struct context){.ra = (uint64_t)side, .sp = kstack_top(slot)};
	visits = 0;
	register uint64_t s5 __asm__("s5") = 0x5555;
	for (int i = 0; i < 3; i++) {
		__asm__ volatile("" : "+r"(s5));
		swtch(&main_ctx, &side_ctx);
		__asm__ volatile("" : "+r"(s5));
	}
	KEXPECT_EQ(visits, 3);
	KEXPECT_EQ(s5, 0x5555);
	kstack_free(slot, pa);
}

KTEST(ch4_sched, kstack_has_an_unmapped_guard_below)
{
	int used = kstack_nr_used();
	paddr_t pa;
	vaddr_t slot = kstack_alloc(&pa);
	KASSERT_NE(slot, 0);
	KEXPECT_EQ(slot % HART_STACK_STRIDE, 0);
	KEXPECT_EQ(kstack_nr_used(), used + 1);
	uint64_t v;
	KEXPECT_EQ(probe_read64((void *)slot, &v), -EFAULT);		 /* the guard */
	KEXPECT_EQ(probe_read64((void *)(slot + PAGE_SIZE), &v), 0);	 /* the stack's bottom */
	KEXPECT_EQ(probe_read64((void *)(kstack_top(slot) - 8), &v), 0); /* its top */
	KEXPECT_EQ(probe_write8((void *)(kstack_top(slot) - 1), 1), 0);
	kstack_free(slot, pa);
	KEXPECT_EQ(kstack_nr_used(), used);
	kstack_cache_drain();
	KEXPECT_EQ(probe_read64((void *)(slot + PAGE_SIZE), &v), -EFAULT); /* unmapped again */
}

KTEST(ch4_sched, freed_stacks_are_cached_until_drained)
{
	kstack_cache_drain();
	kmalloc_shrink();
	uint64_t before = frames_nr_free();
	paddr_t pa, pa2;
	vaddr_t slot = kstack_alloc(&pa);
	KASSERT_NE(slot, 0);
	kstack_free(slot, pa);
	uint64_t v;
	/* Still mapped, its frames still taken: the next thread gets it with no
	 * map and, on its free, no shootdown. */
	KEXPECT_EQ(probe_read64((void *)(slot + PAGE_SIZE), &v), 0);
	KEXPECT_LT(frames_nr_free(), before);
	KEXPECT_EQ(kstack_alloc(&pa2), slot);
	KEXPECT_EQ(pa2, pa);
	kstack_free(slot, pa2);
	KEXPECT_EQ(kstack_cache_drain(), 1);
	KEXPECT_EQ(probe_read64((void *)(slot + PAGE_SIZE), &v), -EFAULT);
	kmalloc_shrink();
	KEXPECT_EQ(frames_nr_free(), before);
}

KTEST(ch4_sched, thread_frame_is_at_the_top_of_its_stack)
{
	struct proc *p = proc_alloc("t", pid_alloc());
	KASSERT_NOT_NULL(p);
	struct mm *mm = mm_create();
	if (!mm) {
		proc_put(p);
		KTEST_SKIP("no mm (the mm layer is not there)");
	}
	struct thread *t = thread_create(p, mm);
	KASSERT_NOT_NULL(t);
	KEXPECT_EQ((vaddr_t)(thread_frame(t) + 1), kstack_top(t->kstack));
	KEXPECT_EQ(t->ctx.sp, (uint64_t)thread_frame(t));
	KEXPECT_EQ(t->ctx.sp % 16, 0);
	KEXPECT_EQ(t->mm, mm);
	KEXPECT_EQ(mm->refs, 2);
	thread_free(t);
	mm_put(mm);
	proc_put(p);
	KEXPECT_EQ(proc_count(), 0);
}

KTEST(ch4_sched, wait_status_encoding_is_linux)
{
	/* WIFEXITED: low 7 bits 0, WEXITSTATUS = bits 8..15; WIFSIGNALED: low 7 bits the signal. */
	KEXPECT_EQ(wstatus_exited(0), 0);
	KEXPECT_EQ(wstatus_exited(3), 0x300);
	KEXPECT_EQ(wstatus_exited(256 + 7), 0x700); /* only the low 8 bits of the code */
	KEXPECT_EQ(wstatus_exited(-1), 0xff00);
	KEXPECT_EQ(wstatus_signaled(SIGKILL), 9);
	KEXPECT_EQ(wstatus_signaled(SIGSEGV), 11);
}

KTEST(ch4_sched, syscall_register_refuses_bad_and_taken_numbers)
{
	KEXPECT_EQ(syscall_register(NR_SYSCALLS, (syscall_fn)1), -EINVAL);
	KEXPECT_EQ(syscall_register(500, NULL), -EINVAL);
	KEXPECT_EQ(syscall_register(SYS_getpid, (syscall_fn)1), -EEXIST);
}
