/*
 * Host unit test for the model TLB (kern/mm/lib/vtlb.c), built with -DHOSTTEST and sanitizers.
 *
 * Small scenarios with hand-computed answers check each rule: counts and walk
 * references, set indexing, the victims of FIFO, RANDOM and CLOCK (with and without
 * the referenced callback), overlays (OBV copy at the refill, OMT walks, two victims
 * from one trap), invalidation, flushes and ASID tagging, per-process accounting.
 *
 * The main check ("exact") drives the model the way the kernel will, against the
 * independent reference simulator tests/tlbsim.c, which sees every access.  The
 * harness plays the hardware: it keeps a "valid" flag per translation (the PTE that is
 * not fake-invalid) and an accessed flag per translation (the PTE's accessed bit).  An
 * access whose flags are valid hits without the model hearing of it and sets the
 * accessed flags; any other traps: vtlb_miss, then the victims' flags are cleared and
 * the access's set.  The clock callback reads and clears the accessed flag.  For every
 * access the harness's trap decision must equal vtlb_resident() and the reference's
 * "missed somewhere"; at the end misses, evictions, walk references, OMT walks and the
 * resident entries per TLB must be equal, for every combination of geometry, policy,
 * trace and ASID mode.  Every 256 events the model's entries are checked against the
 * harness's flags (same set, in the right set of ways, no duplicate).
 *
 * Prints one line per test group, then "vtlb: N checks passed"; exits 0.  On the first
 * failure prints "vtlb: FAIL <what>" and exits 1.
 */
#define HARNESS_NAME "vtlb"
#include "tests/harness.h"

#include "inc/xorshift.h"
#include "kern/mm/lib/vtlb.h"
#include "tests/tlbsim.h"

#define KB	((uint64_t)1 << 10)
#define MB	((uint64_t)1 << 20)
#define GB	((uint64_t)1 << 30)

/* A test random number in [0, n) (xorshift64*, the shared generator). */
static uint64_t
rnd_below(uint64_t n)
{
	return xorshift64_below(&rng_state, n);
}

static struct vtlb T;		/* the model under test (93 KB: not on the stack) */

/* A geometry triple: entries/ways for 4K, 2M, 1G, all with replacement repl. */
static void
config(struct vtlb_config *c, const uint16_t ew[6], enum vtlb_repl repl, bool tag)
{
	for (int s = 0; s < PS_NSIZES; s++)
		c->tlb[s] = (struct vtlb_geometry){ ew[2 * s], ew[2 * s + 1], repl, 100 + s };
	c->tag_by_asid = tag;
}

/* Access va in the model if it is not resident: -1 for a hit, else the victim count. */
static int
touch(uint64_t va, enum page_size size, const uint64_t *obv, uint16_t asid,
    struct vtlb_victim v[VTLB_MAX_VICTIMS])
{
	struct vtlb_access a = { .va = va, .size = size, .obv = obv, .asid = asid };

	if (vtlb_resident(&T, va, size, asid))
		return -1;
	return vtlb_miss(&T, &a, v);
}

/* Number of valid entries in TLB s. */
static unsigned
count_valid(int s)
{
	const struct vtlb_entry *e = s == PS_4K ? T.e4k : s == PS_2M ? T.e2m : T.e1g;
	unsigned n = 0;

	for (unsigned i = 0; i < T.cfg.tlb[s].entries; i++)
		n += e[i].valid;
	return n;
}

/* --- xorshift64*: the header implements the formula ------------------------- */

/* The formula, written out independently. */
static uint64_t
ref_xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static void
test_xorshift(void)
{
	static const uint64_t seeds[] = { 1, 42, 0xDEADBEEF, ~0ull, 0 };
	int n = 0;

	for (size_t k = 0; k < sizeof(seeds) / sizeof(seeds[0]); k++) {
		uint64_t a = xorshift64_seed(seeds[k]);
		uint64_t b = seeds[k] ? seeds[k] : XORSHIFT64_ZERO_SEED;

		for (int i = 0; i < 1000; i++, n++) {
			uint64_t bound = 1 + (uint64_t)i * 7;
			uint64_t a2 = a, b2 = b, v = ref_xorshift(&b2);

			CHECK(xorshift64star(&a) == ref_xorshift(&b) && a == b,
			    "xorshift64star differs from the formula (seed %lx, step %d)",
			    seeds[k], i);
			CHECK(xorshift64_below(&a2, bound) ==
			    (uint64_t)(((unsigned __int128)v * bound) >> 64) &&
			    xorshift64_below(&b2, bound) < bound, "xorshift64_below(%lu)", bound);
		}
	}
	printf("vtlb: xorshift OK (%d values equal the formula)\n", n);
}

/* --- basic counts, indexing and victims ----------------------------------------------- */

struct seen {
	unsigned n[PS_NSIZES];
	uint64_t va[8];
	int size[8];
	unsigned k;
};

/* vtlb_foreach callback: record the entries seen. */
static void
record(void *arg, const struct vtlb_entry *e)
{
	struct seen *sn = arg;

	CHECK(e->valid, "foreach gave an invalid entry");
	sn->n[e->size]++;
	if (sn->k < 8) {
		sn->va[sn->k] = vtlb_entry_va(e);
		sn->size[sn->k++] = e->size;
	}
}

