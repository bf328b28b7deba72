/*
 * Host unit test for the buddy allocator (kern/mm/lib/buddy.c), built with -DHOSTTEST and
 * sanitizers.
 *
 * An arena is a page array plus a reference model with one byte per page: M_NONE (never
 * given to the allocator: reserved or a hole), M_FREE or M_USED.  Random alloc/free
 * sequences from a fixed-seed xorshift64* generator run against it.  Every allocation
 * must be aligned and lie on free model pages only; every 1000 steps, and after each
 * add and free-everything, check_structure verifies the free lists in full: they must be
 * exactly the canonical buddy decomposition of the free pages (their maximal naturally
 * aligned blocks), which is the state after the adds again once everything is freed.
 * Misuse must trip a KASSERT (abort), which runs in fork()ed children.
 *
 * Prints one line per test group, then "buddy: N checks passed"; exits 0.  On the first
 * failure prints "buddy: FAIL <what>" and exits 1.
 */
#define HARNESS_NAME "buddy"
#include "tests/harness.h"

#include "kern/mm/lib/buddy.h"

#define BLOCK(order)	((uint64_t)1 << (order))

enum { M_NONE, M_FREE, M_USED };

struct range {			/* pages [pfn, pfn+count) */
	uint64_t pfn, count;
};

struct alloc {			/* a live allocation: buddy_alloc(order) returned pfn */
	uint64_t pfn;
	unsigned order;
};

struct arena {
	struct buddy b;
	struct page *pages;
	uint64_t npages;
	uint8_t *model;			/* M_* per page */
	uint8_t *seen;			/* scratch for check_structure */
	struct alloc *live;		/* allocations not yet freed */
	uint64_t nlive;
	uint64_t model_free;		/* pages with M_FREE */
	uint64_t nfree0[BUDDY_ORDERS];	/* b.nfree right after the adds */
};

/*
 * Set up arena a with npages pages: mark the reserved ranges PG_RESERVED, then add the
 * added ranges in order (both lists end with a zero count; either may be NULL).
 */
static void
arena_make(struct arena *a, uint64_t npages, const struct range *reserved,
    const struct range *added)
{
	memset(a, 0, sizeof(*a));
	a->npages = npages;
	a->pages = xcalloc(npages, sizeof(struct page));
	a->model = xcalloc(npages, 1);
	a->seen = xcalloc(npages, 1);
	a->live = xcalloc(npages, sizeof(struct alloc));
	for (; reserved != NULL && reserved->count != 0; reserved++)
		for (uint64_t p = reserved->pfn; p < reserved->pfn + reserved->count; p++)
			a->pages[p].flags |= PG_RESERVED;
	buddy_init(&a->b, a->pages, npages);
	for (; added != NULL && added->count != 0; added++) {
		buddy_add_range(&a->b, added->pfn, added->count);
		for (uint64_t p = added->pfn; p < added->pfn + added->count; p++)
			a->model[p] = M_FREE;
		a->model_free += added->count;
	}
	memcpy(a->nfree0, a->b.nfree, sizeof(a->nfree0));
}

/* Release a's host memory. */
static void
arena_free(struct arena *a)
{
	free(a->pages);
	free(a->model);
	free(a->seen);
	free(a->live);
}

/*
 * Fill nfree[] with the canonical buddy decomposition of the model's free pages:
 * each maximal run of free pages split greedily into maximal aligned blocks.
 */
static void
reference_nfree(const struct arena *a, uint64_t nfree[BUDDY_ORDERS])
{
	uint64_t p = 0;

	memset(nfree, 0, BUDDY_ORDERS * sizeof(nfree[0]));
	while (p < a->npages) {
		uint64_t end;

		if (a->model[p] != M_FREE) {
			p++;
			continue;
		}
		for (end = p; end < a->npages && a->model[end] == M_FREE; end++)
			;
		while (p < end) {
			unsigned k = BUDDY_MAX_ORDER;

			while (BLOCK(k) > end - p || (p & (BLOCK(k) - 1)) != 0)
				k--;
			nfree[k]++;
			p += BLOCK(k);
		}
	}
}

/*
 * Check every allocator invariant against the model: list links and counts, each free
 * block aligned and on free model pages, disjoint, not mergeable with its buddy,
 * together covering exactly the free pages, and nfree[] equal to the reference.
 */
