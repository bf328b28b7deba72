/*
 * pz_zero: pre-zeroed pages (kern/mm/prezero.c, issue 13 item 3).
 * run=pz_zero,SCENARIO:
 *   zero      dirty nearly all free memory and unmap it, sleep so that the idle loop
 *             fills the pools from those dirty frames, then map fresh memory as large
 *             as the pools, read every byte of it (each first read a demand-zero fault)
 *             and check it is zero; with prezero on, faults must have taken pre-zeroed
 *             memory (a 4 KiB frame under base, a 2 MiB block under eager, a
 *             reservation made from one under reserve).  Free pages come back to the
 *             count before the first mmap.
 *   pressure  boot with pools as large as most of memory (prezero.4k=, prezero.2m=)
 *             and vm.policy=base: once they are full, touch X pages (the faults take
 *             pool frames), fork, and let the child write every page: its copy-on-write
 *             copies need X frames from the allocator (frame_alloc), more than it has
 *             outside the pools, so they succeed only if the pools hand frames back.
 *   stale     vm.policy=reserve prezero.4k=0: reservations made from the pool's 2 MiB
 *             blocks (PG_ZERO frames) are unmapped with one page touched each; then
 *             nearly all memory is dirtied through regions too small for reservations
 *             (plain frames) and unmapped; then nearly all memory is mapped again through
 *             reservations made from the allocator and read: a frame that left its
 *             reservation still marked zero and was dirtied since would read nonzero.
 * Prints the pools and counters, and "pz_zero: SCENARIO OK".
 */
#include "user/utest.h"

#define MARGIN	1024		/* pages left for page tables and kernel objects */

/* Map len bytes 2 MiB aligned; the mapping to unmap is returned in *base, *maplen. */
static uint8_t *
map_aligned(uint64_t len, uint8_t **base, uint64_t *maplen)
{
	*maplen = len + PG2M;
	*base = mmap(NULL, *maplen, PROT_READ | PROT_WRITE, MAP_ANON | MAP_PRIVATE);
	CHECK(!MMAP_FAILED(*base), "mmap of %lu bytes: %e", (unsigned long)*maplen, (int)(int64_t)*base);
	return (uint8_t *)ROUNDUP((uint64_t)*base, PG2M);
}

/* Sleep until the idle loop stops adding to the pools; the counters then. */
static struct kcounters
wait_for_pools(void)
{
	struct kcounters c = stats_now();
	for (int i = 0; i < 2000; i++) {
		uint64_t zeroed = c.prezero_pages_zeroed;
		EXPECT(tick_sleep(2), 0);
		c = stats_now();
		if (c.prezero_pages_zeroed == zeroed)
			break;
	}
	printf("pz_zero: pools hold %lu pages (%lu 2 MiB blocks), %lu pages zeroed ahead\n",
	       (unsigned long)c.prezero_pool_pages, (unsigned long)c.prezero_pool_2m,
	       (unsigned long)c.prezero_pages_zeroed);
	return c;
}

static void
print_counters(const struct kcounters *c)
{
	printf("pz_zero: prezero %s: hits 4K %lu 2M %lu reserv %lu, misses 4K %lu 2M %lu, "
	       "zeroed ahead %lu KiB, at fault time %lu KiB, given back %lu pages\n",
	       c->prezero_on ? "on" : "off", (unsigned long)c->prezero_hits[0], (unsigned long)c->prezero_hits[1],
	       (unsigned long)c->prezero_reserv_hits, (unsigned long)c->prezero_misses[0],
	       (unsigned long)c->prezero_misses[1], (unsigned long)(c->prezero_bytes_ahead >> 10),
	       (unsigned long)(c->bytes_zeroed >> 10), (unsigned long)c->prezero_given_back);
}

/* Touch npages pages of fresh memory, writing every byte. */
static void
dirty_pages(uint64_t npages)
{
	uint8_t *base;
	uint64_t maplen;
	uint8_t *p = map_aligned(npages * PGSIZE, &base, &maplen);
	memset(p, 0xa5, npages * PGSIZE);
	EXPECT(munmap(base, maplen), 0);
}

static void
check_free_back(uint64_t before)
{
	uint64_t after = stats_now().free_pages;
	CHECK(after == before, "%lu pages free before the first mmap, %lu after the last munmap",
	      (unsigned long)before, (unsigned long)after);
}

static void
scenario_zero(void)
{
	uint64_t free0 = stats_now().free_pages;
	dirty_pages(free0 - MARGIN);
	struct kcounters before = wait_for_pools();
	CHECK(!before.prezero_on || before.prezero_pool_pages > 0, "prezero on, yet the pools are empty");

	uint64_t len = ROUNDUP(before.prezero_pool_pages * PGSIZE, PG2M) + PG2M, maplen;
	uint8_t *base;
	const volatile uint64_t *p = (const uint64_t *)map_aligned(len, &base, &maplen);
	for (uint64_t i = 0; i < len / sizeof *p; i++)
		CHECK(p[i] == 0, "byte %lu of fresh memory is not zero: 0x%lx (page %lu)",
		      (unsigned long)(i * sizeof *p), (unsigned long)p[i], (unsigned long)(i * sizeof *p / PGSIZE));

	struct kcounters after = stats_now();
	print_counters(&after);
	uint64_t hits = after.prezero_hits[0] + after.prezero_hits[1] + after.prezero_reserv_hits -
			before.prezero_hits[0] - before.prezero_hits[1] - before.prezero_reserv_hits;
	if (before.prezero_on) {
		CHECK(hits > 0, "faults took no pre-zeroed memory");
		CHECK(after.policy != VM_POLICY_EAGER || after.prezero_hits[1] > before.prezero_hits[1],
		      "eager took no pre-zeroed 2 MiB block");
		CHECK(after.policy != VM_POLICY_RESERVE || after.prezero_reserv_hits > before.prezero_reserv_hits,
		      "no reservation frame was handed out pre-zeroed");
	} else {
		CHECK(hits == 0 && after.prezero_pages_zeroed == 0, "prezero off, yet %lu hits", (unsigned long)hits);
	}
	EXPECT(munmap(base, maplen), 0);
	check_free_back(free0);
}

