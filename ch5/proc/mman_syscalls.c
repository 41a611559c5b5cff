/*
 * The mmap family's system calls (Linux riscv64 numbers): each passes the
 * caller's address space and its arguments to the do_*() function of
 * ch5/src (mman.h). They are registered in ch4's table at INIT_PROC, as
 * ch4 registers its own; no ch4 file names them.
 *
 * Reference: Linux arch/riscv/kernel/sys_riscv.c (mmap's offset check),
 * mm/mmap.c ksys_mmap_pgoff (a file mapping needs an open descriptor).
 */
#include "errno.h"
#include "file.h"
#include "initcall.h"
#include "mman.h"
#include "pagecache.h"
#include "proc.h"
#include "syscall.h"

static long sys_mmap(uint64_t addr, uint64_t len, uint64_t prot, uint64_t flags, uint64_t fd, uint64_t off)
{
	if (off & (PAGE_SIZE - 1))
		return -EINVAL;
	if (!(flags & MAP_ANONYMOUS)) {
		/* A file: EBADF without one (Linux's ksys_mmap_pgoff); the area
		 * takes its own reference, so close() does not end the mapping. */
		struct file *f = fd_get(current_files(), (int)fd);
		if (!f)
			return -EBADF;
		long ret = do_mmap_file(current_mm(), addr, len, prot, flags, f, off);
		file_put(f);
		return ret;
	}
	return do_mmap(current_mm(), addr, len, prot, flags, (int)fd, off);
}

static long sys_munmap(uint64_t addr, uint64_t len, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	(void)a2, (void)a3, (void)a4, (void)a5;
	return do_munmap(current_mm(), addr, len);
}

static long sys_mprotect(uint64_t addr, uint64_t len, uint64_t prot, uint64_t a3, uint64_t a4, uint64_t a5)
{
	(void)a3, (void)a4, (void)a5;
	return do_mprotect(current_mm(), addr, len, prot);
}

static long sys_mremap(uint64_t addr, uint64_t old_len, uint64_t new_len, uint64_t flags, uint64_t new_addr,
		       uint64_t a5)
{
	(void)a5;
	return do_mremap(current_mm(), addr, old_len, new_len, flags, new_addr);
}

static long sys_madvise(uint64_t addr, uint64_t len, uint64_t advice, uint64_t a3, uint64_t a4, uint64_t a5)
{
	(void)a3, (void)a4, (void)a5;
	return do_madvise(current_mm(), addr, len, (int)advice);
}

static long sys_msync(uint64_t addr, uint64_t len, uint64_t flags, uint64_t a3, uint64_t a4, uint64_t a5)
{
	(void)a3, (void)a4, (void)a5;
	return do_msync(current_mm(), addr, len, (int)flags);
}

static int mman_syscalls_init(void)
{
	static const struct {
		unsigned nr;
		syscall_fn fn;
	} calls[] = {
		{SYS_mmap, sys_mmap},	  {SYS_munmap, sys_munmap},   {SYS_mprotect, sys_mprotect},
		{SYS_mremap, sys_mremap}, {SYS_madvise, sys_madvise}, {SYS_msync, sys_msync},
	};
	for (size_t i = 0; i < ARRAY_SIZE(calls); i++) {
		int err = syscall_register(calls[i].nr, calls[i].fn);
		if (err)
			return err;
	}
	return 0;
}
initcall(INIT_PROC, mman_syscalls_init);
