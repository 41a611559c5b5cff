/**
 * @file uaccess.h
 * @brief The kernel's only ways into user memory (Linux's
 *        include/linux/uaccess.h).
 *
 * Each copy checks that the whole user range lies below #USER_TOP (no
 * overflow, no kernel address), then sets sstatus.SUM for the copy alone
 * (RISC-V privileged spec 4.1.1.2: without SUM, S-mode faults on U pages)
 * and copies with instructions that have exception-table entries
 * (common/lib/probe.c's __ex_table), so a fault that the page-fault handler
 * cannot resolve ends the copy with -EFAULT instead of a kernel panic. They
 * work on the address space active on this hart.
 *
 * On -EFAULT the kernel-side buffer may be partly written, the user side
 * may be partly written: the caller sees the error and must not use either.
 */
#ifndef MMLAB_UACCESS_H
#define MMLAB_UACCESS_H

#include "errno.h"
#include "types.h"

/** True if [@p uaddr, @p uaddr + @p len) is a user range (no wrap, below USER_TOP). */
bool access_ok(vaddr_t uaddr, size_t len);

/**
 * Copy @p len bytes from user address @p usrc into @p dst.
 * @return 0, or -EFAULT (bad range, unmapped page, no read permission).
 */
int copy_from_user(void *dst, vaddr_t usrc, size_t len);

/**
 * Copy @p len bytes from @p src to user address @p udst.
 * @return 0, or -EFAULT (bad range, unmapped page, no write permission).
 */
int copy_to_user(vaddr_t udst, const void *src, size_t len);

/**
 * Copy the NUL-terminated string at user address @p usrc into @p dst (room
 * for @p size bytes, the NUL included).
 * @return its length (without the NUL); -ENAMETOOLONG if no NUL is within
 *         @p size bytes; -EFAULT.
 */
long strncpy_from_user(char *dst, vaddr_t usrc, size_t size);

/**
 * Write @p len zero bytes at user address @p udst.
 * @return 0, or -EFAULT.
 */
int clear_user(vaddr_t udst, size_t len);

/**
 * The raw copy (uaccess.S): copy @p len bytes from @p src to @p dst, either
 * of which may be a user address, with SUM already set by the caller.
 * @return the number of bytes NOT copied: 0 on success, more if a load or a
 *         store faulted (Linux's __asm_copy_to_user).
 */
size_t __copy_user(void *dst, const void *src, size_t len);

/** The same for zeroing @p len bytes at @p dst: @return the bytes not zeroed. */
size_t __clear_user(void *dst, size_t len);

#endif
