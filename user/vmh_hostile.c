/*
 * vmh_hostile: address spaces and superpage promotion under hostile use (issue 15),
 * checked through vmquery (region, page size, the leaf's W/A/D bits) and counters.
 * One scenario per run, named by argv[1]:
 *   sbrk       the heap split by munmap, a MAP_FIXED mapping in the hole and a
 *              read-only piece: sbrk grows only the top piece, regions stay disjoint
 *              and keep their protections, exit releases everything
 *   prot       a block whose pages differ in protection only at one page (W, NX or U;
 *              page 0, 256 or 511) is not promoted when its last page is populated;
 *              restoring the protection promotes it
 *   promote-ad after promotion a superpage's accessed/dirty bits are the OR of its
 *              pages' (a read-only block stays clean, one written page makes it dirty),
 *              and demotion gives them back without inventing or dropping any
 *   ad         mprotect and fork keep each page's accessed/dirty bits
 *   text       program text made read-only cannot then be made writable (W^X)
 *   repromote  (vm.policy=eager, an always-pressed daemon) a pressure-demoted 2 MiB
 *              page whose pages are all referenced again is promoted back, but not
 *              once its page 0 was unmapped and mapped again as another object
 *   huge       mprotect/madvise/munmap over a 64 TiB mapping return at once
 * Prints "vmh_hostile: SCENARIO OK"; a failed check prints "vmh_hostile: FAIL ...".
 */
#include "user/utest.h"

#define RW	(PROT_READ | PROT_WRITE)

/* A fresh anonymous mapping; 2 MiB or more comes back 2 MiB aligned. */
static uint8_t *
map(uint64_t len, uint32_t prot)
{
	void *p = mmap(NULL, len, prot, MAP_ANON | MAP_PRIVATE);
	CHECK(!MMAP_FAILED(p), "mmap %lu bytes: %e", (unsigned long)len, (int)(int64_t)p);
	CHECK(len < PG2M || ((uint64_t)p & (PG2M - 1)) == 0, "mmap of 2 MiB not aligned: %p", p);
	return p;
}

static uint64_t
peek(const uint8_t *p)
{
	return *(volatile const uint64_t *)p;
}

static void
poke(uint8_t *p, uint64_t v)
{
	*(volatile uint64_t *)p = v;
}

static void
expect_region(const void *va, uint64_t start, uint64_t end, uint32_t prot)
{
	struct vm_query q = query_va(va);
	CHECK(q.mapped && q.region_start == start && q.region_end == end && q.prot == prot,
	      "%p: region %lx-%lx prot %u, expected %lx-%lx prot %u", va, (unsigned long)q.region_start,
	      (unsigned long)q.region_end, q.prot, (unsigned long)start, (unsigned long)end, prot);
}

static void
expect_bits(const void *va, uint64_t size, int writable, int accessed, int dirty, const char *when)
{
	struct vm_query q = query_va(va);
	CHECK(q.present && q.page_size == size && (int)q.writable == writable && (int)q.accessed == accessed &&
	      (int)q.dirty == dirty, "%s: %p size %lu W%u A%u D%u, expected size %lu W%d A%d D%d", when, va,
	      (unsigned long)q.page_size, q.writable, q.accessed, q.dirty, (unsigned long)size, writable,
	      accessed, dirty);
}

/* ---- sbrk over a split heap ---- */

