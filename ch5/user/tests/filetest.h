/*
 * What the file suites (file.c, filemap.c, disk.c) share: the seed files
 * of every ch5 disk image (the rubric's [ch5.disk]) and small helpers over
 * the file calls. Static, like the rest of a suite: include it once.
 */
#ifndef MMLAB_FILETEST_H
#define MMLAB_FILETEST_H

#include "fcntl.h"
#include "utest5.h"

#define PATTERN_FILE "pattern.dat" /* 13288 bytes: byte i is pattern_byte(i) */
#define PATTERN_SIZE 13288L
#define EMPTY_FILE   "empty.dat"
#define PROGRAM_FILE "filepeer" /* an initramfs program (ch5/user/filepeer.c): a read-only file */

/* Byte @i of pattern.dat. */
static inline unsigned char pattern_byte(long i) { return (unsigned char)((i * 31 + (i >> 12)) & 0xff); }

/* Close @fd (if open) and unlink @name (if given): a test's last step. */
static inline void done(int fd, const char *name)
{
	if (fd >= 0)
		close(fd);
	if (name)
		sys_unlink(name);
}

/* The file's size by fstat, or the negative errno. */
static inline long size_of(int fd)
{
	struct stat st;
	long r = sys_fstat(fd, &st);
	return r < 0 ? r : st.st_size;
}

/* The offset of the first byte of [@off, @off + @len) of @fd that is not @c
 * (pread), -1 if all are, -2 if the file ends first. */
static inline long file_first_not(int fd, long off, int c, long len)
{
	static unsigned char buf[4096];
	for (long done = 0; done < len;) {
		long n = len - done < (long)sizeof(buf) ? len - done : (long)sizeof(buf);
		long r = sys_pread64(fd, buf, (size_t)n, off + done);
		if (r <= 0)
			return -2;
		for (long i = 0; i < r; i++)
			if (buf[i] != (unsigned char)c)
				return off + done + i;
		done += r;
	}
	return -1;
}

#endif
