/**
 * @file shm.h
 * @brief System V shared memory for user programs (ch5): the names, values,
 *        structures and signatures of glibc's <sys/ipc.h> and <sys/shm.h>
 *        on riscv64.
 *
 * As in mman.h, each call comes in two flavours: the POSIX one (shmat()
 * returns (void *)-1 and sets errno; the others return -1) and the raw one,
 * sys_shmget() and so on, which returns what the kernel put in a0: the
 * result or a negative errno.
 */
#ifndef MMLAB_USER_SHM_H
#define MMLAB_USER_SHM_H

#include "ulib.h"

/** @name System-call numbers (asm-generic/unistd.h).
 * @{ */
#define SYS_shmget 194
#define SYS_shmctl 195
#define SYS_shmat  196
#define SYS_shmdt  197
/** @} */

/** @name <sys/ipc.h>, <sys/shm.h> (linux/ipc.h, linux/shm.h values).
 * @{ */
#define IPC_PRIVATE ((key_t)0)
#define IPC_CREAT   01000
#define IPC_EXCL    02000
#define IPC_NOWAIT  04000
#define IPC_RMID    0
#define IPC_SET	    1
#define IPC_STAT    2
#define IPC_INFO    3
#define SHM_RDONLY  010000
#define SHM_RND	    020000
#define SHM_REMAP   040000
#define SHM_EXEC    0100000
#define SHM_DEST    01000
#define SHM_LOCKED  02000
#define SHMLBA	    PAGE_SIZE
#define EIDRM	    43 /**< Linux's (asm-generic/errno.h): an id removed while in use. */
/** @} */

typedef int key_t;		/**< An ipc key. */
typedef unsigned long shmatt_t; /**< An attach count. */

/** glibc's struct ipc_perm on riscv64 (the kernel's ipc64_perm, 48 bytes). */
struct ipc_perm {
	key_t __key;			 /**< The key. */
	unsigned int uid;		 /**< Owner. */
	unsigned int gid;		 /**< Owner's group. */
	unsigned int cuid;		 /**< Creator. */
	unsigned int cgid;		 /**< Creator's group. */
	unsigned int mode;		 /**< Permission bits, SHM_DEST. */
	unsigned short __seq;		 /**< Sequence number. */
	unsigned short __pad2;		 /**< Padding. */
	unsigned long __glibc_reserved1; /**< Reserved. */
	unsigned long __glibc_reserved2; /**< Reserved. */
};

/** glibc's struct shmid_ds on riscv64 (the kernel's shmid64_ds, 112 bytes). */
struct shmid_ds {
	struct ipc_perm shm_perm;	 /**< Owner, mode, key. */
	size_t shm_segsz;		 /**< Size in bytes, as asked for. */
	long shm_atime;			 /**< Last shmat. */
	long shm_dtime;			 /**< Last shmdt. */
	long shm_ctime;			 /**< Last change. */
	pid_t shm_cpid;			 /**< Creator's pid. */
	pid_t shm_lpid;			 /**< Last shmat/shmdt's pid. */
	shmatt_t shm_nattch;		 /**< Current attaches. */
	unsigned long __glibc_reserved5; /**< Reserved. */
	unsigned long __glibc_reserved6; /**< Reserved. */
};

/** shmget(2): the segment's id, or -1 with errno set. */
int shmget(key_t key, size_t size, int shmflg);
/** shmat(2): the attachment's address, or (void *)-1 with errno set. */
void *shmat(int shmid, const void *shmaddr, int shmflg);
/** shmdt(2): 0, or -1 with errno set. */
int shmdt(const void *shmaddr);
/** shmctl(2): 0, or -1 with errno set. */
int shmctl(int shmid, int cmd, struct shmid_ds *buf);

/** @name Raw calls: the result or a negative errno.
 * @{ */
long sys_shmget(key_t key, size_t size, int shmflg);
long sys_shmat(int shmid, const void *shmaddr, int shmflg);
long sys_shmdt(const void *shmaddr);
long sys_shmctl(int shmid, int cmd, struct shmid_ds *buf);
/** @} */

#endif
