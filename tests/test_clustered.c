/*
 * Host unit test of the clustered page table (kern/mm/pt/clustered.c): differential
 * fuzzing against a reference map, one array entry per 4 KiB page of a 2 GiB window at
 * a high address, for subblock factors 1 (a hashed page table), 4, 16 and 64 and small
 * and large hash tables.  Random map (4 KiB with physically contiguous frames, so
 * partial-subblock nodes form, or scattered ones; 2 MiB; 1 GiB), unmap (right and wrong
 * sizes), protect and lookup operations, with one allocation in 40 failing; after each,
 * the table must agree with the reference on the result code and, for lookups, on the
 * PTE and page size; periodically every page of a random 2 MiB is looked up, the page
 * count and the bytes the allocator holds are compared, and at the end the table must
 * give back every byte.  test_clustered [OPS_PER_CONFIG]: 50,000 by default (make test);
 * 250,000 (10^6 in all) takes about 30 s with the sanitizers.
 */
#define HARNESS_NAME "clustered"
#include "tests/harness.h"
#include "inc/error.h"
#include "kern/mm/pt/clustered.h"

/* A value below n (n > 0). */
static uint64_t
below(uint64_t n)
{
	return rnd() % n;
}

#define WINDOW		(2ULL << 30)
#define NPAGES		(WINDOW >> 12)
#define BASE		0x00007f4000000000ULL	/* 1 GiB aligned */
#define P		1ULL
#define FRAME_BASE	0x0000004000000000ULL	/* where "contiguous" frames start */

/* The reference: per page, its PTE (0: unmapped), the size and first page of its mapping. */
static uint64_t ref_pte[NPAGES];
static uint8_t ref_size[NPAGES];		/* 0: unmapped, else 1 + enum page_size */
static uint32_t ref_head[NPAGES];
static uint32_t cnt2m[WINDOW >> 21], cnt1g[WINDOW >> 30];	/* pages mapped per 2 MiB / 1 GiB */
static uint64_t ref_pages;

/* The allocator: every byte counted, one allocation in fail_every failing. */
static uint64_t held, fail_every, allocs;

static void *
t_alloc(void *ctx, size_t bytes)
{
	(void)ctx;
	if (fail_every && ++allocs % fail_every == 0)
		return NULL;
	held += bytes;
	return xcalloc(1, bytes);
}

static void
t_free(void *ctx, void *p, size_t bytes)
{
	(void)ctx;
	CHECK(held >= bytes, "free of %zu bytes with %lu held", bytes, (unsigned long)held);
	held -= bytes;
	free(p);
}

static const uint64_t flag_set[] = { P | 2 | 4, P | 4, P | 4 | (1ULL << 63), P | 2 | 4 | 0x20 | 0x40 };

static void
ref_set(uint64_t page, uint64_t npages, uint64_t pte, enum page_size size)
{
	for (uint64_t i = 0; i < npages; i++) {
		ref_pte[page + i] = pte ? (size == PS_4K ? pte : pte) : 0;
		ref_size[page + i] = pte ? (uint8_t)(1 + size) : 0;
		ref_head[page + i] = (uint32_t)page;
		if (pte) {
			cnt2m[(page + i) >> 9]++;
			cnt1g[(page + i) >> 18]++;
		} else {
			cnt2m[(page + i) >> 9]--;
			cnt1g[(page + i) >> 18]--;
		}
	}
	ref_pages = pte ? ref_pages + npages : ref_pages - npages;
}

/* What the reference says cpt_lookup must return for page. */
static void
check_lookup(struct cpt *t, uint64_t page)
{
	uint64_t pte = 0;
	enum page_size size = PS_4K;
	unsigned refs = 0;
	bool found = cpt_lookup(t, BASE + (page << 12), &pte, &size, &refs);
	CHECK(found == (ref_size[page] != 0), "lookup of page 0x%lx: found %d", (unsigned long)page, found);
	CHECK(refs >= 1, "lookup of page 0x%lx: %u references", (unsigned long)page, refs);
	if (!found)
		return;
	CHECK(size == (enum page_size)(ref_size[page] - 1) && pte == ref_pte[page],
	      "lookup of page 0x%lx: pte 0x%lx size %d, reference 0x%lx size %d", (unsigned long)page,
	      (unsigned long)pte, size, (unsigned long)ref_pte[page], ref_size[page] - 1);
}

