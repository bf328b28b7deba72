/*
 * tlb1g promote|demote: the model TLB across the creation and the split of a 1 GiB
 * page (issue 9 items 1 and 2).  Boot with vm.policy=reserve, -m 4G and a one-entry
 * 2 MiB and 1 GiB model TLB (tlb.2m=1:1 tlb.1g=1:1), so that one 2 MiB miss evicts
 * the previous 2 MiB entry.  Region A is an aligned 1 GiB, region B the 2 MiB page
 * right after it (populated and promoted before measuring); [A, B + 2 MiB) is measured.
 *
 * promote  Populates A up to its last two 2 MiB blocks unmeasured, then measures while
 *          it touches those 1024 pages in order: 511 4 KiB misses and a 2 MiB miss
 *          (the promotion of block 510), 511 4 KiB misses and a 1 GiB miss (block 511
 *          promotes, then all of A).  A promotion makes every entry of the new page
 *          stale, as in a real TLB.  Then B (a 2 MiB miss: it evicts whatever 2 MiB
 *          entry is left) and 16 2 MiB pages of A (hits in the resident 1 GiB entry).
 *          Textbook counts: 4k 1022, 2m 2, 1g 1.
 * demote   Populates all of A unmeasured (one 1 GiB page), measures, reads A (a 1 GiB
 *          miss), mprotects one 4 KiB page inside A (the 1 GiB page is split; the real
 *          TLB drops its translation), then reads 16 other 2 MiB pages of A: each is
 *          a 2 MiB miss.  Then it restores the protection (the block is promoted back
 *          to 2 MiB, then to 1 GiB: the 2 MiB entries left are stale) and reads 16
 *          2 MiB pages of A (one 1 GiB miss), B (a 2 MiB miss, evicting what 2 MiB
 *          entry is left) and A's again (hits).  Textbook counts: 4k 0, 2m 17, 1g 2.
 * Prints "tlb1g: MODE misses 4k A 2m B 1g C" and "tlb1g: MODE OK".
 */
#include "user/utest.h"

static void
expect_size(const uint8_t *va, uint64_t size, const char *when)
{
	struct vm_query q;
	EXPECT(vmquery(va, &q), 0);
	CHECK(q.present && q.page_size == size, "%s: page size %lu at %p, expected %lu", when,
	      (unsigned long)q.page_size, va, (unsigned long)size);
}

/* Read one byte of each of the 2 MiB pages first, first + 1, ... first + n - 1 of a. */
static uint64_t
read_blocks(const uint8_t *a, uint64_t first, uint64_t n)
{
	uint64_t sum = 0;
	for (uint64_t k = first; k < first + n; k++)
		sum += *(volatile const uint8_t *)(a + k * PG2M);
	return sum;
}

int
main(int argc, char **argv)
{
	CHECK(argc == 2 && (strcmp(argv[1], "promote") == 0 || strcmp(argv[1], "demote") == 0),
	      "usage: tlb1g promote|demote");
	bool promote = strcmp(argv[1], "promote") == 0;
	uint8_t *a = mmap(NULL, PG1G, PROT_READ | PROT_WRITE, MAP_ANON | MAP_PRIVATE);
	CHECK(!MMAP_FAILED(a), "mmap 1 GiB: %e", (int)(int64_t)a);
	CHECK(((uint64_t)a & (PG1G - 1)) == 0, "1 GiB mmap not 1 GiB aligned: %p", a);
	uint8_t *b = mmap(a + PG1G, PG2M, PROT_READ | PROT_WRITE, MAP_ANON | MAP_PRIVATE | MAP_FIXED);
	CHECK(b == a + PG1G, "mmap 2 MiB after the 1 GiB: %e", (int)(int64_t)b);
	for (uint64_t off = 0; off < PG2M; off += PGSIZE)
		b[off] = 1;
	expect_size(b, PG2M, "B touched");

	uint64_t unmeasured = promote ? PG1G - 2 * PG2M : PG1G;
	for (uint64_t off = 0; off < unmeasured; off += PGSIZE)
		a[off] = 1;
	EXPECT(tlbctl(TLBCTL_START, (uint64_t)a, (uint64_t)b + PG2M), 0);
	uint64_t sum = 0;
	if (promote) {
		for (uint64_t off = unmeasured; off < PG1G; off += PGSIZE)
			a[off] = 1;
		expect_size(a, PG1G, "A touched");
		sum += read_blocks(b, 0, 1) + read_blocks(a, 0, 16);
		CHECK(sum == 17, "read %lu ones, expected 17", (unsigned long)sum);
	} else {
		expect_size(a, PG1G, "A touched");
		sum += read_blocks(a, 0, 1);
		EXPECT(mprotect(a + 5 * PG2M + PGSIZE, PGSIZE, PROT_READ), 0);
		expect_size(a, PG2M, "A demoted");
		sum += read_blocks(a, 16, 16);
		EXPECT(mprotect(a + 5 * PG2M + PGSIZE, PGSIZE, PROT_READ | PROT_WRITE), 0);
		expect_size(a, PG1G, "A promoted back");
		sum += read_blocks(a, 0, 16) + read_blocks(b, 0, 1) + read_blocks(a, 0, 16);
		CHECK(sum == 50, "read %lu ones, expected 50", (unsigned long)sum);
	}
	struct tlb_stats s;
	EXPECT(tlbctl(TLBCTL_READ, (uint64_t)&s, sizeof s), 0);
	EXPECT(tlbctl(TLBCTL_STOP, 0, 0), 0);
	printf("tlb1g: %s misses 4k %lu 2m %lu 1g %lu\n", argv[1], (unsigned long)s.misses[0],
	       (unsigned long)s.misses[1], (unsigned long)s.misses[2]);
	uint64_t want[3] = { promote ? 1022 : 0, promote ? 2 : 17, promote ? 1 : 2 };
	for (int k = 0; k < 3; k++)
		CHECK(s.misses[k] == want[k], "%s: %lu misses of size %d, a textbook TLB has %lu", argv[1],
		      (unsigned long)s.misses[k], k, (unsigned long)want[k]);
	EXPECT(munmap(a, PG1G + PG2M), 0);
	printf("tlb1g: %s OK\n", argv[1]);
	return 0;
}
