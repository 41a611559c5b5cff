/* hello: the smallest user program: a line on the console, exit code 0. */
#include "ulib.h"

int main(int argc, char **argv)
{
	printf("hello from %s, pid %d, argc %d\n", argc > 0 ? argv[0] : "?", getpid(), argc);
	return 0;
}