static void
test_basic(void)
{
	struct vtlb_config c;
	struct vtlb_victim v[VTLB_MAX_VICTIMS];
	struct seen sn = { 0 };

	vtlb_default_config(&c);
	CHECK(c.tlb[PS_4K].entries == 64 && c.tlb[PS_4K].ways == 4 &&
	    c.tlb[PS_2M].entries == 32 && c.tlb[PS_2M].ways == 4 &&
	    c.tlb[PS_1G].entries == 4 && c.tlb[PS_1G].ways == 4 && c.tag_by_asid,
	    "default geometry");
	CHECK(sizeof(struct vtlb) < 100 * KB, "struct vtlb is %zu bytes", sizeof(struct vtlb));
	memset(&T, 0x5A, sizeof(T));
	vtlb_init(&T, &c, NULL, NULL);
	CHECK(count_valid(0) + count_valid(1) + count_valid(2) == 0, "init left entries");
	CHECK(T.stats.traps == 0 && T.stats.walk_refs == 0 && T.stats.misses[0] == 0,
	    "init left counts");
	CHECK(!vtlb_resident(&T, 0x400000, PS_4K, 1), "empty model has residents");

	/* One miss of each size: counts and walk references 4 + 3 + 2. */
	CHECK(touch(0x401234, PS_4K, NULL, 1, v) == 0, "4K miss evicted");
	CHECK(vtlb_resident(&T, 0x401FFF, PS_4K, 1) && !vtlb_resident(&T, 0x402000, PS_4K, 1),
	    "4K residency is per page");
	CHECK(touch(0x40000000 + 0x12345, PS_2M, NULL, 1, v) == 0, "2M miss evicted");
	CHECK(touch(0x80000000ull + 0x123456, PS_1G, NULL, 1, v) == 0, "1G miss evicted");
	CHECK(touch(0x401000, PS_4K, NULL, 1, v) == -1 &&
	    touch(0x401FFFFF, PS_2M, NULL, 1, v) == -1 &&
	    touch(0xBFFFFFFFull, PS_1G, NULL, 1, v) == -1, "refilled pages do not hit");
	CHECK(T.stats.traps == 3 && T.stats.walk_refs == 4 + 3 + 2, "walk refs %lu",
	    T.stats.walk_refs);
	for (int s = 0; s < PS_NSIZES; s++)
		CHECK(T.stats.lookups[s] == 1 && T.stats.misses[s] == 1 && T.stats.hits[s] == 0 &&
		    T.stats.evictions[s] == 0, "size %d counts", s);
	vtlb_foreach(&T, record, &sn);
	CHECK(sn.k == 3 && sn.va[0] == 0x401000 && sn.size[0] == PS_4K &&
	    sn.va[1] == 0x40000000 && sn.size[1] == PS_2M && sn.va[2] == 0x80000000ull &&
	    sn.size[2] == PS_1G, "foreach order or vtlb_entry_va");

	/* Set indexing: 4 sets of 1 way; pages 0 and 4 conflict, 0..3 do not. */
	config(&c, (const uint16_t[6]){ 4, 1, 1, 1, 1, 1 }, VTLB_FIFO, true);
	vtlb_init(&T, &c, NULL, NULL);
	for (uint64_t p = 0; p < 4; p++)
		CHECK(touch(p << 12, PS_4K, NULL, 7, v) == 0, "page %lu evicted", p);
	CHECK(touch(4 << 12, PS_4K, NULL, 7, v) == 1 && v[0].va == 0 &&
	    v[0].size == PS_4K && v[0].asid == 7 && !v[0].overlay,
	    "page 4 did not evict page 0 of its set");
	CHECK(!vtlb_resident(&T, 0, PS_4K, 7) && vtlb_resident(&T, 1 << 12, PS_4K, 7),
	    "victim still resident or neighbour gone");
	CHECK(T.stats.evictions[PS_4K] == 1, "evictions");

	/* Sets that are not a power of two: 12 entries 4-way = 3 sets. */
	config(&c, (const uint16_t[6]){ 12, 4, 3, 3, 1, 1 }, VTLB_FIFO, false);
	vtlb_init(&T, &c, NULL, NULL);
	for (uint64_t p = 0; p < 12; p++)
		CHECK(touch(p << 12, PS_4K, NULL, 0, v) == 0, "3 sets: page %lu evicted", p);
	CHECK(touch(12 << 12, PS_4K, NULL, 0, v) == 1 && v[0].va == 0,
	    "3 sets: page 12 must evict page 0 (set 0, oldest)");
	printf("vtlb: basic OK (counts, walk references, indexing, victims)\n");
}

/* --- replacement policies ------------------------------------------------------------- */

static bool cb_flag[64];	/* CLOCK scenario: "accessed bit" per 4K page number */
static unsigned cb_calls;

/* Referenced callback of the scenarios: read and clear cb_flag of the page. */
static bool
cb_scenario(void *ctx, const struct vtlb_entry *e)
{
	bool r;

	CHECK(ctx == &cb_calls && e->valid && e->size == PS_4K && e->vpn < 64,
	    "callback arguments");
	r = cb_flag[e->vpn];
	cb_flag[e->vpn] = false;
	cb_calls++;
	return r;
}

/* Access 4K page p of asid 0; expect a miss evicting page `victim` (-1: none). */
static void
expect_4k(uint64_t p, int victim, const char *what)
{
	struct vtlb_victim v[VTLB_MAX_VICTIMS];
	int n = touch(p << 12, PS_4K, NULL, 0, v);

	if (victim < 0)
		CHECK(n == 0, "%s: page %lu: %d victims, expected none", what, p, n);
	else
		CHECK(n == 1 && v[0].va == (uint64_t)victim << 12, "%s: page %lu evicted %lx, "
		    "expected page %d", what, p, n == 1 ? v[0].va : 0, victim);
}

static void
test_policies(void)
{
	struct vtlb_config c;
	uint64_t rng, slot[4];

	/* FIFO, one set of 3: hits change nothing; a hole is filled first. */
	config(&c, (const uint16_t[6]){ 3, 3, 1, 1, 1, 1 }, VTLB_FIFO, false);
	vtlb_init(&T, &c, NULL, NULL);
	expect_4k(1, -1, "fifo");
	expect_4k(2, -1, "fifo");
	expect_4k(3, -1, "fifo");
	CHECK(vtlb_resident(&T, 1 << 12, PS_4K, 0), "fifo: page 1");
	expect_4k(4, 1, "fifo");
	expect_4k(5, 2, "fifo");
	CHECK(vtlb_invalidate(&T, 3 << 12, 0) == 1, "fifo: invalidate page 3");
	expect_4k(6, -1, "fifo hole");
	expect_4k(7, 4, "fifo after hole");

	/* RANDOM, one set of 4: the victim is way xorshift64_below(4) of the seed. */
	config(&c, (const uint16_t[6]){ 4, 4, 1, 1, 1, 1 }, VTLB_RANDOM, false);
	c.tlb[PS_4K].seed = 0x5EED;
	vtlb_init(&T, &c, NULL, NULL);
	rng = xorshift64_seed(0x5EED);
	for (uint64_t p = 0; p < 4; p++) {
		expect_4k(10 + p, -1, "random fill");
		slot[p] = 10 + p;
	}
	for (uint64_t p = 14; p < 40; p++) {
		unsigned k = (unsigned)xorshift64_below(&rng, 4);

		expect_4k(p, (int)slot[k], "random");
		slot[k] = p;
	}

	/* CLOCK, one set of 3, callback. */
	config(&c, (const uint16_t[6]){ 3, 3, 1, 1, 1, 1 }, VTLB_CLOCK, false);
	vtlb_init(&T, &c, cb_scenario, &cb_calls);
	memset(cb_flag, 0, sizeof(cb_flag));
	cb_calls = 0;
	expect_4k(1, -1, "clock");		/* ways: 1 2 3, all referenced at the refill */
	expect_4k(2, -1, "clock");
	expect_4k(3, -1, "clock");
	CHECK(cb_calls == 0, "clock: callback while the set had room");
	expect_4k(4, 1, "clock");		/* a full turn clears all; 1 goes; hand at 2 */
	CHECK(cb_calls == 3, "clock: %u callback calls on the first sweep", cb_calls);
	cb_flag[2] = true;			/* page 2 was used without trapping */
	expect_4k(5, 3, "clock second chance");	/* 2 is spared, 3 goes; hand at way 0 (4) */
	expect_4k(6, 2, "clock");		/* 4 was referenced at its refill: spared */
	CHECK(!cb_flag[2], "clock: the accessed bit was not cleared");

	/* CLOCK without a callback: only references the model saw. */
	vtlb_init(&T, &c, NULL, NULL);
	expect_4k(1, -1, "clock/null");
	expect_4k(2, -1, "clock/null");
	expect_4k(3, -1, "clock/null");
	expect_4k(4, 1, "clock/null");
	expect_4k(5, 2, "clock/null");
	expect_4k(6, 3, "clock/null");
	expect_4k(7, 4, "clock/null");
	printf("vtlb: policies OK (FIFO, RANDOM, CLOCK victims by hand)\n");
}