static void
check_structure(struct arena *a)
{
	struct buddy *b = &a->b;
	uint64_t total = 0, ref[BUDDY_ORDERS];

	memset(a->seen, 0, a->npages);
	for (unsigned k = 0; k < BUDDY_ORDERS; k++) {
		uint64_t n = 0;

		CHECK(b->free[k].next->prev == &b->free[k], "list %u head link", k);
		for (struct page *pg = b->free[k].next; pg != &b->free[k]; pg = pg->next) {
			uint64_t pfn;

			CHECK(n++ < b->nfree[k], "list %u longer than nfree %lu", k, b->nfree[k]);
			CHECK(pg >= a->pages && pg < a->pages + a->npages, "list %u entry outside", k);
			pfn = buddy_pfn(b, pg);
			CHECK(pg->next->prev == pg, "list %u link at pfn %lu", k, pfn);
			CHECK(pg->flags & PG_FREE, "free head %lu lacks PG_FREE", pfn);
			CHECK(pg->order == k, "free head %lu order %u on list %u", pfn, pg->order, k);
			CHECK((pfn & (BLOCK(k) - 1)) == 0, "free block %lu misaligned for %u", pfn, k);
			CHECK(pfn + BLOCK(k) <= a->npages, "free block %lu order %u past end", pfn, k);
			for (uint64_t p = pfn; p < pfn + BLOCK(k); p++) {
				CHECK(a->model[p] == M_FREE, "free block %lu holds non-free page %lu",
				    pfn, p);
				CHECK(a->seen[p] == 0, "page %lu in two free blocks", p);
				a->seen[p] = 1;
			}
			a->seen[pfn] = 2;
			if (k < BUDDY_MAX_ORDER && (pfn ^ BLOCK(k)) < a->npages) {
				const struct page *bp = &a->pages[pfn ^ BLOCK(k)];

				CHECK(!(bp->flags & PG_FREE) || bp->order != k,
				    "free buddies %lu and %lu at order %u not merged", pfn,
				    pfn ^ BLOCK(k), k);
			}
			total += BLOCK(k);
		}
		CHECK(n == b->nfree[k], "list %u has %lu blocks, nfree %lu", k, n, b->nfree[k]);
	}
	CHECK(total == b->free_pages, "free_pages %lu, lists hold %lu", b->free_pages, total);
	CHECK(total == a->model_free, "free_pages %lu, model %lu", total, a->model_free);
	for (uint64_t p = 0; p < a->npages; p++) {
		const struct page *pg = &a->pages[p];

		CHECK((a->model[p] == M_FREE) == (a->seen[p] != 0), "free page %lu not listed", p);
		CHECK(!(pg->flags & PG_FREE) || a->seen[p] == 2, "stray PG_FREE on %lu", p);
		CHECK(!(pg->flags & PG_RESERVED) || a->model[p] == M_NONE, "reserved %lu used", p);
		CHECK(pg->refcount == 0, "refcount of %lu touched", p);
	}
	reference_nfree(a, ref);
	for (unsigned k = 0; k < BUDDY_ORDERS; k++)
		CHECK(b->nfree[k] == ref[k], "nfree[%u] = %lu, reference %lu", k, b->nfree[k],
		    ref[k]);
}

/* Whether the model has a naturally aligned run of 2^order free pages. */
static int
model_has_block(const struct arena *a, unsigned order)
{
	for (uint64_t p = 0; p + BLOCK(order) <= a->npages; p += BLOCK(order)) {
		uint64_t i;

		for (i = 0; i < BLOCK(order) && a->model[p + i] == M_FREE; i++)
			;
		if (i == BLOCK(order))
			return 1;
	}
	return 0;
}

/*
 * buddy_alloc(order) and check the result against the model; record it as live.
 * NULL must mean no aligned free run exists (checked exactly on small arenas).
 */
