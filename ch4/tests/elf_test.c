/*
 * ch4.elf: the ELF64 loader on images built here, one defect at a time
 * (every one -ENOEXEC, never a fault), on the real programs of the
 * initramfs, and loading into an mm.
 */
#include "cpio.h"
#include "elf.h"
#include "errno.h"
#include "ktest.h"
#include "mm.h"
#include "string.h"

#define BASE 0x10000UL

/* A small valid image: the header, two program headers (text R-X at BASE,
 * data RW- at BASE + 0x2000 with a .bss), then code bytes. */
static struct {
	struct elf64_ehdr eh;
	struct elf64_phdr ph[2];
	uint8_t code[64];
} __attribute__((aligned(8))) img;

static void build(void)
{
	memset(&img, 0, sizeof(img));
	memcpy(img.eh.e_ident,
	       "\x7f"
	       "ELF",
	       4);
	img.eh.e_ident[4] = ELFCLASS64;
	img.eh.e_ident[5] = ELFDATA2LSB;
	img.eh.e_ident[6] = EV_CURRENT;
	img.eh.e_type = ET_EXEC;
	img.eh.e_machine = EM_RISCV;
	img.eh.e_version = EV_CURRENT;
	img.eh.e_entry = BASE + offsetof(typeof(img), code);
	img.eh.e_phoff = sizeof(img.eh);
	img.eh.e_ehsize = sizeof(img.eh);
	img.eh.e_phentsize = sizeof(struct elf64_phdr);
	img.eh.e_phnum = 2;
	img.ph[0] =
		(struct elf64_phdr){PT_LOAD, PF_R | PF_X, 0, BASE, BASE, sizeof(img), sizeof(img), PAGE_SIZE};
	img.ph[1] = (struct elf64_phdr){PT_LOAD, PF_R | PF_W, 0, BASE + 0x2000, 0, 16, 0x1800, PAGE_SIZE};
}

static int check(void)
{
	struct elf_info info;
	return elf_check(&img, sizeof(img), &info);
}

KTEST(ch4_elf, valid_image_passes)
{
	build();
	struct elf_info info;
	KASSERT_EQ(elf_check(&img, sizeof(img), &info), 0);
	KEXPECT_EQ(info.entry, BASE + offsetof(typeof(img), code));
	KEXPECT_EQ(info.phdr, BASE + sizeof(img.eh));
	KEXPECT_EQ(info.phnum, 2);
	KEXPECT_EQ(info.brk_start, BASE + 0x4000); /* the page after the .bss */
}

KTEST(ch4_elf, truncated_header)
{
	build();
	struct elf_info info;
	KEXPECT_EQ(elf_check(&img, 10, &info), -ENOEXEC);
	KEXPECT_EQ(elf_check(&img, sizeof(img.eh) - 1, &info), -ENOEXEC);
	KEXPECT_EQ(elf_check(NULL, 0, &info), -ENOEXEC);
	/* The header whole, the program headers cut. */
	KEXPECT_EQ(elf_check(&img, sizeof(img.eh) + 8, &info), -ENOEXEC);
}

KTEST(ch4_elf, bad_identification)
{
	build();
	img.eh.e_ident[0] = 0x7e;
	KEXPECT_EQ(check(), -ENOEXEC);
	build();
	img.eh.e_ident[4] = 1; /* ELFCLASS32 */
	KEXPECT_EQ(check(), -ENOEXEC);
	build();
	img.eh.e_ident[5] = 2; /* big-endian */
	KEXPECT_EQ(check(), -ENOEXEC);
	build();
	img.eh.e_machine = 62; /* x86-64 */
	KEXPECT_EQ(check(), -ENOEXEC);
	build();
	img.eh.e_type = 3; /* ET_DYN */
	KEXPECT_EQ(check(), -ENOEXEC);
	build();
	img.eh.e_phentsize = 32;
	KEXPECT_EQ(check(), -ENOEXEC);
	build();
	img.eh.e_phnum = 0;
	KEXPECT_EQ(check(), -ENOEXEC);
}

KTEST(ch4_elf, phdrs_out_of_bounds)
{
	build();
	img.eh.e_phoff = sizeof(img) - 8;
	KEXPECT_EQ(check(), -ENOEXEC);
	build();
	img.eh.e_phoff = UINT64_MAX - 8; /* an offset that wraps */
	KEXPECT_EQ(check(), -ENOEXEC);
	build();
	img.eh.e_phnum = 0xffff;
	KEXPECT_EQ(check(), -ENOEXEC);
}

