/*
 * User copies: check the range, open user memory to the kernel (sstatus.SUM)
 * for the copy alone, copy with instructions that have fix-ups (uaccess.S)
 * (Linux's include/linux/uaccess.h, arch/riscv/include/asm/uaccess.h).
 */
#include "errno.h"
#include "mm.h"
#include "panic.h"
#include "riscv.h"
#include "uaccess.h"

bool access_ok(vaddr_t uaddr, size_t len) { return uaddr <= USER_TOP && len <= USER_TOP - uaddr; }

/* Without SUM, an S-mode access to a U page faults (privileged spec 4.1.1.2). */
static inline void user_access_begin(void) { csr_set(sstatus, SSTATUS_SUM); }
static inline void user_access_end(void) { csr_clear(sstatus, SSTATUS_SUM); }

int copy_from_user(void *dst, vaddr_t usrc, size_t len)
{
	/* LAB BEGIN ch4 copy in from user memory: check the range, SUM on, __copy_user, SUM off */
	if (!access_ok(usrc, len))
		return -EFAULT;
	user_access_begin();
	size_t left = __copy_user(dst, (const void *)usrc, len);
	user_access_end();
	return left ? -EFAULT : 0;
	/* LAB STUB
	TODO("ch4", "copy_user: copy in from user memory");
	(void)dst, (void)usrc, (void)len;
	return -EFAULT;
	LAB END */
}

int copy_to_user(vaddr_t udst, const void *src, size_t len)
{
	/* LAB BEGIN ch4 copy out to user memory: check the range, SUM on, __copy_user, SUM off */
	if (!access_ok(udst, len))
		return -EFAULT;
	user_access_begin();
	size_t left = __copy_user((void *)udst, src, len);
	user_access_end();
	return left ? -EFAULT : 0;
	/* LAB STUB
	TODO("ch4", "copy_user: copy out to user memory");
	(void)udst, (void)src, (void)len;
	return -EFAULT;
	LAB END */
}

long strncpy_from_user(char *dst, vaddr_t usrc, size_t size)
{
	/* LAB BEGIN ch4 copy a user string: page by page (never past a bad page's start), stop at the NUL */
	size_t done = 0;
	while (done < size) {
		vaddr_t va = usrc + done;
		/* One page at a time: a chunk never reaches into the next page,
		 * which may be bad although the string ends before it. */
		size_t n = MIN(size - done, PAGE_SIZE - (va & (PAGE_SIZE - 1)));
		if (!access_ok(va, n))
			return -EFAULT;
		user_access_begin();
		size_t left = __copy_user(dst + done, (const void *)va, n);
		user_access_end();
		for (size_t i = done; i < done + n - left; i++)
			if (dst[i] == '\0')
				return (long)i;
		if (left)
			return -EFAULT;
		done += n;
	}
	return -ENAMETOOLONG;
	/* LAB STUB
	TODO("ch4", "copy_user: copy a user string");
	(void)dst, (void)usrc, (void)size;
	return -EFAULT;
	LAB END */
}

int clear_user(vaddr_t udst, size_t len)
{
	if (!access_ok(udst, len))
		return -EFAULT;
	user_access_begin();
	size_t left = __clear_user((void *)udst, len);
	user_access_end();
	return left ? -EFAULT : 0;
}