static void
do_alloc(struct arena *a, unsigned order)
{
	uint64_t before = a->b.free_pages, pfn;
	struct page *pg = buddy_alloc(&a->b, order);

	if (order > BUDDY_MAX_ORDER) {
		CHECK(pg == NULL, "order %u > max allocated", order);
		CHECK(a->b.free_pages == before, "order %u > max changed state", order);
		return;
	}
	if (pg == NULL) {
		CHECK(a->b.free_pages == before, "failed alloc changed free_pages");
		for (unsigned k = order; k < BUDDY_ORDERS; k++)
			CHECK(a->b.nfree[k] == 0, "alloc(%u) NULL but nfree[%u] = %lu", order, k,
			    a->b.nfree[k]);
		if (a->npages <= 8192)
			CHECK(!model_has_block(a, order), "alloc(%u) NULL but a block is free",
			    order);
		return;
	}
	CHECK(pg >= a->pages && pg < a->pages + a->npages, "alloc(%u) outside array", order);
	pfn = buddy_pfn(&a->b, pg);
	CHECK((pfn & (BLOCK(order) - 1)) == 0, "alloc(%u) = %lu misaligned", order, pfn);
	CHECK(pfn + BLOCK(order) <= a->npages, "alloc(%u) = %lu past end", order, pfn);
	CHECK(!(pg->flags & PG_FREE), "alloc(%u) = %lu still PG_FREE", order, pfn);
	for (uint64_t p = pfn; p < pfn + BLOCK(order); p++) {
		CHECK(a->model[p] == M_FREE, "alloc(%u) = %lu hands out %s page %lu", order, pfn,
		    a->model[p] == M_USED ? "live" : "unmanaged", p);
		CHECK(!(a->pages[p].flags & PG_RESERVED), "alloc(%u) gave reserved %lu", order, p);
		a->model[p] = M_USED;
	}
	a->model_free -= BLOCK(order);
	CHECK(a->b.free_pages == before - BLOCK(order), "alloc(%u) free_pages off", order);
	a->live[a->nlive++] = (struct alloc){ pfn, order };
}

/* Free live allocation i and update the model. */
static void
do_free(struct arena *a, uint64_t i)
{
	struct alloc al = a->live[i];
	uint64_t before = a->b.free_pages;

	buddy_free(&a->b, &a->pages[al.pfn], al.order);
	for (uint64_t p = al.pfn; p < al.pfn + BLOCK(al.order); p++)
		a->model[p] = M_FREE;
	a->model_free += BLOCK(al.order);
	CHECK(a->b.free_pages == before + BLOCK(al.order), "free(%lu, %u) free_pages off",
	    al.pfn, al.order);
	a->live[i] = a->live[--a->nlive];
}

/* Free all live allocations in random order; the state must equal the one after the adds. */
static void
free_all(struct arena *a, const char *name)
{
	while (a->nlive > 0)
		do_free(a, rnd() % a->nlive);
	check_structure(a);
	for (unsigned k = 0; k < BUDDY_ORDERS; k++)
		CHECK(a->b.nfree[k] == a->nfree0[k], "%s: nfree[%u] = %lu after freeing all, "
		    "%lu initially", name, k, a->b.nfree[k], a->nfree0[k]);
}

/*
 * buddy_selfcheck must pass (or report EMPTY when nothing is free) and leave the
 * struct buddy, every page's flags and refcount, and every free head's links and order
 * exactly as they were.
 */
static void
selfcheck_unchanged(struct arena *a, const char *name)
{
	struct page *saved = xcalloc(a->npages, sizeof(struct page));
	struct buddy before;
	int r;

	memcpy(&before, &a->b, sizeof(before));
	memcpy(saved, a->pages, a->npages * sizeof(struct page));
	r = buddy_selfcheck(&a->b);
	CHECK(r == (before.free_pages ? 0 : BUDDY_SELFCHECK_EMPTY), "%s: selfcheck returned %d",
	    name, r);
	CHECK(memcmp(&before, &a->b, sizeof(before)) == 0, "%s: selfcheck changed struct buddy",
	    name);
	for (uint64_t p = 0; p < a->npages; p++) {
		const struct page *o = &saved[p], *n = &a->pages[p];

		CHECK(o->flags == n->flags && o->refcount == n->refcount,
		    "%s: selfcheck changed page %lu", name, p);
		if (o->flags & PG_FREE)
			CHECK(o->order == n->order && o->next == n->next && o->prev == n->prev,
			    "%s: selfcheck changed free head %lu", name, p);
	}
	free(saved);
	check_structure(a);
}

