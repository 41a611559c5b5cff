/*
 * filepeer: the other end of ch5.user.file's exec tests. Run as
 * `filepeer FD EXPECT WRITE`: it checks that descriptor FD came through
 * execve open (fstat), reads strlen(EXPECT) bytes from it at its current
 * position and compares them with EXPECT, then writes WRITE to it ("-"
 * skips either step). The exit code says what it found:
 *   0 all as expected, 2 the bytes read differ, 3 FD is not open,
 *   4 the write fell short, 5 bad arguments.
 */
#include "fcntl.h"

int main(int argc, char **argv)
{
	if (argc != 4)
		return 5;
	int fd = atoi(argv[1]);
	struct stat st;
	if (sys_fstat(fd, &st) < 0)
		return 3;
	if (strcmp(argv[2], "-") != 0) {
		char buf[64];
		size_t len = strlen(argv[2]);
		if (len > sizeof(buf) || read(fd, buf, len) != (ssize_t)len || memcmp(buf, argv[2], len) != 0)
			return 2;
	}
	if (strcmp(argv[3], "-") != 0) {
		size_t len = strlen(argv[3]);
		if (write(fd, argv[3], len) != (ssize_t)len)
			return 4;
	}
	return 0;
}
