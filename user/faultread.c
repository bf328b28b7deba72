/*
 * faultread: a user read of address 0 (never mapped) must kill only this process.
 * Expected: "[pid N] killed: page fault at va 0x0 (read, not present) rip 0x..." from
 * the kernel and nothing more from the program; "faultread: FAIL survived" means the
 * read succeeded.
 */
#include "user/utest.h"

int
main(void)
{
	volatile int *p = opaque_ptr(0);

	printf("faultread: reading address 0x0\n");
	int v = *p;
	printf("faultread: FAIL survived, read %d\n", v);
	return 1;
}
