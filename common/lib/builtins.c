/*
 * The few libgcc helpers that __builtin_popcount/clz/ctz become on rv64imac
 * (no Zbb). Debian's riscv64-unknown-elf toolchain ships libgcc only for the
 * double-float ABI, which cannot link with this soft-float kernel, so the
 * kernel carries its own.
 */
#include "types.h"

int __popcountdi2(uint64_t x);
int __clzdi2(uint64_t x);
int __ctzdi2(uint64_t x);

int __popcountdi2(uint64_t x)
{
	int n = 0;
	for (; x; x &= x - 1)
		n++;
	return n;
}

/* Undefined for 0, as the builtin is; returns 64 to be safe. */
int __clzdi2(uint64_t x)
{
	int n = 0;
	if (!x)
		return 64;
	for (uint64_t bit = 1UL << 63; !(x & bit); bit >>= 1)
		n++;
	return n;
}

int __ctzdi2(uint64_t x)
{
	int n = 0;
	if (!x)
		return 64;
	for (; !(x & 1); x >>= 1)
		n++;
	return n;
}
