/*
 * System calls: an ecall with a7 = number, a0..a5 = arguments, the result
 * or a negative errno back in a0 (Linux's riscv64 convention). The sys_*
 * functions return a0 as it is; the POSIX ones turn a negative errno into
 * -1 and errno, as the C library does.
 */
#include "ulib.h"

int errno;

long syscall6(long nr, long a0, long a1, long a2, long a3, long a4, long a5)
{
	register long r_a0 asm("a0") = a0;
	register long r_a1 asm("a1") = a1;
	register long r_a2 asm("a2") = a2;
	register long r_a3 asm("a3") = a3;
	register long r_a4 asm("a4") = a4;
	register long r_a5 asm("a5") = a5;
	register long r_a7 asm("a7") = nr;
	asm volatile("ecall"
		     : "+r"(r_a0)
		     : "r"(r_a1), "r"(r_a2), "r"(r_a3), "r"(r_a4), "r"(r_a5), "r"(r_a7)
		     : "memory");
	return r_a0;
}

/* The POSIX convention: -errno becomes -1 with errno set. */
static long posix(long ret)
{
	if (ret < 0 && ret > -4096) {
		errno = (int)-ret;
		return -1;
	}
	return ret;
}

long sys_read(int fd, void *buf, size_t len) { return syscall3(SYS_read, fd, buf, len); }
long sys_write(int fd, const void *buf, size_t len) { return syscall3(SYS_write, fd, buf, len); }
long sys_close(int fd) { return syscall1(SYS_close, fd); }
long sys_dup(int fd) { return syscall1(SYS_dup, fd); }
long sys_pipe2(int fds[2], int flags) { return syscall2(SYS_pipe2, fds, flags); }

/* riscv64 has the generic order: flags, newsp, parent_tid, child_tid, tls. */
long sys_clone(unsigned long flags, void *stack, int *ptid, int *ctid, unsigned long tls)
{
	return syscall5(SYS_clone, flags, stack, ptid, ctid, tls);
}

long sys_fork(void) { return sys_clone(SIGCHLD, NULL, NULL, NULL, 0); }

long sys_execve(const char *path, char *const argv[], char *const envp[])
{
	return syscall3(SYS_execve, path, argv, envp);
}

long sys_wait4(pid_t pid, int *status, int options, void *rusage)
{
	return syscall4(SYS_wait4, pid, status, options, rusage);
}

long sys_kill(pid_t pid, int sig) { return syscall2(SYS_kill, pid, sig); }
long sys_brk(void *addr) { return syscall1(SYS_brk, addr); }
long sys_nanosleep(const struct timespec *req, struct timespec *rem)
{
	return syscall2(SYS_nanosleep, req, rem);
}
long sys_mmlab_maps(char *buf, size_t len) { return syscall2(SYS_mmlab_maps, buf, len); }

ssize_t read(int fd, void *buf, size_t len) { return posix(sys_read(fd, buf, len)); }
ssize_t write(int fd, const void *buf, size_t len) { return posix(sys_write(fd, buf, len)); }
int close(int fd) { return (int)posix(sys_close(fd)); }
int dup(int fd) { return (int)posix(sys_dup(fd)); }
int pipe(int fds[2]) { return (int)posix(sys_pipe2(fds, 0)); }
int pipe2(int fds[2], int flags) { return (int)posix(sys_pipe2(fds, flags)); }
pid_t fork(void) { return (pid_t)posix(sys_fork()); }

int execve(const char *path, char *const argv[], char *const envp[])
{
	return (int)posix(sys_execve(path, argv, envp));
}

void exit(int status)
{
	for (;;)
		syscall1(SYS_exit_group, status);
}

void _exit(int status) { exit(status); }

void exit_thread(int status)
{
	for (;;)
		syscall1(SYS_exit, status);
}

pid_t wait4(pid_t pid, int *status, int options, void *rusage)
{
	return (pid_t)posix(sys_wait4(pid, status, options, rusage));
}

pid_t waitpid(pid_t pid, int *status, int options) { return wait4(pid, status, options, NULL); }
pid_t wait(int *status) { return wait4(-1, status, 0, NULL); }
pid_t getpid(void) { return (pid_t)syscall0(SYS_getpid); }
pid_t getppid(void) { return (pid_t)syscall0(SYS_getppid); }
pid_t gettid(void) { return (pid_t)syscall0(SYS_gettid); }
int sched_yield(void) { return (int)posix(syscall0(SYS_sched_yield)); }
int kill(pid_t pid, int sig) { return (int)posix(sys_kill(pid, sig)); }

/* Linux's brk returns the break it settled on; POSIX's says 0 or -1. */
int brk(void *addr)
{
	if ((unsigned long)sys_brk(addr) != (unsigned long)addr) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

void *sbrk(long incr)
{
	unsigned long cur = (unsigned long)sys_brk(NULL);
	if (incr == 0)
		return (void *)cur;
	if ((unsigned long)sys_brk((void *)(cur + incr)) != cur + incr) {
		errno = ENOMEM;
		return (void *)-1;
	}
	return (void *)cur;
}

int nanosleep(const struct timespec *req, struct timespec *rem)
{
	return (int)posix(sys_nanosleep(req, rem));
}

unsigned sleep(unsigned seconds)
{
	struct timespec ts = {.tv_sec = seconds, .tv_nsec = 0};
	return nanosleep(&ts, NULL) == 0 ? 0 : seconds;
}

int usleep(unsigned long usec)
{
	struct timespec ts = {.tv_sec = (long)(usec / 1000000), .tv_nsec = (long)(usec % 1000000) * 1000};
	return nanosleep(&ts, NULL);
}

long mmlab_free_frames(void) { return syscall0(SYS_mmlab_free_frames); }
long mmlab_maps(char *buf, size_t len) { return posix(sys_mmlab_maps(buf, len)); }
long mmlab_ptdump(pid_t pid) { return posix(syscall1(SYS_mmlab_ptdump, pid)); }
long mmlab_nr_harts(void) { return syscall0(SYS_mmlab_nr_harts); }
long mmlab_hart(void) { return syscall0(SYS_mmlab_hart); }
long mmlab_page_info(const void *va) { return syscall1(SYS_mmlab_page_info, (long)va); }
long mmlab_squeeze(long leave) { return syscall1(SYS_mmlab_squeeze, leave); }
long mmlab_max_map_count(long n) { return syscall1(SYS_mmlab_max_map_count, n); }
long mmlab_eager(void) { return syscall0(SYS_mmlab_eager); }
long mmlab_test_begin(void) { return syscall0(SYS_mmlab_test_begin); }
long mmlab_test_result(int verdict) { return syscall1(SYS_mmlab_test_result, verdict); }
