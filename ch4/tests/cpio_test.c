/* ch4.cpio: the newc reader on archives built here, whole and damaged. */
#include "cpio.h"
#include "errno.h"
#include "ktest.h"
#include "printk.h"
#include "string.h"

static char arc[512] __attribute__((aligned(4)));

/* Append a newc entry to arc at *off (4-byte padding); returns false if full. */
static void put(size_t *off, const char *name, const char *data, size_t size)
{
	size_t namesize = strlen(name) + 1;
	char hdr[111];
	snprintf(hdr, sizeof(hdr), "070701%08x%08x%08x%08x%08x%08x%08lx%08x%08x%08x%08x%08lx%08x", 1, 0100644,
		 0, 0, 1, 0, size, 0, 0, 0, 0, namesize, 0);
	memcpy(arc + *off, hdr, 110);
	*off += 110;
	memcpy(arc + *off, name, namesize);
	*off = (*off + namesize + 3) & ~3UL;
	memcpy(arc + *off, data, size);
	*off = (*off + size + 3) & ~3UL;
}

static size_t build(void)
{
	memset(arc, 0, sizeof(arc));
	size_t off = 0;
	put(&off, "a", "xyz", 3);
	put(&off, "bb", "", 0);
	put(&off, "ch4.user.x", "12345", 5);
	put(&off, "TRAILER!!!", "", 0);
	return off;
}

KTEST(ch4_cpio, finds_files)
{
	size_t len = build();
	struct cpio_file f;
	KASSERT_EQ(cpio_find(arc, arc + len, "a", &f), 0);
	KEXPECT_EQ(f.size, 3);
	KEXPECT_EQ(memcmp(f.data, "xyz", 3), 0);
	KEXPECT_EQ(cpio_find(arc, arc + len, "/a", &f), 0);
	KEXPECT_EQ(cpio_find(arc, arc + len, "bb", &f), 0);
	KEXPECT_EQ(f.size, 0);
	KEXPECT_EQ(cpio_find(arc, arc + len, "ch4.user.x", &f), 0);
	KEXPECT_EQ(memcmp(f.data, "12345", 5), 0);
	KEXPECT_EQ(cpio_find(arc, arc + len, "c", &f), -ENOENT);
	KEXPECT_EQ(cpio_find(arc, arc + len, "", &f), -ENOENT);
	KEXPECT_EQ(cpio_find(arc, arc + len, "/", &f), -ENOENT);
	KEXPECT_EQ(cpio_find(arc, arc + len, "TRAILER!!!", &f), -ENOENT);
}

KTEST(ch4_cpio, damaged_archives_are_einval)
{
	size_t len = build();
	struct cpio_file f;
	KEXPECT_EQ(cpio_find(arc, arc + 200, "zzz", &f), -EINVAL); /* cut in the middle: no trailer */
	KEXPECT_EQ(cpio_find(arc, arc + 50, "a", &f), -EINVAL);	   /* cut in a header */
	arc[0] = '1';
	KEXPECT_EQ(cpio_find(arc, arc + len, "a", &f), -EINVAL); /* bad magic */
	build();
	arc[54] = 'g'; /* filesize with a non-hex digit */
	KEXPECT_EQ(cpio_find(arc, arc + len, "a", &f), -EINVAL);
	build();
	memcpy(arc + 54, "7fffffff", 8); /* a file past the end */
	KEXPECT_EQ(cpio_find(arc, arc + len, "bb", &f), -EINVAL);
	build();
	memcpy(arc + 94, "00000001", 8); /* name without its NUL */
	KEXPECT_EQ(cpio_find(arc, arc + len, "a", &f), -EINVAL);
}

KTEST(ch4_cpio, the_initramfs_holds_hello)
{
	struct cpio_file f;
	KASSERT_EQ(initramfs_find("/hello", &f), 0);
	KEXPECT_GT(f.size, 64);
	KEXPECT_EQ(memcmp(f.data,
			  "\x7f"
			  "ELF",
			  4),
		   0);
}
