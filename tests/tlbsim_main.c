/*
 * tests/tlbsim_main.c: the reference TLB simulator as a command, for the grader.
 *
 *   tlbsim PATTERN PAGES ACCESSES SEED STRIDE BACKING BASE GEOM4K GEOM2M GEOM1G [OFFSET [DELTA]]
 *
 * replays the page sequence user/tlbtrace.c touches (inc/tlbtrace.h) at virtual
 * address BASE, with pages of BACKING (4k or 2m), through tests/tlbsim.c with the given
 * geometries (ENTRIES:WAYS:fifo|random|clock[:SEED]), and prints
 *   tlbsim: misses 4k A 2m B 1g C evictions 4k D 2m E 1g F walkrefs W
 * The grader requires the kernel's counts for the same run to be equal.  With OFFSET,
 * each access is instead user/tlbstraddle.c's 8-byte load at OFFSET bytes into the page,
 * one instruction that touches two pages when it straddles a boundary.  With DELTA too,
 * each access is user/tlbmovs.c's movsq instead: an 8-byte load at OFFSET into the page,
 * then an 8-byte store at OFFSET into the page DELTA further (mod PAGES) -- up to four
 * pages, the load's in address order, then the store's.  DELTA must keep the two apart
 * (no page in both).
 *
 *   tlbsim inv SCENARIO PAGES BASE GEOM4K GEOM2M GEOM1G
 *
 * replays inc/tlbinv.h's script SCENARIO (user/tlbinv.c) over 4 KiB pages at BASE with
 * textbook rules (replay_script below) and prints the same line.
 *
 *   tlbsim ovl PATTERN PAGES ACCESSES SEED MOD WMOD BASE GEOM4K GEOM2M GEOM1G
 *
 * user/ovl_cow.c's model scenario: the accesses of PATTERN to 4 KiB segments of 2 MiB
 * pages at BASE, segment i overlaid when i >= 3 and (i - 3) %
 * MOD == 0 (a 2 MiB lookup, then a 4 KiB one
 * whose miss is an OMT walk), as the seed's hardware looks them up.  Access j is a
 * store when WMOD and j % WMOD == 0: to a segment not yet overlaid it looks up the
 * 2 MiB entry, faults (copy-on-write), the OS overlays the segment and sets its OBV bit
 * in the resident entry, and the store looks up again, now overlaid.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "inc/tlbinv.h"
#include "inc/tlbtrace.h"
#include "tests/tlbsim.h"

static int
parse_geom(const char *s, struct tlbsim_geom *g)
{
	char repl[16] = "";
	unsigned long long seed = 0;
	int n = sscanf(s, "%u:%u:%15[a-z]:%llu", &g->entries, &g->ways, repl, &seed);
	if (n < 3 || g->entries == 0 || g->ways == 0 || g->entries % g->ways)
		return -1;
	if (strcmp(repl, "fifo") == 0)
		g->repl = TLBSIM_FIFO;
	else if (strcmp(repl, "random") == 0)
		g->repl = TLBSIM_RANDOM;
	else if (strcmp(repl, "clock") == 0)
		g->repl = TLBSIM_CLOCK;
	else
		return -1;
	g->seed = seed;
	return 0;
}

static void
print_counts(const struct tlbsim *sim)
{
	struct tlbsim_counts c;
	tlbsim_counts(sim, &c);
	printf("tlbsim: misses 4k %llu 2m %llu 1g %llu evictions 4k %llu 2m %llu 1g %llu walkrefs %llu\n",
	       (unsigned long long)c.misses[0], (unsigned long long)c.misses[1], (unsigned long long)c.misses[2],
	       (unsigned long long)c.evictions[0], (unsigned long long)c.evictions[1],
	       (unsigned long long)c.evictions[2], (unsigned long long)c.walk_refs);
}

/*
 * A script of inc/tlbinv.h as a textbook TLB sees it.  A page is unmapped, absent (in a
 * region, no page yet), present, or copy-on-write.  An access to an absent page walks to
 * a not-present entry, which no TLB caches: the fault maps it, invalidates it (there is
 * nothing to drop) and the retry looks it up -- one lookup.  A store to a copy-on-write
 * page looks it up (hit or fill), faults on the read-only entry; the kernel copies it
 * and invalidates that page; the retry looks it up again.  Fork rewrites every present
 * entry read-only and invalidates it; munmap invalidates the page.  A kernel write into
 * the region (copyout) is no lookup of the process's TLB, but resolving an absent or
 * copy-on-write page changes, and invalidates, that page.
 */
enum page_state { PG_UNMAPPED, PG_ABSENT, PG_PRESENT, PG_COW };