static void
scenario_pressure(void)
{
	uint64_t free0 = stats_now().free_pages;
	struct kcounters before = wait_for_pools();
	uint64_t pool = before.prezero_pool_pages, outside = before.free_pages - pool;
	CHECK(pool > outside + MARGIN, "the pools hold %lu of %lu free pages: too few", (unsigned long)pool,
	      (unsigned long)before.free_pages);
	uint64_t npages = (before.free_pages - MARGIN) / 2, maplen;	/* more than outside */
	uint8_t *base;
	volatile uint8_t *p = map_aligned(npages * PGSIZE, &base, &maplen);
	for (uint64_t i = 0; i < npages; i++)
		p[i * PGSIZE] = 1;
	int pid = fork();
	CHECK(pid >= 0, "fork: %e", pid);
	if (pid == 0) {
		for (uint64_t i = 0; i < npages; i++)
			p[i * PGSIZE] = 2;	/* a copy that finds no frame kills the child */
		exit(0);
	}
	int status;
	EXPECT(wait(pid, &status), pid);
	CHECK(status == 0, "the child's copy-on-write copies failed (status 0x%x)", status);
	struct kcounters after = stats_now();
	print_counters(&after);
	CHECK(after.prezero_given_back > before.prezero_given_back, "the pools gave nothing back");
	EXPECT(munmap(base, maplen), 0);
	check_free_back(free0);
}

#define SMALL_REGION	(1UL << 20)	/* fixed size below 2 MiB: no reservation */
#define SMALL_MAX	256

/* Fresh memory of npages pages, read whole: every byte must be zero. */
static void
check_fresh_zero(uint64_t npages)
{
	uint8_t *base;
	uint64_t maplen;
	const volatile uint64_t *p = (const uint64_t *)map_aligned(npages * PGSIZE, &base, &maplen);
	for (uint64_t i = 0; i < npages * PGSIZE / sizeof *p; i++)
		CHECK(p[i] == 0, "byte %lu of fresh memory is not zero: 0x%lx (page %lu)",
		      (unsigned long)(i * sizeof *p), (unsigned long)p[i], (unsigned long)(i * sizeof *p / PGSIZE));
	EXPECT(munmap(base, maplen), 0);
}

static void
scenario_stale(void)
{
	static uint8_t *small[SMALL_MAX];
	memset(small, 0, sizeof small);		/* its page faulted in before the count */
	uint64_t free0 = stats_now().free_pages;
	struct kcounters before = wait_for_pools();
	uint64_t nblocks = before.prezero_pool_2m, maplen;
	CHECK(nblocks > 0, "no pre-zeroed 2 MiB block");
	uint8_t *base;
	volatile uint8_t *p = map_aligned(nblocks * PG2M, &base, &maplen);
	for (uint64_t b = 0; b < nblocks; b++)
		p[b * PG2M] = 1;		/* a reservation from a pool block each */
	EXPECT(munmap(base, maplen), 0);
	struct kcounters c = stats_now();
	CHECK(c.prezero_hits[1] - before.prezero_hits[1] == nblocks, "%lu reservations from pool blocks, not %lu",
	      (unsigned long)(c.prezero_hits[1] - before.prezero_hits[1]), (unsigned long)nblocks);

	uint64_t nsmall = MIN((c.free_pages - MARGIN) * PGSIZE / SMALL_REGION, (uint64_t)SMALL_MAX);
	for (uint64_t i = 0; i < nsmall; i++) {
		small[i] = mmap(NULL, SMALL_REGION, PROT_READ | PROT_WRITE, MAP_ANON | MAP_PRIVATE);
		CHECK(!MMAP_FAILED(small[i]), "mmap: %e", (int)(int64_t)small[i]);
		memset(small[i], 0xa5, SMALL_REGION);
	}
	for (uint64_t i = 0; i < nsmall; i++)
		EXPECT(munmap(small[i], SMALL_REGION), 0);

	check_fresh_zero(stats_now().free_pages - MARGIN);
	c = stats_now();
	print_counters(&c);
	check_free_back(free0);
}

static const struct scenario scenarios[] = {
	{ "stale", scenario_stale },
	{ "zero", scenario_zero },
	{ "pressure", scenario_pressure },
};

int
main(int argc, char **argv)
{
	run_scenario(scenarios, ARRAY_SIZE(scenarios), argc, argv);
	return 0;
}
