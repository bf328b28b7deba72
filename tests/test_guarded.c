/*
 * Host unit test of the guarded page table (kern/mm/pt/guarded.c): differential
 * fuzzing against the reference map of tests/ptref.h (shared with test_clustered.c),
 * for strides 1 (a binary trie), 3, 4 and 9 (x86's levels).  The two reference windows
 * lie far apart (one at the top of the user half, one in the canonical upper half), so
 * guards span most of the key and the sign extension is exercised.  Besides what
 * ptref.h checks, every sweep runs gpt_check (the valid and full counts of every node,
 * at least two valid entries per node, nodes at level boundaries and never across a
 * superpage's coverage, leaves ending at their coverage) and compares the page count
 * and the bytes held with the reference and the allocator; a failed map must leave the
 * bytes unchanged; when the table is emptied at the end it must hold no node at all
 * (every collapse happened), and destroy must give back every byte.  Fixed cases: one
 * page is the root's own leaf, a split and its collapse, overlaps, bad arguments, a
 * 1 GiB page beside a node at its boundary.
 * test_guarded [OPS_PER_STRIDE]: 60,000 by default (make test, about 3 s with the
 * sanitizers); the longer run, 250,000 (10^6 in all), takes about 10 s.
 */
#define HARNESS_NAME "guarded"
#include "tests/harness.h"
#include "tests/ptref.h"
#include "kern/mm/pt/guarded.h"

#define P		PTREF_P
#define FRAME_BASE	PTREF_FRAME_BASE

static const uint64_t window_base[2] = { 0x00007fc000000000ULL, 0xffff804040000000ULL };

static int
g_map(void *t, uint64_t va, uint64_t pte, enum page_size size)
{
	return gpt_map(t, va, pte, size);
}

static int
g_unmap(void *t, uint64_t va, enum page_size size)
{
	return gpt_unmap(t, va, size);
}

static int
g_protect(void *t, uint64_t va, enum page_size size, uint64_t flags)
{
	return gpt_protect(t, va, size, flags);
}

static bool
g_lookup(const void *t, uint64_t va, uint64_t *pte, enum page_size *size, unsigned *refs)
{
	bool found = gpt_lookup(t, va, pte, size, refs);
	CHECK(*refs <= GPT_KEY_BITS + 1, "lookup of 0x%lx: %u references", (unsigned long)va, *refs);
	return found;
}

static void
g_foreach(void *t, uint64_t start, uint64_t end, void (*fn)(void *, uint64_t, uint64_t, enum page_size), void *arg)
{
	gpt_foreach(t, start, end, fn, arg);
}

static void
g_check(void *t)
{
	struct gpt_stats s;
	gpt_stats(t, &s);
	CHECK(gpt_check(t), "the table's invariants are broken");
	CHECK(s.pages == ref_pages, "stats: %lu pages, reference %lu", (unsigned long)s.pages, (unsigned long)ref_pages);
	CHECK(s.bytes == held, "stats: %lu bytes, the allocator holds %lu", (unsigned long)s.bytes, (unsigned long)held);
}

static void
run(unsigned stride, uint64_t ops)
{
	struct gpt t;
	struct gpt_alloc mem = { t_alloc, t_free, NULL };
	struct ptref_ops o = { &t, g_map, g_unmap, g_protect, g_lookup, g_check, false, g_foreach };
	struct gpt_stats s;
	ptref_window[0] = window_base[0];
	ptref_window[1] = window_base[1];
	ptref_start();
	CHECK(gpt_init(&t, stride, &mem) == 0, "init stride %u", stride);
	ptref_run(&o, ops);
	gpt_stats(&t, &s);
	printf("guarded: stride %u: mapped %lu/%lu/%lu pages of 4K/2M/1G; now %lu pages in %lu leaves, %lu nodes "
	       "(%lu bottom), %lu bytes (%.1f per page), depth max %u avg %.2f\n", stride,
	       (unsigned long)mapped[PS_4K], (unsigned long)mapped[PS_2M], (unsigned long)mapped[PS_1G],
	       (unsigned long)s.pages, (unsigned long)s.leaves, (unsigned long)s.nodes, (unsigned long)s.bottom_nodes,
	       (unsigned long)s.bytes, s.pages ? (double)s.bytes / (double)s.pages : 0.0, s.depth_max, s.leaves ? (double)s.depth_sum / (double)s.leaves : 0.0);
	ptref_drain(&o);
	gpt_stats(&t, &s);
	CHECK(s.nodes == 0 && held == 0 && t.root.type == GPT_INVALID, "emptied table keeps %lu nodes, %lu bytes",
	      (unsigned long)s.nodes, (unsigned long)held);
	gpt_destroy(&t);
	CHECK(held == 0, "destroy left %lu bytes", (unsigned long)held);
}