struct replay {
	struct tlbsim *sim;
	uint64_t base;
	enum page_state *state;
	bool *big;		/* per 2 MiB block: mapped by one 2 MiB page */
	uint64_t pages;
};

static void
sim_event(struct replay *r, uint8_t op, uint64_t page)
{
	struct tlbsim_ref ref = { .va = r->base + page * 4096, .asid = 0, .op = op,
				  .size = r->big[page / INV_BLOCK] ? TLBSIM_2M : TLBSIM_4K, .overlaid = false };
	tlbsim_step(r->sim, &ref);
}

/*
 * The block of page becomes one 2 MiB page (promoted) or 512 pages of 4 KiB (demoted):
 * every translation of it changed, and all are invalidated.
 */
static void
resize_block(struct replay *r, uint64_t page, bool big)
{
	uint64_t first = page - page % INV_BLOCK;
	for (uint64_t p = first; p < first + INV_BLOCK; p++) {
		sim_event(r, TLBSIM_INVALIDATE, p);
		r->state[p] = PG_PRESENT;
	}
	r->big[page / INV_BLOCK] = big;
}

static void
replay_step(void *arg, enum tlbinv_op op, uint64_t page)
{
	struct replay *r = arg;
	enum page_state *st = &r->state[page];
	switch (op) {
	case INV_READ:
	case INV_WRITE:
	case INV_COPYOUT:
		if (*st == PG_UNMAPPED) {
			fprintf(stderr, "tlbsim: the script touches unmapped page %llu\n", (unsigned long long)page);
			exit(2);
		}
		if (op != INV_COPYOUT && *st != PG_ABSENT)
			sim_event(r, TLBSIM_ACCESS, page);
		if (*st == PG_ABSENT || (op != INV_READ && *st == PG_COW)) {
			sim_event(r, TLBSIM_INVALIDATE, page);
			*st = PG_PRESENT;
			if (op != INV_COPYOUT)
				sim_event(r, TLBSIM_ACCESS, page);
		}
		break;
	case INV_FORK:
		for (uint64_t p = 0; p < r->pages; p++)
			if (r->state[p] == PG_PRESENT || r->state[p] == PG_COW) {
				r->state[p] = PG_COW;
				sim_event(r, TLBSIM_INVALIDATE, p);
			}
		break;
	case INV_UNMAP:
		sim_event(r, TLBSIM_INVALIDATE, page);
		*st = PG_UNMAPPED;
		break;
	case INV_MAP:
		*st = PG_ABSENT;
		break;
	case INV_WRITE_PROMOTE:
		resize_block(r, page, true);
		sim_event(r, TLBSIM_ACCESS, page);
		break;
	case INV_PROTECT_DEMOTE:
		resize_block(r, page, false);
		break;
	case INV_UNPROTECT_PROMOTE:
		resize_block(r, page, true);
		break;
	}
}

static int
replay_script(int argc, char **argv)
{
	struct tlbsim_geom geom[TLBSIM_NSIZES];
	int scenario = argc == 8 ? tlbinv_lookup(argv[2]) : -1;
	if (scenario < 0 || parse_geom(argv[5], &geom[0]) || parse_geom(argv[6], &geom[1]) ||
	    parse_geom(argv[7], &geom[2])) {
		fprintf(stderr, "usage: tlbsim inv SCENARIO PAGES BASE GEOM4K GEOM2M GEOM1G\n");
		return 2;
	}
	struct replay r = { tlbsim_new(geom, false), strtoull(argv[4], NULL, 0), NULL, NULL, strtoull(argv[3], NULL, 0) };
	r.state = calloc(r.pages, sizeof *r.state);
	r.big = calloc(r.pages / INV_BLOCK + 1, sizeof *r.big);
	if (!r.state || !r.big || r.pages < 4) {
		fprintf(stderr, "tlbsim: bad number of pages\n");
		return 2;
	}
	for (uint64_t p = 0; p < r.pages; p++)
		r.state[p] = tlbinv_prepopulated((enum tlbinv_scenario)scenario, r.pages, p) ? PG_PRESENT : PG_ABSENT;
	tlbinv_run((enum tlbinv_scenario)scenario, r.pages, replay_step, &r);
	print_counts(r.sim);
	tlbsim_free(r.sim);
	free(r.state);
	free(r.big);
	return 0;
}