KTEST(ch4_elf, segment_outside_the_file)
{
	build();
	img.ph[0].p_filesz = sizeof(img) + 1;
	img.ph[0].p_memsz = sizeof(img) + 1;
	KEXPECT_EQ(check(), -ENOEXEC);
	build();
	img.ph[1].p_offset = UINT64_MAX - 4; /* wraps with filesz */
	img.ph[1].p_vaddr = BASE + 0x2000 + ((UINT64_MAX - 4) & (PAGE_SIZE - 1));
	KEXPECT_EQ(check(), -ENOEXEC);
	build();
	img.ph[1].p_filesz = img.ph[1].p_memsz + 1; /* filesz > memsz */
	KEXPECT_EQ(check(), -ENOEXEC);
	build();
	img.ph[1].p_vaddr += 8; /* not congruent with its offset modulo the page size */
	KEXPECT_EQ(check(), -ENOEXEC);
}

KTEST(ch4_elf, write_and_execute_refused)
{
	build();
	img.ph[0].p_flags = PF_R | PF_W | PF_X;
	KEXPECT_EQ(check(), -ENOEXEC);
	build();
	img.ph[1].p_flags = PF_W | PF_X;
	KEXPECT_EQ(check(), -ENOEXEC);
}

KTEST(ch4_elf, segment_in_kernel_half_or_stack_refused)
{
	build();
	img.ph[1].p_vaddr = 0xffffffc000002000UL; /* the direct map */
	KEXPECT_EQ(check(), -ENOEXEC);
	build();
	img.ph[1].p_vaddr = USER_TOP - 0x1000;
	KEXPECT_EQ(check(), -ENOEXEC);
	build();
	img.ph[1].p_vaddr = USER_STACK_TOP - 0x2000; /* into the stack */
	KEXPECT_EQ(check(), -ENOEXEC);
	build();
	img.ph[1].p_vaddr = 0x2000; /* below USER_MIN */
	KEXPECT_EQ(check(), -ENOEXEC);
	build();
	img.ph[1].p_memsz = UINT64_MAX - 0x1000; /* wraps */
	KEXPECT_EQ(check(), -ENOEXEC);
}

KTEST(ch4_elf, entry_overlap_and_interp)
{
	build();
	img.eh.e_entry = BASE + 0x2000; /* in the data segment: not executable */
	KEXPECT_EQ(check(), -ENOEXEC);
	build();
	img.ph[1].p_vaddr = BASE + 0x0800; /* shares the text's page */
	KEXPECT_EQ(check(), -ENOEXEC);
	build();
	img.ph[1].p_type = PT_INTERP;
	KEXPECT_EQ(check(), -ENOEXEC);
	build();
	img.ph[1].p_type = 0x6474e551; /* PT_GNU_STACK: ignored */
	KEXPECT_EQ(check(), 0);
}

KTEST(ch4_elf, every_program_of_the_initramfs_passes)
{
	struct cpio_file f;
	KASSERT_EQ(initramfs_find("hello", &f), 0);
	struct elf_info info;
	KEXPECT_EQ(elf_check(f.data, f.size, &info), 0);
	KEXPECT_GE(info.entry, USER_MIN);
	KEXPECT_NE(info.phdr, 0);
}

KTEST(ch4_elf, load_makes_areas_with_the_segments_permissions)
{
	build();
	struct mm *mm = mm_create();
	KASSERT_NOT_NULL(mm);
	struct elf_info info;
	int err = elf_load(mm, &img, sizeof(img), "test", &info);
	KEXPECT_EQ(err, 0);
	spin_lock(&mm->lock);
	struct vma *text = mm_find_vma(mm, BASE), *data = mm_find_vma(mm, BASE + 0x3000);
	KEXPECT_TRUE(text && text->prot == (VM_READ | VM_EXEC) && text->end == BASE + PAGE_SIZE);
	KEXPECT_TRUE(data && data->prot == (VM_READ | VM_WRITE) && data->end == BASE + 0x4000);
	KEXPECT_NULL(mm_find_vma(mm, BASE + 0x1000));
	spin_unlock(&mm->lock);
	KEXPECT_EQ(mm->brk_start, BASE + 0x4000);
	/* A bad image is refused with the mm as it was. */
	img.ph[0].p_flags |= PF_W;
	KEXPECT_EQ(elf_load(mm, &img, sizeof(img), "test", &info), -ENOEXEC);
	mm_put(mm);
}
