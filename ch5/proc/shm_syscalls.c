/*
 * System V shared memory's system calls (Linux riscv64 numbers: shmget
 * 194, shmctl 195, shmat 196, shmdt 197): each passes its arguments, with
 * the types Linux's SYSCALL_DEFINEs give them (key, flags, ids and commands
 * are ints: the upper half of the register is ignored), and the caller's
 * address space to shm.h. Registered in ch4's table at INIT_PROC, as
 * mman_syscalls.c registers the mmap family; the user-suite runner removes
 * the segments a suite leaves behind (shm_destroy_orphaned()).
 *
 * Reference: Linux ipc/shm.c (SYSCALL_DEFINE3(shmget), shmat, shmdt, shmctl).
 */
#include "errno.h"
#include "initcall.h"
#include "proc.h"
#include "runner.h"
#include "shm.h"
#include "syscall.h"

static long sys_shmget(uint64_t key, uint64_t size, uint64_t flags, uint64_t a3, uint64_t a4, uint64_t a5)
{
	(void)a3, (void)a4, (void)a5;
	return shm_get((int)key, size, (int)flags);
}

static long sys_shmctl(uint64_t id, uint64_t cmd, uint64_t buf, uint64_t a3, uint64_t a4, uint64_t a5)
{
	(void)a3, (void)a4, (void)a5;
	return shm_ctl((int)id, (int)cmd, buf);
}

static long sys_shmat(uint64_t id, uint64_t addr, uint64_t flags, uint64_t a3, uint64_t a4, uint64_t a5)
{
	(void)a3, (void)a4, (void)a5;
	return shm_attach(current_mm(), (int)id, addr, (int)flags);
}

static long sys_shmdt(uint64_t addr, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	(void)a1, (void)a2, (void)a3, (void)a4, (void)a5;
	return shm_detach(current_mm(), addr);
}

static int shm_syscalls_init(void)
{
	static const struct {
		unsigned nr;
		syscall_fn fn;
	} calls[] = {
		{SYS_shmget, sys_shmget},
		{SYS_shmctl, sys_shmctl},
		{SYS_shmat, sys_shmat},
		{SYS_shmdt, sys_shmdt},
	};
	for (size_t i = 0; i < ARRAY_SIZE(calls); i++) {
		int err = syscall_register(calls[i].nr, calls[i].fn);
		if (err)
			return err;
	}
	return runner_register_orphans("shm segment(s)", shm_destroy_orphaned);
}
initcall(INIT_PROC, shm_syscalls_init);