static void
scenario_sbrk(void)
{
	uint8_t *cur = sbrk(0);
	uint8_t *h = (uint8_t *)ROUNDUP((uint64_t)cur, PGSIZE);
	EXPECT(sbrk(h - cur), cur);
	EXPECT(sbrk(4 * PGSIZE), h);
	for (int i = 0; i < 4; i++)
		poke(h + i * PGSIZE, i);
	/* a hole at page 1 filled by an mmap region, a read-only page 2 */
	EXPECT(munmap(h + PGSIZE, PGSIZE), 0);
	EXPECT(mmap(h + PGSIZE, PGSIZE, RW, MAP_ANON | MAP_PRIVATE | MAP_FIXED), h + PGSIZE);
	poke(h + PGSIZE, 0x1111);
	EXPECT(mprotect(h + 2 * PGSIZE, PGSIZE, PROT_READ), 0);
	EXPECT(sbrk(2 * PGSIZE), h + 4 * PGSIZE);
	uint64_t b = (uint64_t)h;
	expect_region(h, b, b + PGSIZE, RW);
	expect_region(h + PGSIZE, b + PGSIZE, b + 2 * PGSIZE, RW);
	expect_region(h + 2 * PGSIZE, b + 2 * PGSIZE, b + 3 * PGSIZE, PROT_READ);
	expect_region(h + 4 * PGSIZE, b + 3 * PGSIZE, b + 6 * PGSIZE, RW);
	poke(h + 5 * PGSIZE, 5);
	/* the top piece unmapped and replaced: sbrk adds a new heap piece above it */
	EXPECT(munmap(h + 5 * PGSIZE, PGSIZE), 0);
	EXPECT(mmap(h + 5 * PGSIZE, PGSIZE, PROT_READ, MAP_ANON | MAP_PRIVATE | MAP_FIXED), h + 5 * PGSIZE);
	CHECK(peek(h + 5 * PGSIZE) == 0, "a new mapping is not zero");
	EXPECT(sbrk(PGSIZE), h + 6 * PGSIZE);
	expect_region(h + 5 * PGSIZE, b + 5 * PGSIZE, b + 6 * PGSIZE, PROT_READ);
	expect_region(h + 6 * PGSIZE, b + 6 * PGSIZE, b + 7 * PGSIZE, RW);
	poke(h + 6 * PGSIZE, 6);
	/* a read-only top piece is not made writable by growing */
	EXPECT(mprotect(h + 6 * PGSIZE, PGSIZE, PROT_READ), 0);
	EXPECT(sbrk(PGSIZE), h + 7 * PGSIZE);
	expect_region(h + 6 * PGSIZE, b + 6 * PGSIZE, b + 7 * PGSIZE, PROT_READ);
	expect_region(h + 7 * PGSIZE, b + 7 * PGSIZE, b + 8 * PGSIZE, RW);
	poke(h + 7 * PGSIZE, 7);
	CHECK(peek(h) == 0 && peek(h + PGSIZE) == 0x1111 && peek(h + 2 * PGSIZE) == 2 &&
	      peek(h + 3 * PGSIZE) == 3 && peek(h + 6 * PGSIZE) == 6 && peek(h + 7 * PGSIZE) == 7,
	      "heap contents changed");
	/* shrinking back releases the range, whatever lies in it */
	EXPECT(sbrk(-7 * (int64_t)PGSIZE), h + 8 * PGSIZE);
	CHECK(!query_va(h + PGSIZE).mapped && !query_va(h + 5 * PGSIZE).mapped, "shrunk range still mapped");
	expect_region(h, b, b + PGSIZE, RW);
}

/* ---- promotion compares protection and every entry ---- */

/*
 * Populate every page of a fresh 2 MiB block but `last`, give page `odd` protection
 * odd_prot, populate `last` (the block is now fully populated): it must stay 4 KiB,
 * with `odd` keeping its own rights; then restoring odd's protection promotes it.
 */
static void
prot_case(uint32_t prot, int odd, uint32_t odd_prot, int last)
{
	uint8_t *p = map(PG2M, prot);
	for (int i = 0; i < NPG; i++)
		if (i != last)
			(void)peek(p + (uint64_t)i * PGSIZE);
	EXPECT(mprotect(p + (uint64_t)odd * PGSIZE, PGSIZE, odd_prot), 0);
	(void)peek(p + (uint64_t)last * PGSIZE);
	struct vm_query q = query_va(p + (uint64_t)odd * PGSIZE);
	CHECK(q.present && q.page_size == PGSIZE && q.prot == odd_prot && q.writable == !!(odd_prot & PROT_WRITE),
	      "page %d prot %u among pages of prot %u: size %lu W%u after the block filled", odd, odd_prot,
	      prot, (unsigned long)q.page_size, q.writable);
	q = query_va(p + (uint64_t)(odd == 0 ? 1 : 0) * PGSIZE);
	CHECK(q.page_size == PGSIZE && q.writable == !!(prot & PROT_WRITE), "neighbour size %lu W%u",
	      (unsigned long)q.page_size, q.writable);
	EXPECT(mprotect(p + (uint64_t)odd * PGSIZE, PGSIZE, prot), 0);
	q = query_va(p);
	CHECK(q.page_size == PG2M && q.writable == !!(prot & PROT_WRITE),
	      "protection made uniform again: size %lu W%u", (unsigned long)q.page_size, q.writable);
	EXPECT(munmap(p, PG2M), 0);
}

static void
scenario_prot(void)
{
	prot_case(RW, NPG - 1, PROT_READ, 0);			/* W differs in the last entry */
	prot_case(RW, 0, PROT_READ, NPG - 1);			/* ... in the first */
	prot_case(RW, 256, PROT_READ, NPG - 1);
	prot_case(PROT_READ, NPG - 1, PROT_READ | PROT_EXEC, 0);	/* NX differs */
	prot_case(PROT_READ, NPG - 1, PROT_NONE, 0);		/* U differs */
	prot_case(PROT_READ | PROT_EXEC, 0, PROT_READ, NPG - 1);
}

