/*
 * mmlab's test calls (syscall.h, 1000 up): what a user test needs to see
 * inside the kernel.
 *
 * - 1000 free frames: runner_free_frames(), as the runner counts them.
 * - 1001 maps(buf, len): the caller's areas in /proc/self/maps format,
 *   Linux's columns exactly (show_map_vma: 8-digit addresses at least,
 *   perms with p or s, the offset into the file, "00:00 0", then the name
 *   padded to column 73): "00010000-00011000 r-xp 00000000 00:00 0", 32
 *   spaces, "ch4.user.maps"; "[heap]" and "[stack]" name those areas; the
 *   guard gap is not listed (as Linux's stack guard gap is no area). No NUL
 *   is written. Returns the bytes, -ERANGE if @p len is too small, -EFAULT.
 * - 1002 ptdump(pid): the user half of the page table of process @p pid
 *   (0: the caller) on the console in ch3's ptdump format, between
 *   "ptdump: <name>[<pid>] user half" and "ptdump: end <n> runs". -ESRCH.
 * - 1003 test_result(verdict), 1004 test_begin(): the user KTAP protocol
 *   (runner.c).
 * - 1005 harts online, 1006 the hart the caller runs on.
 * - 1007 page_info(va): the state of the caller's page at @p va, for the
 *   copy-on-write and zero-page tests: MMLAB_PAGE_* bits and the frame's
 *   reference count; 0 if nothing maps it; -EFAULT above the user half.
 * - 1008 squeeze(leave): the kernel takes frames until @p leave are free
 *   (or only the emergency reserve is left) and holds them, so that a test
 *   meets memory pressure in any machine size; squeeze(-1) gives them all
 *   back (so does the runner after each suite). Returns the frames held
 *   (given back, for -1).
 * - 1009 eager: 1 if the caller's mm is eager (the `eager` bootarg).
 * - 1010 max_map_count(n): sets vm.max_map_count (mm.h's MM_MAX_VMAS) to
 *   @p n > 0, as `sysctl vm.max_map_count=n` does on Linux, until the
 *   runner restores it after the suite; 0 only reads it. Returns the limit
 *   before; -EINVAL for n < 0. Tests that fill an address space to the
 *   limit lower it: the rule is the same at 1,000 areas as at 65,530, and
 *   the host test (ch5/hosttest/test_mman.c) fills the full 65,530.
 *
 * Reference: Linux fs/proc/task_mmu.c (show_map_vma).
 */
#include "cow.h"
#include "errno.h"
#include "frame.h"
#include "initcall.h"
#include "kmalloc.h"
#include "memlayout.h"
#include "mm.h"
#include "page.h"
#include "printk.h"
#include "ptdump.h"
#include "runner.h"
#include "sched.h"
#include "string.h"
#include "syscall.h"
#include "uaccess.h"

#define UNUSED6(a, b, c, d, e, f) (void)(a), (void)(b), (void)(c), (void)(d), (void)(e), (void)(f)
#define MAPS_NAME_COLUMN	  73 /* 25 + sizeof(void *) * 6: where Linux starts the name */
#define MAPS_BUF_MAX		  (256 * 1024)

static long sys_free_frames(uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	UNUSED6(a0, a1, a2, a3, a4, a5);
	return (long)runner_free_frames(); /* as the runner counts them */
}

struct maps_buf {
	char *buf;
	size_t cap, len; /* len counts every byte, even past cap */
};

/* One line of the listing for @vma, into @line; returns its length. */
static int maps_format_vma(const struct vma *vma, char *line, size_t size)
{
	const char *name = vma->flags & VM_STACK ? "[stack]" : vma->flags & VM_HEAP ? "[heap]" : vma->name;
	int n = snprintf(line, size, "%08lx-%08lx %c%c%c%c %08lx 00:00 0", vma->start, vma->end,
			 vma->prot & VM_READ ? 'r' : '-', vma->prot & VM_WRITE ? 'w' : '-',
			 vma->prot & VM_EXEC ? 'x' : '-', vma->flags & VM_SHARED ? 's' : 'p',
			 vma->backend && vma->private_data ? (unsigned long)vma->pgoff : 0UL);
	if (name && *name) {
		while (n < MAPS_NAME_COLUMN - 1 && (size_t)n + 1 < size)
			line[n++] = ' ';
		n += snprintf(line + n, size - n, " %s", name);
	}
	if ((size_t)n + 1 < size) {
		line[n++] = '\n';
		line[n] = '\0';
	}
	return n;
}

