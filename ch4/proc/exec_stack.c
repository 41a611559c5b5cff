/*
 * The new program's stack, laid out as Linux's create_elf_tables() lays it
 * out (and as the RISC-V psABI's process start expects), from sp up:
 *
 *     argc | argv[0..argc-1] | NULL | envp[0..envc-1] | NULL |
 *     auxv (type, value) pairs ending with AT_NULL |
 *     ... 16 random bytes (AT_RANDOM) | the argument and environment strings
 *
 * with sp 16-byte aligned and the strings at the very top. The whole block
 * is built in a kernel buffer and written into the new mm with mm_write()
 * (the mm is not active on this hart yet).
 *
 * Reference: Linux fs/binfmt_elf.c (create_elf_tables), fs/exec.c
 * (copy_strings); the RISC-V ELF psABI "Process Initialization".
 */
#include "elf.h"
#include "errno.h"
#include "exec_stack.h"
#include "kmalloc.h"
#include "mm.h"
#include "riscv.h"
#include "string.h"

#define NR_AUXV 8 /* AT_PHDR AT_PHENT AT_PHNUM AT_PAGESZ AT_ENTRY AT_RANDOM AT_NULL, and one spare */

/* 16 bytes that differ from exec to exec (not cryptographic: AT_RANDOM seeds a stack canary). */
static void random16(uint8_t *out)
{
	uint64_t x = rdtime() ^ (rdinstret() << 17) ^ (uint64_t)out;
	for (int i = 0; i < 16; i++) {
		x ^= x << 13; /* xorshift64 */
		x ^= x >> 7;
		x ^= x << 17;
		out[i] = (uint8_t)x;
	}
}

int exec_stack_build(struct mm *mm, const struct exec_args *a, const struct elf_info *info, vaddr_t *sp_out)
{
	int nvec = 1 + a->argc + 1 + a->envc + 1 + 2 * NR_AUXV;
	vaddr_t strings = USER_STACK_TOP - ALIGN_UP(a->bytes, 8);
	vaddr_t random = ALIGN_DOWN(strings - 16, 16);
	vaddr_t sp = ALIGN_DOWN(random - (vaddr_t)nvec * 8, 16);
	size_t len = USER_STACK_TOP - sp;
	if (len > USER_STACK_SIZE / 2)
		return -E2BIG;
	uint8_t *buf = kzalloc(len);
	if (!buf)
		return -ENOMEM;
	uint64_t *vec = (uint64_t *)buf;
	memcpy(buf + (strings - sp), a->strings, a->bytes);
	random16(buf + (random - sp));
	int v = 0;
	vec[v++] = a->argc;
	const char *s = a->strings;
	for (int i = 0; i < a->argc + a->envc; i++) {
		vec[v++] = strings + (s - a->strings);
		s += strlen(s) + 1;
		if (i == a->argc - 1)
			vec[v++] = 0; /* argv's NULL */
	}
	if (a->argc == 0)
		vec[v++] = 0; /* argv's NULL, for an empty argv */
	vec[v++] = 0;	      /* envp's NULL */
	const uint64_t aux[][2] = {
		{AT_PHDR, info->phdr},
		{AT_PHENT, sizeof(struct elf64_phdr)},
		{AT_PHNUM, info->phnum},
		{AT_PAGESZ, PAGE_SIZE},
		{AT_ENTRY, info->entry},
		{AT_RANDOM, random},
		{AT_NULL, 0},
	};
	for (size_t i = 0; i < ARRAY_SIZE(aux); i++) {
		vec[v++] = aux[i][0];
		vec[v++] = aux[i][1];
	}
	int err = mm_write(mm, sp, buf, len);
	kfree(buf);
	*sp_out = sp;
	return err ? -ENOMEM : 0;
}