/* --- overlays ------------------------------------------------------------------------- */

static void
test_overlay(void)
{
	struct vtlb_config c;
	struct vtlb_victim v[VTLB_MAX_VICTIMS];
	uint64_t obv[VTLB_OBV_WORDS] = { 0 }, obv2[VTLB_OBV_WORDS] = { 0 };
	const uint64_t P = 0x40000000, Q = 0x40200000;	/* two 2 MiB pages */
	const uint64_t *got;

	vtlb_default_config(&c);
	vtlb_init(&T, &c, NULL, NULL);
	obv[0] = (uint64_t)1 << 5;			/* segment 5 overlaid */
	obv[7] = (uint64_t)1 << 63;			/* segment 511 overlaid */

	/* A plain segment: the 2 MiB entry alone serves it, the OBV is copied. */
	CHECK(touch(P + 0x1000, PS_2M, obv, 1, v) == 0, "overlay: first refill");
	CHECK(T.stats.misses[PS_2M] == 1 && T.stats.lookups[PS_4K] == 0 &&
	    T.stats.walk_refs == 3 && T.stats.omt_walks == 0, "overlay: plain segment counts");
	got = vtlb_obv(&T, P + 0x1FFFFF, 1);
	CHECK(got != NULL && got[0] == obv[0] && got[7] == obv[7] && got[3] == 0,
	    "overlay: OBV not copied at the refill");
	CHECK(vtlb_resident(&T, P, PS_2M, 1) && vtlb_resident(&T, P + 0x4FFF, PS_2M, 1),
	    "overlay: plain segments not resident");
	CHECK(!vtlb_resident(&T, P + 0x5000, PS_2M, 1) &&
	    !vtlb_resident(&T, P + 0x1FF000, PS_2M, 1),
	    "overlay: overlaid segments resident without their 4K entry");

	/* An overlaid segment: 2 MiB hit, 4 KiB miss walks the OMT. */
	CHECK(touch(P + 0x5123, PS_2M, obv, 1, v) == 0, "overlay: OMT refill evicted");
	CHECK(T.stats.lookups[PS_2M] == 2 && T.stats.hits[PS_2M] == 1 &&
	    T.stats.misses[PS_4K] == 1 && T.stats.omt_walks == 1 &&
	    T.stats.walk_refs == 3 + 4 && T.stats.traps == 2, "overlay: OMT counts");
	CHECK(vtlb_resident(&T, P + 0x5FFF, PS_2M, 1), "overlay: segment 5 not resident");
	CHECK(count_valid(PS_4K) == 1, "overlay: one 4K entry");

	/* vtlb_set_obv: overlaying segment 6 makes it trap; clearing 5 serves it by 2 MiB. */
	obv2[0] = (uint64_t)1 << 6;
	CHECK(vtlb_set_obv(&T, P + 0x123, 1, obv2), "set_obv on a resident entry");
	CHECK(!vtlb_set_obv(&T, Q, 1, obv2) && vtlb_obv(&T, Q, 1) == NULL &&
	    vtlb_obv(&T, P, 2) == NULL, "set_obv/obv on a missing entry");
	CHECK(!vtlb_resident(&T, P + 0x6000, PS_2M, 1) && vtlb_resident(&T, P + 0x5000,
	    PS_2M, 1) && vtlb_resident(&T, P + 0x1FF000, PS_2M, 1),
	    "overlay: residency after set_obv");

	/* The 2 MiB entry gone, the overlay entry stays: 2 MiB miss, 4 KiB hit. */
	CHECK(vtlb_invalidate(&T, P, 1) == 1, "overlay: invalidate P");
	CHECK(touch(P + 0x5000, PS_2M, obv, 1, v) == 0, "overlay: refill after invalidate");
	CHECK(T.stats.misses[PS_2M] == 2 && T.stats.hits[PS_4K] == 1 &&
	    T.stats.omt_walks == 1 && T.stats.walk_refs == 3 + 4 + 3,
	    "overlay: 2M miss + 4K hit counts");

	/* One trap, two victims: everything 1 entry; P seg 5 then Q seg 5. */
	config(&c, (const uint16_t[6]){ 1, 1, 1, 1, 1, 1 }, VTLB_FIFO, true);
	vtlb_init(&T, &c, NULL, NULL);
	obv[0] = obv[7] = (uint64_t)1 << 5;
	CHECK(touch(P + 0x5000, PS_2M, obv, 3, v) == 0, "two victims: first");
	CHECK(touch(Q + 0x5000, PS_2M, obv, 3, v) == 2 && v[0].size == PS_2M &&
	    v[0].va == P && !v[0].overlay && v[1].size == PS_4K && v[1].va == P + 0x5000 &&
	    v[1].overlay && v[0].asid == 3 && v[1].asid == 3, "two victims: wrong victims");
	CHECK(T.stats.omt_walks == 2 && T.stats.walk_refs == 2 * (3 + 4) &&
	    T.stats.evictions[PS_2M] == 1 && T.stats.evictions[PS_4K] == 1,
	    "two victims: counts");
	CHECK(T.e4k[0].overlay, "the 4K entry of an OMT walk is not marked overlay");
	printf("vtlb: overlay OK (OBV copy, OMT walks, set_obv, two victims per trap)\n");
}

/* --- invalidation, flushes, ASIDs, accounting ----------------------------------------- */

