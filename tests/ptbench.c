/*
 * tests/ptbench.c (make bench-pt): page-table bytes and memory references per lookup of
 * the three designs of issue 11 on synthetic address spaces, host-side.
 *
 * Spaces: dense (64 MiB of 4 KiB pages, physically contiguous and aligned frames, as
 * reservations make them; and the same with scattered frames), sparse (one 4 KiB page
 * per 2 MiB over 1 GiB; one per 1 GiB over 512 GiB) and superpage-heavy (64 MiB of
 * 2 MiB pages).  Designs: x86 radix, computed analytically (4 KiB per table page
 * present at each level; a walk reads 4/3/2 entries for a 4 KiB/2 MiB/1 GiB page);
 * clustered (kern/mm/pt/clustered.c) with F = 1, 4, 16, 64 and a hash of about
 * mappings/F buckets, rounded up to a power of two, as the kernel would size it; guarded
 * (kern/mm/pt/guarded.c) with strides 1, 3, 4, 9.  References are averaged over one
 * lookup per mapping.  Each row shows the targets: bytes <= 10% of radix's on
 * one-page-per-2-MiB and <= 110% on dense; references <= radix's on dense, and
 * clustered's <= 1.3.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "inc/error.h"
#include "inc/xorshift.h"
#include "kern/mm/pt/clustered.h"
#include "kern/mm/pt/guarded.h"

#define P		1ULL
#define BASE		0x00007f0000000000ULL	/* 512 GiB aligned */
#define FRAME_BASE	0x0000004000000000ULL
#define MAXMAP		16384

enum space { DENSE, DENSE_SCATTERED, SPARSE_2M, SPARSE_1G, SUPER, NSPACES };

static const char *const space_name[NSPACES] = {
	"dense 64M", "dense 64M, scattered frames", "1 page / 2M over 1G", "1 page / 1G over 512G", "64M of 2M pages",
};

struct mapping {
	uint64_t va, pte;
	enum page_size size;
};

static struct mapping maps[MAXMAP];
static unsigned nmaps;

static void
build(enum space s)
{
	uint64_t rng = xorshift64_seed(42);
	nmaps = 0;
	for (unsigned i = 0; i < MAXMAP; i++) {
		struct mapping *m = &maps[nmaps];
		if (s == DENSE || s == DENSE_SCATTERED) {
			m->va = BASE + ((uint64_t)i << 12);
			m->size = PS_4K;
			m->pte = s == DENSE ? FRAME_BASE + ((uint64_t)i << 12) : (xorshift64star(&rng) % (1ULL << 24)) << 12;
		} else if (s == SPARSE_2M && i < 512) {
			m->va = BASE + ((uint64_t)i << 21);
			m->size = PS_4K;
			m->pte = FRAME_BASE + ((uint64_t)i << 12);
		} else if (s == SPARSE_1G && i < 512) {
			m->va = BASE + ((uint64_t)i << 30);
			m->size = PS_4K;
			m->pte = FRAME_BASE + ((uint64_t)i << 12);
		} else if (s == SUPER && i < 32) {
			m->va = BASE + ((uint64_t)i << 21);
			m->size = PS_2M;
			m->pte = FRAME_BASE + ((uint64_t)i << 21) + 0x80;
		} else {
			continue;
		}
		m->pte |= P | 2 | 4;
		nmaps++;
	}
}

/* Distinct values of va >> shift over the mappings of at least min_size: table pages at a level. */
static uint64_t
distinct(unsigned shift, enum page_size max_size)
{
	uint64_t n = 0, last = ~0ULL;
	for (unsigned i = 0; i < nmaps; i++)	/* the mappings are sorted by va */
		if (maps[i].size <= max_size && maps[i].va >> shift != last) {
			last = maps[i].va >> shift;
			n++;
		}
	return n;
}

static void
radix(uint64_t *bytes, double *refs)
{
	uint64_t pages = 1 + distinct(39, PS_1G) + distinct(30, PS_2M) + distinct(21, PS_4K);
	uint64_t r = 0;
	for (unsigned i = 0; i < nmaps; i++)
		r += 4 - maps[i].size;
	*bytes = pages * 4096;
	*refs = (double)r / nmaps;
}

static void *
b_alloc(void *ctx, size_t bytes)
{
	(void)ctx;
	return calloc(1, bytes);
}

static void
b_free(void *ctx, void *p, size_t bytes)
{
	(void)ctx;
	(void)bytes;
	free(p);
}

static void
die(const char *what, int err)
{
	printf("ptbench: %s failed: %d\n", what, err);
	exit(1);
}

