/*
 * superpage: what the kernel's superpage policy does with anonymous memory, checked
 * through vmquery (page size, reservation) and counters (promotions, demotions,
 * reservations).  One scenario per run, named by argv[1]:
 *   promote   touching all 512 pages of an aligned 2 MiB block gives a 2 MiB mapping;
 *             511 leave 4 KiB pages inside a 2 MiB reservation (vm.policy=reserve)
 *   giant     touching a whole aligned 1 GiB block gives a 1 GiB mapping (needs RAM)
 *   base      vm.policy=base: a fully touched block stays 4 KiB, no reservation
 *   eager     vm.policy=eager: the first touch maps 2 MiB at once
 *   mprotect  mprotect of one page demotes; protection holds; contents intact;
 *             restoring it re-promotes
 *   munmap    unmapping one page demotes; refilling it re-promotes (zero page back)
 *   dontneed  MADV_DONTNEED of one page demotes; zeros come back; re-promotes
 *   fork      parent and child write a 2 MiB page after fork: each sees its own data
 *   pressure  more reservations than free 2 MiB blocks: the least recently grown
 *             ones are preempted, nothing leaks
 *   fragment  memory fragmented by long-lived single pages, one per 2 MiB block, then a
 *             superpage wanted: the page daemon migrates pages to empty blocks, the
 *             pages keep their contents, and a new 2 MiB page is obtained
 *   spec      under memory pressure an unreferenced 2 MiB page is demoted by the page
 *             daemon; once its pages are all referenced again it is promoted back
 *   image     the program image (a fixed-size object) never gets a reservation that
 *             reaches outside its segment: small data none, a 5 MiB bss only whole
 *             2 MiB blocks inside it
 * Prints "superpage: SCENARIO OK"; a failed check prints "superpage: FAIL ...".
 */
#include "user/utest.h"

/* A fresh anonymous mapping of len bytes (len >= 2 MiB comes back 2 MiB aligned). */
static uint8_t *
map(uint64_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_ANON | MAP_PRIVATE);
	CHECK(!MMAP_FAILED(p), "mmap %lu bytes: %e", (unsigned long)len, (int)(int64_t)p);
	CHECK(((uint64_t)p & (PG2M - 1)) == 0, "mmap of 2 MiB or more not 2 MiB aligned: %p", p);
	return p;
}

/* Write a recognisable word into each page of [p, p + npages pages). */
static void
fill(uint8_t *p, int npages, uint64_t tag)
{
	for (int i = 0; i < npages; i++)
		*(volatile uint64_t *)(p + (uint64_t)i * PGSIZE) = tag + i;
}

static void
check_fill(uint8_t *p, int npages, uint64_t tag, int except)
{
	for (int i = 0; i < npages; i++) {
		uint64_t v = *(volatile uint64_t *)(p + (uint64_t)i * PGSIZE);
		if (i != except)
			CHECK(v == tag + i, "page %d holds 0x%lx, expected 0x%lx", i, (unsigned long)v,
			      (unsigned long)(tag + i));
	}
}

static void
expect_size(const void *va, uint64_t size, const char *when)
{
	struct vm_query q = query_va(va);
	CHECK(q.present && q.page_size == size, "%s: page size %lu at %p, expected %lu", when,
	      (unsigned long)q.page_size, va, (unsigned long)size);
}

static void
scenario_promote(void)
{
	uint8_t *p = map(2 * PG2M);
	struct kcounters before = stats_now();
	fill(p, NPG - 1, 0x1000);
	struct vm_query q = query_va(p);
	CHECK(q.reservation_size == PG2M, "511 pages: reservation %lu, expected 2 MiB",
	      (unsigned long)q.reservation_size);
	expect_size(p, PGSIZE, "511 pages touched");
	fill(p + (NPG - 1) * PGSIZE, 1, 0x1000 + NPG - 1);
	expect_size(p, PG2M, "512 pages touched");
	expect_size(p + PG2M - 1, PG2M, "512 pages touched (last byte)");
	check_fill(p, NPG, 0x1000, -1);
	struct kcounters after = stats_now();
	CHECK(after.promotions[0] == before.promotions[0] + 1, "promotions %lu -> %lu",
	      (unsigned long)before.promotions[0], (unsigned long)after.promotions[0]);
	printf("superpage: 512 touches, 1 promotion to 2 MiB, physical frame 0x%lx\n",
	       (unsigned long)q.pfn);
	/* the frames were contiguous from the start: frame i at pfn + i */
	CHECK((query_va(p).pfn & 511) == 0, "2 MiB page not 2 MiB aligned physically");
	EXPECT(munmap(p, 2 * PG2M), 0);
}

