/*
 * mprotectfault: mprotect really removes write permission from resident pages.  An
 * mmap'd page is written, made PROT_READ, read back, and written again.  Expected:
 * "[pid N] killed: page fault at va ADDR (write, protection violation) rip 0x..."
 * with ADDR the address printed before the write; "mprotectfault: FAIL survived"
 * means the stale writable mapping was still in use.
 */
#include "user/utest.h"

int
main(void)
{
	volatile uint8_t *p = mmap(NULL, PGSIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON);

	CHECK(!MMAP_FAILED(p), "mmap: %e", (int)(int64_t)p);
	p[0] = 42;
	EXPECT(mprotect((void *)p, PGSIZE, PROT_READ), 0);
	CHECK(p[0] == 42, "data lost by mprotect");
	printf("mprotectfault: writing read-only page at 0x%lx\n", (unsigned long)p);
	p[0] = 43;
	printf("mprotectfault: FAIL survived\n");
	return 1;
}