/* ---- accessed and dirty bits ---- */

/*
 * Populate a 2 MiB block by reads, writing only page `written` (-1: none), page 0
 * last: the block is promoted; its dirty bit says whether any page was written.
 * Then demote it (mprotect one page) and check each page's bits.
 */
static void
promote_ad_case(int written)
{
	uint8_t *p = map(PG2M, RW);
	for (int i = 1; i < NPG; i++) {
		if (i == written)
			poke(p + (uint64_t)i * PGSIZE, i);
		else
			(void)peek(p + (uint64_t)i * PGSIZE);
	}
	(void)peek(p);
	expect_bits(p, PG2M, 1, 1, written >= 0, "promoted");
	EXPECT(mprotect(p + 5 * PGSIZE, PGSIZE, PROT_READ), 0);
	/* one dirty bit for the superpage: every page inherits it, none invents it */
	for (int i = 0; i < NPG; i += 85)
		expect_bits(p + (uint64_t)i * PGSIZE, PGSIZE, i != 5, 1, written >= 0, "demoted");
	expect_bits(p + 5 * PGSIZE, PGSIZE, 0, 1, written >= 0, "demoted read-only page");
	EXPECT(munmap(p, PG2M), 0);
}

static void
scenario_promote_ad(void)
{
	promote_ad_case(-1);
	promote_ad_case(300);
	promote_ad_case(NPG - 1);
}

static void
scenario_ad(void)
{
	uint8_t *p = map(4 * PGSIZE, RW);
	poke(p, 1);			/* page 0 written, page 1 read, page 2 untouched */
	(void)peek(p + PGSIZE);
	expect_bits(p, PGSIZE, 1, 1, 1, "written");
	expect_bits(p + PGSIZE, PGSIZE, 1, 1, 0, "read");
	EXPECT(mprotect(p, 4 * PGSIZE, PROT_READ), 0);
	expect_bits(p, PGSIZE, 0, 1, 1, "written, then read-only");
	expect_bits(p + PGSIZE, PGSIZE, 0, 1, 0, "read, then read-only");
	EXPECT(mprotect(p, 4 * PGSIZE, RW), 0);
	expect_bits(p, PGSIZE, 1, 1, 1, "written, then writable again");
	expect_bits(p + PGSIZE, PGSIZE, 1, 1, 0, "read, then writable again");
	CHECK(!query_va(p + 2 * PGSIZE).present, "mprotect populated a page");
	int pid = fork();
	CHECK(pid >= 0, "fork: %e", pid);
	if (pid == 0) {
		/* the child's mappings are new: not yet referenced, the written frame dirty */
		expect_bits(p, PGSIZE, 0, 0, 1, "child, written page");
		expect_bits(p + PGSIZE, PGSIZE, 0, 0, 0, "child, read page");
		exit(0);
	}
	int status;
	EXPECT(wait(pid, &status), pid);
	CHECK(status == 0, "child status %d", status);
	expect_bits(p, PGSIZE, 0, 1, 1, "parent after fork, written page");
	expect_bits(p + PGSIZE, PGSIZE, 0, 1, 0, "parent after fork, read page");
	CHECK(query_va(p).cow, "not copy-on-write after fork");
	poke(p + PGSIZE, 2);		/* the sharer is gone: reused in place */
	expect_bits(p + PGSIZE, PGSIZE, 1, 1, 1, "reused after copy-on-write");
	EXPECT(munmap(p, 4 * PGSIZE), 0);
}

/* ---- program text ---- */

/* A page of program text holding only `ret` instructions, nothing else runs from it. */
__asm__(".pushsection .text\n.balign 4096\n.globl vmh_text_page\nvmh_text_page:\n"
	".fill 4096, 1, 0xc3\n.popsection");
extern uint8_t vmh_text_page[];

static void
scenario_text(void)
{
	struct vm_query q = query_va(vmh_text_page);
	CHECK(q.prot == (PROT_READ | PROT_EXEC), "text prot %u", q.prot);
	EXPECT(mprotect(vmh_text_page, PGSIZE, RW), -E_PERM);
	EXPECT(mprotect(vmh_text_page, PGSIZE, PROT_READ), 0);
	EXPECT(mprotect(vmh_text_page, PGSIZE, RW), -E_PERM);
	EXPECT(mprotect(vmh_text_page, PGSIZE, PROT_WRITE), -E_PERM);
	EXPECT(mprotect(vmh_text_page, PGSIZE, PROT_NONE), 0);
	EXPECT(mprotect(vmh_text_page, PGSIZE, RW), -E_PERM);
	q = query_va(vmh_text_page);
	CHECK(q.prot == PROT_NONE && !q.writable, "text page prot %u W%u after refused calls", q.prot, q.writable);
	EXPECT(mprotect(vmh_text_page, PGSIZE, PROT_READ | PROT_EXEC), 0);
	((void (*)(void))vmh_text_page)();
	q = query_va(vmh_text_page);
	CHECK(q.prot == (PROT_READ | PROT_EXEC) && q.region_start < (uint64_t)vmh_text_page,
	      "text not whole again: prot %u region %lx-%lx", q.prot, (unsigned long)q.region_start,
	      (unsigned long)q.region_end);
}

