/*
 * ch4.uaccess: user copies on an mm made active on this hart, against every
 * kind of bad pointer. The layout: [UP(0), UP(2)) read-write, [UP(2), UP(3))
 * read-only, UP(3) unmapped.
 */
#include "mm_test.h"
#include "riscv.h"
#include "uaccess.h"

#define RW   (VM_READ | VM_WRITE)
#define HOLE UP(3)

static bool sum_is_clear(void) { return !(csr_read(sstatus) & SSTATUS_SUM); }

/* Run @body on the layout above, active on this hart; every frame must come back. */
static void with_user(void (*body)(struct mm *mm))
{
	MM_BEGIN(mm, before);
	bool ok = add_anon(mm, UP(0), UP(2), RW) == 0 && add_anon(mm, UP(2), UP(3), VM_READ) == 0;
	KEXPECT_TRUE(ok);
	if (ok) {
		mm_activate(mm);
		body(mm);
		mm_activate(NULL);
	}
	MM_END(mm, before);
}

static void round_trip(struct mm *mm)
{
	static const char msg[] = "hello from the kernel, across a page";
	char back[sizeof(msg)] = {0};
	vaddr_t at = UP(1) - 10;
	KEXPECT_EQ(copy_to_user(at, msg, sizeof(msg)), 0);
	KEXPECT_TRUE(sum_is_clear());
	KEXPECT_EQ(peek(mm, at), 'h');
	KEXPECT_EQ(peek(mm, UP(1) + 1), msg[11]);
	KEXPECT_EQ(copy_from_user(back, at, sizeof(msg)), 0);
	KEXPECT_TRUE(sum_is_clear());
	KEXPECT_EQ(memcmp(back, msg, sizeof(msg)), 0);
	KEXPECT_TRUE(poke(mm, UP(2) + 4, 0x66)); /* read-only for the user, readable */
	char c = 0;
	KEXPECT_EQ(copy_from_user(&c, UP(2) + 4, 1), 0);
	KEXPECT_EQ(c, 0x66);
	KEXPECT_EQ(clear_user(at, 5), 0);
	KEXPECT_EQ(peek(mm, at + 4), 0);
	KEXPECT_EQ(peek(mm, at + 5), msg[5]);
	KEXPECT_EQ(copy_to_user(at, msg, 0), 0);
	KEXPECT_EQ(copy_from_user(back, HOLE, 0), 0); /* nothing to touch */
}

KTEST(ch4_uaccess, round_trip) { with_user(round_trip); }

static void bad_pointers(struct mm *mm)
{
	char buf[32] = {0}, kernel_byte = 1;
	(void)mm;
	vaddr_t bad[] = {0,
			 8,
			 HOLE,
			 HOLE + 100,
			 USER_TOP,
			 USER_TOP - 1 + 0 * sizeof(buf),
			 (vaddr_t)&kernel_byte,
			 KERNEL_BASE,
			 -1UL};
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		KEXPECT_EQ(copy_from_user(buf, bad[i], 1), -EFAULT);
		KEXPECT_TRUE(sum_is_clear());
		KEXPECT_EQ(copy_to_user(bad[i], buf, 1), -EFAULT);
		KEXPECT_TRUE(sum_is_clear());
		KEXPECT_EQ(clear_user(bad[i], 1), -EFAULT);
		KEXPECT_EQ(strncpy_from_user(buf, bad[i], sizeof(buf)), -EFAULT);
		KEXPECT_TRUE(sum_is_clear());
	}
	KEXPECT_EQ(kernel_byte, 1); /* never written through the "user" pointer */
}

KTEST(ch4_uaccess, bad_pointers) { with_user(bad_pointers); }

