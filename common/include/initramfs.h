/**
 * @file initramfs.h
 * @brief The user programs packed into the kernel image (ch4 on).
 *
 * The Makefile builds every chN/user/NAME.c of the kernel's chapters into a
 * static user program NAME (linked with the chapters' chN/user/lib), and
 * packs them into one cpio archive in the "newc" format (cpio(5): each file
 * a 110-byte ASCII header with magic "070701", its name, its data, each
 * padded to 4 bytes; a last entry named "TRAILER!!!"), which
 * common/boot/initramfs.S links into .rodata. ch4's exec reads programs from
 * it, as Linux reads its initramfs (Documentation/driver-api/early-userspace).
 * Before ch4 the archive holds the trailer alone.
 */
#ifndef MMLAB_INITRAMFS_H
#define MMLAB_INITRAMFS_H

/** First byte of the archive (a link address; read-only, 8-byte aligned). */
extern const char _initramfs_start[];
/** One past the archive's last byte (the archive's own padding included). */
extern const char _initramfs_end[];

#endif
