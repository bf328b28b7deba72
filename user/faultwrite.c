/*
 * faultwrite: a user write to address 0 (never mapped) must kill only this process.
 * Expected: "[pid N] killed: page fault at va 0x0 (write, not present) rip 0x...";
 * "faultwrite: FAIL survived" means the write succeeded.
 */
#include "user/utest.h"

int
main(void)
{
	volatile int *p = opaque_ptr(0);

	printf("faultwrite: writing address 0x0\n");
	*p = 1;
	printf("faultwrite: FAIL survived\n");
	return 1;
}