static void
scenario_giant(void)
{
	uint8_t *p = mmap(NULL, PG1G, PROT_READ | PROT_WRITE, MAP_ANON | MAP_PRIVATE);
	CHECK(!MMAP_FAILED(p), "mmap 1 GiB: %e", (int)(int64_t)p);
	CHECK(((uint64_t)p & (PG1G - 1)) == 0, "1 GiB mmap not 1 GiB aligned: %p", p);
	CHECK(query_va(p).mapped, "not mapped");
	for (uint64_t off = 0; off < PG1G; off += PGSIZE)
		*(volatile uint64_t *)(p + off) = off;
	struct vm_query q = query_va(p + 12345);
	CHECK(q.reservation_size == PG1G, "reservation %lu, expected 1 GiB", (unsigned long)q.reservation_size);
	expect_size(p, PG1G, "1 GiB touched");
	for (uint64_t off = 0; off < PG1G; off += 64 * PGSIZE)
		CHECK(*(volatile uint64_t *)(p + off) == off, "data lost at +0x%lx", (unsigned long)off);
	struct kcounters c = stats_now();
	printf("superpage: 1 GiB touched: %lu promotions to 2 MiB, %lu to 1 GiB\n",
	       (unsigned long)c.promotions[0], (unsigned long)c.promotions[1]);
	CHECK(c.promotions[1] >= 1, "no 1 GiB promotion");
	EXPECT(munmap(p, PG1G), 0);
}

static void
scenario_base(void)
{
	uint8_t *p = map(PG2M);
	fill(p, NPG, 0x2000);
	expect_size(p, PGSIZE, "base policy");
	CHECK(query_va(p).reservation_size == 0, "base policy made a reservation");
	struct kcounters c = stats_now();
	CHECK(c.policy == VM_POLICY_BASE, "policy %lu", (unsigned long)c.policy);
	CHECK(c.promotions[0] == 0 && c.promotion_attempts[0] == 0, "promotions %lu attempts %lu",
	      (unsigned long)c.promotions[0], (unsigned long)c.promotion_attempts[0]);
	check_fill(p, NPG, 0x2000, -1);
}

static void
scenario_eager(void)
{
	uint8_t *p = map(PG2M);
	*(volatile uint8_t *)(p + 5 * PGSIZE) = 1;
	expect_size(p, PG2M, "eager, first touch");
	struct kcounters c = stats_now();
	CHECK(c.policy == VM_POLICY_EAGER && c.eager_2m >= 1, "policy %lu, eager 2 MiB pages %lu",
	      (unsigned long)c.policy, (unsigned long)c.eager_2m);
	CHECK(*(volatile uint64_t *)(p + PG2M - 8) == 0, "eager page not zeroed");
	fill(p, NPG, 0x3000);
	check_fill(p, NPG, 0x3000, -1);
}

/* A promoted 2 MiB block with known contents. */
static uint8_t *
promoted_block(uint64_t tag)
{
	uint8_t *p = map(PG2M);
	fill(p, NPG, tag);
	expect_size(p, PG2M, "setup");
	return p;
}

static void
scenario_mprotect(void)
{
	uint8_t *p = promoted_block(0x4000);
	struct kcounters before = stats_now();
	EXPECT(mprotect(p + 7 * PGSIZE, PGSIZE, PROT_READ), 0);
	expect_size(p, PGSIZE, "after mprotect of one page");
	struct vm_query q = query_va(p + 7 * PGSIZE);
	CHECK(q.prot == PROT_READ, "prot %u", q.prot);
	CHECK(query_va(p + 8 * PGSIZE).prot == (PROT_READ | PROT_WRITE), "neighbour lost write");
	check_fill(p, NPG, 0x4000, -1);
	struct kcounters mid = stats_now();
	CHECK(mid.demotions[DEMOTE_BY_MPROTECT] == before.demotions[DEMOTE_BY_MPROTECT] + 1, "no demotion counted");
	EXPECT(mprotect(p + 7 * PGSIZE, PGSIZE, PROT_READ | PROT_WRITE), 0);
	fill(p + 7 * PGSIZE, 1, 0x4000 + 7);
	expect_size(p, PG2M, "protection restored");
	check_fill(p, NPG, 0x4000, -1);
}

