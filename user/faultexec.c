/*
 * faultexec: data is not executable (NX).  The program puts a `ret` instruction in a
 * bss page (writable, so never executable under W^X) and calls it.  Expected:
 * "[pid N] killed: page fault at va ADDR (instruction fetch, protection violation)
 * rip ADDR" with ADDR the address printed before the call; "faultexec: FAIL
 * survived" means the data page was executable.
 */
#include "user/utest.h"

static uint8_t code[PGSIZE] __attribute__((aligned(PGSIZE)));

int
main(void)
{
	code[0] = 0xC3;		/* ret */
	void (*fn)(void) = (void (*)(void))opaque_ptr((uint64_t)code);

	printf("faultexec: calling data at 0x%lx\n", (unsigned long)code);
	fn();
	printf("faultexec: FAIL survived\n");
	return 1;
}
