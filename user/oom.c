/*
 * oom: running out of physical memory kills the process, not the kernel.  It maps
 * twice as much anonymous memory as the machine has (mmap succeeds: the memory is
 * demand-zero) and touches every page.  Expected: "[pid N] killed: out of memory at
 * va 0x... rip 0x..." and the kernel reclaiming every page ("run: no leak");
 * "oom: FAIL survived" means more pages were touched than exist.
 */
#include "user/utest.h"

int
main(void)
{
	struct kcounters c;

	EXPECT(counters(&c, sizeof c), sizeof c);
	uint64_t size = ROUNDUP(2 * c.total_pages * PGSIZE, PG2M);
	volatile char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON);
	CHECK(!MMAP_FAILED(p), "mmap of %lu MiB: %e", (unsigned long)(size >> 20), (int)(int64_t)p);
	printf("oom: touching %lu MiB at 0x%lx (%lu pages of memory in all)\n",
	       (unsigned long)(size >> 20), (unsigned long)p, (unsigned long)c.total_pages);
	for (uint64_t off = 0; off < size; off += PGSIZE)
		p[off] = 1;
	printf("oom: FAIL survived touching %lu MiB\n", (unsigned long)(size >> 20));
	return 1;
}
