/**
 * @file mmfs_format.h
 * @brief The on-disk format of mmfs, ch5's file store (kernel: ch5/fs;
 *        host: the image tool and the host test). Plain C, no kernel
 *        header: it compiles on the host too.
 *
 * Blocks of #MMFS_BSIZE bytes, little-endian numbers:
 * - block 0, the superblock (struct mmfs_super; the rest of the block zero);
 * - blocks [bitmap_start, bitmap_start + bitmap_blocks): the block bitmap,
 *   bit b (byte b / 8, bit b % 8, LSB first) set when block b is in use;
 *   blocks [0, data_start) are always set;
 * - blocks [inode_start, inode_start + inode_blocks): the inodes, 64 bytes
 *   each (struct mmfs_dinode), #MMFS_INODES_PER_BLOCK a block; inode 0 is
 *   never used, inode 1 (#MMFS_ROOT_INO) is the directory;
 * - the data blocks from data_start on.
 * A file's bytes are in the blocks its map names: direct[i] holds block i,
 * indirect a block of 1024 block numbers (blocks 10 .. 1033), dindirect a
 * block of 1024 indirect blocks (the next 1024 * 1024). 0 in any of them
 * is a hole: its bytes read as zero.
 * The directory is the root inode's data: struct mmfs_dirent entries of 64
 * bytes; ino 0 marks a free slot; names are 1..59 bytes, NUL-terminated,
 * without '/'. One flat directory: no subdirectories.
 */
#ifndef MMLAB_MMFS_FORMAT_H
#define MMLAB_MMFS_FORMAT_H

#include <stdint.h>

#define MMFS_MAGIC    0x53464d4du /**< "MMFS" in memory order, little-endian. */
#define MMFS_VERSION  1u	  /**< The only version. */
#define MMFS_BSIZE    4096u	  /**< Bytes in a block. */
#define MMFS_ROOT_INO 1u	  /**< The directory's inode. */

#define MMFS_T_FREE 0u /**< An unused inode. */
#define MMFS_T_FILE 1u /**< A regular file. */
#define MMFS_T_DIR  2u /**< The directory. */

#define MMFS_NDIRECT   10u		 /**< Direct block numbers in an inode. */
#define MMFS_NINDIRECT (MMFS_BSIZE / 4u) /**< Block numbers in an indirect block: 1024. */
/** Blocks a file can have: direct, indirect and double-indirect. */
#define MMFS_MAX_FILE_BLOCKS   (MMFS_NDIRECT + MMFS_NINDIRECT + MMFS_NINDIRECT * MMFS_NINDIRECT)
#define MMFS_MAX_FILE_SIZE     ((uint64_t)MMFS_MAX_FILE_BLOCKS * MMFS_BSIZE) /**< Bytes: about 4 GiB. */
#define MMFS_INODE_SIZE	       64u			       /**< Bytes of a struct mmfs_dinode. */
#define MMFS_INODES_PER_BLOCK  (MMFS_BSIZE / MMFS_INODE_SIZE)  /**< 64. */
#define MMFS_DIRENT_SIZE       64u			       /**< Bytes of a struct mmfs_dirent. */
#define MMFS_DIRENTS_PER_BLOCK (MMFS_BSIZE / MMFS_DIRENT_SIZE) /**< 64. */
#define MMFS_NAME_MAX	       59u			       /**< Longest name, in bytes (a NUL follows). */
#define MMFS_BITS_PER_BLOCK    (MMFS_BSIZE * 8u)	       /**< Blocks one bitmap block covers. */

/** Block 0. */
struct mmfs_super {
	uint32_t magic;		/**< #MMFS_MAGIC. */
	uint32_t version;	/**< #MMFS_VERSION. */
	uint32_t nblocks;	/**< Blocks in the file store (the bitmap covers them). */
	uint32_t ninodes;	/**< Inodes, inode 0 included. */
	uint32_t bitmap_start;	/**< First bitmap block (1). */
	uint32_t bitmap_blocks; /**< ceil(nblocks / 32768). */
	uint32_t inode_start;	/**< First inode block. */
	uint32_t inode_blocks;	/**< ceil(ninodes / 64). */
	uint32_t data_start;	/**< First data block. */
};

/** An inode on disk. */
struct mmfs_dinode {
	uint16_t type;		       /**< MMFS_T_FREE, MMFS_T_FILE or MMFS_T_DIR. */
	uint16_t nlink;		       /**< Directory entries naming it. */
	uint32_t reserved;	       /**< Zero. */
	uint64_t size;		       /**< Bytes. */
	uint32_t direct[MMFS_NDIRECT]; /**< Blocks 0..9 of the file; 0: a hole. */
	uint32_t indirect;	       /**< A block of 1024 block numbers (file blocks 10..1033), or 0. */
	uint32_t dindirect;	       /**< A block of 1024 indirect blocks, or 0. */
};

/** A directory entry. */
struct mmfs_dirent {
	uint32_t ino;		      /**< 0: a free slot. */
	char name[MMFS_NAME_MAX + 1]; /**< NUL-terminated. */
};

/** @cond INTERNAL */
_Static_assert(sizeof(struct mmfs_super) == 36, "mmfs_super is 9 u32");
_Static_assert(sizeof(struct mmfs_dinode) == MMFS_INODE_SIZE, "an inode is 64 bytes");
_Static_assert(sizeof(struct mmfs_dirent) == MMFS_DIRENT_SIZE, "a directory entry is 64 bytes");
/** @endcond */

#endif