/* munmap or DONTNEED page 9 of a promoted block, refill it, expect re-promotion. */
static void
drop_and_refill(int use_munmap)
{
	uint8_t *p = promoted_block(0x5000);
	uint8_t *victim = p + 9 * PGSIZE;
	int cause = use_munmap ? DEMOTE_BY_MUNMAP : DEMOTE_BY_MADVISE;
	struct kcounters before = stats_now();
	if (use_munmap) {
		EXPECT(munmap(victim, PGSIZE), 0);
		CHECK(!query_va(victim).mapped, "unmapped page still mapped");
		EXPECT((int64_t)mmap(victim, PGSIZE, PROT_READ | PROT_WRITE, MAP_ANON | MAP_PRIVATE | MAP_FIXED),
		       (int64_t)victim);
	} else {
		EXPECT(madvise(victim, PGSIZE, MADV_DONTNEED), 0);
	}
	expect_size(p, PGSIZE, "after dropping one page");
	check_fill(p, NPG, 0x5000, 9);
	struct kcounters mid = stats_now();
	CHECK(mid.demotions[cause] == before.demotions[cause] + 1, "no demotion counted");
	CHECK(*(volatile uint64_t *)victim == 0, "dropped page did not come back zero");
	/* the hole mapped again rejoins its region, object and reservation */
	struct vm_query q = query_va(victim);
	CHECK(q.region_start == (uint64_t)p && q.region_end == (uint64_t)p + PG2M,
	      "region after refill %lx-%lx", (unsigned long)q.region_start, (unsigned long)q.region_end);
	fill(victim, 1, 0x5000 + 9);
	expect_size(p, PG2M, "refilled");
	check_fill(p, NPG, 0x5000, -1);
}

static void
scenario_fork(void)
{
	uint8_t *p = promoted_block(0x6000);
	uint64_t before = free_pages();
	int child = fork();
	CHECK(child >= 0, "fork: %e", child);
	if (child == 0) {
		fill(p, 4, 0xc000);
		check_fill(p, 4, 0xc000, -1);
		check_fill(p + 4 * PGSIZE, NPG - 4, 0x6000 + 4, -1);
		exit(0);
	}
	fill(p + 100 * PGSIZE, 2, 0xd000);
	int status;
	EXPECT(wait(child, &status), child);
	CHECK(status == 0, "child status %d", status);
	check_fill(p, 100, 0x6000, -1);
	check_fill(p + 100 * PGSIZE, 2, 0xd000, -1);
	check_fill(p + 102 * PGSIZE, NPG - 102, 0x6000 + 102, -1);
	struct kcounters c = stats_now();
	if (c.cow_policy == COW_POLICY_SPLIT)
		CHECK(c.demotions[DEMOTE_BY_COW] >= 1, "no copy-on-write demotion counted");
	else if (c.cow_policy == COW_POLICY_OVERLAY)
		CHECK(c.cow_overlay >= 2 && c.demotions[DEMOTE_BY_COW] == 0, "no overlay-on-write counted");
	else
		CHECK(c.cow_copy_2m >= 1, "no 2 MiB copy counted");
	EXPECT(munmap(p, PG2M), 0);
	printf("superpage: fork: free pages %lu before, %lu after unmapping\n", (unsigned long)before,
	       (unsigned long)free_pages());
}

static void
scenario_pressure(void)
{
	struct kcounters c = stats_now();
	uint64_t blocks = c.free_pages / NPG + 8;	/* more 2 MiB blocks than memory holds */
	uint8_t *p = map(blocks * PG2M);
	for (uint64_t b = 0; b < blocks; b++)		/* one page per block: a reservation each */
		*(volatile uint64_t *)(p + b * PG2M) = b;
	/* memory is all reserved now: filling the last blocks needs frames held by reservations */
	for (uint64_t b = blocks - 8; b < blocks; b++)
		fill(p + b * PG2M + PGSIZE, NPG - 1, b << 16);
	for (uint64_t b = 0; b < blocks; b++)
		CHECK(*(volatile uint64_t *)(p + b * PG2M) == b, "block %lu lost its data", (unsigned long)b);
	for (uint64_t b = blocks - 8; b < blocks; b++)
		check_fill(p + b * PG2M + PGSIZE, NPG - 1, b << 16, -1);
	struct kcounters after = stats_now();
	printf("superpage: %lu blocks touched: %lu reservations created, %lu preempted\n",
	       (unsigned long)blocks, (unsigned long)(after.reserv_created[0] - c.reserv_created[0]),
	       (unsigned long)(after.reserv_preempted[0] - c.reserv_preempted[0]));
	CHECK(after.reserv_preempted[0] > c.reserv_preempted[0], "no reservation preempted");
	EXPECT(munmap(p, blocks * PG2M), 0);
	/* all back but the page-table pages, which stay until exit (from wired blocks) */
	struct kcounters end = stats_now();
	CHECK(end.free_pages + (end.pt_pages - c.pt_pages) >= c.free_pages,
	      "free pages %lu + %lu page-table pages after, %lu before", (unsigned long)end.free_pages,
	      (unsigned long)(end.pt_pages - c.pt_pages), (unsigned long)c.free_pages);
	CHECK(end.reserv_live[0] == c.reserv_live[0], "reservations left: %lu", (unsigned long)end.reserv_live[0]);
}

