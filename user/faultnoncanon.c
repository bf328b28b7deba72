/*
 * faultnoncanon: a read of a non-canonical address (0xDEAD000000000000, inside the
 * hole between user and kernel halves) raises a general protection fault rather than
 * a page fault; it must kill only this process.  Expected: "[pid N] killed: general
 * protection fault rip 0x..."; "faultnoncanon: FAIL survived" means the read
 * completed.
 */
#include "user/utest.h"

int
main(void)
{
	volatile uint64_t *p = opaque_ptr(0xDEAD000000000000UL);

	printf("faultnoncanon: reading non-canonical address 0xdead000000000000\n");
	uint64_t v = *p;
	printf("faultnoncanon: FAIL survived, read 0x%lx\n", (unsigned long)v);
	return 1;
}
