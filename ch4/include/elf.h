/**
 * @file elf.h
 * @brief ELF64 executables for riscv64: the header structures and the
 *        loader that makes their PT_LOAD segments into areas of an mm.
 *
 * Only static executables (ET_EXEC, EM_RISCV, little-endian, 64-bit) are
 * accepted; every header field and bound is checked and anything wrong is
 * -ENOEXEC, never a fault or a panic: the image may be anything.
 *
 * Reference: the System V gABI (ELF-64 Object File Format, version 1.5);
 * the RISC-V ELF psABI; Linux fs/binfmt_elf.c (load_elf_binary).
 */
#ifndef MMLAB_ELF_H
#define MMLAB_ELF_H

#include "types.h"

struct mm;

/** The ELF64 file header (gABI "ELF Header"). */
struct elf64_ehdr {
	uint8_t e_ident[16];  /**< Magic, class, data, version, OS ABI. */
	uint16_t e_type;      /**< ET_EXEC. */
	uint16_t e_machine;   /**< EM_RISCV. */
	uint32_t e_version;   /**< EV_CURRENT. */
	uint64_t e_entry;     /**< Virtual address of the first instruction. */
	uint64_t e_phoff;     /**< File offset of the program headers. */
	uint64_t e_shoff;     /**< File offset of the section headers (unused). */
	uint32_t e_flags;     /**< Processor flags (unused). */
	uint16_t e_ehsize;    /**< Bytes of this header. */
	uint16_t e_phentsize; /**< Bytes of one program header. */
	uint16_t e_phnum;     /**< Program headers. */
	uint16_t e_shentsize; /**< Bytes of one section header. */
	uint16_t e_shnum;     /**< Section headers. */
	uint16_t e_shstrndx;  /**< Section-name table index. */
};

/** An ELF64 program header (gABI "Program Header"). */
struct elf64_phdr {
	uint32_t p_type;   /**< PT_LOAD, ... */
	uint32_t p_flags;  /**< PF_R | PF_W | PF_X. */
	uint64_t p_offset; /**< File offset of the segment. */
	uint64_t p_vaddr;  /**< Its virtual address. */
	uint64_t p_paddr;  /**< Unused. */
	uint64_t p_filesz; /**< Bytes in the file. */
	uint64_t p_memsz;  /**< Bytes in memory (the rest is zero: .bss). */
	uint64_t p_align;  /**< Alignment (unused beyond the page congruence). */
};

/** @name ELF constants (the System V gABI, elf(5))
 * @{ */
#define ELFCLASS64  2	/**< e_ident[EI_CLASS]: 64-bit objects. */
#define ELFDATA2LSB 1	/**< e_ident[EI_DATA]: little-endian. */
#define EV_CURRENT  1	/**< e_ident[EI_VERSION] and e_version. */
#define ET_EXEC	    2	/**< e_type: an executable (not PIE, not shared). */
#define EM_RISCV    243 /**< e_machine: RISC-V. */
#define PT_LOAD	    1	/**< p_type: a segment to map. */
#define PT_INTERP   3	/**< p_type: asks for a dynamic loader (refused). */
#define PF_X	    0x1 /**< p_flags: executable. */
#define PF_W	    0x2 /**< p_flags: writable. */
#define PF_R	    0x4 /**< p_flags: readable. */
/** @} */

/** Program headers an image may have at most. */
#define ELF_MAX_PHDRS 32

/** @name Auxiliary vector types (Linux include/uapi/linux/auxvec.h)
 * @{ */
#define AT_NULL	  0  /**< The end of the vector. */
#define AT_PHDR	  3  /**< Where the program headers are in memory. */
#define AT_PHENT  4  /**< Bytes of one program header. */
#define AT_PHNUM  5  /**< Program headers. */
#define AT_PAGESZ 6  /**< The page size. */
#define AT_ENTRY  9  /**< The program's entry point. */
#define AT_RANDOM 25 /**< Address of 16 random bytes. */
/** @} */

/** What the loader learnt about an image. */
struct elf_info {
	vaddr_t entry;	   /**< e_entry. */
	vaddr_t phdr;	   /**< Where the program headers are in memory (AT_PHDR), or 0. */
	uint16_t phnum;	   /**< e_phnum. */
	vaddr_t brk_start; /**< The page after the highest segment. */
};

/**
 * Check the image [@p img, @p img + @p size) (any alignment): the header,
 * every program header, every PT_LOAD segment's bounds in the file and in
 * user space (page-congruent, at or above USER_MIN, below the stack's guard
 * gap, no overflow, not overlapping another segment's pages), W^X (no
 * segment both writable and executable), no PT_INTERP, and an entry point
 * inside an executable segment.
 * @return 0 and @p out filled, or -ENOEXEC.
 */
int elf_check(const void *img, size_t size, struct elf_info *out);

struct vma;

/**
 * Optional: how a segment's area gets its pages. NULL (ch4): the data
 * backend, over the image's bytes. ch5 sets it (once, at an initcall) to
 * map the program's file through the page cache instead, so that
 * processes running one program share its text frames. It is called with
 * @p vma filled in for the data backend (range, permissions, pgoff =
 * offset in the image of its first page, data_size = bytes of the file from
 * there, name = @p name) before the area is added, and may change the
 * backend and private_data.
 * @return 0, or a negative errno (then @p vma must be as it was).
 */
extern int (*elf_segment_hook)(struct vma *vma, const char *name);

/**
 * Check the image [@p img, @p img + @p size) (elf_check()) and add an area per PT_LOAD segment to
 * @p mm (data_backend over the image, which must outlive the mm: the
 * initramfs does, or #elf_segment_hook's; permissions from p_flags;
 * named @p name); set the mm's
 * brk_start and brk.
 * @return 0 and @p out filled; -ENOEXEC; -ENOMEM. On error the areas added so far stay: the
 *         caller drops the whole mm.
 */
int elf_load(struct mm *mm, const void *img, size_t size, const char *name, struct elf_info *out);

#endif