/* ---- the daemon's re-promotion ---- */

/* Yield until cond(p) holds or `ticks` timer ticks passed; whether it held. */
static bool
wait_until(bool (*cond)(uint8_t *), uint8_t *p, uint64_t ticks)
{
	uint64_t start = stats_now().timer_ticks;
	while (!cond(p)) {
		if (stats_now().timer_ticks - start > ticks)
			return false;
		yield();
	}
	return true;
}

static bool
is_4k(uint8_t *p)
{
	return query_va(p).page_size == PGSIZE;
}

static bool
is_2m(uint8_t *p)
{
	return query_va(p).page_size == PG2M;
}

static void
read_all(uint8_t *p, uint64_t tag)
{
	for (int i = 0; i < NPG; i++)
		CHECK(peek(p + (uint64_t)i * PGSIZE) == tag + i, "page %d lost its contents", i);
}

/* A 2 MiB page the daemon demoted for lack of references. */
static uint8_t *
demoted_block(uint64_t tag)
{
	uint64_t eager = stats_now().eager_2m;
	uint8_t *p = map(PG2M, RW);
	for (int i = 0; i < NPG; i++)
		poke(p + (uint64_t)i * PGSIZE, tag + i);
	CHECK(stats_now().eager_2m > eager, "eager: no 2 MiB page");
	CHECK(wait_until(is_4k, p, 500), "not demoted under pressure");
	return p;
}

static void
scenario_repromote(void)
{
	uint8_t *a = demoted_block(0x1000);
	read_all(a, 0x1000);
	CHECK(wait_until(is_2m, a, 500), "referenced again but not promoted back");

	uint8_t *b = demoted_block(0x2000);
	EXPECT(munmap(b, PGSIZE), 0);
	EXPECT(mmap(b, PGSIZE, RW, MAP_ANON | MAP_PRIVATE | MAP_FIXED), b);
	poke(b, 0x2000);		/* the frame just freed comes back: contiguous again */
	CHECK(query_va(b).region_end == (uint64_t)b + PGSIZE, "page 0 joined the old region");
	read_all(b, 0x2000);
	CHECK(!wait_until(is_2m, b, 50), "one 2 MiB page made of two objects");
	read_all(b, 0x2000);
	EXPECT(munmap(a, PG2M), 0);
	EXPECT(munmap(b, PG2M), 0);
}

/* ---- huge ranges ---- */

static void
scenario_huge(void)
{
	uint64_t len = 1UL << 46;	/* 64 TiB */
	uint8_t *p = map(len, RW);
	uint64_t offs[] = { 0, PG2M, 1UL << 40, len - PGSIZE };
	for (size_t i = 0; i < ARRAY_SIZE(offs); i++)
		poke(p + offs[i], i + 1);
	uint64_t t0 = stats_now().timer_ticks;
	for (int round = 0; round < 4; round++) {
		EXPECT(mprotect(p, len, PROT_READ), 0);
		EXPECT(mprotect(p, len, RW), 0);
	}
	for (size_t i = 0; i < ARRAY_SIZE(offs); i++)
		CHECK(peek(p + offs[i]) == i + 1, "contents lost at +0x%lx", (unsigned long)offs[i]);
	EXPECT(madvise(p, len, MADV_DONTNEED), 0);
	CHECK(peek(p + (1UL << 40)) == 0, "DONTNEED kept contents");
	EXPECT(munmap(p, len), 0);
	printf("vmh_hostile: huge: 8 mprotects of 64 TiB in %lu ticks\n",
	       (unsigned long)(stats_now().timer_ticks - t0));
}

int
main(int argc, char **argv)
{
	static const struct scenario scenarios[] = {
		{ "sbrk", scenario_sbrk }, { "prot", scenario_prot }, { "promote-ad", scenario_promote_ad },
		{ "ad", scenario_ad }, { "text", scenario_text }, { "repromote", scenario_repromote },
		{ "huge", scenario_huge },
	};
	run_scenario(scenarios, ARRAY_SIZE(scenarios), argc, argv);
	return 0;
}
