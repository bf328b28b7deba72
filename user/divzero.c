/*
 * divzero: an integer division by zero (#DE) kills the process.  Expected:
 * "[pid N] killed: divide error rip 0x..."; "divzero: FAIL survived" means the
 * division completed.  (Both operands are volatile: gcc compiles 1 / x without a
 * division instruction.)
 */
#include "user/utest.h"

int
main(void)
{
	volatile int dividend = 7, zero = 0;

	printf("divzero: dividing by zero\n");
	int q = dividend / zero;
	printf("divzero: FAIL survived, 7/0 = %d\n", q);
	return 1;
}
