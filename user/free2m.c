/*
 * free2m: munmap of 2 MiB pages gives each block back in one step (issue 13 item 4).
 * run=free2m,SCENARIO,BOUND; BOUND is the most guest instructions one 2 MiB page's
 * munmap may take (0: not checked, for a run without -icount, where rdtsc counts time):
 *   one      vm.policy=eager: one 2 MiB page mapped, unmapped
 *   many     vm.policy=eager: 32 2 MiB pages (64 MiB) unmapped in one call
 *   reserve  vm.policy=reserve: 512 touched pages promoted in their reservation, then
 *            unmapped while the object lives on (a page in the next block): the
 *            reservation goes with them, the invariant checker sees nothing wrong
 *   shared   vm.policy=eager: a 2 MiB page shared by fork; the child's munmap must not
 *            free it (the parent still reads it), the parent's does
 * Each checks that the free page count comes back to where it was before the mmap.
 * Prints "free2m: SCENARIO: N instructions per 2 MiB page" and "free2m: SCENARIO OK".
 */
#include "user/utest.h"

static uint64_t bound;

static inline uint64_t
rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}

/* nblocks 2 MiB pages, mapped and each touched once: eager gives 2 MiB pages. */
static uint8_t *
map_blocks(uint64_t nblocks)
{
	uint8_t *p = mmap(NULL, nblocks * PG2M, PROT_READ | PROT_WRITE, MAP_ANON | MAP_PRIVATE);
	CHECK(!MMAP_FAILED(p), "mmap: %e", (int)(int64_t)p);
	for (uint64_t b = 0; b < nblocks; b++) {
		p[b * PG2M + 8] = (uint8_t)(b + 1);
		CHECK(query_va(p + b * PG2M).page_size == PG2M, "block %lu is not one 2 MiB page", (unsigned long)b);
	}
	return p;
}

/* munmap of nblocks 2 MiB pages at p; the instructions per page, checked against the bound. */
static void
unmap_timed(const char *scenario, uint8_t *p, uint64_t nblocks)
{
	uint64_t t0 = rdtsc();
	EXPECT(munmap(p, nblocks * PG2M), 0);
	uint64_t per = (rdtsc() - t0) / nblocks;
	printf("free2m: %s: %lu instructions per 2 MiB page\n", scenario, (unsigned long)per);
	CHECK(bound == 0 || per <= bound, "%s: munmap took %lu instructions per 2 MiB page, more than %lu", scenario,
	      (unsigned long)per, (unsigned long)bound);
}

static void
check_free_back(const char *scenario, uint64_t before)
{
	uint64_t after = stats_now().free_pages;
	CHECK(after == before, "%s: %lu pages free before the mmap, %lu after the munmap", scenario,
	      (unsigned long)before, (unsigned long)after);
}

static void
one(void)
{
	uint64_t before = stats_now().free_pages;
	uint8_t *p = map_blocks(1);
	unmap_timed("one", p, 1);
	check_free_back("one", before);
}

static void
many(void)
{
	uint64_t before = stats_now().free_pages;
	uint8_t *p = map_blocks(32);
	unmap_timed("many", p, 32);
	check_free_back("many", before);
}

static void
reserve(void)
{
	struct kcounters c0 = stats_now();
	uint8_t *p = mmap(NULL, 2 * PG2M, PROT_READ | PROT_WRITE, MAP_ANON | MAP_PRIVATE);
	CHECK(!MMAP_FAILED(p), "mmap: %e", (int)(int64_t)p);
	for (uint64_t i = 0; i < NPG; i++)
		p[i * PGSIZE] = 1;
	p[PG2M] = 1;			/* the next block keeps the object and a reservation */
	struct vm_query q = query_va(p);
	CHECK(q.page_size == PG2M && q.reservation_size == PG2M, "512 touches: page %lu, reservation %lu",
	      (unsigned long)q.page_size, (unsigned long)q.reservation_size);
	CHECK(stats_now().reserv_live[0] == c0.reserv_live[0] + 2, "two reservations expected");
	unmap_timed("reserve", p, 1);
	struct kcounters c1 = stats_now();
	CHECK(c1.reserv_live[0] == c0.reserv_live[0] + 1, "%lu reservations live before, %lu after the munmap, "
	      "the unmapped page's should be gone", (unsigned long)c0.reserv_live[0] + 2,
	      (unsigned long)c1.reserv_live[0]);
	EXPECT(kcheck(KCHECK_RUN, 0), 0);
	CHECK(p[PG2M] == 1, "the next block lost its page");
	EXPECT(munmap(p + PG2M, PG2M), 0);
	check_free_back("reserve", c0.free_pages);
}

static void
shared(void)
{
	uint64_t before = stats_now().free_pages;
	uint8_t *p = map_blocks(1);
	for (uint64_t i = 0; i < NPG; i++)
		p[i * PGSIZE + 1] = (uint8_t)i;
	int pid = fork();
	CHECK(pid >= 0, "fork: %e", pid);
	if (pid == 0) {
		EXPECT(munmap(p, PG2M), 0);
		exit(0);
	}
	int status;
	EXPECT(wait(pid, &status), pid);
	CHECK(status == 0, "the child exited with status %d", status);
	for (uint64_t i = 0; i < NPG; i++)
		CHECK(p[i * PGSIZE + 1] == (uint8_t)i && p[8] == 1, "page %lu changed after the child's munmap",
		      (unsigned long)i);
	unmap_timed("shared", p, 1);
	check_free_back("shared", before);
}

int
main(int argc, char **argv)
{
	static const struct scenario scenarios[] = {
		{ "one", one }, { "many", many }, { "reserve", reserve }, { "shared", shared },
	};
	CHECK(argc == 3, "usage: %s SCENARIO BOUND", argv[0]);
	bound = strtoul(argv[2], NULL, 10);
	run_scenario(scenarios, sizeof scenarios / sizeof scenarios[0], 2, argv);
	return 0;
}