/* Yield until cond() holds or `ticks` timer ticks passed; returns cond(). */
static bool
wait_for(bool (*cond)(void), uint64_t ticks)
{
	uint64_t start = stats_now().timer_ticks;
	while (!cond() && stats_now().timer_ticks - start < ticks)
		yield();
	return cond();
}

static uint64_t fragment_goal;

static bool
enough_free_blocks(void)
{
	return stats_now().free_2m_blocks >= fragment_goal;
}

static void
scenario_fragment(void)
{
	struct kcounters c = stats_now();
	uint64_t blocks = c.free_2m_blocks - 1;
	uint8_t *p = map(blocks * PG2M);
	for (uint64_t b = 0; b < blocks; b++)
		fill(p + b * PG2M, NPG, b << 16);
	/* keep one page per block: free memory is plenty, free 2 MiB blocks are not */
	for (uint64_t b = 0; b < blocks; b++)
		EXPECT(munmap(p + b * PG2M + PGSIZE, PG2M - PGSIZE), 0);
	struct kcounters frag = stats_now();
	printf("superpage: fragment: %lu blocks pinned by one page each, %lu pages free\n",
	       (unsigned long)blocks, (unsigned long)frag.free_pages);
	fragment_goal = 4;		/* the daemon's default target */
	CHECK(wait_for(enough_free_blocks, 500), "free 2 MiB blocks stayed at %lu",
	      (unsigned long)stats_now().free_2m_blocks);
	/*
	 * The daemon may have started compacting during the munmap loop, before frag was
	 * taken, so the baseline is c, taken before the blocks were filled.  munmap cannot
	 * free a whole block (each keeps a page), so every block that came back since was
	 * emptied by migration.
	 */
	struct kcounters after = stats_now();
	CHECK(after.migrations > c.migrations && after.compactions > c.compactions,
	      "free blocks came back without migration");
	printf("superpage: fragment: the daemon migrated %lu pages and emptied %lu blocks\n",
	       (unsigned long)(after.migrations - c.migrations), (unsigned long)(after.compactions - c.compactions));
	for (uint64_t b = 0; b < blocks; b++)
		check_fill(p + b * PG2M, 1, b << 16, -1);
	uint8_t *q = map(PG2M);
	fill(q, NPG, 0x7000);
	expect_size(q, PG2M, "superpage after compaction");
	check_fill(q, NPG, 0x7000, -1);
}

static uint8_t *spec_block;

static bool
spec_demoted(void)
{
	return query_va(spec_block).page_size == PGSIZE;
}

static bool
spec_repromoted(void)
{
	return query_va(spec_block).page_size == PG2M;
}

static void
scenario_spec(void)
{
	spec_block = promoted_block(0x8000);
	struct kcounters c = stats_now();
	/* pressure: fill memory until less than 1/32 of it is free (the daemon's low mark is 1/16) */
	uint64_t len = c.free_pages * PGSIZE;
	uint8_t *hog = map(ROUNDUP(len, PG2M));
	uint64_t touched = 0;
	while (stats_now().free_pages > c.total_pages / 32 && touched * PGSIZE < len) {
		fill(hog + touched * PGSIZE, 64, 0);
		touched += 64;
	}
	CHECK(wait_for(spec_demoted, 500), "unreferenced 2 MiB page not demoted under pressure");
	struct kcounters mid = stats_now();
	CHECK(mid.demotions[DEMOTE_BY_PRESSURE] > c.demotions[DEMOTE_BY_PRESSURE], "demotion not counted");
	printf("superpage: spec: %lu pressure demotions\n",
	       (unsigned long)(mid.demotions[DEMOTE_BY_PRESSURE] - c.demotions[DEMOTE_BY_PRESSURE]));
	EXPECT(munmap(hog, ROUNDUP(len, PG2M)), 0);
	check_fill(spec_block, NPG, 0x8000, -1);	/* references every page again */
	CHECK(wait_for(spec_repromoted, 500), "referenced again but not promoted back");
	CHECK(stats_now().repromotions > c.repromotions, "re-promotion not counted");
	check_fill(spec_block, NPG, 0x8000, -1);
}

