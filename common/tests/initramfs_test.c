/* common.initramfs: the archive of user programs the build links in (initramfs.h). */
#include "initramfs.h"
#include "ktest.h"
#include "string.h"

/* The number a newc header field of 8 hex digits at @p p holds, or -1. */
static long hex8(const char *p)
{
	long v = 0;
	for (int i = 0; i < 8; i++) {
		char c = p[i];
		int d = c >= '0' && c <= '9'   ? c - '0'
			: c >= 'A' && c <= 'F' ? c - 'A' + 10
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
					       : -1;
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/*
 * Walk the archive's entries (cpio(5), "newc": a 110-byte header, the name,
 * padding to 4, the data, padding to 4) up to the trailer: the number of
 * files before it, or -1 if the archive is cut short or a header is wrong.
 */
static long count_files(const char *p, const char *end)
{
	long files = 0;
	while (end - p >= 110) {
		if (memcmp(p, "070701", 6) != 0)
			return -1;
		long filesize = hex8(p + 54), namesize = hex8(p + 94);
		if (filesize < 0 || namesize <= 0)
			return -1;
		const char *name = p + 110;
		if (end - name < namesize)
			return -1;
		if (namesize == 11 && memcmp(name, "TRAILER!!!", 11) == 0)
			return files;
		const char *data = (const char *)(((uintptr_t)name + namesize + 3) & ~3UL);
		if (end - data < filesize)
			return -1;
		p = (const char *)(((uintptr_t)data + filesize + 3) & ~3UL);
		files++;
	}
	return -1;
}

KTEST(common_initramfs, well_formed_newc)
{
	KASSERT_TRUE(_initramfs_end - _initramfs_start >= 110);
	KEXPECT_TRUE(((uintptr_t)_initramfs_start & 3) == 0); /* newc's padding is relative to the start */
	long files = count_files(_initramfs_start, _initramfs_end);
	KEXPECT_TRUE(files >= 0);
#if MMLAB_CH < 4
	KEXPECT_EQ(files, 0); /* no user programs before ch4: the trailer alone */
#endif
}
