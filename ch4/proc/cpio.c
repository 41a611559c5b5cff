/*
 * The cpio "newc" reader of the initramfs (cpio.h). Reference: Linux
 * init/initramfs.c (parse_header); cpio(5).
 */
#include "cpio.h"
#include "errno.h"
#include "initramfs.h"
#include "string.h"

#define NEWC_HEADER   110
#define NEWC_FILESIZE 54
#define NEWC_NAMESIZE 94

/* The 8 hex digits at @p p, or -1. */
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

/* @p off rounded up to 4, relative to the archive's start. */
static size_t pad4(size_t off) { return (off + 3) & ~3UL; }

int cpio_for_each(const char *start, const char *end, int (*fn)(const struct cpio_file *f, void *arg),
		  void *arg)
{
	if (!start || end < start)
		return -EINVAL;
	size_t total = (size_t)(end - start), off = 0;
	while (total - off >= NEWC_HEADER) {
		const char *h = start + off;
		if (memcmp(h, "070701", 6) != 0)
			return -EINVAL;
		long filesize = hex8(h + NEWC_FILESIZE), namesize = hex8(h + NEWC_NAMESIZE);
		if (filesize < 0 || namesize <= 0)
			return -EINVAL;
		size_t name_off = off + NEWC_HEADER;
		if ((size_t)namesize > total - name_off)
			return -EINVAL;
		const char *name = start + name_off;
		if (name[namesize - 1] != '\0' || strnlen(name, namesize) != (size_t)namesize - 1)
			return -EINVAL;
		size_t data_off = pad4(name_off + namesize);
		if (data_off > total || (size_t)filesize > total - data_off)
			return -EINVAL;
		if (strcmp(name, "TRAILER!!!") == 0)
			return 0;
		struct cpio_file f = {name, start + data_off, (size_t)filesize};
		int r = fn(&f, arg);
		if (r)
			return r;
		off = pad4(data_off + filesize);
	}
	return -EINVAL; /* no trailer */
}

struct find_arg {
	const char *name;
	struct cpio_file *out;
};

static int match(const struct cpio_file *f, void *arg)
{
	struct find_arg *a = arg;
	if (strcmp(f->name, a->name) != 0)
		return 0;
	*a->out = *f;
	return 1;
}

int cpio_find(const char *start, const char *end, const char *name, struct cpio_file *out)
{
	while (*name == '/')
		name++;
	if (!*name)
		return -ENOENT;
	struct find_arg a = {name, out};
	int r = cpio_for_each(start, end, match, &a);
	return r == 1 ? 0 : r < 0 ? r : -ENOENT;
}

int initramfs_find(const char *name, struct cpio_file *out)
{
	return cpio_find(_initramfs_start, _initramfs_end, name, out);
}