static void
test_invalidate(void)
{
	struct vtlb_config c;
	struct vtlb_victim v[VTLB_MAX_VICTIMS];
	struct vtlb_stats acct1 = { 0 }, acct2 = { 0 };
	struct vtlb_access a;
	uint64_t before;

	vtlb_default_config(&c);
	vtlb_init(&T, &c, NULL, NULL);

	/* invlpg drops the pages of every size containing va. */
	touch(0x40001000, PS_4K, NULL, 1, v);
	touch(0x40001000, PS_2M, NULL, 1, v);
	touch(0x40001000, PS_1G, NULL, 1, v);
	touch(0x40001000, PS_4K, NULL, 2, v);
	CHECK(vtlb_invalidate(&T, 0x40001ABC, 1) == 3, "invalidate: not all three sizes");
	CHECK(vtlb_invalidate(&T, 0x40001ABC, 1) == 0, "invalidate twice");
	CHECK(vtlb_resident(&T, 0x40001000, PS_4K, 2), "invalidate: other ASID dropped");
	CHECK(T.stats.invalidations[0] == 1 && T.stats.invalidations[1] == 1 &&
	    T.stats.invalidations[2] == 1, "invalidations counts");

	/* One size only: the 4 KiB entry goes, the 2 MiB and 1 GiB entries over it stay. */
	vtlb_flush(&T);
	touch(0x40001000, PS_4K, NULL, 1, v);
	touch(0x40001000, PS_2M, NULL, 1, v);
	touch(0x40001000, PS_1G, NULL, 1, v);
	CHECK(vtlb_invalidate_size(&T, 0x40001ABC, PS_4K, 1) && !vtlb_resident(&T, 0x40001000, PS_4K, 1) &&
	    vtlb_resident(&T, 0x40001000, PS_2M, 1) && vtlb_resident(&T, 0x40001000, PS_1G, 1),
	    "invalidate_size: wrong entries dropped");
	CHECK(!vtlb_invalidate_size(&T, 0x40001ABC, PS_4K, 1), "invalidate_size twice");
	CHECK(!vtlb_invalidate_size(&T, 0x40001ABC, PS_2M, 2), "invalidate_size: other ASID");

	/* Ranges: overlap by one byte counts, touching does not. */
	vtlb_flush(&T);
	for (uint64_t p = 0; p < 8; p++)
		touch(0x400000 + (p << 12), PS_4K, NULL, 1, v);
	touch(0x40000000, PS_2M, NULL, 1, v);
	CHECK(vtlb_invalidate_range(&T, 0x402000, 0x2000, 1) == 2, "range: 2 pages");
	CHECK(!vtlb_resident(&T, 0x402000, PS_4K, 1) && !vtlb_resident(&T, 0x403000,
	    PS_4K, 1) && vtlb_resident(&T, 0x401000, PS_4K, 1) &&
	    vtlb_resident(&T, 0x404000, PS_4K, 1), "range: wrong pages dropped");
	CHECK(vtlb_invalidate_range(&T, 0x404FFF, 2, 1) == 2, "range: straddling 2 pages");
	CHECK(vtlb_invalidate_range(&T, 0x400000, 0, 1) == 0, "range: empty");
	CHECK(vtlb_invalidate_range(&T, 0x3FFFFFFF, 1, 1) == 0 &&
	    vtlb_invalidate_range(&T, 0x401FFFFF, 1, 1) == 1, "range: 2M page edges");
	CHECK(vtlb_invalidate_range(&T, 0, ~0ull, 1) == 4 && count_valid(0) == 0,
	    "range: everything");

	/* Tagged: the same page in two ASIDs is two entries; flush_asid drops one. */
	touch(0x400000, PS_4K, NULL, 1, v);
	touch(0x400000, PS_4K, NULL, 2, v);
	CHECK(count_valid(PS_4K) == 2, "tagged: two entries");
	before = T.stats.flushes;
	vtlb_flush_asid(&T, 1);
	CHECK(!vtlb_resident(&T, 0x400000, PS_4K, 1) && vtlb_resident(&T, 0x400000,
	    PS_4K, 2) && T.stats.flushes == before + 1, "flush_asid");
	vtlb_flush(&T);
	CHECK(count_valid(0) + count_valid(1) + count_valid(2) == 0 &&
	    T.stats.flushes == before + 2, "flush");

	/* Untagged: ASIDs are ignored; any flush_asid flushes everything. */
	c.tag_by_asid = false;
	vtlb_init(&T, &c, NULL, NULL);
	touch(0x400000, PS_4K, NULL, 1, v);
	CHECK(vtlb_resident(&T, 0x400000, PS_4K, 2) && touch(0x400000, PS_4K, NULL, 2, v)
	    == -1, "untagged: ASID 2 misses ASID 1's entry");
	CHECK(vtlb_invalidate(&T, 0x400000, 9) == 1, "untagged: invalidate ignores the ASID");
	touch(0x400000, PS_4K, NULL, 1, v);
	touch(0x40000000, PS_2M, NULL, 1, v);
	vtlb_flush_asid(&T, 5);
	CHECK(count_valid(0) + count_valid(1) == 0, "untagged: flush_asid kept entries");

	/* Per-process accounting: each access counted in its acct and in the total. */
	vtlb_init(&T, &c, NULL, NULL);
	for (int i = 0; i < 200; i++) {
		uint64_t va = (uint64_t)(i % 70) << 12;

		a = (struct vtlb_access){ .va = va, .size = PS_4K, .asid = 1,
			.acct = i % 3 ? &acct1 : &acct2 };
		if (!vtlb_resident(&T, va, PS_4K, 1))
			vtlb_miss(&T, &a, v);
	}
	CHECK(acct1.traps + acct2.traps == T.stats.traps && acct1.traps > 0 && acct2.traps > 0 &&
	    acct1.misses[0] + acct2.misses[0] == T.stats.misses[0] &&
	    acct1.evictions[0] + acct2.evictions[0] == T.stats.evictions[0] &&
	    acct1.walk_refs + acct2.walk_refs == T.stats.walk_refs, "per-process accounting");
	printf("vtlb: invalidate OK (invlpg of all sizes, ranges, flushes, ASIDs, accounting)\n");
}

/* --- exact agreement with the reference simulator ------------------------------------ */

/*
 * The virtual address space of the traces (one per ASID, all alike):
 *   [0, 64 MiB)      4 KiB pages
 *   [1 GiB, 3 GiB)   2 MiB pages, some with overlaid segments
 *   [4 GiB, 512 GiB) 1 GiB pages
 */
#define R4K_PAGES	(64 * MB >> 12)
#define R2M_BASE	(1 * GB)
#define R2M_PAGES	(2 * GB >> 21)
#define R1G_BASE	(4 * GB)
#define R1G_PAGES	((512 - 4) * GB >> 30)
#define NASID		4
static const uint64_t npages[PS_NSIZES] = { 3 * GB >> 12, 3 * GB >> 21, 512 };

/* SplitMix64's finalizer: a fixed hash. */
static uint64_t
mix(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ull;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}

/* Whether segment seg of 2 MiB page vpn2 is overlaid (traces with overlays). */
static bool
ovl_bit(uint64_t vpn2, unsigned seg)
{
	switch (mix(vpn2) % 4) {
	case 0:
		return false;
	case 1:
		return mix(vpn2 * 512 + seg) % 16 == 0;
	case 2:
		return mix(vpn2 * 512 + seg) % 2 == 0;
	default:
		return true;
	}
}

static uint64_t (*obv_table)[VTLB_OBV_WORDS];	/* [vpn2]: the OBV of each 2 MiB page */