/* Fixed cases: one page is the root's leaf, a split and its collapse, bad arguments. */
static void
fixed(void)
{
	struct gpt t;
	struct gpt_alloc mem = { t_alloc, t_free, NULL };
	struct gpt_stats s;
	uint64_t pte, base = window_base[0];
	enum page_size size;
	unsigned refs;
	fail_every = 0;
	CHECK(gpt_init(&t, 0, &mem) == -E_INVAL && gpt_init(&t, 10, &mem) == -E_INVAL, "bad stride accepted");
	CHECK(gpt_init(&t, 9, &mem) == 0, "init");
	CHECK(gpt_map(&t, base, FRAME_BASE | P | 2, PS_4K) == 0 && held == 0, "one page needs no node");
	CHECK(gpt_lookup(&t, base + 123, &pte, &size, &refs) && pte == (FRAME_BASE | P | 2) && size == PS_4K &&
	      refs == 1, "one page: %u refs", refs);
	CHECK(gpt_map(&t, base + 4096, (FRAME_BASE + 4096) | P, PS_4K) == 0, "second page");
	gpt_stats(&t, &s);
	CHECK(s.nodes == 1 && s.bottom_nodes == 1 && gpt_check(&t), "two neighbours: %lu nodes", (unsigned long)s.nodes);
	CHECK(gpt_lookup(&t, base + 4096, &pte, &size, &refs) && refs == 2, "in a bottom node: %u refs", refs);
	CHECK(gpt_unmap(&t, base, PS_4K) == 0 && held == 0 && gpt_check(&t), "collapse back into the root");
	CHECK(gpt_lookup(&t, base + 4096, &pte, &size, &refs) && refs == 1 && pte == ((FRAME_BASE + 4096) | P),
	      "after the collapse: %u refs", refs);
	CHECK(gpt_map(&t, base + PS_SIZE(PS_2M), FRAME_BASE | P | 0x80, PS_2M) == 0 &&
	      gpt_map(&t, base, FRAME_BASE | P | 0x80, PS_2M) == -E_EXISTS &&
	      gpt_map(&t, base + PS_SIZE(PS_2M) + 4096, FRAME_BASE | P, PS_4K) == -E_EXISTS &&
	      gpt_map(&t, base, FRAME_BASE | P | 0x80, PS_1G) == -E_EXISTS, "overlaps");
	CHECK(gpt_map(&t, base + 4096, FRAME_BASE | P, PS_2M) == -E_INVAL && gpt_map(&t, base, 0, PS_4K) == -E_INVAL &&
	      gpt_map(&t, 0x0000800000000000ULL, FRAME_BASE | P, PS_4K) == -E_INVAL, "bad arguments");
	CHECK(gpt_unmap(&t, base + PS_SIZE(PS_2M), PS_4K) == -E_NOT_FOUND &&
	      gpt_protect(&t, base + PS_SIZE(PS_2M), PS_2M, 0) == -E_INVAL, "wrong size, no P");
	CHECK(gpt_lookup(&t, base + PS_SIZE(PS_2M) + 77, &pte, &size, NULL) && size == PS_2M, "superpage lookup");
	CHECK(gpt_map(&t, window_base[1], FRAME_BASE | P, PS_4K) == 0 &&
	      gpt_lookup(&t, window_base[1], &pte, &size, NULL) && !gpt_lookup(&t, window_base[1] & ~(1ULL << 63), &pte, &size, NULL),
	      "the upper half");
	gpt_destroy(&t);
	CHECK(held == 0, "destroy left %lu bytes", (unsigned long)held);
	/* Keys diverging at bit 19 (stride 4): the node must start at 18, not straddle it. */
	CHECK(gpt_init(&t, 4, &mem) == 0, "init stride 4");
	CHECK(gpt_map(&t, 1ULL << 30, FRAME_BASE | P, PS_4K) == 0 && gpt_map(&t, 2ULL << 30, FRAME_BASE | P, PS_4K) == 0 &&
	      gpt_map(&t, 3ULL << 30, (1ULL << 30) | P | 0x80, PS_1G) == 0 && gpt_check(&t), "a 1 GiB page beside two pages");
	CHECK(gpt_lookup(&t, (4ULL << 30) - 4096, &pte, &size, NULL) && size == PS_1G && pte == ((1ULL << 30) | P | 0x80) &&
	      gpt_lookup(&t, 2ULL << 30, &pte, &size, NULL) && size == PS_4K, "1 GiB page lookup");
	gpt_destroy(&t);
	CHECK(held == 0, "destroy left %lu bytes", (unsigned long)held);
}

int
main(int argc, char **argv)
{
	harness_start();
	uint64_t ops = argc > 1 ? strtoull(argv[1], NULL, 0) : 60000;
	fixed();
	static const unsigned strides[] = { 1, 3, 4, 9 };
	for (unsigned i = 0; i < 4; i++) {
		rng_seed(2000 + i);
		run(strides[i], ops);
	}
	harness_done();
	return 0;
}
