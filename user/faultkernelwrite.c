/*
 * faultkernelwrite: user code may not write kernel memory even where it is mapped:
 * a write to the kernel image through the direct map (KDIRECT + KERNLOAD,
 * supervisor-only).  Expected: "[pid N] killed: page fault at va 0xffff800000100000
 * (write, protection violation) rip 0x..."; "faultkernelwrite: FAIL survived" means
 * the write went through (and the kernel is probably corrupt).
 */
#include "user/utest.h"

int
main(void)
{
	volatile uint64_t *p = opaque_ptr(KDIRECT + KERNLOAD);

	printf("faultkernelwrite: writing kernel address 0x%lx\n", (unsigned long)p);
	*p = 0;
	printf("faultkernelwrite: FAIL survived\n");
	return 1;
}