static void
op_map(struct cpt *t)
{
	unsigned kind = (unsigned)below(1000);
	enum page_size size = kind < 940 ? PS_4K : kind < 998 ? PS_2M : PS_1G;
	uint64_t npages = PS_PAGES(size);
	uint64_t page = below(NPAGES) & ~(npages - 1);
	uint64_t frame = below(4) ? FRAME_BASE + (page << 12) : (below(1ULL << 26) << 12) & ~(PS_SIZE(size) - 1);
	uint64_t pte = frame | flag_set[below(4)] | (size != PS_4K ? 0x80 : 0);
	bool overlap = size == PS_4K ? ref_size[page] != 0 : size == PS_2M ? cnt2m[page >> 9] != 0 :
									     cnt1g[page >> 18] != 0;
	uint64_t before = held;
	int r = cpt_map(t, BASE + (page << 12), pte, size);
	if (overlap) {
		CHECK(r == -E_EXISTS, "map of size %d at page 0x%lx over a mapping: %d", size, (unsigned long)page, r);
	} else if (r == -E_NO_MEM) {
		CHECK(held == before, "a failed map kept %lu bytes", (unsigned long)(held - before));
	} else {
		CHECK(r == 0, "map of size %d at page 0x%lx: %d", size, (unsigned long)page, r);
		ref_set(page, npages, pte, size);
	}
	check_lookup(t, page);
}

static void
op_unmap(struct cpt *t)
{
	uint64_t page = below(NPAGES);
	if (!ref_size[page] || below(8) == 0) {		/* nothing there, or a wrong size */
		enum page_size wrong = ref_size[page] ? (enum page_size)((ref_size[page]) % 3) : (enum page_size)below(3);
		uint64_t at = page & ~(PS_PAGES(wrong) - 1);
		int r = cpt_unmap(t, BASE + (at << 12), wrong);
		CHECK(r == -E_NOT_FOUND, "unmap of size %d at page 0x%lx (mapped with %d): %d", wrong,
		      (unsigned long)at, ref_size[page] - 1, r);
		return;
	}
	enum page_size size = (enum page_size)(ref_size[page] - 1);
	uint64_t head = ref_head[page];
	CHECK(cpt_unmap(t, BASE + (head << 12), size) == 0, "unmap of size %d at page 0x%lx", size, (unsigned long)head);
	ref_set(head, PS_PAGES(size), 0, size);
	check_lookup(t, page);
}

static void
op_protect(struct cpt *t)
{
	uint64_t page = below(NPAGES);
	uint64_t flags = flag_set[below(4)];
	if (!ref_size[page]) {
		CHECK(cpt_protect(t, BASE + (page << 12), PS_4K, flags) == -E_NOT_FOUND, "protect of an unmapped page");
		return;
	}
	enum page_size size = (enum page_size)(ref_size[page] - 1);
	uint64_t head = ref_head[page];
	int r = cpt_protect(t, BASE + (head << 12), size, flags);
	if (r == -E_NO_MEM)
		return;
	CHECK(r == 0, "protect of size %d at page 0x%lx: %d", size, (unsigned long)head, r);
	uint64_t pte = (ref_pte[head] & CPT_ADDR_MASK) | flags;
	for (uint64_t i = 0; i < PS_PAGES(size); i++)
		ref_pte[head + i] = pte;
	check_lookup(t, page);
}

static void
sweep(struct cpt *t)
{
	uint64_t first = below(NPAGES) & ~511ULL;
	for (uint64_t i = 0; i < 512; i++)
		check_lookup(t, first + i);
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
	memset(ref_pte, 0, sizeof ref_pte);
	memset(ref_size, 0, sizeof ref_size);
	memset(cnt2m, 0, sizeof cnt2m);
	memset(cnt1g, 0, sizeof cnt1g);
	ref_pages = 0;
	fail_every = 0;
	CHECK(cpt_init(&t, f, log2_buckets, &mem) == 0, "init F %u", f);
	fail_every = 40;
	for (uint64_t n = 0; n < ops; n++) {
		unsigned op = (unsigned)below(100);
		if (op < 45)
			op_map(&t);
		else if (op < 70)
			op_unmap(&t);
		else if (op < 78)
			op_protect(&t);
		else
			check_lookup(&t, below(NPAGES));
		if (n % 4096 == 0)
			sweep(&t);
	}
	sweep(&t);
	struct cpt_stats s;
	cpt_stats(&t, &s);
	printf("clustered: F %2u, 2^%-2u buckets: %lu pages in %lu full + %lu partial + %lu superpage nodes, %lu bytes "
	       "(%.1f per page), longest chain %u\n", f, log2_buckets, (unsigned long)s.pages,
	       (unsigned long)s.nodes_full, (unsigned long)s.nodes_partial, (unsigned long)s.nodes_super,
	       (unsigned long)s.bytes, s.pages ? (double)s.bytes / (double)s.pages : 0.0, s.longest_chain);
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
