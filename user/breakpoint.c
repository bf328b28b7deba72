/*
 * breakpoint: an int3 from user mode (allowed: the breakpoint gate is DPL 3) kills
 * the process with the trap's name.  Expected: "[pid N] killed: breakpoint rip
 * 0x..."; "breakpoint: FAIL survived" means the trap was ignored.
 */
#include "user/utest.h"

int
main(void)
{
	printf("breakpoint: executing int3\n");
	__asm__ volatile("int3");
	printf("breakpoint: FAIL survived\n");
	return 1;
}
