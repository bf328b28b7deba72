/*
 * rsv_hostile: reservations, wired blocks and the page daemon under hostile use
 * (issue 15).  One scenario per run, named by argv[1]:
 *   small     a 4 KiB mmap at a 2 MiB- and at a 1 GiB-aligned address gets no
 *             reservation: an mmap region is a fixed-size object
 *   preempt   free 2 MiB blocks below the daemon's target and 16 partial 2 MiB
 *             reservations with a page in use each: breaking one gains no free block,
 *             so the daemon breaks only what compaction needs, within its per-pass bound
 *   progress  (vm.policy=base, an aggressive daemon whose target is unreachable)
 *             2048 page tables to make the daemon's walks long, memory fragmented one
 *             page per 2 MiB block: the daemon's passes are bounded, it does not churn
 *             pages, and this process keeps running between passes
 *   wired     a child fills several wired blocks with page tables and exits: the
 *             blocks drain back to the allocator, and later kernel pages come from the
 *             room left in those kept, not a new block
 * Prints "rsv_hostile: SCENARIO OK"; a failed check prints "rsv_hostile: FAIL ...".
 */
#include "user/utest.h"

static uint8_t *
map(void *hint, uint64_t len)
{
	void *p = mmap(hint, len, PROT_READ | PROT_WRITE, MAP_ANON | MAP_PRIVATE);
	CHECK(!MMAP_FAILED(p), "mmap %lu bytes: %e", (unsigned long)len, (int)(int64_t)p);
	return p;
}

/* Touch a 4 KiB mmap at an address aligned to align: no reservation, one page used. */
static void
small_at(uint64_t align)
{
	uint8_t *area = map(NULL, 2 * align);
	uint8_t *aligned = (uint8_t *)ROUNDUP((uint64_t)area, align);
	EXPECT(munmap(area, 2 * align), 0);
	uint64_t before = free_pages();
	uint8_t *p = map(aligned, PGSIZE);
	CHECK(p == aligned, "hint %p not taken: %p", aligned, p);
	*(volatile uint64_t *)p = 1;
	struct vm_query q = query_va(p);
	uint64_t used = before - free_pages();
	printf("rsv_hostile: 4 KiB mmap at a %lu MiB boundary: reservation %lu bytes, %lu pages used\n",
	       (unsigned long)(align >> 20), (unsigned long)q.reservation_size, (unsigned long)used);
	CHECK(q.reservation_size == 0, "a 4 KiB mmap got a %lu-byte reservation", (unsigned long)q.reservation_size);
	CHECK(used < NPG, "a 4 KiB mmap took %lu pages", (unsigned long)used);
	EXPECT(munmap(p, PGSIZE), 0);
}

static void
scenario_small(void)
{
	if (stats_now().total_pages > (uint64_t)2 * PG1G / PGSIZE)
		small_at(PG1G);
	small_at(PG2M);
}

/* Yield until `ticks` timer ticks passed. */
static void
sleep_ticks(uint64_t ticks)
{
	uint64_t start = stats_now().timer_ticks;
	while (stats_now().timer_ticks - start < ticks)
		yield();
}

#define PARTIALS 16

static void
scenario_preempt(void)
{
	uint8_t *part = map(NULL, PARTIALS * PG2M);
	for (int i = 0; i < PARTIALS; i++)
		*(volatile uint64_t *)(part + i * PG2M) = (uint64_t)i;
	for (int i = 0; i < PARTIALS; i++)
		CHECK(query_va(part + i * PG2M).reservation_size == PG2M, "block %d has no reservation", i);
	/* fill whole blocks until only 2 are free: below the daemon's target of 4 */
	uint64_t nhog = stats_now().free_2m_blocks - 2;
	uint8_t *hog = map(NULL, nhog * PG2M);
	for (uint64_t off = 0; off < nhog * PG2M; off += PGSIZE)
		*(volatile uint64_t *)(hog + off) = off;
	struct kcounters c = stats_now();
	sleep_ticks(200);		/* several passes (every 25 ticks by default) */
	struct kcounters after = stats_now();
	int left = 0;
	for (int i = 0; i < PARTIALS; i++) {
		left += query_va(part + i * PG2M).reservation_size == PG2M;
		CHECK(*(volatile uint64_t *)(part + i * PG2M) == (uint64_t)i, "block %d lost its data", i);
	}
	printf("rsv_hostile: preempt: %lu passes: %d of %d partial reservations left, %lu broken by the daemon, "
	       "at most %lu in one pass; %lu free 2 MiB blocks\n",
	       (unsigned long)(after.daemon_passes - c.daemon_passes), left, PARTIALS,
	       (unsigned long)(after.daemon_preempted - c.daemon_preempted), (unsigned long)after.daemon_max_preempted,
	       (unsigned long)after.free_2m_blocks);
	CHECK(after.daemon_passes > c.daemon_passes, "no daemon pass");
	CHECK(left >= PARTIALS / 2, "the daemon broke %d of %d partial reservations", PARTIALS - left, PARTIALS);
	CHECK(after.daemon_max_preempted <= 8, "one pass broke %lu reservations", (unsigned long)after.daemon_max_preempted);
	EXPECT(munmap(hog, nhog * PG2M), 0);
	EXPECT(munmap(part, PARTIALS * PG2M), 0);
}

