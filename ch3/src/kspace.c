/*
 * The kernel space at run time: building it at boot and switching every hart
 * to it, then mapping, unmapping and protecting kernel pages with TLB
 * shootdown (xv6 vm.c kvminit/kvminithart).
 */
#include "errno.h"
#include "fdt.h"
#include "frame.h"
#include "initcall.h"
#include "kspace.h"
#include "kspace_internal.h"
#include "printk.h"
#include "ptdump.h"
#include "riscv.h"
#include "smp.h"
#include "spinlock.h"
#include "string.h"
#include "tlb.h"

struct addr_space kernel_as = {.global = true};
struct spinlock kspace_lock = SPINLOCK_INIT("kspace");
static bool active;
static struct kspace_init_report report;

bool kspace_active(void) { return __atomic_load_n(&active, __ATOMIC_ACQUIRE); }

uint64_t kspace_satp(void) { return kernel_as.pt.root ? satp_sv39(kernel_as.pt.root) : 0; }

struct kspace_init_report kspace_last_init(void) { return report; }

/*
 * On each hart: the page-table writes before the switch, no stale entry
 * after, not even a global one: the boot table's entries are global too.
 */
static void switch_satp(void *arg, int hart)
{
	(void)arg, (void)hart;
	sfence_vma_all();
	addr_space_activate(&kernel_as);
	sfence_vma_all();
}

static unsigned long bootarg_ulong(const char *key)
{
	char buf[24];
	if (!bootarg_get(key, buf, sizeof(buf)))
		return 0;
	return strtoul(buf, NULL, 0);
}

static int build(unsigned long failat)
{
	struct pagetable *pt = &kernel_as.pt;
	int err = pt_init(pt);
	if (!err)
		err = kspace_alloc_kernel_half(pt);
	if (!err) {
		kspace_half_snapshot(pt);
		pt_inject_alloc_failure(failat);
		err = kspace_build(pt);
		pt_inject_alloc_failure(0);
	}
	if (!err)
		err = kspace_check(pt);
	if (!err)
		err = kspace_half_unchanged(pt);
	if (err)
		pt_destroy(pt);
	return err;
}

int kspace_init(void)
{
	report = (struct kspace_init_report){.failat = bootarg_ulong("kspace_failat")};
	report.frames_before = frames_nr_free();
	printk("kspace: building the kernel page table\n");
	report.err = build(report.failat);
	report.frames_after = frames_nr_free();
	if (report.err) {
		printk("kspace: building the kernel page table failed (%s); keeping the boot page table\n",
		       errno_name(report.err));
		return report.err;
	}
	printk("kspace: switching every hart to it\n");
	on_each_hart(switch_satp, NULL);
	__atomic_store_n(&active, true, __ATOMIC_RELEASE);
	printk("kspace: %zu table pages, satp 0x%lx, %d hart(s) switched\n", kernel_as.pt.nr_tables,
	       kspace_satp(), harts_online());
	char none[1];
	if (bootarg_get("ptdump", none, sizeof(none)))
		ptdump(&kernel_as.pt);
	return 0;
}
initcall(INIT_PAGING, kspace_init);

void kspace_flush_rollback(int err)
{
	if (err != -ENOMEM)
		return;
	sfence_vma_all();
	tlb_shootdown(&kernel_as, 0, -1UL);
}

int kernel_map(vaddr_t va, paddr_t pa, size_t size, unsigned flags)
{
	if (!kspace_active())
		return -ENODEV;
	int err = pt_check_range(va, size);
	if (err)
		return err;
	spin_lock(&kspace_lock);
	err = kspace_in_kernel_half(va, size) ? pt_map(&kernel_as.pt, va, pa, size, flags) : -ERANGE;
	kspace_flush_rollback(err);
	spin_unlock(&kspace_lock);
	return err;
}

int kernel_unmap(vaddr_t va, size_t size)
{
	if (!kspace_active())
		return -ENODEV;
	struct tlb_flusher fl;
	tlb_flusher_init(&fl, &kernel_as);
	spin_lock(&kspace_lock);
	int err = pt_unmap(&kernel_as.pt, va, size, &fl);
	tlb_flusher_finish(&fl); /* under the lock: see kspace_internal.h */
	spin_unlock(&kspace_lock);
	return err;
}

int kernel_protect(vaddr_t va, size_t size, unsigned perm)
{
	if (!kspace_active())
		return -ENODEV;
	struct tlb_flusher fl;
	tlb_flusher_init(&fl, &kernel_as);
	spin_lock(&kspace_lock);
	int err = pt_protect(&kernel_as.pt, va, size, perm, &fl);
	tlb_flusher_finish(&fl); /* under the lock: see kspace_internal.h */
	spin_unlock(&kspace_lock);
	return err;
}
