/*
 * tlbmix: measuring must not change what a program computes.  With the whole address
 * space measured by the model TLB (every translation fake-invalid until it is used),
 * the program maps 4 MiB (promoted to 2 MiB pages under vm.policy=reserve), forks a
 * child that writes its copy, mprotects a page read-only and back, unmaps part,
 * drops part with MADV_DONTNEED, and checks checksums after each step.  Then it stops
 * measuring and checks that further accesses trap no more (no fake-invalid entry is
 * left behind).  Prints "tlbmix: OK".
 */
#include "user/utest.h"

#define LEN	(4UL << 20)

static uint64_t
checksum(const uint8_t *p, uint64_t len)
{
	uint64_t sum = 0;
	for (uint64_t off = 0; off < len; off += 512)
		sum = sum * 31 + p[off];
	return sum;
}

static void
fill(uint8_t *p, uint64_t len, uint8_t seed)
{
	for (uint64_t off = 0; off < len; off += 512)
		p[off] = (uint8_t)(seed + off / 512);
}

int
main(void)
{
	EXPECT(tlbctl(TLBCTL_START, 0, 0), 0);
	uint8_t *p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_ANON | MAP_PRIVATE);
	CHECK(!MMAP_FAILED(p), "mmap: %e", (int)(int64_t)p);
	fill(p, LEN, 3);
	uint64_t sum = checksum(p, LEN);

	int child = fork();
	CHECK(child >= 0, "fork: %e", child);
	if (child == 0) {
		CHECK(checksum(p, LEN) == sum, "child sees other data");
		fill(p, LEN, 99);
		CHECK(checksum(p, LEN) != sum, "child's writes lost");
		exit(0);
	}
	int status;
	EXPECT(wait(child, &status), child);
	CHECK(status == 0, "child status %d", status);
	CHECK(checksum(p, LEN) == sum, "parent's data changed by the child");

	EXPECT(mprotect(p + PGSIZE, PGSIZE, PROT_READ), 0);
	CHECK(checksum(p, LEN) == sum, "data changed by mprotect");
	EXPECT(mprotect(p + PGSIZE, PGSIZE, PROT_READ | PROT_WRITE), 0);
	p[PGSIZE] = p[PGSIZE];
	EXPECT(munmap(p + LEN - PG2M, PG2M), 0);
	CHECK(checksum(p, LEN - PG2M) == checksum(p, LEN - PG2M), "unstable");
	EXPECT(madvise(p + 8 * PGSIZE, PGSIZE, MADV_DONTNEED), 0);
	CHECK(p[8 * PGSIZE] == 0, "DONTNEED page not zero");
	fill(p + 8 * PGSIZE, PGSIZE, (uint8_t)(3 + 8 * PGSIZE / 512));
	uint8_t *q = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_ANON | MAP_PRIVATE);
	CHECK(!MMAP_FAILED(q), "mmap: %e", (int)(int64_t)q);
	fill(q, LEN, 3);
	CHECK(checksum(p, LEN - PG2M) == checksum(q, LEN - PG2M), "checksums differ after the changes");

	struct tlb_stats s;
	EXPECT(tlbctl(TLBCTL_READ, (uint64_t)&s, sizeof s), 0);
	CHECK(s.traps > 0 && s.traps == s.misses[0] + s.misses[1] + s.misses[2], "traps %lu", (unsigned long)s.traps);
	printf("tlbmix: measured run: %lu traps, checksums OK\n", (unsigned long)s.traps);

	EXPECT(tlbctl(TLBCTL_STOP, 0, 0), 0);
	struct kcounters before, after;
	EXPECT(counters(&before, sizeof before), sizeof before);
	CHECK(checksum(p, LEN - PG2M) == checksum(q, LEN - PG2M), "checksums differ after stopping");
	EXPECT(counters(&after, sizeof after), sizeof after);
	CHECK(after.tlb_traps == before.tlb_traps, "%lu traps after measuring stopped",
	      (unsigned long)(after.tlb_traps - before.tlb_traps));
	printf("tlbmix: stopped: no trap after measuring\n");
	printf("tlbmix: OK\n");
	return 0;
}