struct trace {
	const char *name;
	struct tlbsim_ref *ev;
	size_t n, cap;
	bool ovl;		/* 2 MiB pages carry OBVs */
	bool tagged;		/* generated for this ASID mode */
	uint16_t asid;		/* current address space */
};

/* Append an access to va in the current address space. */
static void
emit(struct trace *t, uint64_t va)
{
	struct tlbsim_ref r = { .va = va, .asid = t->asid, .op = TLBSIM_ACCESS };

	if (va < R4K_PAGES << 12) {
		r.size = TLBSIM_4K;
	} else if (va >= R2M_BASE && va < R2M_BASE + (R2M_PAGES << 21)) {
		r.size = TLBSIM_2M;
		r.overlaid = t->ovl && ovl_bit(va >> 21, (va >> 12) & 511);
	} else {
		CHECK(va >= R1G_BASE && va < R1G_BASE + (R1G_PAGES << 30), "trace va %lx", va);
		r.size = TLBSIM_1G;
	}
	CHECK(t->n < t->cap, "trace %s too long", t->name);
	t->ev[t->n++] = r;
}

/* Append a non-access event. */
static void
emit_op(struct trace *t, uint8_t op, uint64_t va, uint16_t asid)
{
	CHECK(t->n < t->cap, "trace %s too long", t->name);
	t->ev[t->n++] = (struct tlbsim_ref){ .va = va, .asid = asid, .op = op };
}

/* Switch address spaces: free when tagged, a full flush when not (as the kernel will). */
static void
switch_to(struct trace *t, uint16_t asid)
{
	if (asid == t->asid)
		return;
	t->asid = asid;
	if (!t->tagged)
		emit_op(t, TLBSIM_FLUSH, 0, 0);
}

/* A byte of 4 KiB page p, of 2 MiB page p (segment seg), of 1 GiB page p. */
static uint64_t
va4k(uint64_t p)
{
	return (p % R4K_PAGES) << 12 | rnd_below(4096);
}
static uint64_t
va2m(uint64_t p, unsigned seg)
{
	return R2M_BASE + ((p % R2M_PAGES) << 21) + ((uint64_t)(seg & 511) << 12) +
	    rnd_below(4096);
}
static uint64_t
va1g(uint64_t p)
{
	return R1G_BASE + ((p % R1G_PAGES) << 30) + rnd_below(GB);
}

/* A random access: 4 KiB pages [0, n4), 2 MiB [0, n2), 1 GiB [0, n1), by weights w4:w2:w1. */
static void
emit_mix(struct trace *t, uint64_t n4, uint64_t n2, uint64_t n1, unsigned w4, unsigned w2,
    unsigned w1)
{
	uint64_t k = rnd_below(w4 + w2 + w1);

	if (k < w4)
		emit(t, va4k(rnd_below(n4)));
	else if (k < w4 + w2)
		emit(t, va2m(rnd_below(n2), (unsigned)rnd_below(512)));
	else
		emit(t, va1g(rnd_below(n1)));
}

enum { TR_CYCLIC, TR_STRIDED, TR_RANDOM, TR_HOTCOLD, TR_OVERLAY, TR_ASIDS, TR_INVAL,
	TR_BIG, NTRACES };
static const char *const trace_names[NTRACES] = {
	"cyclic", "strided", "random", "hot/cold", "overlay", "asids", "invalidate", "big",
};
#define TRACE_LEN	5000

/* Build trace kind for ASID mode tagged, from a fixed seed. */
static void
gen_trace(struct trace *t, int kind, bool tagged)
{
	static const unsigned strides[] = { 1, 3, 16, 64, 128, 512 };
	uint64_t recent[16] = { 0 };
	size_t len = kind == TR_BIG ? 2 * TRACE_LEN : TRACE_LEN;

	*t = (struct trace){ .name = trace_names[kind], .cap = 2 * len + 64,
		.tagged = tagged, .asid = 1 };
	t->ev = xcalloc(t->cap, sizeof(*t->ev));
	rng_state = xorshift64_seed(0x7ACE0000 + (uint64_t)kind);
	switch (kind) {
	case TR_CYCLIC:		/* loops over more pages than the default TLBs hold */
		while (t->n < TRACE_LEN)
			for (uint64_t i = 0; i < 80; i++) {
				emit(t, va4k(i));
				if (i % 2)
					emit(t, va2m(i / 2, (unsigned)i));
				if (i % 13 == 0)
					emit(t, va1g(i / 13));
			}
		break;
	case TR_STRIDED:	/* 40 pages at each stride, 5 rounds, repeats inside a page */
		for (size_t k = 0; k < sizeof(strides) / sizeof(strides[0]); k++)
			for (int round = 0; round < 5; round++)
				for (uint64_t i = 0; i < 40; i++) {
					emit(t, va4k(i * strides[k]));
					if (i % 4 == 0)
						emit(t, va4k(i * strides[k]));
					if (k % 2)
						emit(t, va2m(i * strides[k], 0));
				}
		break;
	case TR_RANDOM:		/* uniform */
		while (t->n < TRACE_LEN)
			emit_mix(t, 256, 64, 8, 6, 3, 1);
		break;
	case TR_HOTCOLD:	/* 90% in a small hot set, 10% anywhere */
		while (t->n < TRACE_LEN)
			if (rnd_below(10) != 0)
				emit_mix(t, 20, 10, 2, 6, 3, 1);
			else
				emit_mix(t, R4K_PAGES, R2M_PAGES, R1G_PAGES, 6, 3, 1);
		break;
	case TR_OVERLAY:	/* bursts inside 2 MiB pages with overlaid segments */
		t->ovl = true;
		while (t->n < TRACE_LEN) {
			uint64_t p = rnd_below(48);

			for (int i = 0; i < 8; i++)
				emit(t, va2m(p, (unsigned)rnd_below(i < 4 ? 16 : 512)));
			if (rnd_below(10) == 0)
				emit(t, va4k(rnd_below(100)));
		}
		break;
	case TR_ASIDS:		/* three address spaces taking turns */
		t->ovl = true;
		while (t->n < TRACE_LEN) {
			switch_to(t, (uint16_t)(1 + rnd_below(3)));
			for (int i = 0; i < 40; i++)
				emit_mix(t, 120, 40, 6, 6, 3, 1);
			if (t->tagged && rnd_below(20) == 0)
				emit_op(t, TLBSIM_FLUSH_ASID, 0, (uint16_t)(1 + rnd_below(3)));
		}
		break;
	case TR_INVAL:		/* invalidations of recently used pages, and flushes */
		t->ovl = true;
		while (t->n < TRACE_LEN) {
			uint64_t r = rnd_below(100);

			if (r < 6) {
				emit_op(t, TLBSIM_INVALIDATE, recent[rnd_below(16)], t->asid);
			} else if (r == 6 && rnd_below(4) == 0) {
				emit_op(t, TLBSIM_FLUSH, 0, 0);
			} else if (r == 7) {
				switch_to(t, (uint16_t)rnd_below(NASID));
			} else {
				emit_mix(t, 150, 50, 6, 5, 4, 1);
				recent[rnd_below(16)] = t->ev[t->n - 1].va;
			}
		}
		break;
	case TR_BIG:		/* more pages than the largest TLBs, some reuse */
		t->ovl = true;
		while (t->n < len) {
			if (rnd_below(4) == 0 && t->n > 100)
				emit(t, t->ev[t->n - 1 - rnd_below(100)].va);
			else
				emit_mix(t, 4000, 900, 400, 5, 3, 2);
		}
		break;
	}
}

