/*
 * Threads: clone(CLONE_VM | CLONE_THREAD | CLONE_SIGHAND | CLONE_FILES) on a
 * stack of their own, taken from the heap with sbrk. A thread tells it has
 * finished through a flag it sets as its very last act (clone.S,
 * __thread_start), so thread_join() needs no futex: it yields until the
 * flag is up.
 */
#include "ulib.h"

long __thread_clone(unsigned long flags, void *sp);

int thread_create(struct uthread *t, long (*fn)(void *), void *arg)
{
	char *stack = sbrk(THREAD_STACK_SIZE);
	if (stack == (void *)-1)
		return -ENOMEM;
	t->stack = stack;
	t->done = 0;
	t->result = 0;
	/* fn, arg and t at the (16-byte aligned) top: __thread_start reads them. */
	uint64_t *sp = (uint64_t *)(stack + THREAD_STACK_SIZE - 32);
	sp[0] = (uint64_t)(uintptr_t)fn;
	sp[1] = (uint64_t)(uintptr_t)arg;
	sp[2] = (uint64_t)(uintptr_t)t;
	long tid = __thread_clone(THREAD_CLONE_FLAGS, sp);
	if (tid < 0)
		return (int)tid;
	t->tid = (pid_t)tid;
	return 0;
}

long thread_join(struct uthread *t)
{
	while (!__atomic_load_n(&t->done, __ATOMIC_ACQUIRE))
		sched_yield();
	return t->result;
}
