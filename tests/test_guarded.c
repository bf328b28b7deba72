/*
 * Host unit test of the guarded page table (kern/mm/pt/guarded.c): differential
 * fuzzing against a reference map, as tests/test_clustered.c does for the clustered
 * table.  The reference holds one entry per 4 KiB page of two 1 GiB windows far apart
 * (one at the top of the user half, one in the canonical upper half, so guards span
 * most of the key and the sign extension is exercised), for strides 1 (a binary trie),
 * 3, 4 and 9 (x86's levels).  Half of the pages touched fall in a few hot 4 MiB spots,
 * so dense nodes form, fill and collapse; the rest anywhere.  The run alternates
 * growing and shrinking phases of 8192 operations (unmaps look for a mapped page), so
 * the space empties now and then and 2 MiB and 1 GiB pages find room.  Random map
 * (4 KiB, 2 MiB, 1 GiB), unmap (right and wrong sizes), protect and lookup operations,
 * with one allocation in 40 failing (a failed map must leave the bytes held unchanged
 * and the lookups as they were); after each, the table must agree with the reference
 * on the result code and, for lookups, on the PTE and page size; periodically every
 * page of a random 2 MiB is looked up, gpt_check verifies the counts and the structure,
 * and the page count and the bytes the allocator holds are compared; at the end the
 * table is emptied and must hold no node, and destroy must give back every byte.
 * test_guarded [OPS_PER_STRIDE]: 60,000 by default (make test, about 2.5 s with the
 * sanitizers); the longer run, 250,000 (10^6 in all), takes about 15 s.
 */
#define HARNESS_NAME "guarded"
#include "tests/harness.h"
#include "inc/error.h"
#include "kern/mm/pt/guarded.h"

/* A value below n (n > 0). */
static uint64_t
below(uint64_t n)
{
	return rnd() % n;
}

#define WINDOW		(1ULL << 30)		/* each of the two */
#define NPAGES		(2 * (WINDOW >> 12))
#define P		1ULL
#define FRAME_BASE	0x0000004000000000ULL

static const uint64_t window_base[2] = { 0x00007fc000000000ULL, 0xffff804040000000ULL };

/* The virtual address of reference page `page`. */
static uint64_t
va_of(uint64_t page)
{
	return window_base[page >> 18] + ((page & ((1ULL << 18) - 1)) << 12);
}

/* The reference: per page, its PTE, the size and first page of its mapping. */
static uint64_t ref_pte[NPAGES];
static uint8_t ref_size[NPAGES];		/* 0: unmapped, else 1 + enum page_size */
static uint32_t ref_head[NPAGES];
static uint32_t cnt2m[NPAGES >> 9], cnt1g[NPAGES >> 18];	/* pages mapped per 2 MiB / 1 GiB */
static uint64_t ref_pages;
static uint64_t hot[8];				/* first pages of the hot 4 MiB spots */
static uint64_t mapped[PS_NSIZES], collapsed;	/* successful maps per size; unmaps that collapsed */

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

/* A page to operate on: in a hot spot half of the time. */
static uint64_t
pick(void)
{
	if (below(2))
		return hot[below(8)] + below(1024);
	return below(NPAGES);
}

static void
ref_set(uint64_t page, uint64_t npages, uint64_t pte, enum page_size size)
{
	for (uint64_t i = 0; i < npages; i++) {
		ref_pte[page + i] = pte;
		ref_size[page + i] = pte ? (uint8_t)(1 + size) : 0;
		ref_head[page + i] = (uint32_t)page;
		cnt2m[(page + i) >> 9] += pte ? 1 : -1;
		cnt1g[(page + i) >> 18] += pte ? 1 : -1;
	}
	ref_pages = pte ? ref_pages + npages : ref_pages - npages;
}