/* The harness's "hardware": valid and accessed flags per (size, tag, page). */
static uint32_t *hw_valid[PS_NSIZES], *hw_acc[PS_NSIZES], *hw_seen[PS_NSIZES];
static uint32_t gen, seen_gen;		/* a flag is set when it equals gen */
static uint64_t nresident;		/* translations valid in the harness */
static uint64_t cb_total;		/* referenced callback calls */

/* The flag of page vpn of size s, tag asid, in array a. */
static uint32_t *
flag(uint32_t **a, unsigned s, uint16_t asid, uint64_t vpn)
{
	CHECK(s < PS_NSIZES && asid < NASID && vpn < npages[s], "flag(%u, %u, %lx)", s,
	    asid, vpn);
	return &a[s][asid * npages[s] + vpn];
}

/* Referenced callback of the exact runs: read and clear the accessed flag. */
static bool
cb_hardware(void *ctx, const struct vtlb_entry *e)
{
	uint32_t *acc;
	bool r;

	CHECK(ctx == &T, "callback ctx");
	CHECK(T.cfg.tlb[e->size].repl == VTLB_CLOCK, "callback for a %u TLB",
	    (unsigned)T.cfg.tlb[e->size].repl);
	CHECK(e->valid && *flag(hw_valid, e->size, e->asid, e->vpn) == gen,
	    "callback on an entry that is not resident (size %u vpn %lx)", e->size, e->vpn);
	acc = flag(hw_acc, e->size, e->asid, e->vpn);
	r = *acc == gen;
	*acc = 0;
	cb_total++;
	return r;
}

/* Model entries equal the harness's valid flags: right set, no duplicates. */
static void
check_consistent(const char *where)
{
	uint64_t n = 0;

	seen_gen++;
	for (unsigned s = 0; s < PS_NSIZES; s++) {
		const struct vtlb_entry *e = s == PS_4K ? T.e4k : s == PS_2M ? T.e2m : T.e1g;
		unsigned ways = T.cfg.tlb[s].ways, sets = T.cfg.tlb[s].entries / ways;

		for (unsigned i = 0; i < T.cfg.tlb[s].entries; i++) {
			uint32_t *seen;

			if (!e[i].valid)
				continue;
			n++;
			CHECK(e[i].size == s && e[i].vpn % sets == i / ways,
			    "%s: entry %u of TLB %u in the wrong set", where, i, s);
			CHECK(*flag(hw_valid, s, e[i].asid, e[i].vpn) == gen,
			    "%s: model entry %lx (TLB %u) not valid in the harness", where,
			    e[i].vpn, s);
			seen = flag(hw_seen, s, e[i].asid, e[i].vpn);
			CHECK(*seen != seen_gen, "%s: duplicate entry %lx in TLB %u", where,
			    e[i].vpn, s);
			*seen = seen_gen;
		}
	}
	CHECK(n == nresident, "%s: model holds %lu entries, harness %lu", where, n, nresident);
}

/* Set the valid (and accessed) flag of a translation the model has just inserted. */
static void
make_valid(unsigned s, uint16_t tag, uint64_t vpn)
{
	uint32_t *v = flag(hw_valid, s, tag, vpn);

	if (*v != gen)
		nresident++;
	*v = gen;
	*flag(hw_acc, s, tag, vpn) = gen;	/* the access retried after the trap */
}

/* vtlb_foreach callback for flushes: entries about to go become fake-invalid. */
static void
unvalidate(void *arg, const struct vtlb_entry *e)
{
	const uint16_t *only = arg;
	uint32_t *v;

	if (only != NULL && e->asid != *only)
		return;
	v = flag(hw_valid, e->size, e->asid, e->vpn);
	CHECK(*v == gen, "flush: entry %lx not valid in the harness", e->vpn);
	*v = 0;
	nresident--;
}

static const enum tlbsim_repl sim_repl[] = {
	[VTLB_FIFO] = TLBSIM_FIFO, [VTLB_RANDOM] = TLBSIM_RANDOM, [VTLB_CLOCK] = TLBSIM_CLOCK,
};

struct totals {
	uint64_t runs, accesses, traps, misses, evictions, omt_walks;
	uint64_t evicting_runs[3];	/* runs with evictions, per policy of the 4K TLB */
};

/*
 * Drive the model over trace tr in trap mode with configuration c and compare it with
 * the reference simulator, event by event and in total.  With whole, also check that
 * tlbsim_run on the whole trace gives what stepping the simulator gave.
 */
