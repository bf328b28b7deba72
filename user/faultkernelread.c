/*
 * faultkernelread: user code may not read kernel memory even where it is mapped.
 * The direct map of physical memory (KDIRECT, supervisor-only, present in every
 * address space) is read at the kernel image's physical address KERNLOAD.  Expected:
 * "[pid N] killed: page fault at va 0xffff800000100000 (read, protection violation)
 * rip 0x..."; "faultkernelread: FAIL survived" means kernel memory was readable.
 */
#include "user/utest.h"

int
main(void)
{
	volatile uint64_t *p = opaque_ptr(KDIRECT + KERNLOAD);

	printf("faultkernelread: reading kernel address 0x%lx\n", (unsigned long)p);
	uint64_t v = *p;
	printf("faultkernelread: FAIL survived, read 0x%lx\n", (unsigned long)v);
	return 1;
}