/* What the reference says gpt_lookup must return for page. */
static void
check_lookup(struct gpt *t, uint64_t page)
{
	uint64_t pte = 0;
	enum page_size size = PS_4K;
	unsigned refs = 0;
	bool found = gpt_lookup(t, va_of(page) + below(4096), &pte, &size, &refs);
	CHECK(found == (ref_size[page] != 0), "lookup of page 0x%lx: found %d", (unsigned long)page, found);
	CHECK(refs >= 1 && refs <= GPT_KEY_BITS + 1, "lookup of page 0x%lx: %u references", (unsigned long)page, refs);
	if (!found)
		return;
	CHECK(size == (enum page_size)(ref_size[page] - 1) && pte == ref_pte[page],
	      "lookup of page 0x%lx: pte 0x%lx size %d, reference 0x%lx size %d", (unsigned long)page,
	      (unsigned long)pte, size, (unsigned long)ref_pte[page], ref_size[page] - 1);
}

static void
op_map(struct gpt *t)
{
	unsigned kind = (unsigned)below(1000);
	enum page_size size = kind < 930 ? PS_4K : kind < 990 ? PS_2M : PS_1G;
	uint64_t npages = PS_PAGES(size);
	uint64_t page = pick() & ~(npages - 1);
	uint64_t frame = below(4) ? FRAME_BASE + (page << 12) : (below(1ULL << 26) << 12) & ~(PS_SIZE(size) - 1);
	uint64_t pte = frame | flag_set[below(4)] | (size != PS_4K ? 0x80 : 0);
	bool overlap = size == PS_4K ? ref_size[page] != 0 : size == PS_2M ? cnt2m[page >> 9] != 0 :
									     cnt1g[page >> 18] != 0;
	uint64_t before = held;
	int r = gpt_map(t, va_of(page), pte, size);
	if (overlap) {
		CHECK(r == -E_EXISTS, "map of size %d at page 0x%lx over a mapping: %d", size, (unsigned long)page, r);
	} else if (r == -E_NO_MEM) {
		CHECK(held == before, "a failed map kept %lu bytes", (unsigned long)(held - before));
	} else {
		CHECK(r == 0, "map of size %d at page 0x%lx: %d", size, (unsigned long)page, r);
		ref_set(page, npages, pte, size);
		mapped[size]++;
	}
	check_lookup(t, page);
}

static void
op_unmap(struct gpt *t)
{
	uint64_t page = pick();
	for (unsigned i = below(64) ? 0 : 1U << 16; i < 1U << 16 && !ref_size[page]; i++)	/* look for a mapping */
		page = (page + 1) % NPAGES;
	if (!ref_size[page] || below(8) == 0) {		/* nothing there, or a wrong size */
		enum page_size wrong = ref_size[page] ? (enum page_size)(ref_size[page] % 3) : (enum page_size)below(3);
		uint64_t at = page & ~(PS_PAGES(wrong) - 1);
		int r = gpt_unmap(t, va_of(at), wrong);
		CHECK(r == -E_NOT_FOUND, "unmap of size %d at page 0x%lx (mapped with %d): %d", wrong,
		      (unsigned long)at, ref_size[page] - 1, r);
		return;
	}
	enum page_size size = (enum page_size)(ref_size[page] - 1);
	uint64_t head = ref_head[page];
	uint64_t before = held;
	CHECK(gpt_unmap(t, va_of(head), size) == 0, "unmap of size %d at page 0x%lx", size, (unsigned long)head);
	collapsed += held < before;
	ref_set(head, PS_PAGES(size), 0, size);
	check_lookup(t, page);
}

static void
op_protect(struct gpt *t)
{
	uint64_t page = pick();
	uint64_t flags = flag_set[below(4)];
	if (!ref_size[page]) {
		CHECK(gpt_protect(t, va_of(page), PS_4K, flags) == -E_NOT_FOUND, "protect of an unmapped page");
		return;
	}
	enum page_size size = (enum page_size)(ref_size[page] - 1);
	uint64_t head = ref_head[page];
	CHECK(gpt_protect(t, va_of(head), size, flags) == 0, "protect of size %d at page 0x%lx", size, (unsigned long)head);
	uint64_t pte = (ref_pte[head] & GPT_ADDR_MASK) | flags;
	for (uint64_t i = 0; i < PS_PAGES(size); i++)
		ref_pte[head + i] = pte;
	check_lookup(t, page);
}

