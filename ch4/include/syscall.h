/**
 * @file syscall.h
 * @brief The system-call table: Linux riscv64 numbers (asm-generic
 *        unistd.h), registered by the chapter that implements each call.
 *
 * ecall from user mode with a7 = number and a0..a5 = arguments; the result,
 * or a negative errno, goes back in a0. An unknown number is -ENOSYS. ch4
 * registers its calls at INIT_PROC; ch5 registers the mmap family the same
 * way, editing no ch4 file.
 */
#ifndef MMLAB_SYSCALL_H
#define MMLAB_SYSCALL_H

#include "types.h"

/** @name Linux riscv64 system-call numbers (include/uapi/asm-generic/unistd.h).
 * @{ */
#define SYS_dup		    23	/**< dup(2). */
#define SYS_unlinkat	    35	/**< unlinkat(2) (ch5). */
#define SYS_ftruncate	    46	/**< ftruncate(2) (ch5). */
#define SYS_openat	    56	/**< openat(2). */
#define SYS_close	    57	/**< close(2). */
#define SYS_pipe2	    59	/**< pipe2(2). */
#define SYS_lseek	    62	/**< lseek(2). */
#define SYS_read	    63	/**< read(2). */
#define SYS_write	    64	/**< write(2). */
#define SYS_pread64	    67	/**< pread64(2). */
#define SYS_pwrite64	    68	/**< pwrite64(2). */
#define SYS_fstat	    80	/**< fstat(2). */
#define SYS_fsync	    82	/**< fsync(2). */
#define SYS_exit	    93	/**< exit(2). */
#define SYS_exit_group	    94	/**< exit_group(2). */
#define SYS_set_tid_address 96	/**< set_tid_address(2). */
#define SYS_nanosleep	    101 /**< nanosleep(2). */
#define SYS_sched_yield	    124 /**< sched_yield(2). */
#define SYS_kill	    129 /**< kill(2). */
#define SYS_getpid	    172 /**< getpid(2). */
#define SYS_getppid	    173 /**< getppid(2). */
#define SYS_gettid	    178 /**< gettid(2). */
#define SYS_shmget	    194 /**< shmget(2). */
#define SYS_shmctl	    195 /**< shmctl(2). */
#define SYS_shmat	    196 /**< shmat(2). */
#define SYS_shmdt	    197 /**< shmdt(2). */
#define SYS_brk		    214 /**< brk(2). */
#define SYS_munmap	    215 /**< munmap(2). */
#define SYS_mremap	    216 /**< mremap(2). */
#define SYS_clone	    220 /**< clone(2). */
#define SYS_execve	    221 /**< execve(2). */
#define SYS_mmap	    222 /**< mmap(2). */
#define SYS_mprotect	    226 /**< mprotect(2). */
#define SYS_msync	    227 /**< msync(2). */
#define SYS_madvise	    233 /**< madvise(2). */
#define SYS_wait4	    260 /**< wait4(2). */
/** @} */

/** @name The bits of SYS_mmlab_page_info's result (bits 0-31: the frame's reference count, 0 for the zero page).
 * @{ */
#define MMLAB_PAGE_PRESENT  (1L << 32) /**< A leaf maps the page. */
#define MMLAB_PAGE_WRITABLE (1L << 33) /**< Its PTE has W. */
#define MMLAB_PAGE_COW	    (1L << 34) /**< Its PTE has PTE_COW. */
#define MMLAB_PAGE_ZERO	    (1L << 35) /**< It maps the zero page. */
/** @} */

/** @name mmlab's own test calls (from 1000 up).
 * @{ */
#define SYS_mmlab_free_frames 1000 /**< () -> frames_nr_free(). */
#define SYS_mmlab_maps	      1001 /**< (buf, len) -> bytes of the maps listing copied, as /proc/self/maps. */
#define SYS_mmlab_ptdump      1002 /**< (pid) -> 0; prints the process's page table (ch3 ptdump) on the console. */
#define SYS_mmlab_test_result 1003 /**< (verdict: 0 pass, 1 fail, 2 skip) -> 0; a user KTAP test ended. */
#define SYS_mmlab_test_begin  1004 /**< () -> 0; a user KTAP test begins (pets the watchdog). */
#define SYS_mmlab_nr_harts    1005 /**< () -> harts online. */
#define SYS_mmlab_hart	      1006 /**< () -> the hart this thread runs on now. */
#define SYS_mmlab_page_info                                                                                  \
	1007 /**< (va) -> the page's state: MMLAB_PAGE_* bits and its frame's reference count. */
#define SYS_mmlab_squeeze                                                                                    \
	1008 /**< (leave) -> frames the kernel holds so that @c leave stay free; (-1) gives them back. */
#define SYS_mmlab_eager 1009 /**< () -> 1 if the caller's mm is eager (the `eager` bootarg), else 0. */
#define SYS_mmlab_max_map_count                                                                              \
	1010 /**< (n) -> the limit before; n > 0 sets vm.max_map_count (the runner restores it), 0 only reads. */
/** @} */

/** Highest number the table holds, plus one. */
#define NR_SYSCALLS 1024

/** A system call: the six argument registers a0..a5. */
typedef long (*syscall_fn)(uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5);

/**
 * Install @p fn as system call @p nr.
 * @return 0; -EINVAL for @p nr out of range or a NULL @p fn; -EEXIST if the
 *         number is taken.
 */
int syscall_register(unsigned nr, syscall_fn fn);

#endif
