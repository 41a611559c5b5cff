/*
 * child: the program the exec tests run, one job per first argument.
 *   child args           print argc, argv and envp, a line each, on fd 1; exit with argc
 *   child exit N         exit with N
 *   child fdstate N      exit 0 if descriptor N is closed (EBADF), 1 if open
 *   child spin           loop forever (to be killed)
 *   child fork N         fork N children running "child exit I", wait for them,
 *                        exit 0 if each came back with its I
 *   child pid N          exit 0 if getpid() and gettid() are both N (exec kept
 *                        the pid, and the exec-ing thread became the leader), else 1
 * Anything else: exit 100.
 */
#include "ulib.h"

static int print_args(int argc, char **argv, char **envp)
{
	printf("argc=%d\n", argc);
	for (int i = 0; i < argc; i++)
		printf("argv[%d]=%s\n", i, argv[i]);
	for (int i = 0; envp[i]; i++)
		printf("envp[%d]=%s\n", i, envp[i]);
	return argc;
}

static int fork_children(int n)
{
	static char *const no_env[] = {NULL};
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid < 0)
			return 2;
		if (pid == 0) {
			char code[16];
			snprintf(code, sizeof(code), "%d", i + 1);
			char *const argv[] = {"child", "exit", code, NULL};
			execve("child", argv, no_env);
			_exit(127);
		}
	}
	int seen = 0, status;
	for (int i = 0; i < n; i++) {
		if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) < 1 ||
		    WEXITSTATUS(status) > n)
			return 3;
		seen |= 1 << WEXITSTATUS(status);
	}
	return seen == ((1 << (n + 1)) - 2) ? 0 : 4;
}

int main(int argc, char **argv, char **envp)
{
	const char *job = argc > 1 ? argv[1] : "";
	int n = argc > 2 ? atoi(argv[2]) : 0;
	if (!strcmp(job, "args"))
		return print_args(argc, argv, envp);
	if (!strcmp(job, "exit"))
		return n;
	if (!strcmp(job, "fdstate"))
		return sys_write(n, "", 0) == -EBADF ? 0 : 1;
	if (!strcmp(job, "spin"))
		for (volatile int i = 0;; i++)
			;
	if (!strcmp(job, "fork"))
		return fork_children(n);
	if (!strcmp(job, "pid"))
		return getpid() == n && gettid() == n ? 0 : 1;
	return 100;
}