/* The allocator must have exactly want[k] free blocks of each order k. */
static void
expect_nfree(const struct arena *a, const char *what, const uint64_t want[BUDDY_ORDERS])
{
	for (unsigned k = 0; k < BUDDY_ORDERS; k++)
		CHECK(a->b.nfree[k] == want[k], "%s: nfree[%u] = %lu, want %lu", what, k,
		    a->b.nfree[k], want[k]);
}

/* qsort order for uint64_t. */
static int
cmp_u64(const void *x, const void *y)
{
	uint64_t u = *(const uint64_t *)x, v = *(const uint64_t *)y;

	return (u > v) - (u < v);
}

/* An empty allocator, and orders beyond BUDDY_MAX_ORDER. */
static void
test_interface(void)
{
	static const struct range some[] = { { 0, 64 }, { 0, 0 } };
	static const unsigned big[] = { BUDDY_MAX_ORDER + 1, 31, 32, 64, 1000, ~0u };
	struct arena a;

	arena_make(&a, 64, NULL, NULL);
	for (unsigned k = 0; k < BUDDY_ORDERS; k++)
		CHECK(a.b.free[k].next == &a.b.free[k] && a.b.free[k].prev == &a.b.free[k],
		    "init: list %u not empty", k);
	CHECK(a.b.free_pages == 0 && a.b.managed_pages == 0, "init: counts not zero");
	CHECK(buddy_alloc(&a.b, 0) == NULL, "empty allocator allocated");
	CHECK(buddy_alloc(&a.b, BUDDY_MAX_ORDER) == NULL, "empty allocator allocated max");
	CHECK(buddy_alloc(&a.b, BUDDY_MAX_ORDER + 1) == NULL, "empty allocator allocated max+1");
	CHECK(buddy_selfcheck(&a.b) == BUDDY_SELFCHECK_EMPTY, "selfcheck of empty allocator");
	buddy_add_range(&a.b, 10, 0);
	buddy_add_range(&a.b, 64, 0);
	CHECK(a.b.free_pages == 0 && a.b.managed_pages == 0, "empty add changed counts");
	arena_free(&a);

	arena_make(&a, 64, NULL, some);
	for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++)
		do_alloc(&a, big[i]);
	CHECK(buddy_pfn(&a.b, &a.pages[37]) == 37, "buddy_pfn");
	do_alloc(&a, 6);
	CHECK(a.live[0].pfn == 0 && a.b.free_pages == 0, "whole arena at order 6");
	do_alloc(&a, 0);
	free_all(&a, "interface");
	arena_free(&a);
	printf("buddy: interface OK\n");
}

