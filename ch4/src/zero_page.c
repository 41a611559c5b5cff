/*
 * The zero page and the eager switch (cow.h). The zero page is taken at
 * boot, once, so that a read of untouched memory costs no frame and cannot
 * fail for want of one (Linux's empty_zero_page; Redox's the_zeroed_frame).
 */
#include "cow.h"
#include "errno.h"
#include "fdt.h"
#include "frame.h"
#include "initcall.h"
#include "memlayout.h"

static paddr_t zero_pa;
static bool eager;

paddr_t zero_page_pa(void) { return zero_pa; }

bool is_zero_page(paddr_t pa) { return zero_pa && ALIGN_DOWN(pa, PAGE_SIZE) == zero_pa; }

bool vm_eager_default(void) { return eager; }

static int zero_page_init(void)
{
	char none[4];
	eager = bootarg_get("eager", none, sizeof(none));
	zero_pa = frame_alloc(FRAME_ZERO); /* its one reference is never dropped */
	return zero_pa ? 0 : -ENOMEM;
}
initcall(INIT_PROC, zero_page_init);