static void
run_exact(const struct vtlb_config *c, const struct trace *tr, const char *geo_name,
    bool whole, struct totals *tot)
{
	struct tlbsim_geom g[TLBSIM_NSIZES];
	struct tlbsim_counts rc, rc_whole;
	bool *step_hit = xcalloc(tr->n, sizeof(bool)), *whole_hit;
	struct vtlb_stats acct = { 0 };
	struct tlbsim *sim;
	uint64_t traps = 0, accesses = 0;

	for (int s = 0; s < PS_NSIZES; s++)
		g[s] = (struct tlbsim_geom){ c->tlb[s].entries, c->tlb[s].ways,
			sim_repl[c->tlb[s].repl], c->tlb[s].seed };
	sim = tlbsim_new(g, c->tag_by_asid);
	gen++;
	nresident = 0;
	vtlb_init(&T, c, cb_hardware, &T);

	for (size_t i = 0; i < tr->n; i++) {
		const struct tlbsim_ref *r = &tr->ev[i];
		uint16_t tag = c->tag_by_asid ? r->asid : 0;
		bool ref_hit = step_hit[i] = tlbsim_step(sim, r);

		if (r->op == TLBSIM_ACCESS) {
			unsigned s = r->size;
			uint64_t vpn4 = r->va >> 12, vpn = r->va >> (s == 0 ? 12 : s == 1 ? 21 : 30);
			bool valid = *flag(hw_valid, s, tag, vpn) == gen &&
			    (!r->overlaid || *flag(hw_valid, PS_4K, tag, vpn4) == gen);
			struct vtlb_victim v[VTLB_MAX_VICTIMS];
			struct vtlb_access a = { .va = r->va, .size = s, .asid = r->asid,
				.acct = &acct };
			int nv;

			accesses++;
			CHECK(vtlb_resident(&T, r->va, s, r->asid) == valid,
			    "%s/%s: event %zu: harness %s but vtlb_resident disagrees", geo_name,
			    tr->name, i, valid ? "valid" : "invalid");
			CHECK(ref_hit == valid, "%s/%s: event %zu (va %lx size %u%s): reference %s, "
			    "model %s", geo_name, tr->name, i, r->va, s, r->overlaid ?
			    " overlaid" : "", ref_hit ? "hit" : "missed", valid ? "hit" : "missed");
			if (valid) {		/* no trap: the hardware sets accessed bits */
				*flag(hw_acc, s, tag, vpn) = gen;
				if (r->overlaid)
					*flag(hw_acc, PS_4K, tag, vpn4) = gen;
				continue;
			}
			traps++;
			if (s == PS_2M && tr->ovl)
				a.obv = obv_table[vpn];
			nv = vtlb_miss(&T, &a, v);
			for (int k = 0; k < nv; k++) {
				unsigned vs = v[k].size;
				uint64_t vv = v[k].va >> (vs == 0 ? 12 : vs == 1 ? 21 : 30);
				uint32_t *vf = flag(hw_valid, vs, v[k].asid, vv);

				CHECK(*vf == gen, "%s/%s: event %zu: victim %lx was not resident",
				    geo_name, tr->name, i, v[k].va);
				CHECK((v[k].va & ((1ull << (vs == 0 ? 12 : vs == 1 ? 21 : 30)) - 1))
				    == 0 && (c->tag_by_asid || v[k].asid == 0), "victim va/asid");
				CHECK(v[k].overlay == (vs == PS_4K && v[k].va >= R2M_BASE),
				    "victim overlay flag");
				CHECK(k == 0 || (v[0].size == PS_2M && vs == PS_4K),
				    "victim order");
				*vf = 0;
				nresident--;
				if (!v[k].overlay)
					CHECK(!vtlb_resident(&T, v[k].va, vs, v[k].asid),
					    "victim still resident");
			}
			make_valid(s, tag, vpn);
			if (r->overlaid)
				make_valid(PS_4K, tag, vpn4);
			CHECK(vtlb_resident(&T, r->va, s, r->asid), "%s/%s: event %zu: not "
			    "resident after vtlb_miss", geo_name, tr->name, i);
		} else if (r->op == TLBSIM_INVALIDATE) {
			int n = 0;

			for (unsigned s = 0; s < PS_NSIZES; s++) {
				uint64_t vpn = r->va >> (s == 0 ? 12 : s == 1 ? 21 : 30);
				uint32_t *vf;

				if (vpn >= npages[s])	/* outside the harness: never mapped */
					continue;
				vf = flag(hw_valid, s, tag, vpn);
				if (*vf == gen) {
					*vf = 0;
					nresident--;
					n++;
				}
			}
			CHECK(vtlb_invalidate(&T, r->va, r->asid) == n,
			    "%s/%s: event %zu: invalidate dropped the wrong number", geo_name,
			    tr->name, i);
		} else if (r->op == TLBSIM_FLUSH) {
			vtlb_foreach(&T, unvalidate, NULL);
			vtlb_flush(&T);
		} else {
			vtlb_foreach(&T, unvalidate, c->tag_by_asid ? &tag : NULL);
			vtlb_flush_asid(&T, r->asid);
		}
		if (i % 256 == 0)
			check_consistent(tr->name);
	}
	check_consistent(tr->name);

	tlbsim_counts(sim, &rc);
	if (whole) {
		whole_hit = xcalloc(tr->n, sizeof(bool));
		tlbsim_run(g, c->tag_by_asid, tr->ev, tr->n, whole_hit, &rc_whole);
		CHECK(memcmp(&rc, &rc_whole, sizeof(rc)) == 0 &&
		    memcmp(step_hit, whole_hit, tr->n * sizeof(bool)) == 0,
		    "%s/%s: tlbsim_run differs from tlbsim_step", geo_name, tr->name);
		free(whole_hit);
	}
	free(step_hit);
	CHECK(rc.accesses == accesses && T.stats.traps == traps && acct.traps == traps,
	    "%s/%s: %lu accesses, %lu traps, model counted %lu", geo_name, tr->name, accesses,
	    traps, T.stats.traps);
	for (int s = 0; s < PS_NSIZES; s++) {
		CHECK(T.stats.misses[s] == rc.misses[s], "%s/%s: TLB %d: model %lu misses, "
		    "reference %lu", geo_name, tr->name, s, T.stats.misses[s], rc.misses[s]);
		CHECK(T.stats.evictions[s] == rc.evictions[s], "%s/%s: TLB %d: model %lu "
		    "evictions, reference %lu", geo_name, tr->name, s, T.stats.evictions[s],
		    rc.evictions[s]);
		CHECK(T.stats.lookups[s] == T.stats.hits[s] + T.stats.misses[s] &&
		    rc.lookups[s] == rc.hits[s] + rc.misses[s] &&
		    acct.misses[s] == T.stats.misses[s], "lookups = hits + misses");
		CHECK(count_valid(s) == tlbsim_resident(sim, s), "%s/%s: TLB %d: %u resident, "
		    "reference %u", geo_name, tr->name, s, count_valid(s), tlbsim_resident(sim, s));
		tot->misses += rc.misses[s];
		tot->evictions += rc.evictions[s];
	}
	CHECK(T.stats.walk_refs == rc.walk_refs && T.stats.omt_walks == rc.omt_walks,
	    "%s/%s: walk refs %lu/%lu, OMT walks %lu/%lu", geo_name, tr->name,
	    T.stats.walk_refs, rc.walk_refs, T.stats.omt_walks, rc.omt_walks);
	tot->runs++;
	tot->accesses += accesses;
	tot->traps += traps;
	tot->omt_walks += rc.omt_walks;
	if (rc.evictions[0] + rc.evictions[1] + rc.evictions[2] > 0)
		tot->evicting_runs[c->tlb[0].repl]++;
	tlbsim_free(sim);
}

/* Geometries: entries/ways of the 4K, 2M and 1G TLBs. */
static const struct {
	const char *name;
	uint16_t ew[6];
	int slow;		/* 1: only 3 traces, 2: only "big", tagged (slow to simulate) */
} geos[] = {
	{ "default", { 64, 4, 32, 4, 4, 4 }, 0 },
	{ "direct-mapped", { 64, 1, 32, 1, 4, 1 }, 0 },
	{ "fully-assoc", { 64, 64, 32, 32, 8, 8 }, 0 },
	{ "one-entry", { 1, 1, 1, 1, 1, 1 }, 0 },
	{ "small", { 8, 2, 4, 2, 2, 1 }, 0 },
	{ "odd-sets", { 96, 8, 20, 5, 3, 1 }, 0 },
	{ "l2-like", { 1536, 12, 512, 8, 16, 4 }, 1 },
	{ "max-fully-assoc", { 1536, 1536, 512, 512, 256, 256 }, 2 },
	{ "medium", { 128, 8, 16, 16, 4, 2 }, 0 },
};
#define NGEOS	(sizeof(geos) / sizeof(geos[0]))

