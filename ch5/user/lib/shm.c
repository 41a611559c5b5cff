/* System V shared memory's system calls (shm.h). */
#include "shm.h"

_Static_assert(sizeof(struct ipc_perm) == 48, "struct ipc_perm as riscv64's ipc64_perm");
_Static_assert(sizeof(struct shmid_ds) == 112, "struct shmid_ds as riscv64's shmid64_ds");

long sys_shmget(key_t key, size_t size, int shmflg) { return syscall3(SYS_shmget, key, size, shmflg); }
long sys_shmat(int shmid, const void *shmaddr, int shmflg)
{
	return syscall3(SYS_shmat, shmid, shmaddr, shmflg);
}
long sys_shmdt(const void *shmaddr) { return syscall1(SYS_shmdt, shmaddr); }
long sys_shmctl(int shmid, int cmd, struct shmid_ds *buf) { return syscall3(SYS_shmctl, shmid, cmd, buf); }

/* A raw result as POSIX returns it: -1 with errno set. */
static long posix(long r)
{
	if (r < 0 && r > -4096) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

int shmget(key_t key, size_t size, int shmflg) { return (int)posix(sys_shmget(key, size, shmflg)); }
void *shmat(int shmid, const void *shmaddr, int shmflg)
{
	return (void *)posix(sys_shmat(shmid, shmaddr, shmflg));
}
int shmdt(const void *shmaddr) { return (int)posix(sys_shmdt(shmaddr)); }
int shmctl(int shmid, int cmd, struct shmid_ds *buf) { return (int)posix(sys_shmctl(shmid, cmd, buf)); }