static int maps_line(struct vma *vma, void *arg)
{
	struct maps_buf *m = arg;
	if (vma->flags & VM_GUARD)
		return 0;
	char line[160];
	int n = maps_format_vma(vma, line, sizeof(line));
	if (m->len + n <= m->cap)
		memcpy(m->buf + m->len, line, n);
	m->len += n;
	return 0;
}

static long sys_maps(uint64_t ubuf, uint64_t len, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	UNUSED6(0, 0, a2, a3, a4, a5);
	struct maps_buf m = {NULL, MIN(len, (uint64_t)MAPS_BUF_MAX), 0};
	m.buf = kmalloc(m.cap ? m.cap : 1);
	if (!m.buf)
		return -ENOMEM;
	mm_for_each_vma(current_mm(), maps_line, &m);
	long ret = m.len > len ? -ERANGE : m.len > m.cap ? -ENOMEM : (long)m.len;
	if (ret > 0 && copy_to_user(ubuf, m.buf, m.len))
		ret = -EFAULT;
	kfree(m.buf);
	return ret;
}

static int print_user_run(const struct pt_run *run, void *arg)
{
	if (run->va >= USER_TOP)
		return 1; /* the kernel half: not this process's */
	char line[PTDUMP_LINE_MAX];
	ptdump_format_run(run, line, sizeof(line));
	printk("%s\n", line);
	(*(int *)arg)++;
	return 0;
}

static long sys_ptdump(uint64_t upid, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	UNUSED6(0, a1, a2, a3, a4, a5);
	int pid = (int)upid ? (int)upid : current_proc()->pid;
	struct proc *p = proc_find(pid);
	if (!p)
		return -ESRCH;
	spin_lock(&proc_lock);
	struct mm *mm = p->zombie ? NULL : p->mm;
	if (mm)
		mm_get(mm);
	spin_unlock(&proc_lock);
	if (mm) {
		int runs = 0;
		printk("ptdump: %s[%d] user half\n", p->name, p->pid);
		spin_lock(&mm->lock);
		ptdump_runs(&mm->as.pt, print_user_run, &runs);
		spin_unlock(&mm->lock);
		printk("ptdump: end %d runs\n", runs);
		mm_put(mm);
	}
	proc_put(p);
	return mm ? 0 : -ESRCH;
}

static long sys_test_result(uint64_t verdict, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	UNUSED6(0, a1, a2, a3, a4, a5);
	return runner_test_result((int)verdict);
}

static long sys_test_begin(uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	UNUSED6(a0, a1, a2, a3, a4, a5);
	sched_pet_watchdog();
	return 0;
}

static long sys_nr_harts(uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	UNUSED6(a0, a1, a2, a3, a4, a5);
	return harts_online();
}

static long sys_hart(uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	UNUSED6(a0, a1, a2, a3, a4, a5);
	return cpuid();
}

static long sys_page_info(uint64_t va, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	UNUSED6(0, a1, a2, a3, a4, a5);
	if (va >= USER_TOP)
		return -EFAULT;
	struct mm *mm = current_mm();
	struct pt_mapping m;
	long info = 0;
	spin_lock(&mm->lock);
	if (!pt_query(&mm->as.pt, va, &m)) {
		paddr_t pa = ALIGN_DOWN(m.pa, PAGE_SIZE);
		info = MMLAB_PAGE_PRESENT | ((m.flags & PTE_W) ? MMLAB_PAGE_WRITABLE : 0) |
		       ((m.flags & PTE_COW) ? MMLAB_PAGE_COW : 0);
		if (is_zero_page(pa))
			info |= MMLAB_PAGE_ZERO;
		else
			info |= (uint32_t)page_ref_count(pa_to_page(pa));
	}
	spin_unlock(&mm->lock);
	return info;
}

