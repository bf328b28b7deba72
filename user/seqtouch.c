/*
 * seqtouch [MIB]: the sequential-touch workload.  Maps MIB MiB (default 64) of
 * anonymous memory, writes one word into every 4 KiB page in order, and reports what
 * the kernel did for it, from the counters: page faults, 2 MiB / 1 GiB promotions,
 * eager 2 MiB pages, reservations, memory used (free pages consumed, page-table pages
 * included) and bytes zeroed.  It checks the data and the accounting, not the policy:
 * run it under vm.policy=base, eager and reserve to compare them.
 * Prints "seqtouch: policy P: ..." and "seqtouch: OK".
 */
#include "user/utest.h"

static const char *const policies[] = { "base", "eager", "reserve" };

int
main(int argc, char **argv)
{
	uint64_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 64;
	uint64_t len = mib << 20, npages = len / PGSIZE;
	struct kcounters a, b;

	CHECK(mib > 0 && mib <= 4096, "bad size %lu MiB", (unsigned long)mib);
	EXPECT(counters(&a, sizeof a), sizeof a);
	uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_ANON | MAP_PRIVATE);
	CHECK(!MMAP_FAILED(p), "mmap: %e", (int)(int64_t)p);
	for (uint64_t i = 0; i < npages; i++)
		*(volatile uint64_t *)(p + i * PGSIZE) = i;
	EXPECT(counters(&b, sizeof b), sizeof b);
	for (uint64_t i = 0; i < npages; i++)
		CHECK(*(volatile uint64_t *)(p + i * PGSIZE) == i, "page %lu lost its data", (unsigned long)i);
	uint64_t faults = b.page_faults - a.page_faults;
	uint64_t used = a.free_pages - b.free_pages;
	printf("seqtouch: policy %s: %lu MiB touched: %lu page faults, %lu promotions to 2 MiB, "
	       "%lu to 1 GiB, %lu eager 2 MiB pages, %lu reservations, %lu KiB used "
	       "(%lu page-table pages), %lu KiB zeroed\n",
	       policies[b.policy], (unsigned long)mib, (unsigned long)faults,
	       (unsigned long)(b.promotions[0] - a.promotions[0]), (unsigned long)(b.promotions[1] - a.promotions[1]),
	       (unsigned long)(b.eager_2m - a.eager_2m),
	       (unsigned long)(b.reserv_created[0] + b.reserv_created[1] - a.reserv_created[0] - a.reserv_created[1]),
	       (unsigned long)(used * 4), (unsigned long)(b.pt_pages - a.pt_pages),
	       (unsigned long)((b.bytes_zeroed - a.bytes_zeroed) >> 10));
	CHECK(faults >= 1 && faults <= npages, "%lu faults for %lu pages", (unsigned long)faults, (unsigned long)npages);
	CHECK(used >= npages, "only %lu pages used for %lu touched", (unsigned long)used, (unsigned long)npages);
	EXPECT(munmap(p, len), 0);
	printf("seqtouch: OK\n");
	return 0;
}