/* Touch one page in each of n 2 MiB blocks: one page-table page each (vm.policy=base). */
static uint8_t *
page_tables(uint64_t n)
{
	uint8_t *p = map(NULL, n * PG2M);
	for (uint64_t i = 0; i < n; i++)
		*(volatile uint64_t *)(p + i * PG2M) = i;
	return p;
}

static void
scenario_progress(void)
{
	CHECK(stats_now().policy == VM_POLICY_BASE, "boot with vm.policy=base");
	page_tables(2048);		/* every page-table walk of the daemon's is long */
	struct kcounters c = stats_now();
	uint64_t blocks = c.free_2m_blocks - 1;
	uint8_t *p = map(NULL, blocks * PG2M);
	for (uint64_t b = 0; b < blocks; b++)
		for (int i = 0; i < NPG; i++)
			*(volatile uint64_t *)(p + b * PG2M + (uint64_t)i * PGSIZE) = b;
	for (uint64_t b = 0; b < blocks; b++)
		EXPECT(munmap(p + b * PG2M + PGSIZE, PG2M - PGSIZE), 0);
	/*
	 * The daemon already runs while the blocks are filled and cut, and what it moves
	 * then depends on where the ticks fall (pages moved there may be unmapped right
	 * after).  Churn is judged on the steady state from here: one page left per block.
	 */
	struct kcounters cut = stats_now();
	/* run for 200 ticks: count the ticks this process saw */
	uint64_t start = stats_now().timer_ticks, last = start, seen = 0;
	while (last - start < 200) {
		uint64_t now = stats_now().timer_ticks;
		seen += now != last;
		last = now;
	}
	struct kcounters after = stats_now();
	for (uint64_t b = 0; b < blocks; b++)
		CHECK(*(volatile uint64_t *)(p + b * PG2M) == b, "block %lu lost its data", (unsigned long)b);
	printf("rsv_hostile: progress: %lu blocks fragmented; in 200 ticks this process saw %lu, the daemon ran "
	       "%lu passes, moved %lu pages (%lu once cut; at most %lu in one pass), emptied %lu blocks\n",
	       (unsigned long)blocks, (unsigned long)seen, (unsigned long)(after.daemon_passes - c.daemon_passes),
	       (unsigned long)(after.migrations - c.migrations), (unsigned long)(after.migrations - cut.migrations),
	       (unsigned long)after.daemon_max_migrated,
	       (unsigned long)(after.compactions - c.compactions));
	CHECK(seen >= 50, "this process ran in only %lu of 200 ticks", (unsigned long)seen);
	CHECK(after.daemon_max_migrated <= 256, "one pass moved %lu pages", (unsigned long)after.daemon_max_migrated);
	/*
	 * Emptying blocks moves each last page into another fragmented block, which may be
	 * chosen later and move it again: a few moves per block, by the order of choice
	 * (151 to about 280 for 51 blocks seen).  The churn this guards against moved 28 to
	 * 195 pages per block.
	 */
	CHECK(after.migrations - cut.migrations <= 8 * blocks,
	      "%lu pages moved for %lu fragmented blocks once they were cut: churn",
	      (unsigned long)(after.migrations - cut.migrations), (unsigned long)blocks);
	CHECK(after.compactions > c.compactions, "no block emptied");
	EXPECT(munmap(p, blocks * PG2M), 0);
}

static void
scenario_wired(void)
{
	CHECK(stats_now().policy == VM_POLICY_BASE, "boot with vm.policy=base");
	int child = fork();
	CHECK(child >= 0, "fork: %e", child);
	if (child == 0) {
		page_tables(3 * NPG);	/* fills wired blocks, then exits */
		exit(0);
	}
	int status;
	EXPECT(wait(child, &status), child);
	CHECK(status == 0, "child status %d", status);
	struct kcounters c = stats_now();
	CHECK(c.wired_blocks <= c.wired_in_use / NPG + 1, "%lu wired blocks kept for %lu pages in use",
	      (unsigned long)c.wired_blocks, (unsigned long)c.wired_in_use);
	page_tables(64);
	struct kcounters after = stats_now();
	uint64_t used = c.free_pages - after.free_pages;
	printf("rsv_hostile: wired: 64 page tables after the child: %lu pages used; wired blocks %lu -> %lu, "
	       "%lu -> %lu pages in use\n", (unsigned long)used, (unsigned long)c.wired_blocks,
	       (unsigned long)after.wired_blocks, (unsigned long)c.wired_in_use, (unsigned long)after.wired_in_use);
	CHECK(used < NPG, "%lu pages used for 64 pages and their tables: a new wired block while others had room",
	      (unsigned long)used);
	CHECK(after.wired_blocks == c.wired_blocks, "a new wired block while %lu had room",
	      (unsigned long)(c.wired_blocks * NPG - c.wired_in_use));
}

int
main(int argc, char **argv)
{
	static const struct scenario scenarios[] = {
		{ "small", scenario_small }, { "preempt", scenario_preempt },
		{ "progress", scenario_progress }, { "wired", scenario_wired },
	};
	run_scenario(scenarios, ARRAY_SIZE(scenarios), argc, argv);
	return 0;
}
