/*
 * exec from the page cache: ch4's ELF loader asks this hook (elf.h's
 * elf_segment_hook) how to map each segment, and gets a private file
 * mapping of the program's initramfs file instead of the data backend. Two
 * processes running one program then map the same cache frames for its
 * text and read-only data (read-only, copy-on-write), and only pages they
 * write are their own; the bytes past a segment's p_filesz read as zeros
 * (file_backend.c, fa->exec), as Linux's load_elf_binary arranges with
 * padzero and an anonymous .bss.
 *
 * Reference: Linux fs/binfmt_elf.c (elf_map: vm_mmap of the file,
 * MAP_PRIVATE), mm/filemap.c (the text is the file's page cache).
 */
#include "cpio.h"
#include "elf.h"
#include "errno.h"
#include "fs.h"
#include "initcall.h"
#include "pagecache_internal.h"

static int map_segment_from_cache(struct vma *vma, const char *name)
{
	/* Only an image that is the initramfs file of that name (a kernel
	 * test may load an image of its own under any name). */
	struct cpio_file cf;
	if (initramfs_find(name, &cf) != 0 || cf.data != vma->private_data)
		return 0; /* the data backend */
	struct file *file = fs_open_exec(name);
	if (!file)
		return 0; /* out of memory for the file: the data backend does without */
	struct file_area *fa = file_area_new(file, false, true);
	file_put(file); /* the area holds its own reference */
	if (!fa)
		return -ENOMEM;
	vma->backend = &file_backend;
	file_area_attach(fa, vma);
	return 0;
}

static int exec_pagecache_init(void)
{
	elf_segment_hook = map_segment_from_cache;
	return 0;
}
initcall(INIT_PROC, exec_pagecache_init);