static uint64_t small_data = 42;
static uint8_t big_bss[5 << 20];	/* holds at least one whole aligned 2 MiB block */

static void
scenario_image(void)
{
	small_data++;
	struct vm_query q = query_va(&small_data);
	CHECK(q.present && q.reservation_size == 0, "small data: reservation %lu",
	      (unsigned long)q.reservation_size);
	for (uint64_t off = 0; off < sizeof big_bss; off += PGSIZE)
		big_bss[off] = 1;
	int reserved = 0;
	for (uint64_t off = 0; off < sizeof big_bss; off += PGSIZE) {
		q = query_va(big_bss + off);
		uint64_t blk = ROUNDDOWN((uint64_t)big_bss + off, PG2M);
		if (q.reservation_size) {
			CHECK(q.reservation_size == PG2M && blk >= q.region_start && blk + PG2M <= q.region_end,
			      "bss +0x%lx: %lu reservation reaches outside the segment %lx-%lx",
			      (unsigned long)off, (unsigned long)q.reservation_size,
			      (unsigned long)q.region_start, (unsigned long)q.region_end);
			reserved++;
		}
	}
	printf("superpage: image: %d of %lu bss pages in reservations inside the segment\n", reserved,
	       (unsigned long)(sizeof big_bss / PGSIZE));
	CHECK(reserved >= NPG, "the 5 MiB bss holds a whole 2 MiB block but got no reservation");
}

/*
 * vm.promote.util=50 (Ingens's utilization threshold): touching 300 pages of a 2 MiB
 * block in order promotes it at the 256th fault, the other 256 pages populated with
 * zeros then and counted (the next 44 touches fault no more); a block touched at 200
 * pages (39%) stays 4 KiB.  Every page keeps what was written to it.
 */
static void
scenario_util(void)
{
	uint8_t *dirty = map(16 * PG2M);	/* freed dirty: the blocks below may reuse its frames */
	memset(dirty, 0xa5, 16 * PG2M);
	EXPECT(munmap(dirty, 16 * PG2M), 0);
	struct kcounters before = stats_now();
	uint8_t *p = map(2 * PG2M);
	fill(p, 300, 0x5000);
	fill(p + PG2M, 200, 0x6000);
	expect_size(p, PG2M, "300 of 512 pages touched");
	expect_size(p + PG2M, PGSIZE, "200 of 512 pages touched");
	check_fill(p, 300, 0x5000, -1);
	check_fill(p + PG2M, 200, 0x6000, -1);
	for (uint64_t off = 300 * PGSIZE; off < PG2M; off += 8)
		CHECK(*(volatile uint64_t *)(p + off) == 0, "an untouched page holds data at offset 0x%lx",
		      (unsigned long)off);
	struct kcounters after = stats_now();
	CHECK(after.util_fill_pages - before.util_fill_pages == 256, "%lu pages filled, expected 256",
	      (unsigned long)(after.util_fill_pages - before.util_fill_pages));
	CHECK(after.page_faults - before.page_faults == 256 + 200, "%lu faults, expected 456",
	      (unsigned long)(after.page_faults - before.page_faults));
	printf("superpage: util: 300 pages touched promote with 256 filled; 200 do not\n");
	EXPECT(munmap(p, 2 * PG2M), 0);
}

static void
scenario_munmap(void)
{
	drop_and_refill(true);
}

static void
scenario_dontneed(void)
{
	drop_and_refill(false);
}

int
main(int argc, char **argv)
{
	static const struct scenario scenarios[] = {
		{ "promote", scenario_promote }, { "giant", scenario_giant }, { "base", scenario_base },
		{ "eager", scenario_eager }, { "mprotect", scenario_mprotect }, { "fork", scenario_fork },
		{ "pressure", scenario_pressure }, { "image", scenario_image },
		{ "fragment", scenario_fragment }, { "spec", scenario_spec },
		{ "munmap", scenario_munmap }, { "dontneed", scenario_dontneed }, { "util", scenario_util },
	};
	run_scenario(scenarios, ARRAY_SIZE(scenarios), argc, argv);
	return 0;
}