static void permission_and_straddling(struct mm *mm)
{
	char buf[64];
	memset(buf, 0x5c, sizeof(buf));
	KEXPECT_EQ(copy_to_user(UP(2), buf, 1), -EFAULT); /* read-only page */
	KEXPECT_EQ(clear_user(UP(2) + 8, 8), -EFAULT);
	KEXPECT_EQ(peek(mm, UP(2) + 8), 0);
	/* Buffers whose second page is bad. */
	KEXPECT_EQ(copy_to_user(UP(2) - 16, buf, 32), -EFAULT);
	KEXPECT_EQ(peek(mm, UP(2)), 0);
	KEXPECT_EQ(copy_from_user(buf, HOLE - 16, 32), -EFAULT);
	KEXPECT_EQ(clear_user(UP(2) - 4, 8), -EFAULT);
	/* ... and a buffer starting on a bad page, ending on a good one. */
	KEXPECT_EQ(copy_from_user(buf, USER_MIN - 16, 32), -EFAULT);
	KEXPECT_TRUE(sum_is_clear());
}

KTEST(ch4_uaccess, permission_and_straddling) { with_user(permission_and_straddling); }

static void length_overflow(struct mm *mm)
{
	char buf[8];
	(void)mm;
	KEXPECT_EQ(copy_from_user(buf, UP(0), -1UL), -EFAULT);
	KEXPECT_EQ(copy_to_user(UP(0), buf, -8UL), -EFAULT);
	KEXPECT_EQ(copy_from_user(buf, UP(0), USER_TOP), -EFAULT);
	KEXPECT_EQ(clear_user(UP(0), -1UL), -EFAULT);
	KEXPECT_EQ(copy_from_user(buf, USER_TOP - 4, 8), -EFAULT);
	KEXPECT_FALSE(access_ok(UP(0), -1UL));
	KEXPECT_FALSE(access_ok(USER_TOP - 4, 8));
	KEXPECT_FALSE(access_ok(-4096UL, 8192));
	KEXPECT_TRUE(access_ok(USER_TOP - 8, 8));
	KEXPECT_TRUE(access_ok(UP(0), 0));
}

KTEST(ch4_uaccess, length_overflow) { with_user(length_overflow); }

static void strings(struct mm *mm)
{
	char buf[16];
	static const char s[] = "argv0";
	KEXPECT_EQ(copy_to_user(UP(0), s, sizeof(s)), 0);
	KEXPECT_EQ(strncpy_from_user(buf, UP(0), sizeof(buf)), 5);
	KEXPECT_EQ(strcmp(buf, "argv0"), 0);
	KEXPECT_EQ(strncpy_from_user(buf, UP(0), 6), 5);	     /* just fits */
	KEXPECT_EQ(strncpy_from_user(buf, UP(0), 5), -ENAMETOOLONG); /* no room for the NUL */
	KEXPECT_EQ(strncpy_from_user(buf, UP(0), 0), -ENAMETOOLONG);
	KEXPECT_EQ(strncpy_from_user(buf, UP(0) + 5, sizeof(buf)), 0); /* the empty string */
	/* A string crossing into the next good page. */
	KEXPECT_EQ(copy_to_user(UP(1) - 3, s, sizeof(s)), 0);
	KEXPECT_EQ(strncpy_from_user(buf, UP(1) - 3, sizeof(buf)), 5);
	/* A string ending on the last byte before a hole: fine. */
	KEXPECT_TRUE(poke(mm, HOLE - 3, 'o') && poke(mm, HOLE - 2, 'k') && poke(mm, HOLE - 1, 0));
	KEXPECT_EQ(strncpy_from_user(buf, HOLE - 3, sizeof(buf)), 2);
	KEXPECT_EQ(strcmp(buf, "ok"), 0);
	/* Unterminated up to the hole: -EFAULT, not a long name. */
	KEXPECT_TRUE(poke(mm, HOLE - 1, 'x'));
	KEXPECT_EQ(strncpy_from_user(buf, HOLE - 3, sizeof(buf)), -EFAULT);
	KEXPECT_EQ(strncpy_from_user(buf, HOLE - 3, 3), -ENAMETOOLONG); /* the limit comes first */
	/* Long: a page of non-NUL bytes. */
	for (int i = 0; i < 40; i++)
		KEXPECT_TRUE(poke(mm, UP(0) + 100 + i, 'a'));
	KEXPECT_EQ(strncpy_from_user(buf, UP(0) + 100, sizeof(buf)), -ENAMETOOLONG);
	KEXPECT_TRUE(sum_is_clear());
}

KTEST(ch4_uaccess, strings) { with_user(strings); }
