/*
 * ch5 benchmarks of the page cache, in instructions retired (`make bench
 * CH=5` boots with `-icount shift=0 -smp 1`):
 * - a read fault on a private file mapping whose page is cached (the cache
 *   lookup and the mapping of the cache's frame), and the same fault when the
 *   page must first come from the disk (a virtio-blk read: under icount the
 *   wait for the device is counted in instructions too, so this figure
 *   depends on QEMU's I/O timing and is not exact);
 * - msync(MS_SYNC) of a shared mapping with N dirty pages, per page (the
 *   write-back of each: a virtio-blk write, with the same caveat);
 * - exec from the page cache: two address spaces loading one program (the
 *   initramfs's textpeer), every page of them touched for reading; the text
 *   and read-only pages are the cache's frames in both, so the second
 *   costs fewer frames: the frames saved are printed.
 * They need the disk; without one they report 0 and say why.
 */
#include "../../ch4/tests/mm_test.h"
#include "../src/pagecache_internal.h"
#include "cow.h"
#include "cpio.h"
#include "elf.h"
#include "fs.h"
#include "mman.h"
#include "printk.h"
#include "riscv.h"

enum { FILE_PAGES = 64 };

#define BENCH_FILE "ch5-bench.dat"

/* A disk file of FILE_PAGES pages of known bytes, written back; NULL if there is no disk. */
static struct file *bench_file(void)
{
	struct file *f;
	if (fs_open(BENCH_FILE, O_RDWR | O_CREAT | O_TRUNC, &f))
		return NULL;
	static char page[PAGE_SIZE];
	struct address_space *m = &file_inode(f)->mapping;
	for (int i = 0; i < FILE_PAGES; i++) {
		memset(page, 'a' + i % 26, sizeof(page));
		if (filemap_write(m, (uint64_t)i * PAGE_SIZE, io_kernel(page), PAGE_SIZE) != PAGE_SIZE) {
			file_put(f);
			return NULL;
		}
	}
	if (filemap_fsync(m)) {
		file_put(f);
		return NULL;
	}
	return f;
}

/* Instructions per read fault on the pages of a private mapping of @f;
 * with @cold the file's cache is emptied first (each fault reads the disk). */
static uint64_t fault_cost(struct file *f, bool cold)
{
	struct mm *mm = mm_create();
	if (!mm)
		return 0;
	mm->eager = false;
	uint64_t per = 0;
	if (do_mmap_file(mm, UP(0), FILE_PAGES * PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_FIXED, f, 0) ==
	    (long)UP(0)) {
		if (cold)
			pagecache_reclaim(UINT64_MAX); /* no one maps them: every page goes */
		else
			for (int i = 0; i < FILE_PAGES; i++) /* read them in */
				mm_fault(mm, UP(i), ACCESS_READ);
		struct mm *mm2 = cold ? mm : mm_create();
		if (mm2 && mm2 != mm) {
			mm2->eager = false;
			do_mmap_file(mm2, UP(0), FILE_PAGES * PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_FIXED,
				     f, 0);
		}
		bool ok = mm2 != NULL;
		uint64_t t0 = rdinstret();
		for (int i = 0; ok && i < FILE_PAGES; i++)
			ok = mm_fault(mm2, UP(i), ACCESS_READ) == FAULT_RESOLVED;
		per = ok ? (rdinstret() - t0) / FILE_PAGES : 0;
		if (mm2 && mm2 != mm)
			mm_put(mm2);
	}
	mm_put(mm);
	return per;
}

/* Instructions per page of msync(MS_SYNC) of a shared mapping of @f with
 * all FILE_PAGES pages dirty. */
static uint64_t msync_cost(struct file *f)
{
	struct mm *mm = mm_create();
	if (!mm)
		return 0;
	mm->eager = false;
	uint64_t per = 0;
	if (do_mmap_file(mm, UP(0), FILE_PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, f,
			 0) == (long)UP(0)) {
		bool ok = true;
		for (int i = 0; ok && i < FILE_PAGES; i++)
			ok = mm_fault(mm, UP(i), ACCESS_WRITE) == FAULT_RESOLVED && poke(mm, UP(i), 'Z');
		uint64_t t0 = rdinstret();
		ok = ok && do_msync(mm, UP(0), FILE_PAGES * PAGE_SIZE, MS_SYNC) == 0;
		per = ok ? (rdinstret() - t0) / FILE_PAGES : 0;
	}
	mm_put(mm);
	return per;
}

/* Load program @name into a new mm and read-fault every page of its
 * segments; the mm, or NULL. */
static struct mm *load_and_touch(const char *name)
{
	struct cpio_file cf;
	struct mm *mm = initramfs_find(name, &cf) ? NULL : mm_create();
	if (!mm)
		return NULL;
	mm->eager = false;
	struct elf_info info;
	if (elf_load(mm, cf.data, cf.size, cf.name, &info)) {
		mm_put(mm);
		return NULL;
	}
	for (struct vma *v = mm_find_vma_after(mm, 0); v; v = vma_tree_next(v))
		for (vaddr_t va = v->start; va < v->end; va += PAGE_SIZE)
			mm_fault(mm, va, (v->prot & VM_EXEC) ? ACCESS_EXEC : ACCESS_READ);
	return mm;
}

/* Frames of pages that @a and @b map at the same address to the same frame (not the zero page). */
static long shared_frames(struct mm *a, struct mm *b, long *pages)
{
	long shared = 0;
	*pages = 0;
	for (struct vma *v = mm_find_vma_after(a, 0); v; v = vma_tree_next(v))
		for (vaddr_t va = v->start; va < v->end; va += PAGE_SIZE) {
			paddr_t pa = user_pa(a, va);
			if (!pa || is_zero_page(pa))
				continue;
			(*pages)++;
			shared += pa == user_pa(b, va);
		}
	return shared;
}

KBENCH(ch5_pagecache)
{
	struct file *f = bench_file();
	if (!f) {
		printk("# ch5_pagecache: no disk (or no room on it): file benchmarks skipped\n");
		kbench_report("ch5_file_fault_cached", 0,
			      "instructions per read fault, page cached (no disk)");
		kbench_report("ch5_file_fault_disk", 0,
			      "instructions per read fault, page read from disk (no disk)");
		kbench_report("ch5_msync_page", 0, "instructions per dirty page written by msync (no disk)");
	} else {
		kbench_report("ch5_file_fault_cached", fault_cost(f, false),
			      "instructions per read fault of a private file mapping, page in the cache");
		kbench_report("ch5_file_fault_disk", fault_cost(f, true),
			      "instructions per read fault, page read from the disk (device wait included)");
		kbench_report("ch5_msync_page", msync_cost(f),
			      "instructions per dirty page written back by msync(MS_SYNC) of 64 (device wait "
			      "included)");
		file_put(f);
		fs_unlink(BENCH_FILE);
	}
	struct mm *a = load_and_touch("textpeer"), *b = load_and_touch("textpeer");
	long pages = 0, shared = a && b ? shared_frames(a, b, &pages) : 0;
	printk("# ch5_exec_text: textpeer loaded twice: %ld of its %ld present pages are the same frames "
	       "in both\n",
	       shared, pages);
	kbench_report("ch5_exec_frames_saved", (uint64_t)shared,
		      "frames the second of two processes running one program does not need (text shared "
		      "through the page cache)");
	if (a)
		mm_put(a);
	if (b)
		mm_put(b);
}
