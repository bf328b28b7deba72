/*
 * The reference map and the operation generator that the page-table design tests share
 * (tests/test_clustered.c, tests/test_guarded.c; host-only, after tests/harness.h).
 *
 * The reference holds one entry per 4 KiB page of two 1 GiB windows (the test picks
 * where: adjacent, or far apart so that a trie's guards span most of the key), with the
 * pages mapped per 2 MiB and per 1 GiB to predict overlaps.  The allocator counts every
 * byte and fails one allocation in fail_every.  A run alternates growing and shrinking
 * phases of 8192 random operations (so the space empties now and then and 2 MiB and
 * 1 GiB pages find room): map (4 KiB with physically contiguous frames, or scattered
 * ones; 2 MiB; 1 GiB), unmap (right and wrong sizes; unmaps look for a mapped page),
 * protect and lookup, half of them in a few hot 4 MiB spots so that dense blocks and
 * nodes form and break; after each, the design must agree with the reference on the
 * result code and, for lookups, on the PTE and the page size.  Every 4096 operations
 * every page of a random 2 MiB is looked up and the design's own check runs (its page
 * and byte counts against the reference and the allocator).  At the end every mapping
 * is unmapped and the design must hold nothing but what its check allows.
 */
#ifndef SPOS_TESTS_PTREF_H
#define SPOS_TESTS_PTREF_H

#include <stdbool.h>
#include <stdint.h>
#include "inc/error.h"
#include "kern/mm/lib/pagesize.h"

#define PTREF_WINDOW	(1ULL << 30)			/* each of the two */
#define PTREF_NPAGES	(2 * (PTREF_WINDOW >> 12))
#define PTREF_P		1ULL
#define PTREF_FRAME_BASE 0x0000004000000000ULL		/* where "contiguous" frames start */
#define PTREF_ADDR_MASK	0x0007FFFFFFFFF000ULL

/* One design under test: its table and its operations, as clustered.h and guarded.h have them. */
struct ptref_ops {
	void *t;
	int (*map)(void *t, uint64_t va, uint64_t pte, enum page_size size);
	int (*unmap)(void *t, uint64_t va, enum page_size size);
	int (*protect)(void *t, uint64_t va, enum page_size size, uint64_t flags);
	bool (*lookup)(const void *t, uint64_t va, uint64_t *pte, enum page_size *size, unsigned *refs);
	void (*check)(void *t);		/* the design's invariants, page and byte counts */
	bool protect_may_fail;		/* protect may return -E_NO_MEM */
	void (*foreach)(void *t, uint64_t start, uint64_t end,
			void (*fn)(void *arg, uint64_t va, uint64_t pte, enum page_size size), void *arg);
};

static uint64_t ptref_window[2];			/* 1 GiB aligned, set by the test */
static uint64_t ref_pte[PTREF_NPAGES];
static uint8_t ref_size[PTREF_NPAGES];			/* 0: unmapped, else 1 + enum page_size */
static uint32_t ref_head[PTREF_NPAGES];			/* first page of the mapping */
static uint32_t cnt2m[PTREF_NPAGES >> 9], cnt1g[PTREF_NPAGES >> 18];
static uint64_t ref_pages;
static uint64_t hot[8];					/* first pages of the hot 4 MiB spots */
static uint64_t mapped[PS_NSIZES];			/* successful maps per size */

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

/* A value below n (n > 0). */
static uint64_t
below(uint64_t n)
{
	return rnd() % n;
}

/* The virtual address of reference page `page`. */
static uint64_t
va_of(uint64_t page)
{
	return ptref_window[page >> 18] + ((page & ((1ULL << 18) - 1)) << 12);
}

/* The reference page at va, or PTREF_NPAGES if va lies in neither window. */
static uint64_t
page_of(uint64_t va)
{
	for (uint64_t w = 0; w < 2; w++)
		if (va >= ptref_window[w] && va - ptref_window[w] < PTREF_WINDOW)
			return (w << 18) + ((va - ptref_window[w]) >> 12);
	return PTREF_NPAGES;
}

static const uint64_t flag_set[] = {
	PTREF_P | 2 | 4, PTREF_P | 4, PTREF_P | 4 | (1ULL << 63), PTREF_P | 2 | 4 | 0x20 | 0x40,
};

