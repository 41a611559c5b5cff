/*
 * Injected allocation failures, so that tests reach every error path of a
 * map without filling memory first.
 */
#include "pagetable.h"
#include "ptalloc.h"

static unsigned long fail_countdown; /* 0: off; 1: the next allocation fails */

void pt_inject_alloc_failure(unsigned long n) { __atomic_store_n(&fail_countdown, n, __ATOMIC_RELAXED); }

bool pt_alloc_should_fail(void)
{
	unsigned long n = __atomic_load_n(&fail_countdown, __ATOMIC_RELAXED);
	if (n == 0)
		return false;
	__atomic_store_n(&fail_countdown, n - 1, __ATOMIC_RELAXED);
	return n == 1;
}