static void
clustered(unsigned f, uint64_t *bytes, double *refs, unsigned *chain)
{
	struct cpt t;
	struct cpt_alloc mem = { b_alloc, b_free, NULL };
	struct cpt_stats s;
	unsigned log2 = 0, r, total = 0;
	uint64_t pte;
	enum page_size size;
	int err;
	while ((1U << log2) < (nmaps + f - 1) / f)
		log2++;
	if ((err = cpt_init(&t, f, log2, &mem)) < 0)
		die("cpt_init", err);
	for (unsigned i = 0; i < nmaps; i++)
		if ((err = cpt_map(&t, maps[i].va, maps[i].pte, maps[i].size)) < 0)
			die("cpt_map", err);
	for (unsigned i = 0; i < nmaps; i++) {
		if (!cpt_lookup(&t, maps[i].va, &pte, &size, &r) || pte != maps[i].pte)
			die("cpt_lookup", 0);
		total += r;
	}
	cpt_stats(&t, &s);
	*bytes = s.bytes;
	*refs = (double)total / nmaps;
	*chain = s.longest_chain;
	cpt_destroy(&t);
}

static void
guarded(unsigned stride, uint64_t *bytes, double *refs, unsigned *depth)
{
	struct gpt t;
	struct gpt_alloc mem = { b_alloc, b_free, NULL };
	struct gpt_stats s;
	unsigned r, total = 0;
	uint64_t pte;
	enum page_size size;
	int err;
	if ((err = gpt_init(&t, stride, &mem)) < 0)
		die("gpt_init", err);
	for (unsigned i = 0; i < nmaps; i++)
		if ((err = gpt_map(&t, maps[i].va, maps[i].pte, maps[i].size)) < 0)
			die("gpt_map", err);
	for (unsigned i = 0; i < nmaps; i++) {
		if (!gpt_lookup(&t, maps[i].va, &pte, &size, &r) || pte != maps[i].pte)
			die("gpt_lookup", 0);
		total += r;
	}
	gpt_stats(&t, &s);
	*bytes = s.bytes;
	*refs = (double)total / nmaps;
	*depth = s.depth_max;
	gpt_destroy(&t);
}

/* One row: the design's figures beside radix's and the targets that apply. */
static void
row(enum space s, const char *design, uint64_t bytes, double refs, uint64_t rbytes, double rrefs, bool is_clustered,
    const char *extra)
{
	char target[96] = "";
	double pct = 100.0 * (double)bytes / (double)rbytes;
	bool yardstick = !strcmp(design, "radix");
	if (!yardstick && s == SPARSE_2M)
		snprintf(target, sizeof target, "bytes<=10%%: %s", pct <= 10.0 ? "met" : "MISSED");
	else if (!yardstick && (s == DENSE || s == DENSE_SCATTERED))
		snprintf(target, sizeof target, "bytes<=110%%: %s, refs<=%.0f: %s", pct <= 110.0 ? "met" : "MISSED", rrefs,
			 refs <= rrefs ? "met" : "MISSED");
	if (is_clustered && (s == DENSE || s == DENSE_SCATTERED))
		snprintf(target + strlen(target), sizeof target - strlen(target), ", refs<=1.3: %s",
			 refs <= 1.3 ? "met" : "MISSED");
	printf("  %-14s %10lu %7.1f%% %6.2f  %-8s %s\n", design, (unsigned long)bytes, pct, refs, extra, target);
}

int
main(void)
{
	static const unsigned fs[] = { 1, 4, 16, 64 }, strides[] = { 1, 3, 4, 9 };
	for (enum space s = 0; s < NSPACES; s++) {
		uint64_t rbytes, bytes;
		double rrefs, refs;
		unsigned x;
		char name[32], extra[24];
		build(s);
		radix(&rbytes, &rrefs);
		printf("%s: %u mappings\n  %-14s %10s %8s %6s  %-8s %s\n", space_name[s], nmaps, "design", "bytes",
		       "%radix", "refs", "", "issue 11 targets");
		row(s, "radix", rbytes, rrefs, rbytes, rrefs, false, "");
		for (unsigned i = 0; i < 4; i++) {
			clustered(fs[i], &bytes, &refs, &x);
			snprintf(name, sizeof name, "clustered F%u", fs[i]);
			snprintf(extra, sizeof extra, "chain %u", x);
			row(s, name, bytes, refs, rbytes, rrefs, true, extra);
		}
		for (unsigned i = 0; i < 4; i++) {
			guarded(strides[i], &bytes, &refs, &x);
			snprintf(name, sizeof name, "guarded s%u", strides[i]);
			snprintf(extra, sizeof extra, "depth %u", x);
			row(s, name, bytes, refs, rbytes, rrefs, false, extra);
		}
	}
	return 0;
}
