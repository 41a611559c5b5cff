/**
 * @file exec_stack.h
 * @brief The initial stack of a new program (ch4/proc/exec_stack.c).
 */
#ifndef MMLAB_EXEC_STACK_H
#define MMLAB_EXEC_STACK_H

#include "proc.h"
#include "types.h"

struct mm;
struct elf_info;

/**
 * Write the stack of a program starting in @p mm (whose stack area exists),
 * from its arguments and environment @p a and its image's @p info:
 * argc, argv, envp, auxv (AT_PHDR, AT_PHENT, AT_PHNUM, AT_PAGESZ, AT_ENTRY,
 * AT_RANDOM, AT_NULL) and the strings, as Linux lays them out.
 * @param mm      the new address space.
 * @param a       argument and environment strings.
 * @param info    what elf_load() learnt of the image.
 * @param[out] sp_out  the initial stack pointer (at argc, 16-byte aligned).
 * @return 0; -E2BIG if it would take more than half the stack; -ENOMEM.
 */
int exec_stack_build(struct mm *mm, const struct exec_args *a, const struct elf_info *info, vaddr_t *sp_out);

#endif