/*
 * The blocks squeeze() holds, in an array beside them rather than linked
 * through them: a write into every frame of a 2 GiB machine would make QEMU
 * back all of guest RAM on the host. Largest blocks first, so a few
 * thousand entries hold any machine.
 */
#define SQUEEZE_MAX 4096
static struct spinlock squeeze_lock = SPINLOCK_INIT("squeeze");
static struct {
	paddr_t pa;
	uint8_t order;
} squeezed[SQUEEZE_MAX];
static unsigned nr_squeezed;

/* Frames in the blocks held. Caller holds squeeze_lock. */
static long squeezed_frames(void)
{
	long n = 0;
	for (unsigned i = 0; i < nr_squeezed; i++)
		n += 1L << squeezed[i].order;
	return n;
}

long squeeze_release(void)
{
	spin_lock(&squeeze_lock);
	long n = squeezed_frames();
	while (nr_squeezed) {
		nr_squeezed--;
		frames_free_order(squeezed[nr_squeezed].pa, squeezed[nr_squeezed].order);
	}
	spin_unlock(&squeeze_lock);
	return n;
}

static long sys_squeeze(uint64_t leave, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	UNUSED6(0, a1, a2, a3, a4, a5);
	if ((long)leave < 0)
		return squeeze_release();
	kmalloc_shrink(); /* what the heap caches would give back anyway */
	spin_lock(&squeeze_lock);
	/* Without FRAME_EMERGENCY: the reserve under the min watermark stays the kernel's. */
	for (int order = MAX_ORDER; order >= 0; order--) {
		while (nr_squeezed < SQUEEZE_MAX && frames_nr_free() >= leave + (1UL << order)) {
			paddr_t pa = frames_alloc_order(order, 0);
			if (!pa)
				break;
			squeezed[nr_squeezed].pa = pa;
			squeezed[nr_squeezed++].order = (uint8_t)order;
		}
	}
	long n = squeezed_frames();
	spin_unlock(&squeeze_lock);
	return n;
}

static long sys_max_map_count(uint64_t n, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	UNUSED6(0, a1, a2, a3, a4, a5);
	if ((long)n < 0)
		return -EINVAL;
	size_t before = __atomic_load_n(&max_map_count, __ATOMIC_RELAXED);
	if (n)
		__atomic_store_n(&max_map_count, (size_t)n, __ATOMIC_RELAXED);
	return (long)before;
}

long max_map_count_restore(void)
{
	return (long)__atomic_exchange_n(&max_map_count, (size_t)MM_DEFAULT_MAX_MAP_COUNT, __ATOMIC_RELAXED);
}

static long sys_eager(uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	UNUSED6(a0, a1, a2, a3, a4, a5);
	return current_mm()->eager;
}

static int testcalls_init(void)
{
	static const struct {
		unsigned nr;
		syscall_fn fn;
	} calls[] = {
		{SYS_mmlab_free_frames, sys_free_frames},
		{SYS_mmlab_maps, sys_maps},
		{SYS_mmlab_ptdump, sys_ptdump},
		{SYS_mmlab_test_result, sys_test_result},
		{SYS_mmlab_test_begin, sys_test_begin},
		{SYS_mmlab_nr_harts, sys_nr_harts},
		{SYS_mmlab_hart, sys_hart},
		{SYS_mmlab_page_info, sys_page_info},
		{SYS_mmlab_squeeze, sys_squeeze},
		{SYS_mmlab_eager, sys_eager},
		{SYS_mmlab_max_map_count, sys_max_map_count},
	};
	for (size_t i = 0; i < ARRAY_SIZE(calls); i++) {
		int err = syscall_register(calls[i].nr, calls[i].fn);
		if (err)
			return err;
	}
	return 0;
}
initcall(INIT_PROC, testcalls_init);
