/*
 * protnonefault: a PROT_NONE page cannot even be read.  An mmap'd page is written
 * (so it is resident), made PROT_NONE and read.  Expected: "[pid N] killed: page fault
 * at va ADDR (read, protection violation) rip 0x..." with ADDR the address printed
 * before the read; "protnonefault: FAIL survived" means the page was readable.
 */
#include "user/utest.h"

int
main(void)
{
	volatile uint8_t *p = mmap(NULL, PGSIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON);

	CHECK(!MMAP_FAILED(p), "mmap: %e", (int)(int64_t)p);
	p[0] = 42;
	EXPECT(mprotect((void *)p, PGSIZE, PROT_NONE), 0);
	printf("protnonefault: reading PROT_NONE page at 0x%lx\n", (unsigned long)p);
	int v = p[0];
	printf("protnonefault: FAIL survived, read %d\n", v);
	return 1;
}
