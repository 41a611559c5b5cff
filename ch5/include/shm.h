/**
 * @file shm.h
 * @brief ch5: System V shared memory (shmget, shmat, shmdt, shmctl) with
 *        Linux's numbers, structures, ids and errno.
 *
 * A segment is an object of the page cache with no backing store: a
 * `struct address_space` (pagecache.h) whose pages are filled with zeros on
 * first touch and never written back or reclaimed (writepage is NULL). The
 * segments sit in one table, found by key (shmget) and by id (the others).
 * An id is Linux's: `seq * 32768 + idx` (ipc/util.c ipc_buildid), where
 * idx is the table slot, given out cyclically as Linux's idr_alloc_cyclic
 * does, and seq grows each time the slots wrap around; so an id whose
 * segment is gone does not name the next segment in its slot (-EINVAL).
 *
 * Each shmat() makes an open file (ch4's struct file, private_data the
 * segment) and maps it MAP_SHARED with do_mmap_file(). The page cache calls
 * back vma_open / vma_close (file_map_ops) for every area that maps such a
 * file, at shmat, fork and an area split, and when an area goes (munmap,
 * shmdt, exec, exit): that is the attach count, shm_nattch, as Linux's
 * shm_open / shm_close count it (so a split attachment counts twice, as it
 * does on Linux). IPC_RMID marks a segment (SHM_DEST, and its key becomes
 * IPC_PRIVATE so shmget no longer finds it); a marked segment leaves the
 * table when its last attachment goes, at once if it has none. Its pages
 * are freed when the last attach file is (the area that held it is gone),
 * which is before the shmdt / munmap / exit that detached it returns.
 *
 * Every process runs as root here, so the permission checks of Linux
 * (ipcperms, EACCES, EPERM) always pass; uid, gid, cuid and cgid are 0.
 * Times are 0: the kernel keeps no wall clock.
 *
 * Locks: one spinlock guards the table and every segment's fields. It is
 * never held while calling into the mm (do_mmap_file, an unmap), which
 * takes mm->lock: mm->lock comes before it (the vma callbacks take it under
 * mm->lock).
 *
 * Reference: Linux ipc/shm.c (newseg, do_shmat, ksys_shmdt, shm_open,
 * shm_close, shmctl_stat, do_shm_rmid), ipc/util.c (ipcget, ipc_addid,
 * ipc_idr_alloc), include/uapi/linux/{ipc,shm}.h,
 * include/uapi/asm-generic/{ipcbuf,shmbuf}.h; man 2 shmget, shmat, shmctl.
 * ArceOS create/attach/detach_shared_mem; Redox grants.
 */
#ifndef MMLAB_SHM_H
#define MMLAB_SHM_H

#include "mm.h"
#include "types.h"

/** @name ipc flags and commands (include/uapi/linux/ipc.h).
 * @{ */
#define IPC_PRIVATE 0	   /**< shmget key: always a new segment. */
#define IPC_CREAT   01000  /**< shmget: create the segment if the key has none. */
#define IPC_EXCL    02000  /**< shmget with IPC_CREAT: fail (-EEXIST) if the key has one. */
#define IPC_NOWAIT  04000  /**< Accepted by shmget, meaningless for shm (as on Linux). */
#define IPC_RMID    0	   /**< shmctl: mark for removal. */
#define IPC_SET	    1	   /**< shmctl: set the mode bits (and uid, gid). */
#define IPC_STAT    2	   /**< shmctl: read struct shmid64_ds. */
#define IPC_64	    0x0100 /**< Not a flag on riscv64: shmctl(id, IPC_STAT | IPC_64) is -EINVAL there. */
/** @} */

/** @name shmat flags and segment mode bits (include/uapi/linux/shm.h).
 * @{ */
#define SHM_RDONLY 010000  /**< shmat: read-only attachment. */
#define SHM_RND	   020000  /**< shmat: round an unaligned address down to SHMLBA. */
#define SHM_REMAP  040000  /**< shmat: replace what is mapped at the address. */
#define SHM_EXEC   0100000 /**< shmat: executable attachment. */
#define SHM_DEST   01000   /**< mode: marked for removal (IPC_RMID) while attached. */
#define SHM_LOCKED 02000   /**< mode: locked in memory (never set here). */
#define SHM_MODE   0777	   /**< mode: the permission bits that shmget and IPC_SET take (S_IRWXUGO). */
/** @} */

/** @name Limits (include/uapi/linux/shm.h, Linux's defaults).
 * @{ */
#define SHMMIN	      1UL		   /**< Smallest segment, in bytes. */
#define SHMMAX	      (~0UL - (1UL << 24)) /**< Largest segment, in bytes (Linux's default shmmax). */
#define SHMALL	      (~0UL - (1UL << 24)) /**< Most pages in all segments together (shmall). */
#define SHMMNI	      4096		   /**< Most segments at once (Linux's default shmmni). */
#define SHMLBA	      PAGE_SIZE /**< Attach addresses are multiples of this (asm-generic on riscv). */
#define SHM_ID_SHIFT  15	/**< ids are seq << 15 | slot (Linux's IPCMNI_SHIFT). */
#define SHM_SEQ_MAX   (0x7fffffff >> 15)    /**< seq wraps to 0 here (Linux's IPCID_SEQ_MAX). */
#define SHM_MIN_CYCLE 64		    /**< Slots cycle over at least this many (ipc_min_cycle). */
#define SHM_SLOTS     (SHMMNI + SHMMNI / 2) /**< Slots: ipc_idr_alloc cycles over in_use * 3/2. */
/** @} */