/* buddy_add_range splits into maximal aligned blocks and coalesces separate adds. */
static void
test_add_range(void)
{
	static const struct range halves[] = { { 512, 512 }, { 0, 512 }, { 0, 0 } };
	static const struct range bits[] = { { 0, 3 }, { 7, 1017 }, { 3, 4 }, { 0, 0 } };
	static const struct range odd[] = { { 1, 1023 }, { 0, 0 } };
	static const struct range odd_end[] = { { 0, 1000 }, { 0, 0 } };
	static const struct range gib[] = { { 0, BLOCK(18) }, { 0, 0 } };
	static const struct range two_gib[] = { { 0, BLOCK(19) }, { 0, 0 } };
	struct range pieces[64];
	uint64_t cuts[64];
	struct arena a;
	int trial;

	arena_make(&a, 1024, NULL, halves);
	expect_nfree(&a, "halves", (const uint64_t[BUDDY_ORDERS]){ [10] = 1 });
	CHECK(a.b.managed_pages == 1024, "halves: managed_pages %lu", a.b.managed_pages);
	arena_free(&a);

	arena_make(&a, 1024, NULL, bits);
	expect_nfree(&a, "bits", (const uint64_t[BUDDY_ORDERS]){ [10] = 1 });
	arena_free(&a);

	arena_make(&a, 1024, NULL, odd);
	expect_nfree(&a, "odd start", (const uint64_t[BUDDY_ORDERS]){
	    1, 1, 1, 1, 1, 1, 1, 1, 1, 1 });
	check_structure(&a);
	arena_free(&a);

	arena_make(&a, 1000, NULL, odd_end);	/* 512 + 256 + 128 + 64 + 32 + 8 */
	expect_nfree(&a, "odd end", (const uint64_t[BUDDY_ORDERS]){
	    [9] = 1, [8] = 1, [7] = 1, [6] = 1, [5] = 1, [3] = 1 });
	arena_free(&a);

	arena_make(&a, BLOCK(18), NULL, gib);
	expect_nfree(&a, "1 GiB", (const uint64_t[BUDDY_ORDERS]){ [18] = 1 });
	arena_free(&a);

	arena_make(&a, BLOCK(19), NULL, two_gib);
	expect_nfree(&a, "2 GiB", (const uint64_t[BUDDY_ORDERS]){ [18] = 2 });
	check_structure(&a);
	arena_free(&a);

	/*
	 * [0, 4096) cut at random points, the pieces added in random order: every
	 * intermediate state is canonical and the end is one order-12 block.
	 */
	rng_seed(0xADD5EED);
	for (trial = 0; trial < 50; trial++) {
		int n = 1 + (int)(rnd() % 64), m = 0;
		uint64_t start = 0;

		for (int i = 0; i < n - 1; i++)
			cuts[i] = 1 + rnd() % 4095;
		cuts[n - 1] = 4096;
		qsort(cuts, (size_t)n, sizeof(cuts[0]), cmp_u64);
		for (int i = 0; i < n; i++) {
			if (cuts[i] > start)
				pieces[m++] = (struct range){ start, cuts[i] - start };
			start = cuts[i];
		}
		for (int i = m - 1; i > 0; i--) {
			int j = (int)(rnd() % (uint64_t)(i + 1));
			struct range t = pieces[i];

			pieces[i] = pieces[j];
			pieces[j] = t;
		}
		arena_make(&a, 4096, NULL, NULL);
		for (int i = 0; i < m; i++) {
			buddy_add_range(&a.b, pieces[i].pfn, pieces[i].count);
			memset(a.model + pieces[i].pfn, M_FREE, pieces[i].count);
			a.model_free += pieces[i].count;
			check_structure(&a);
		}
		expect_nfree(&a, "random pieces", (const uint64_t[BUDDY_ORDERS]){ [12] = 1 });
		CHECK(a.b.managed_pages == 4096, "pieces: managed_pages %lu", a.b.managed_pages);
		arena_free(&a);
	}
	printf("buddy: add-range OK (%d random splits)\n", trial);
}

/* A memory layout to run random sequences on. */
struct shape {
	const char *name;
	uint64_t npages;
	struct range reserved[3];	/* PG_RESERVED; ends at a zero count */
	struct range added[4];		/* added in this order; ends at a zero count */
	int ops;			/* random operations */
};

static const struct shape shapes[] = {
	{ .name = "holes", .npages = 1000,
	  .reserved = { { 0, 1 }, { 500, 21 } },
	  .added = { { 1, 299 }, { 310, 190 }, { 521, 479 } }, .ops = 20000 },
	{ .name = "odd-size", .npages = 4133,
	  .reserved = { { 1024, 3 }, { 4130, 3 } },
	  .added = { { 1027, 3103 }, { 0, 1024 } }, .ops = 20000 },
	{ .name = "tiny", .npages = 7, .added = { { 0, 7 } }, .ops = 3000 },
	{ .name = "1gib", .npages = BLOCK(18), .added = { { 0, BLOCK(18) } }, .ops = 10000 },
	{ .name = "1.5gib", .npages = 3 * BLOCK(17) + 5,
	  .reserved = { { 0, 16 } },
	  .added = { { BLOCK(17), 2 * BLOCK(17) + 5 }, { 16, BLOCK(17) - 16 } }, .ops = 10000 },
	{ .name = "2gib", .npages = BLOCK(19), .added = { { 0, BLOCK(19) } }, .ops = 4000 },
};
#define NSHAPES	(sizeof(shapes) / sizeof(shapes[0]))

/*
 * ops random operations on a: phases of 500 that mostly allocate (to exhaustion)
 * alternate with phases that mostly free; orders mostly small, a quarter of them up
 * to BUDDY_MAX_ORDER, a few beyond.  Then free everything.
 */