/* tlbsim ovl: accesses to overlaid 2 MiB pages (see the top). */
static int
replay_overlaid(int argc, char **argv)
{
	struct tlbsim_geom geom[TLBSIM_NSIZES];
	int pattern = argc == 12 ? tlbtrace_lookup(argv[2]) : -1;
	if (pattern < 0 || parse_geom(argv[9], &geom[0]) || parse_geom(argv[10], &geom[1]) ||
	    parse_geom(argv[11], &geom[2])) {
		fprintf(stderr, "usage: tlbsim ovl PATTERN PAGES ACCESSES SEED MOD WMOD BASE GEOM4K GEOM2M GEOM1G\n");
		return 2;
	}
	uint64_t pages = strtoull(argv[3], NULL, 0), accesses = strtoull(argv[4], NULL, 0);
	uint64_t seed = strtoull(argv[5], NULL, 0), mod = strtoull(argv[6], NULL, 0);
	uint64_t wmod = strtoull(argv[7], NULL, 0), base = strtoull(argv[8], NULL, 0);
	char *overlaid = calloc(pages, 1);
	for (uint64_t seg = 0; seg < pages && mod; seg++)
		overlaid[seg] = seg >= 3 && (seg - 3) % mod == 0;
	struct tlbtrace t;
	tlbtrace_init(&t, (enum tlbtrace_pattern)pattern, pages, 1, seed);
	struct tlbsim *sim = tlbsim_new(geom, false);
	for (uint64_t i = 0; i < accesses; i++) {
		uint64_t seg = tlbtrace_next(&t);
		struct tlbsim_ref r = { .va = base + seg * 4096, .asid = 0, .op = TLBSIM_ACCESS, .size = TLBSIM_2M,
					.overlaid = overlaid[seg] };
		tlbsim_step(sim, &r);
		if (wmod && i % wmod == 0 && !overlaid[seg]) {	/* the fault overlays it; the store again */
			overlaid[seg] = r.overlaid = true;
			tlbsim_step(sim, &r);
		}
	}
	free(overlaid);
	struct tlbsim_counts c;
	tlbsim_counts(sim, &c);
	print_counts(sim);
	printf("tlbsim: omt walks %llu\n", (unsigned long long)c.omt_walks);
	tlbsim_free(sim);
	return 0;
}

int
main(int argc, char **argv)
{
	struct tlbsim_geom geom[TLBSIM_NSIZES];
	if (argc > 1 && strcmp(argv[1], "ovl") == 0)
		return replay_overlaid(argc, argv);
	if (argc > 1 && strcmp(argv[1], "inv") == 0)
		return replay_script(argc, argv);
	if (argc < 11 || argc > 13) {
		fprintf(stderr, "usage: tlbsim PATTERN PAGES ACCESSES SEED STRIDE 4k|2m BASE GEOM4K GEOM2M GEOM1G "
			"[OFFSET [DELTA]]\n");
		return 2;
	}
	int pattern = tlbtrace_lookup(argv[1]);
	uint64_t pages = strtoull(argv[2], NULL, 0), accesses = strtoull(argv[3], NULL, 0);
	uint64_t seed = strtoull(argv[4], NULL, 0), stride = strtoull(argv[5], NULL, 0);
	int big = strcmp(argv[6], "2m") == 0;
	uint64_t base = strtoull(argv[7], NULL, 0);
	int loads = argc >= 12, movs = argc == 13;
	uint64_t offset = loads ? strtoull(argv[11], NULL, 0) : 0;
	uint64_t delta = movs ? strtoull(argv[12], NULL, 0) : 0;
	if (movs && (pages < 4 || delta < 2 || delta > pages - 2)) {
		fprintf(stderr, "tlbsim: DELTA must be 2 .. PAGES-2\n");
		return 2;
	}
	if (pattern < 0 || parse_geom(argv[8], &geom[0]) || parse_geom(argv[9], &geom[1]) ||
	    parse_geom(argv[10], &geom[2])) {
		fprintf(stderr, "tlbsim: bad arguments\n");
		return 2;
	}
	struct tlbtrace t;
	tlbtrace_init(&t, (enum tlbtrace_pattern)pattern, pages, stride, seed);
	struct tlbsim *sim = tlbsim_new(geom, false);
	for (uint64_t i = 0; i < accesses; i++) {
		uint64_t va = base + tlbtrace_next(&t) * 4096;
		struct tlbsim_ref r = { .va = va, .asid = 0, .op = TLBSIM_ACCESS,
					.size = big ? TLBSIM_2M : TLBSIM_4K, .overlaid = false };
		if (movs) {
			uint64_t page = (va - base) / 4096;
			uint64_t dst = base + (page + delta) % pages * 4096 + offset;
			tlbsim_instruction(sim, va + offset, 8, r.size, 0);
			tlbsim_instruction(sim, dst, 8, r.size, 0);
		} else if (loads)
			tlbsim_instruction(sim, va + offset, 8, r.size, 0);
		else
			tlbsim_step(sim, &r);
	}
	print_counts(sim);
	tlbsim_free(sim);
	return 0;
}
