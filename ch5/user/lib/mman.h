/**
 * @file mman.h
 * @brief The mmap family for user programs (ch5): Linux's <sys/mman.h>
 *        names, values and signatures.
 *
 * As in ulib.h, each call comes in two flavours: the POSIX one (mmap()
 * returns #MAP_FAILED and sets errno; the others return -1) and the raw
 * one, sys_mmap() and so on, which returns what the kernel put in a0: the
 * result or a negative errno. Tests that compare errno with Linux use the
 * raw ones.
 */
#ifndef MMLAB_USER_MMAN_H
#define MMLAB_USER_MMAN_H

#include "ulib.h"

/** @name System-call numbers (asm-generic/unistd.h).
 * @{ */
#define SYS_munmap   215
#define SYS_mremap   216
#define SYS_mmap     222
#define SYS_mprotect 226
#define SYS_msync    227
#define SYS_madvise  233
/** @} */

/** @name PROT_*, MAP_*, MREMAP_*, MADV_*, MS_* (asm-generic/mman-common.h, linux/mman.h).
 * @{ */
#define PROT_NONE	    0x0
#define PROT_READ	    0x1
#define PROT_WRITE	    0x2
#define PROT_EXEC	    0x4
#define MAP_SHARED	    0x01
#define MAP_PRIVATE	    0x02
#define MAP_SHARED_VALIDATE 0x03
#define MAP_TYPE	    0x0f
#define MAP_FIXED	    0x10
#define MAP_ANONYMOUS	    0x20
#define MAP_ANON	    MAP_ANONYMOUS
#define MAP_NORESERVE	    0x4000
#define MAP_POPULATE	    0x8000
#define MAP_STACK	    0x20000
#define MAP_SYNC	    0x80000
#define MAP_FIXED_NOREPLACE 0x100000
#define MAP_FAILED	    ((void *)-1)
#define MREMAP_MAYMOVE	    1
#define MREMAP_FIXED	    2
#define MADV_NORMAL	    0
#define MADV_WILLNEED	    3
#define MADV_DONTNEED	    4
#define MS_ASYNC	    1
#define MS_INVALIDATE	    2
#define MS_SYNC		    4
/** @} */

/** mmap(2): the new mapping's address, or MAP_FAILED with errno set. */
void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
/** munmap(2): 0, or -1 with errno set. */
int munmap(void *addr, size_t len);
/** mprotect(2): 0, or -1 with errno set. */
int mprotect(void *addr, size_t len, int prot);
/** mremap(2): the mapping's new address, or MAP_FAILED with errno set; @p new_addr only with MREMAP_FIXED. */
void *mremap(void *old_addr, size_t old_len, size_t new_len, int flags, void *new_addr);
/** madvise(2): 0, or -1 with errno set. */
int madvise(void *addr, size_t len, int advice);
/** msync(2): 0, or -1 with errno set. */
int msync(void *addr, size_t len, int flags);

/** @name Raw calls: the result or a negative errno.
 * @{ */
long sys_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
long sys_munmap(void *addr, size_t len);
long sys_mprotect(void *addr, size_t len, int prot);
long sys_mremap(void *old_addr, size_t old_len, size_t new_len, int flags, void *new_addr);
long sys_madvise(void *addr, size_t len, int advice);
long sys_msync(void *addr, size_t len, int flags);
/** @} */

#endif
