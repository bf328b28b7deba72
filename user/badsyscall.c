/*
 * badsyscall: an unknown system-call number is an error, not a crash.  Numbers 1000,
 * -1, NSYSCALLS and one with a valid number in the low 32 bits only (the kernel must
 * not truncate it) each return -E_NO_SYS, and the process goes on making good calls.
 * Prints "badsyscall: OK"; a failure prints "badsyscall: FAIL ..." or gets killed.
 */
#include "user/utest.h"

int
main(void)
{
	int pid = getpid();

	EXPECT(syscall6(1000, 1, 2, 3, 4, 5, 6), -E_NO_SYS);
	EXPECT(syscall6((uint64_t)-1, 0, 0, 0, 0, 0, 0), -E_NO_SYS);
	EXPECT(syscall6(NSYSCALLS, 0, 0, 0, 0, 0, 0), -E_NO_SYS);
	EXPECT(syscall6((1UL << 32) | SYS_getpid, 0, 0, 0, 0, 0, 0), -E_NO_SYS);
	EXPECT(syscall6(SYS_getpid, 0, 0, 0, 0, 0, 0), pid);
	printf("badsyscall: OK\n");
	return 0;
}