/* A page to operate on: in a hot spot half of the time. */
static uint64_t
pick(void)
{
	if (below(2))
		return hot[below(8)] + below(1024);
	return below(PTREF_NPAGES);
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

/* What the reference says the lookup of (a random byte of) page must return. */
static void
check_lookup(struct ptref_ops *o, uint64_t page)
{
	uint64_t pte = 0;
	enum page_size size = PS_4K;
	unsigned refs = 0;
	bool found = o->lookup(o->t, va_of(page) + below(4096), &pte, &size, &refs);
	CHECK(found == (ref_size[page] != 0), "lookup of page 0x%lx: found %d", (unsigned long)page, found);
	CHECK(refs >= 1, "lookup of page 0x%lx: %u references", (unsigned long)page, refs);
	if (!found)
		return;
	CHECK(size == (enum page_size)(ref_size[page] - 1) && pte == ref_pte[page],
	      "lookup of page 0x%lx: pte 0x%lx size %d, reference 0x%lx size %d", (unsigned long)page,
	      (unsigned long)pte, size, (unsigned long)ref_pte[page], ref_size[page] - 1);
}

static void
op_map(struct ptref_ops *o)
{
	unsigned kind = (unsigned)below(1000);
	enum page_size size = kind < 930 ? PS_4K : kind < 990 ? PS_2M : PS_1G;
	uint64_t npages = PS_PAGES(size);
	uint64_t page = pick() & ~(npages - 1);
	uint64_t frame = below(4) ? PTREF_FRAME_BASE + (page << 12) : (below(1ULL << 26) << 12) & ~(PS_SIZE(size) - 1);
	uint64_t pte = frame | flag_set[below(4)] | (size != PS_4K ? 0x80 : 0);
	bool overlap = size == PS_4K ? ref_size[page] != 0 : size == PS_2M ? cnt2m[page >> 9] != 0 :
									     cnt1g[page >> 18] != 0;
	uint64_t before = held;
	int r = o->map(o->t, va_of(page), pte, size);
	if (overlap) {
		CHECK(r == -E_EXISTS, "map of size %d at page 0x%lx over a mapping: %d", size, (unsigned long)page, r);
	} else if (r == -E_NO_MEM) {
		CHECK(held == before, "a failed map kept %lu bytes", (unsigned long)(held - before));
	} else {
		CHECK(r == 0, "map of size %d at page 0x%lx: %d", size, (unsigned long)page, r);
		ref_set(page, npages, pte, size);
		mapped[size]++;
	}
	check_lookup(o, page);
}

static void
op_unmap(struct ptref_ops *o)
{
	uint64_t page = pick();
	for (unsigned i = below(64) ? 0 : 1U << 16; i < 1U << 16 && !ref_size[page]; i++)	/* look for a mapping */
		page = (page + 1) % PTREF_NPAGES;
	if (!ref_size[page] || below(8) == 0) {		/* nothing there, or a wrong size */
		enum page_size wrong = ref_size[page] ? (enum page_size)(ref_size[page] % 3) : (enum page_size)below(3);
		uint64_t at = page & ~(PS_PAGES(wrong) - 1);
		int r = o->unmap(o->t, va_of(at), wrong);
		CHECK(r == -E_NOT_FOUND, "unmap of size %d at page 0x%lx (mapped with %d): %d", wrong,
		      (unsigned long)at, ref_size[page] - 1, r);
		return;
	}
	enum page_size size = (enum page_size)(ref_size[page] - 1);
	uint64_t head = ref_head[page];
	CHECK(o->unmap(o->t, va_of(head), size) == 0, "unmap of size %d at page 0x%lx", size, (unsigned long)head);
	ref_set(head, PS_PAGES(size), 0, size);
	check_lookup(o, page);
}

static void
op_protect(struct ptref_ops *o)
{
	uint64_t page = pick();
	uint64_t flags = flag_set[below(4)];
	if (!ref_size[page]) {
		CHECK(o->protect(o->t, va_of(page), PS_4K, flags) == -E_NOT_FOUND, "protect of an unmapped page");
		return;
	}
	enum page_size size = (enum page_size)(ref_size[page] - 1);
	uint64_t head = ref_head[page];
	int r = o->protect(o->t, va_of(head), size, flags);
	if (r == -E_NO_MEM && o->protect_may_fail)
		return;
	CHECK(r == 0, "protect of size %d at page 0x%lx: %d", size, (unsigned long)head, r);
	uint64_t pte = (ref_pte[head] & PTREF_ADDR_MASK) | flags;
	for (uint64_t i = 0; i < PS_PAGES(size); i++)
		ref_pte[head + i] = pte;
	check_lookup(o, page);
}

/* What a foreach over a range saw: pages inside it, and leaves not as the reference has them. */
struct seen {
	uint64_t start, end, pages, wrong;
};

static void
saw_leaf(void *arg, uint64_t va, uint64_t pte, enum page_size size)
{
	struct seen *s = arg;
	uint64_t page = page_of(va);
	if (page >= PTREF_NPAGES || ref_size[page] != 1 + size || ref_head[page] != page ||
	    ref_pte[page] != pte || va + PS_SIZE(size) <= s->start || va >= s->end)
		s->wrong++;
	for (uint64_t i = 0; i < PS_PAGES(size); i++)
		s->pages += va + i * 4096 >= s->start && va + i * 4096 < s->end;
}

/* The design's foreach over [first, first + n) pages visits exactly what the reference maps. */
static void
check_foreach(struct ptref_ops *o, uint64_t first, uint64_t n)
{
	struct seen s = { va_of(first), va_of(first) + n * 4096, 0, 0 };
	uint64_t want = 0;
	for (uint64_t i = 0; i < n; i++)
		want += ref_size[first + i] != 0;
	o->foreach(o->t, s.start, s.end, saw_leaf, &s);
	CHECK(s.wrong == 0 && s.pages == want, "foreach [0x%lx, +%lu pages): %lu pages seen, %lu mapped, %lu wrong",
	      (unsigned long)s.start, (unsigned long)n, (unsigned long)s.pages, (unsigned long)want,
	      (unsigned long)s.wrong);
}

static void
sweep(struct ptref_ops *o)
{
	uint64_t first = pick() & ~511ULL;
	for (uint64_t i = 0; i < 512; i++)
		check_lookup(o, first + i);
	if (o->foreach) {
		uint64_t a = pick(), b = pick();
		if ((a >> 18) != (b >> 18))	/* one window: its pages are contiguous */
			b = (a | ((1ULL << 18) - 1));
		check_foreach(o, first, 512);
		check_foreach(o, a < b ? a : b, (a < b ? b - a : a - b) + 1);
		check_foreach(o, (a >> 18) << 18, 1ULL << 18);
	}
	o->check(o->t);
}

/* Start a run on an empty design (initialised with the allocator above). */
static void
ptref_start(void)
{
	memset(ref_pte, 0, sizeof ref_pte);
	memset(ref_size, 0, sizeof ref_size);
	memset(cnt2m, 0, sizeof cnt2m);
	memset(cnt1g, 0, sizeof cnt1g);
	memset(mapped, 0, sizeof mapped);
	ref_pages = 0;
	for (unsigned i = 0; i < 8; i++)
		hot[i] = below(PTREF_NPAGES - 1024) & ~1023ULL;
}

/* ops random operations with one allocation in 40 failing, then a final sweep. */
static void
ptref_run(struct ptref_ops *o, uint64_t ops)
{
	fail_every = 40;
	for (uint64_t n = 0; n < ops; n++) {
		unsigned op = (unsigned)below(100), grow = (n >> 13) % 2 ? 15 : 50;
		if (op < grow)
			op_map(o);
		else if (op < 75)
			op_unmap(o);
		else if (op < 83)
			op_protect(o);
		else
			check_lookup(o, pick());
		if (n % 4096 == 0)
			sweep(o);
	}
	sweep(o);
}

/* Unmap every mapping the reference holds, allocations succeeding. */
static void
ptref_drain(struct ptref_ops *o)
{
	fail_every = 0;
	for (uint64_t page = 0; page < PTREF_NPAGES; page++)
		if (ref_size[page] && ref_head[page] == page) {
			enum page_size size = (enum page_size)(ref_size[page] - 1);
			CHECK(o->unmap(o->t, va_of(page), size) == 0, "drain: unmap of page 0x%lx", (unsigned long)page);
			ref_set(page, PS_PAGES(size), 0, size);
		}
	o->check(o->t);
}

#endif