/** struct ipc64_perm of include/uapi/asm-generic/ipcbuf.h (riscv64: 48 bytes). */
struct ipc64_perm {
	int key;		 /**< The key (IPC_PRIVATE once marked for removal). */
	unsigned int uid;	 /**< Owner (0: root). */
	unsigned int gid;	 /**< Owner's group. */
	unsigned int cuid;	 /**< Creator. */
	unsigned int cgid;	 /**< Creator's group. */
	unsigned int mode;	 /**< Permission bits | SHM_DEST. */
	unsigned short seq;	 /**< The id's sequence number. */
	unsigned short __pad2;	 /**< Zero. */
	unsigned long __unused1; /**< Zero. */
	unsigned long __unused2; /**< Zero. */
};

/** struct shmid64_ds of include/uapi/asm-generic/shmbuf.h (riscv64: 112 bytes). */
struct shmid64_ds {
	struct ipc64_perm shm_perm; /**< Owner, mode, key. */
	size_t shm_segsz;	    /**< Bytes asked for at shmget (not rounded up). */
	long shm_atime;		    /**< Last shmat (0 here: no clock). */
	long shm_dtime;		    /**< Last shmdt (0 here). */
	long shm_ctime;		    /**< Last change (0 here). */
	int shm_cpid;		    /**< The creator's pid. */
	int shm_lpid;		    /**< The pid of the last shmat/shmdt (0 before any). */
	unsigned long shm_nattch;   /**< Areas that map it now. */
	unsigned long __unused4;    /**< Zero. */
	unsigned long __unused5;    /**< Zero. */
};

/**
 * shmget(2): the id of the segment of @p key, or of a new one.
 * @param key     IPC_PRIVATE (always a new segment) or a key.
 * @param size    bytes (rounded up to pages for the memory; the segment
 *                keeps the size asked for); may be 0 to find an existing one.
 * @param shmflg  IPC_CREAT, IPC_EXCL and the permission bits (0777).
 * @return the id (>= 0); -EINVAL for a new segment with @p size < SHMMIN or
 *         > SHMMAX, or an existing one smaller than @p size; -ENOENT (no
 *         segment for @p key and no IPC_CREAT); -EEXIST (one exists and
 *         IPC_CREAT | IPC_EXCL); -ENOSPC (SHMMNI segments, or SHMALL pages);
 *         -ENOMEM.
 * Reference: Linux ipc/shm.c ksys_shmget(), newseg(), shm_more_checks();
 * ipc/util.c ipcget_public().
 */
long shm_get(int key, size_t size, int shmflg);

/**
 * shmat(2) of segment @p shmid into @p mm.
 * @param mm      the address space.
 * @param shmid   the id.
 * @param addr    0: a place of the kernel's choosing; otherwise the exact
 *                address (a multiple of SHMLBA, or rounded down with SHM_RND).
 * @param shmflg  SHM_RDONLY, SHM_RND, SHM_REMAP, SHM_EXEC.
 * @return the address of the attachment; -EINVAL for a negative or unknown
 *         id (one of a segment that is gone too), an unaligned @p addr
 *         without SHM_RND, SHM_REMAP without @p addr (or rounded to 0), a
 *         range that wraps or (without SHM_REMAP) overlaps an area;
 *         -ENOMEM; do_mmap_file()'s errors. A segment marked for removal
 *         can still be attached while it has attachments (as on Linux).
 * Reference: Linux ipc/shm.c do_shmat().
 */
long shm_attach(struct mm *mm, int shmid, vaddr_t addr, int shmflg);

/**
 * shmdt(2): detach the attachment of @p mm at @p addr: Linux's rule, the
 * first area of a shm attachment at or above @p addr whose offset into its
 * segment is its distance from @p addr, then every other area of that same
 * attachment (pieces left by munmap or mprotect) that ends within the
 * segment's size from @p addr.
 * @return 0; -EINVAL if @p addr is not page-aligned or no attachment starts there.
 * Reference: Linux ipc/shm.c ksys_shmdt().
 */
long shm_detach(struct mm *mm, vaddr_t addr);

/**
 * shmctl(2) of segment @p shmid with @p cmd (IPC_STAT, IPC_SET, IPC_RMID),
 * @p ubuf a user struct shmid64_ds (IPC_STAT writes it, IPC_SET reads its
 * mode; IPC_RMID ignores it).
 * @return 0; -EINVAL for a negative @p cmd or @p shmid, an unknown id or
 *         another command (IPC_INFO, SHM_INFO, SHM_STAT, SHM_LOCK are not
 *         offered); -EFAULT if @p ubuf cannot be written (IPC_STAT) or read
 *         (IPC_SET, checked before the id, as Linux does).
 * Reference: Linux ipc/shm.c ksys_shmctl(), shmctl_stat(), shmctl_down().
 */
long shm_ctl(int shmid, int cmd, vaddr_t ubuf);

/**
 * IPC_STAT into kernel memory: @p out gets segment @p shmid's state.
 * @return 0, or -EINVAL for an unknown id.
 */
int shm_stat(int shmid, struct shmid64_ds *out);

/**
 * IPC_RMID: mark segment @p shmid for removal (SHM_DEST, key IPC_PRIVATE);
 * it goes now if nothing is attached. @return 0, or -EINVAL for an unknown id.
 */
int shm_rmid(int shmid);

/**
 * Remove every segment nothing is attached to, marked or not: Linux's
 * shm_destroy_orphaned() (run when kernel.shm_rmid_forced is set), for a
 * moment when no process is left, so that every creator is gone. The
 * user-suite runner calls it before and after each suite
 * (runner_register_orphans()).
 * @return the segments removed.
 */
int shm_destroy_orphaned(void);

/** Segments in the table now (Linux's ids->in_use): for tests. */
int shm_nr_segments(void);

/** Pages of all segments in the table (Linux's shm_tot): for tests. */
unsigned long shm_total_pages(void);

#endif
