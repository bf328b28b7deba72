/*
 * Host unit test of the clustered page table (kern/mm/pt/clustered.c): differential
 * fuzzing against the reference map of tests/ptref.h (shared with test_guarded.c), a
 * 2 GiB window at a high address (the two reference windows adjacent), for subblock
 * factors 1 (a hashed page table), 4, 16 and 64 and small and large hash tables.
 * 4 KiB maps get physically contiguous frames three times in four, so partial-subblock
 * nodes form and break.  Besides what ptref.h checks, every sweep compares the page
 * count and the bytes the allocator holds with the table's stats; at the end every
 * mapping is unmapped (the table must keep only its bucket arrays) and destroy must
 * give back every byte.  test_clustered [OPS_PER_CONFIG]: 50,000 by default (make
 * test, about 3 s); 250,000 (10^6 in all), about 10 s, is the longer run.
 */
#define HARNESS_NAME "clustered"
#include "tests/harness.h"
#include "tests/ptref.h"
#include "kern/mm/pt/clustered.h"

#define BASE		0x00007f4000000000ULL	/* 1 GiB aligned */
#define P		PTREF_P
#define FRAME_BASE	PTREF_FRAME_BASE

static int
c_map(void *t, uint64_t va, uint64_t pte, enum page_size size)
{
	return cpt_map(t, va, pte, size);
}

static int
c_unmap(void *t, uint64_t va, enum page_size size)
{
	return cpt_unmap(t, va, size);
}

static int
c_protect(void *t, uint64_t va, enum page_size size, uint64_t flags)
{
	return cpt_protect(t, va, size, flags);
}

static bool
c_lookup(const void *t, uint64_t va, uint64_t *pte, enum page_size *size, unsigned *refs)
{
	return cpt_lookup(t, va, pte, size, refs);
}

static void
c_foreach(void *t, uint64_t start, uint64_t end, void (*fn)(void *, uint64_t, uint64_t, enum page_size), void *arg)
{
	cpt_foreach(t, start, end, fn, arg);
}

static void
c_check(void *t)
{
	struct cpt_stats s;
	cpt_stats(t, &s);
	CHECK(s.pages == ref_pages, "stats: %lu pages, reference %lu", (unsigned long)s.pages, (unsigned long)ref_pages);
	CHECK(s.bytes == held, "stats: %lu bytes, the allocator holds %lu", (unsigned long)s.bytes, (unsigned long)held);
}

static void
run(unsigned f, unsigned log2_buckets, uint64_t ops)
{
	struct cpt t;
	struct cpt_alloc mem = { t_alloc, t_free, NULL };
	struct ptref_ops o = { &t, c_map, c_unmap, c_protect, c_lookup, c_check, true, c_foreach };
	struct cpt_stats s;
	ptref_window[0] = BASE;
	ptref_window[1] = BASE + PTREF_WINDOW;
	ptref_start();
	fail_every = 0;
	CHECK(cpt_init(&t, f, log2_buckets, &mem) == 0, "init F %u", f);
	ptref_run(&o, ops);
	cpt_stats(&t, &s);
	printf("clustered: F %2u, 2^%-2u buckets: mapped %lu/%lu/%lu pages of 4K/2M/1G; now %lu pages in %lu full + "
	       "%lu partial + %lu superpage nodes, %lu bytes (%.1f per page), longest chain %u\n", f, log2_buckets,
	       (unsigned long)mapped[PS_4K], (unsigned long)mapped[PS_2M], (unsigned long)mapped[PS_1G],
	       (unsigned long)s.pages, (unsigned long)s.nodes_full, (unsigned long)s.nodes_partial,
	       (unsigned long)s.nodes_super, (unsigned long)s.bytes, s.pages ? (double)s.bytes / (double)s.pages : 0.0,
	       s.longest_chain);
	ptref_drain(&o);
	cpt_stats(&t, &s);
	CHECK(s.nodes_full + s.nodes_partial + s.nodes_super == 0, "emptied table keeps %lu nodes",
	      (unsigned long)(s.nodes_full + s.nodes_partial + s.nodes_super));
	cpt_destroy(&t);
	CHECK(held == 0, "destroy left %lu bytes", (unsigned long)held);
}

/* Fixed cases: partial subblocks form and break, F = 1 is a hashed table, bad arguments. */
static void
fixed(void)
{
	struct cpt t;
	struct cpt_alloc mem = { t_alloc, t_free, NULL };
	struct cpt_stats s;
	uint64_t pte;
	enum page_size size;
	unsigned refs;
	fail_every = 0;
	CHECK(cpt_init(&t, 3, 4, &mem) == -E_INVAL && cpt_init(&t, 128, 4, &mem) == -E_INVAL, "bad F accepted");
	CHECK(cpt_init(&t, 16, 8, &mem) == 0, "init");
	for (uint64_t i = 0; i < 16; i++)	/* one block, contiguous aligned frames: one partial node */
		CHECK(cpt_map(&t, BASE + (i << 12), (FRAME_BASE + (i << 12)) | P | 2, PS_4K) == 0, "map %lu", i);
	cpt_stats(&t, &s);
	CHECK(s.nodes_partial == 1 && s.nodes_full == 0, "a contiguous block: %lu partial, %lu full nodes",
	      (unsigned long)s.nodes_partial, (unsigned long)s.nodes_full);
	CHECK(cpt_lookup(&t, BASE + (5 << 12) + 123, &pte, &size, &refs) && pte == ((FRAME_BASE + (5 << 12)) | P | 2) &&
	      size == PS_4K && refs == 1, "partial lookup: 0x%lx, %u refs", (unsigned long)pte, refs);
	CHECK(cpt_protect(&t, BASE + (5 << 12), PS_4K, P) == 0, "protect one page of a partial node");
	cpt_stats(&t, &s);
	CHECK(s.nodes_partial == 0 && s.nodes_full == 1, "protect did not make the node full");
	CHECK(cpt_map(&t, BASE + PS_SIZE(PS_2M), FRAME_BASE | P | 0x80, PS_2M) == 0 &&
	      cpt_map(&t, BASE, FRAME_BASE | P | 0x80, PS_2M) == -E_EXISTS &&
	      cpt_map(&t, BASE + PS_SIZE(PS_2M) + 4096, FRAME_BASE | P, PS_4K) == -E_EXISTS &&
	      cpt_map(&t, BASE + 4096, FRAME_BASE | P, PS_4K) == -E_EXISTS, "overlaps");
	CHECK(cpt_map(&t, BASE + 4096, FRAME_BASE | P, PS_2M) == -E_INVAL && cpt_map(&t, BASE + PS_SIZE(PS_1G), 0, PS_4K) == -E_INVAL,
	      "bad arguments");
	CHECK(cpt_lookup(&t, BASE + PS_SIZE(PS_2M) + 77, &pte, &size, NULL) && size == PS_2M, "superpage lookup");
	cpt_destroy(&t);
	CHECK(held == 0, "destroy left %lu bytes", (unsigned long)held);
}

int
main(int argc, char **argv)
{
	harness_start();
	uint64_t ops = argc > 1 ? strtoull(argv[1], NULL, 0) : 50000;
	fixed();
	static const unsigned fs[] = { 1, 4, 16, 64 };
	for (unsigned i = 0; i < 4; i++) {
		rng_seed(1000 + i);
		run(fs[i], i % 2 ? 4 : 14, ops);
	}
	harness_done();
	return 0;
}
