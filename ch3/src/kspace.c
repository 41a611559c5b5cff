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

struct pagetable kernel_pt;
struct spinlock kspace_lock = SPINLOCK_INIT("kspace");
static bool active;
static struct kspace_init_report report;

bool kspace_active(void)
{
	return __atomic_load_n(&active, __ATOMIC_ACQUIRE);
}

uint64_t kspace_satp(void)
{
	return kernel_pt.root ? satp_sv39(kernel_pt.root) : 0;
}

struct kspace_init_report kspace_last_init(void)
{
	return report;
}

/* On each hart: the page-table writes before the switch, no stale entry after. */
static void switch_satp(void *arg, int hart)
{
	(void)hart;
	uint64_t value = *(const uint64_t *)arg;
	sfence_vma_all();
	csr_write(satp, value);
	sfence_vma_all();
}

static unsigned long bootarg_ulong(const char *key)
{
	char buf[24];
	if (!bootarg_get(key, buf, sizeof(buf)))
		return 0;
	return strtoul(buf, NULL, 0);
}

static int build(void)
{
	int err = pt_init(&kernel_pt);
	if (!err)
		err = kspace_build(&kernel_pt);
	pt_inject_alloc_failure(0);
	if (!err)
		err = kspace_check(&kernel_pt);
	if (err)
		pt_destroy(&kernel_pt);
	return err;
}

int kspace_init(void)
{
	report = (struct kspace_init_report){.failat = bootarg_ulong("kspace_failat")};
	report.frames_before = frames_nr_free();
	printk("kspace: building the kernel page table\n");
	pt_inject_alloc_failure(report.failat);
	report.err = build();
	report.frames_after = frames_nr_free();
	if (report.err) {
		printk("kspace: building the kernel page table failed (%s); keeping the boot page table\n",
		       errno_name(report.err));
		return report.err;
	}
	uint64_t satp = kspace_satp();
	printk("kspace: switching every hart to it\n");
	on_each_hart(switch_satp, &satp);
	__atomic_store_n(&active, true, __ATOMIC_RELEASE);
	printk("kspace: %zu table pages, satp 0x%lx, %d hart(s) switched\n", kernel_pt.nr_tables, satp,
	       harts_online());
	char none[1];
	if (bootarg_get("ptdump", none, sizeof(none)))
		ptdump(&kernel_pt);
	return 0;
}
initcall(INIT_PAGING, kspace_init);

void kspace_flush_rollback(int err)
{
	if (err != -ENOMEM)
		return;
	sfence_vma_all();
	tlb_shootdown(0, -1UL);
}

int kernel_map(vaddr_t va, paddr_t pa, size_t size, unsigned flags)
{
	if (!kspace_active())
		return -ENODEV;
	spin_lock(&kspace_lock);
	int err = pt_map(&kernel_pt, va, pa, size, flags);
	kspace_flush_rollback(err);
	spin_unlock(&kspace_lock);
	return err;
}

int kernel_unmap(vaddr_t va, size_t size)
{
	if (!kspace_active())
		return -ENODEV;
	struct tlb_flusher fl;
	tlb_flusher_init(&fl, true);
	spin_lock(&kspace_lock);
	int err = pt_unmap(&kernel_pt, va, size, &fl);
	tlb_flusher_finish(&fl); /* under the lock: see kspace_internal.h */
	spin_unlock(&kspace_lock);
	return err;
}

int kernel_protect(vaddr_t va, size_t size, unsigned perm)
{
	if (!kspace_active())
		return -ENODEV;
	struct tlb_flusher fl;
	tlb_flusher_init(&fl, true);
	spin_lock(&kspace_lock);
	int err = pt_protect(&kernel_pt, va, size, perm, &fl);
	tlb_flusher_finish(&fl); /* under the lock: see kspace_internal.h */
	spin_unlock(&kspace_lock);
	return err;
}