static void
run_random(struct arena *a, const char *name, int ops)
{
	uint64_t pct = 80;

	for (int i = 0; i < ops; i++) {
		uint64_t r = rnd(), s = r >> 8;

		if (i % 500 == 0)
			pct = (i / 500) % 2 ? 25 : 80;
		if (a->nlive == 0 || r % 100 < pct) {
			unsigned order;

			if (s % 64 == 0)
				order = BUDDY_MAX_ORDER + 1 + (unsigned)((s >> 6) % 50);
			else if (s % 4 == 0)
				order = (unsigned)((s >> 6) % BUDDY_ORDERS);
			else
				order = (unsigned)((s >> 6) % 4);
			do_alloc(a, order);
		} else {
			do_free(a, s % a->nlive);
		}
		if (i % 1000 == 999)
			check_structure(a);
		if (i % 5000 == 2500)
			selfcheck_unchanged(a, name);
	}
	free_all(a, name);
}

/* Random sequences on every shape, against the model. */
static void
test_random(void)
{
	struct arena a;
	long total = 0;

	rng_seed(0x5EED0B0DD1E5ull);
	for (size_t i = 0; i < NSHAPES; i++) {
		arena_make(&a, shapes[i].npages, shapes[i].reserved, shapes[i].added);
		check_structure(&a);
		run_random(&a, shapes[i].name, shapes[i].ops);
		arena_free(&a);
		total += shapes[i].ops;
	}
	printf("buddy: random-sequences OK (%ld ops on %zu shapes)\n", total, NSHAPES);
}

/* buddy_selfcheck passes and changes nothing, in various states; it catches bad counts. */
static void
test_selfcheck(void)
{
	static const struct range evens[] = { { 0, 1 }, { 2, 1 }, { 4, 1 }, { 6, 1 }, { 0, 0 } };
	static const struct range gib[] = { { 0, BLOCK(18) }, { 0, 0 } };
	struct arena a;
	int n = 0;

	/* Only order-0 blocks; a 7-page arena; one order-18 block, so no order-10 list. */
	arena_make(&a, 8, NULL, evens);
	selfcheck_unchanged(&a, "order-0 only");
	arena_free(&a);
	arena_make(&a, 7, NULL, (const struct range[]){ { 0, 7 }, { 0, 0 } });
	selfcheck_unchanged(&a, "7 pages");
	arena_free(&a);
	arena_make(&a, BLOCK(18), NULL, gib);
	selfcheck_unchanged(&a, "1 GiB");
	CHECK(a.b.nfree[18] == 1 && a.b.free_pages == BLOCK(18), "1 GiB: not one block");
	arena_free(&a);
	n += 3;

	/* Every shape fresh, and with live allocations, and with everything allocated. */
	rng_seed(0xC0FFEE);
	for (size_t i = 0; i < NSHAPES; i++) {
		arena_make(&a, shapes[i].npages, shapes[i].reserved, shapes[i].added);
		selfcheck_unchanged(&a, shapes[i].name);
		for (int j = 0; j < 50; j++)
			do_alloc(&a, (unsigned)(rnd() % 6));
		selfcheck_unchanged(&a, shapes[i].name);
		for (unsigned k = BUDDY_ORDERS; k-- > 0;)
			while (a.b.nfree[k] != 0)
				do_alloc(&a, k);
		CHECK(buddy_selfcheck(&a.b) == BUDDY_SELFCHECK_EMPTY, "%s: full, not EMPTY",
		    shapes[i].name);
		free_all(&a, shapes[i].name);
		arena_free(&a);
		n += 3;
	}

	/* Inconsistent counts are reported as a failure, without touching anything. */
	arena_make(&a, 1024, NULL, (const struct range[]){ { 0, 1024 }, { 0, 0 } });
	a.b.free_pages++;
	CHECK(buddy_selfcheck(&a.b) < 0, "selfcheck missed a bad free_pages");
	a.b.free_pages--;
	a.pages[5].refcount = 1;
	CHECK(buddy_selfcheck(&a.b) < 0, "selfcheck missed a referenced free page");
	a.pages[5].refcount = 0;
	check_structure(&a);
	arena_free(&a);
	printf("buddy: selfcheck OK (%d states)\n", n);
}

