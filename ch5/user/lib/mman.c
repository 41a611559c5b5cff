/* The mmap family's system calls (mman.h). */
#include "mman.h"

long sys_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return syscall6(SYS_mmap, (long)addr, (long)len, prot, flags, fd, off);
}
long sys_munmap(void *addr, size_t len) { return syscall2(SYS_munmap, addr, len); }
long sys_mprotect(void *addr, size_t len, int prot) { return syscall3(SYS_mprotect, addr, len, prot); }
long sys_mremap(void *old_addr, size_t old_len, size_t new_len, int flags, void *new_addr)
{
	return syscall5(SYS_mremap, old_addr, old_len, new_len, flags, new_addr);
}
long sys_madvise(void *addr, size_t len, int advice) { return syscall3(SYS_madvise, addr, len, advice); }
long sys_msync(void *addr, size_t len, int flags) { return syscall3(SYS_msync, addr, len, flags); }

/* A raw result as POSIX returns it: -1 (or MAP_FAILED) with errno set. */
static long posix(long r)
{
	if (r < 0 && r > -4096) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return (void *)posix(sys_mmap(addr, len, prot, flags, fd, off));
}
int munmap(void *addr, size_t len) { return (int)posix(sys_munmap(addr, len)); }
int mprotect(void *addr, size_t len, int prot) { return (int)posix(sys_mprotect(addr, len, prot)); }
void *mremap(void *old_addr, size_t old_len, size_t new_len, int flags, void *new_addr)
{
	return (void *)posix(sys_mremap(old_addr, old_len, new_len, flags, new_addr));
}
int madvise(void *addr, size_t len, int advice) { return (int)posix(sys_madvise(addr, len, advice)); }
int msync(void *addr, size_t len, int flags) { return (int)posix(sys_msync(addr, len, flags)); }
