/*
 * stackguard: the user stack is 256 KiB ending at USTACKTOP with an unmapped guard
 * page below it.  The lowest stack byte is usable; a write 100 bytes below the stack
 * (in the guard page, where a runaway recursion would land) must kill the process.
 * Expected: "stackguard: bottom of the stack OK", then "[pid N] killed: page fault at
 * va 0x7ffffffaff9c (write, not present) rip 0x..."; "stackguard: FAIL survived"
 * means the guard page was writable.
 */
#include "user/utest.h"

#define STACK_SIZE (256 * 1024)

int
main(void)
{
	volatile uint8_t *bottom = opaque_ptr(USTACKTOP - STACK_SIZE);
	volatile uint8_t *guard = opaque_ptr(USTACKTOP - STACK_SIZE - 100);

	*bottom = 1;
	CHECK(*bottom == 1, "bottom of the stack does not keep data");
	printf("stackguard: bottom of the stack OK\n");
	printf("stackguard: writing below the stack at 0x%lx\n", (unsigned long)guard);
	*guard = 1;
	printf("stackguard: FAIL survived\n");
	return 1;
}