/* Policy sets: replacement of the 4K, 2M and 1G TLBs, and their seeds. */
static const struct {
	const char *name;
	enum vtlb_repl repl[3];
	uint64_t seed[3];
} pols[] = {
	{ "fifo", { VTLB_FIFO, VTLB_FIFO, VTLB_FIFO }, { 1, 2, 3 } },
	{ "random", { VTLB_RANDOM, VTLB_RANDOM, VTLB_RANDOM }, { 11, 22, 33 } },
	{ "clock", { VTLB_CLOCK, VTLB_CLOCK, VTLB_CLOCK }, { 0, 0, 0 } },
	{ "mixed-a", { VTLB_CLOCK, VTLB_RANDOM, VTLB_FIFO }, { 5, 0, 7 } },
	{ "mixed-b", { VTLB_RANDOM, VTLB_FIFO, VTLB_CLOCK }, { 0xDEAD, 9, 9 } },
};
#define NPOLS	(sizeof(pols) / sizeof(pols[0]))

static void
test_exact(void)
{
	struct trace tr[2][NTRACES];
	struct totals tot = { 0 };
	char name[96];

	for (int s = 0; s < PS_NSIZES; s++) {
		hw_valid[s] = xcalloc(NASID * npages[s], sizeof(uint32_t));
		hw_acc[s] = xcalloc(NASID * npages[s], sizeof(uint32_t));
		hw_seen[s] = xcalloc(NASID * npages[s], sizeof(uint32_t));
	}
	obv_table = xcalloc(npages[PS_2M], sizeof(*obv_table));
	for (uint64_t p = 0; p < npages[PS_2M]; p++)
		for (unsigned seg = 0; seg < VTLB_OBV_BITS; seg++)
			if (ovl_bit(p, seg))
				obv_table[p][seg / 64] |= (uint64_t)1 << (seg % 64);
	for (int m = 0; m < 2; m++)
		for (int k = 0; k < NTRACES; k++)
			gen_trace(&tr[m][k], k, m == 1);

	for (size_t gi = 0; gi < NGEOS; gi++)
		for (size_t pi = 0; pi < NPOLS; pi++)
			for (int m = 0; m < 2; m++)
				for (int k = 0; k < NTRACES; k++) {
					struct vtlb_config c;

					if ((geos[gi].slow == 1 && k != TR_BIG &&
					    k != TR_HOTCOLD && k != TR_INVAL) ||
					    (geos[gi].slow == 2 && (k != TR_BIG || m == 0)))
						continue;
					for (int s = 0; s < PS_NSIZES; s++)
						c.tlb[s] = (struct vtlb_geometry){
							geos[gi].ew[2 * s], geos[gi].ew[2 * s + 1],
							pols[pi].repl[s], pols[pi].seed[s] };
					c.tag_by_asid = m == 1;
					snprintf(name, sizeof(name), "%s/%s/%s", geos[gi].name,
					    pols[pi].name, m ? "tagged" : "untagged");
					run_exact(&c, &tr[m][k], name, gi == 0, &tot);
				}

	CHECK(tot.evicting_runs[VTLB_FIFO] > 0 && tot.evicting_runs[VTLB_RANDOM] > 0 &&
	    tot.evicting_runs[VTLB_CLOCK] > 0 && tot.omt_walks > 0 && cb_total > 0,
	    "the traces do not exercise every policy");
	printf("vtlb: exact OK (%lu runs: %zu geometries x %zu policy sets x %d traces x 2 "
	    "ASID modes, the 2 largest geometries on fewer traces; %lu accesses, %lu traps = misses seen, %lu misses, "
	    "%lu evictions, %lu OMT walks, %lu clock callbacks: all equal to the reference)\n",
	    tot.runs, NGEOS, NPOLS, NTRACES, tot.accesses, tot.traps, tot.misses,
	    tot.evictions, tot.omt_walks, cb_total);

	for (int m = 0; m < 2; m++)
		for (int k = 0; k < NTRACES; k++)
			free(tr[m][k].ev);
	for (int s = 0; s < PS_NSIZES; s++) {
		free(hw_valid[s]);
		free(hw_acc[s]);
		free(hw_seen[s]);
	}
	free(obv_table);
}

/* --- misuse must trip a KASSERT ------------------------------------------------------- */

#define NMISUSE	9
static const char *const misuse_expect[NMISUSE] = {
	"is resident, it cannot trap",
	"ways do not divide",
	"entries, not 1..",
	"entries, not 1..",
	"unknown replacement",
	"an OBV for a page of size",
	"bad page size",
	"wraps",
	"bad page size",
};

/* Commit misuse number i (in a child process). */
static void
misuse(int i)
{
	struct vtlb_config c;
	struct vtlb_victim v[VTLB_MAX_VICTIMS];
	uint64_t obv[VTLB_OBV_WORDS] = { 0 };
	struct vtlb_access a = { .va = 0x400000, .size = PS_4K, .asid = 1 };

	vtlb_default_config(&c);
	vtlb_init(&T, &c, NULL, NULL);
	switch (i) {
	case 0:
		vtlb_miss(&T, &a, v);
		vtlb_miss(&T, &a, v);
		break;
	case 1:
		c.tlb[PS_4K].ways = 3;
		vtlb_init(&T, &c, NULL, NULL);
		break;
	case 2:
		c.tlb[PS_1G].entries = 0;
		vtlb_init(&T, &c, NULL, NULL);
		break;
	case 3:
		c.tlb[PS_2M].entries = VTLB_MAX_2M + 1;
		c.tlb[PS_2M].ways = 1;
		vtlb_init(&T, &c, NULL, NULL);
		break;
	case 4:
		c.tlb[PS_2M].repl = (enum vtlb_repl)7;
		vtlb_init(&T, &c, NULL, NULL);
		break;
	case 5:
		a.obv = obv;
		vtlb_miss(&T, &a, v);
		break;
	case 6:
		a.size = (enum page_size)5;
		vtlb_miss(&T, &a, v);
		break;
	case 7:
		vtlb_invalidate_range(&T, 0xFFFFFFFFFFFFF000ull, 0x2000, 1);
		break;
	case 8:
		vtlb_resident(&T, 0, (enum page_size)3, 0);
		break;
	}
}

int
main(void)
{
	harness_start();
	test_xorshift();
	test_basic();
	test_policies();
	test_overlay();
	test_invalidate();
	test_exact();
	harness_kassert(NMISUSE, misuse, misuse_expect);
	return harness_done();
}
