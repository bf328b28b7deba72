/*
 * textwrite: program text is read-only.  The program writes a byte over its own
 * main.  Expected: "[pid N] killed: page fault at va ADDR (write, protection
 * violation) rip 0x..." with ADDR the address printed before the write;
 * "textwrite: FAIL survived" means the text was writable.
 */
#include "user/utest.h"

int
main(void)
{
	volatile uint8_t *p = opaque_ptr((uint64_t)main);

	printf("textwrite: writing main at 0x%lx\n", (unsigned long)p);
	*p = 0xC3;
	printf("textwrite: FAIL survived\n");
	return 1;
}