static void
sweep(struct gpt *t)
{
	uint64_t first = pick() & ~511ULL;
	for (uint64_t i = 0; i < 512; i++)
		check_lookup(t, first + i);
	struct gpt_stats s;
	gpt_stats(t, &s);
	CHECK(gpt_check(t), "the table's invariants are broken");
	CHECK(s.pages == ref_pages, "stats: %lu pages, reference %lu", (unsigned long)s.pages, (unsigned long)ref_pages);
	CHECK(s.bytes == held, "stats: %lu bytes, the allocator holds %lu", (unsigned long)s.bytes, (unsigned long)held);
}

/* Unmap everything the reference holds: the table must end with no node at all. */
static void
drain(struct gpt *t)
{
	fail_every = 0;
	for (uint64_t page = 0; page < NPAGES; page++)
		if (ref_size[page] && ref_head[page] == page) {
			enum page_size size = (enum page_size)(ref_size[page] - 1);
			CHECK(gpt_unmap(t, va_of(page), size) == 0, "drain: unmap of page 0x%lx", (unsigned long)page);
			ref_set(page, PS_PAGES(size), 0, size);
		}
	struct gpt_stats s;
	gpt_stats(t, &s);
	CHECK(gpt_check(t) && s.nodes == 0 && held == 0 && t->root.type == GPT_INVALID,
	      "emptied table keeps %lu nodes, %lu bytes", (unsigned long)s.nodes, (unsigned long)held);
}

static void
run(unsigned stride, uint64_t ops)
{
	struct gpt t;
	struct gpt_alloc mem = { t_alloc, t_free, NULL };
	memset(ref_pte, 0, sizeof ref_pte);
	memset(ref_size, 0, sizeof ref_size);
	memset(cnt2m, 0, sizeof cnt2m);
	memset(cnt1g, 0, sizeof cnt1g);
	ref_pages = 0;
	memset(mapped, 0, sizeof mapped);
	collapsed = 0;
	for (unsigned i = 0; i < 8; i++)
		hot[i] = below(NPAGES - 1024) & ~1023ULL;
	fail_every = 0;
	CHECK(gpt_init(&t, stride, &mem) == 0, "init stride %u", stride);
	fail_every = 40;
	for (uint64_t n = 0; n < ops; n++) {
		unsigned op = (unsigned)below(100), grow = (n >> 13) % 2 ? 15 : 50;
		if (op < grow)
			op_map(&t);
		else if (op < 75)
			op_unmap(&t);
		else if (op < 83)
			op_protect(&t);
		else
			check_lookup(&t, pick());
		if (n % 4096 == 0)
			sweep(&t);
	}
	sweep(&t);
	struct gpt_stats s;
	gpt_stats(&t, &s);
	printf("guarded: stride %u: mapped %lu/%lu/%lu pages of 4K/2M/1G, %lu unmaps collapsed; now %lu pages in "
	       "%lu leaves, %lu nodes (%lu bottom), %lu bytes (%.1f per page), depth max %u avg %.2f\n", stride,
	       (unsigned long)mapped[PS_4K], (unsigned long)mapped[PS_2M], (unsigned long)mapped[PS_1G],
	       (unsigned long)collapsed, (unsigned long)s.pages, (unsigned long)s.leaves,
	       (unsigned long)s.nodes, (unsigned long)s.bottom_nodes, (unsigned long)s.bytes,
	       s.pages ? (double)s.bytes / (double)s.pages : 0.0, s.depth_max, s.depth_avg);
	drain(&t);
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
