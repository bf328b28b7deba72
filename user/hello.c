/*
 * hello: the smallest user program.  Checks that a program starts in ring 3 with its
 * arguments (argc, a NULL-terminated argv), that printf and getpid work, and that
 * main's return value becomes the exit status.  Prints "hello, world", "i am pid N"
 * and "hello: argv[i] = ARG" for each argument.  A failure is missing output, a
 * "hello: FAIL" line or a kill.
 */
#include "user/utest.h"

int
main(int argc, char **argv)
{
	printf("hello, world\n");
	printf("i am pid %d\n", getpid());
	CHECK(argc >= 1, "argc %d", argc);
	for (int i = 0; i < argc; i++)
		printf("hello: argv[%d] = %s\n", i, argv[i]);
	CHECK(argv[argc] == NULL, "argv[%d] is not NULL", argc);
	return 0;
}
