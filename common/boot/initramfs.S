/*
 * The user programs of this kernel's chapters, as the cpio newc archive the
 * Makefile packs from chN/user (INITRAMFS is its path, given by the
 * Makefile). See common/include/initramfs.h. Before ch4 it is empty: the
 * archive's trailer alone.
 */
	.section .rodata.initramfs, "a"
	.balign 8
	.globl _initramfs_start, _initramfs_end
_initramfs_start:
	.incbin INITRAMFS
_initramfs_end:
	.balign 8
