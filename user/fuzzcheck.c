/*
 * user/fuzzcheck.c: the invariant checker (kern/mm/invariant.c) on a live, busy system.
 *
 * With a child sharing pages copy-on-write, superpages or reservations (per policy),
 * a copied page and, last, the model TLB measuring this process, every kcheck must
 * report 0 violations; and the checker's self-test, which plants corruptions around
 * one of our pages one at a time (an extra reference, a missing population bit, a
 * PTE granting too much, overlapping regions, counts off by one), must catch each.
 */
#include "user/utest.h"

#define NPAGES	1024		/* 4 MiB: two 2 MiB blocks when aligned */

static void
expect_clean(const char *when)
{
	int v = kcheck(KCHECK_RUN, 0);
	CHECK(v == 0, "%s: kcheck found %d violations", when, v);
	printf("fuzzcheck: %s: 0 violations\n", when);
}

static void
selftest(const char *when, uint8_t *page)
{
	int missed = kcheck(KCHECK_SELFTEST, (uint64_t)page);
	CHECK(missed == 0, "%s: selftest returned %d", when, missed);
	printf("fuzzcheck: %s: every planted corruption caught\n", when);
}

int
main(int argc, char **argv)
{
	(void)argc, (void)argv;
	uint8_t *mem = mmap(NULL, NPAGES * PGSIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON);
	CHECK(!MMAP_FAILED(mem), "mmap: %e", (int)(int64_t)mem);
	for (int i = 0; i < NPAGES; i++)
		mem[i * PGSIZE] = (uint8_t)i;
	expect_clean("populated");

	int child = fork();
	CHECK(child >= 0, "fork: %e", child);
	if (child == 0) {
		for (;;)
			yield();	/* shares every page copy-on-write until killed */
	}
	expect_clean("shared with a child");
	mem[0] = 0xAA;			/* copy-on-write: a private copy of page 0 */
	mem[PGSIZE] = 0xBB;
	expect_clean("after copy-on-write");
	EXPECT(mprotect(mem + 8 * PGSIZE, 4 * PGSIZE, PROT_READ), 0);
	EXPECT(munmap(mem + 16 * PGSIZE, PGSIZE), 0);
	EXPECT(madvise(mem + 20 * PGSIZE, PGSIZE, MADV_DONTNEED), 0);
	expect_clean("after mprotect, munmap, madvise");
	selftest("shared", mem);

	EXPECT(kill(child), 0);
	int status;
	EXPECT(wait(child, &status), child);
	expect_clean("child gone");

	int r = tlbctl(TLBCTL_START, 0, 0);
	if (r == 0) {
		for (int i = 0; i < NPAGES; i += 7)
			mem[i * PGSIZE + 1] = 1;
		expect_clean("measured by the model TLB");
		selftest("measured", mem);
		EXPECT(tlbctl(TLBCTL_STOP, 0, 0), 0);
	}
	EXPECT(munmap(mem, NPAGES * PGSIZE), 0);
	expect_clean("unmapped");
	printf("fuzzcheck: OK\n");
	return 0;
}
