/*
 * The ELF64 loader (elf.h). Headers are copied out of the image before
 * they are read: the initramfs only promises 4-byte alignment.
 *
 * Reference: Linux fs/binfmt_elf.c (load_elf_binary, elf_map); the System V
 * gABI; the RISC-V ELF psABI.
 */
#include "elf.h"
#include "errno.h"
#include "mm.h"
#include "string.h"
#include "vma.h"

/* The highest address a segment may reach: the stack's guard gap starts there. */
#define ELF_USER_LIMIT (USER_STACK_TOP - USER_STACK_SIZE - USER_STACK_GUARD)

static bool header_ok(const struct elf64_ehdr *eh, size_t size)
{
	static const uint8_t magic[4] = {0x7f, 'E', 'L', 'F'};
	if (memcmp(eh->e_ident, magic, 4) != 0 || eh->e_ident[4] != ELFCLASS64 ||
	    eh->e_ident[5] != ELFDATA2LSB || eh->e_ident[6] != EV_CURRENT)
		return false;
	if (eh->e_type != ET_EXEC || eh->e_machine != EM_RISCV || eh->e_version != EV_CURRENT)
		return false;
	if (eh->e_ehsize < sizeof(*eh) || eh->e_phentsize != sizeof(struct elf64_phdr))
		return false;
	if (eh->e_phnum == 0 || eh->e_phnum > ELF_MAX_PHDRS)
		return false;
	/* Program headers inside the file (no overflow: phnum * 56 is small). */
	return eh->e_phoff <= size && eh->e_phnum * sizeof(struct elf64_phdr) <= size - eh->e_phoff;
}

/* A PT_LOAD segment's bounds: in the file, in user space, page congruence, W^X. */
static bool segment_ok(const struct elf64_phdr *ph, size_t size)
{
	if (ph->p_filesz > ph->p_memsz || ph->p_offset > size || ph->p_filesz > size - ph->p_offset)
		return false;
	if ((ph->p_vaddr - ph->p_offset) % PAGE_SIZE != 0)
		return false;
	if ((ph->p_flags & PF_W) && (ph->p_flags & PF_X))
		return false; /* W^X for user pages too */
	if (ph->p_vaddr < USER_MIN || ph->p_vaddr >= ELF_USER_LIMIT ||
	    ph->p_memsz > ELF_USER_LIMIT - ph->p_vaddr)
		return false; /* below mmap_min_addr, or into the stack, the kernel half, or a wrap */
	return true;
}

static vaddr_t seg_start(const struct elf64_phdr *ph) { return ALIGN_DOWN(ph->p_vaddr, PAGE_SIZE); }
static vaddr_t seg_end(const struct elf64_phdr *ph) { return ALIGN_UP(ph->p_vaddr + ph->p_memsz, PAGE_SIZE); }

static unsigned seg_prot(const struct elf64_phdr *ph)
{
	return (ph->p_flags & PF_R ? VM_READ : 0) | (ph->p_flags & PF_W ? VM_WRITE : 0) |
	       (ph->p_flags & PF_X ? VM_EXEC : 0);
}

/* Copy the program headers of a checked header out of the image. */
static void read_phdrs(const void *img, const struct elf64_ehdr *eh, struct elf64_phdr *ph)
{
	memcpy(ph, (const char *)img + eh->e_phoff, eh->e_phnum * sizeof(*ph));
}

int elf_check(const void *img, size_t size, struct elf_info *out)
{
	struct elf64_ehdr eh;
	struct elf64_phdr ph[ELF_MAX_PHDRS];
	if (!img || size < sizeof(eh))
		return -ENOEXEC;
	memcpy(&eh, img, sizeof(eh));
	if (!header_ok(&eh, size))
		return -ENOEXEC;
	read_phdrs(img, &eh, ph);
	*out = (struct elf_info){.entry = eh.e_entry, .phnum = eh.e_phnum};
	bool entry_ok = false;
	for (int i = 0; i < eh.e_phnum; i++) {
		if (ph[i].p_type == PT_INTERP)
			return -ENOEXEC; /* no dynamic linker here */
		if (ph[i].p_type != PT_LOAD || ph[i].p_memsz == 0)
			continue;
		if (!segment_ok(&ph[i], size))
			return -ENOEXEC;
		for (int j = 0; j < i; j++)
			if (ph[j].p_type == PT_LOAD && ph[j].p_memsz && seg_start(&ph[i]) < seg_end(&ph[j]) &&
			    seg_start(&ph[j]) < seg_end(&ph[i]))
				return -ENOEXEC; /* two segments share a page */
		if ((ph[i].p_flags & PF_X) && eh.e_entry >= ph[i].p_vaddr &&
		    eh.e_entry - ph[i].p_vaddr < ph[i].p_memsz)
			entry_ok = true;
		if (eh.e_phoff >= ph[i].p_offset && eh.e_phoff - ph[i].p_offset < ph[i].p_filesz)
			out->phdr = ph[i].p_vaddr + (eh.e_phoff - ph[i].p_offset);
		if (seg_end(&ph[i]) > out->brk_start)
			out->brk_start = seg_end(&ph[i]);
	}
	return entry_ok ? 0 : -ENOEXEC;
}

int (*elf_segment_hook)(struct vma *vma, const char *name);

/* Add the area of checked segment @ph of @img to @mm. */
static int map_segment(struct mm *mm, const void *img, const struct elf64_phdr *ph, const char *name)
{
	vaddr_t start = seg_start(ph), lead = ph->p_vaddr - start;
	struct vma *vma = vma_alloc(start, seg_end(ph), seg_prot(ph), 0, &data_backend);
	if (!vma)
		return -ENOMEM;
	/* The file's bytes from the page boundary on, as Linux maps the whole page. */
	vma->private_data = (void *)img;
	vma->pgoff = ph->p_offset - lead;
	vma->data_size = ph->p_filesz + lead;
	vma->name = name;
	int err = elf_segment_hook ? elf_segment_hook(vma, name) : 0;
	if (err) {
		vma_free(vma);
		return err;
	}
	err = mm_add_vma(mm, vma, 0);
	if (err) {
		vma_free(vma);
		return err == -ENOMEM ? -ENOMEM : -ENOEXEC;
	}
	return 0;
}

int elf_load(struct mm *mm, const void *img, size_t size, const char *name, struct elf_info *out)
{
	int err = elf_check(img, size, out);
	if (err)
		return err;
	struct elf64_ehdr eh;
	struct elf64_phdr ph[ELF_MAX_PHDRS];
	memcpy(&eh, img, sizeof(eh));
	read_phdrs(img, &eh, ph);
	for (int i = 0; i < eh.e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD || ph[i].p_memsz == 0)
			continue;
		err = map_segment(mm, img, &ph[i], name);
		if (err)
			return err;
	}
	mm->brk_start = mm->brk = out->brk_start;
	return 0;
}