/* Misuse scenarios for the death tests, and a word of the KASSERT message each must trip. */
static const char *const misuse_expect[] = {
	"already free", "already free", "already free", "not aligned", "outside the page",
	"too large", "runs past", "is reserved", "is reserved", "already free", "outside",
	"already free", "already free", "already free",
};
#define NMISUSE	(int)(sizeof(misuse_expect) / sizeof(misuse_expect[0]))

/* Run misuse scenario which; it should not return. */
static void
misuse(int which)
{
	static const struct range r8[] = { { 0, 8 }, { 0, 0 } };
	static const struct range r5[] = { { 0, 5 }, { 0, 0 } };
	static const struct range r6[] = { { 0, 6 }, { 0, 0 } };
	static const struct range page5[] = { { 5, 1 }, { 0, 0 } };
	struct arena a;
	struct page *p0, *p1;

	switch (which) {
	case 0:		/* double free */
		arena_make(&a, 8, NULL, r8);
		p0 = buddy_alloc(&a.b, 0);
		buddy_free(&a.b, p0, 0);
		buddy_free(&a.b, p0, 0);
		break;
	case 1:		/* double free of a block since merged into its lower buddy */
		arena_make(&a, 2, NULL, (const struct range[]){ { 0, 2 }, { 0, 0 } });
		p0 = buddy_alloc(&a.b, 0);
		p1 = buddy_alloc(&a.b, 0);
		buddy_free(&a.b, p1, 0);
		buddy_free(&a.b, p0, 0);
		buddy_free(&a.b, p1, 0);
		break;
	case 2:		/* free of a page inside a free block */
		arena_make(&a, 8, NULL, r8);
		buddy_free(&a.b, &a.pages[3], 0);
		break;
	case 3:		/* misaligned */
		arena_make(&a, 8, NULL, r8);
		p0 = buddy_alloc(&a.b, 1);
		buddy_free(&a.b, p0 + 1, 1);
		break;
	case 4:		/* outside the array */
		arena_make(&a, 8, NULL, r8);
		buddy_free(&a.b, a.pages + 8, 0);
		break;
	case 5:		/* order too large */
		arena_make(&a, 8, NULL, r8);
		buddy_free(&a.b, buddy_alloc(&a.b, 0), BUDDY_MAX_ORDER + 1);
		break;
	case 6:		/* block runs past the end of the array: 6 pages are 4@0 + 2@4 */
		arena_make(&a, 6, NULL, r6);
		p0 = buddy_alloc(&a.b, 1);
		buddy_free(&a.b, p0, 2);
		break;
	case 7:		/* reserved page */
		arena_make(&a, 8, page5, r5);
		buddy_free(&a.b, &a.pages[5], 0);
		break;
	case 8:		/* adding a reserved page */
		arena_make(&a, 8, page5, r8);
		break;
	case 9:		/* adding free memory again */
		arena_make(&a, 8, NULL, r8);
		buddy_add_range(&a.b, 2, 2);
		break;
	case 10:	/* adding past the end */
		arena_make(&a, 6, NULL, (const struct range[]){ { 4, 4 }, { 0, 0 } });
		break;
	case 11:	/* free of a block whose second page was freed on its own already */
		arena_make(&a, 16, NULL, (const struct range[]){ { 0, 16 }, { 0, 0 } });
		p0 = buddy_alloc(&a.b, 2);
		buddy_free(&a.b, p0 + 1, 0);
		buddy_free(&a.b, p0, 2);
		break;
	case 12:	/* free of a block whose upper half is free already */
		arena_make(&a, 8, NULL, r8);
		p0 = buddy_alloc(&a.b, 3);
		buddy_free(&a.b, p0 + 4, 2);
		buddy_free(&a.b, p0, 3);
		break;
	case 13:	/* adding a range around a page that is free already */
		arena_make(&a, 8, NULL, page5);
		buddy_add_range(&a.b, 0, 8);
		break;
	}
}

int
main(void)
{
	harness_start();
	test_interface();
	test_add_range();
	test_random();
	test_selfcheck();
	harness_kassert(NMISUSE, misuse, misuse_expect);
	return harness_done();
}
