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
 * each access is user/hb_movs.c's movsq instead: an 8-byte load at OFFSET into the page,
 * then an 8-byte store at OFFSET into the page DELTA further (mod PAGES) -- up to four
 * pages, the load's in address order, then the store's.  DELTA must keep the two apart
 * (no page in both).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int
main(int argc, char **argv)
{
	struct tlbsim_geom geom[TLBSIM_NSIZES];
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
	struct tlbsim_counts c;
	tlbsim_counts(sim, &c);
	printf("tlbsim: misses 4k %llu 2m %llu 1g %llu evictions 4k %llu 2m %llu 1g %llu walkrefs %llu\n",
	       (unsigned long long)c.misses[0], (unsigned long long)c.misses[1], (unsigned long long)c.misses[2],
	       (unsigned long long)c.evictions[0], (unsigned long long)c.evictions[1],
	       (unsigned long long)c.evictions[2], (unsigned long long)c.walk_refs);
	tlbsim_free(sim);
	return 0;
}
