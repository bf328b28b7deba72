/*
 * Host unit test for the population map (kern/mm/lib/popmap.c), built with -DHOSTTEST and
 * sanitizers.
 *
 * The reference model is a byte per page over a few sparse windows of the 2^36-page
 * index space, chosen to straddle 2 MiB, 1 GiB and 512 GiB boundaries, with one at
 * each end of the range, plus a small table of reservation pointers.  Random sequences
 * (toggles, whole-block fills and drains, reservation pointer sets and clears, injected
 * allocation failures) from a fixed-seed xorshift64* generator run against it: after
 * every step the touched page's test/count/reserv answers at every level are compared,
 * and every 500 steps everything is (every page of every window, every block, a full
 * popmap_next walk, random count_range queries, and the exact number of nodes the tree
 * must hold).  All node memory goes through a counting allocator that can fail its
 * k-th call; at the end nothing may be outstanding.  Misuse must trip a KASSERT
 * (abort), checked in fork()ed children.
 *
 * Prints one line per test group, then "popmap: N checks passed"; exits 0.  On the
 * first failure prints "popmap: FAIL <what>" and exits 1.
 */
#define HARNESS_NAME "popmap"
#include "tests/harness.h"

#include "kern/mm/lib/popmap.h"

#define LIMIT		POPMAP_PINDEX_LIMIT
#define SPAN(level)	PS_PAGES(level)	/* levels 1..4 of the tree too */

/* --- The counting allocator, with failure injection --------------------------------- */

#define MAGIC	0x90FA9DEADBEEF00Dull

struct hdr {			/* in front of every block handed out */
	uint64_t size, magic;
};

static uint64_t mem_bytes, mem_blocks;	/* outstanding */
static uint64_t mem_calls;		/* alloc calls so far, failed ones included */
static uint64_t fail_in;		/* 0: never fail; k: the k-th alloc call from now fails */

/* Zeroed size bytes, or NULL on an injected failure. */
static void *
t_alloc(size_t size)
{
	struct hdr *h;

	CHECK(size > 0 && size <= 8192, "node of %zu bytes", size);
	mem_calls++;
	if (fail_in != 0 && --fail_in == 0)
		return NULL;
	h = calloc(1, sizeof(*h) + size);
	if (h == NULL) {
		printf("popmap: FAIL out of host memory\n");
		exit(1);
	}
	h->size = size;
	h->magic = MAGIC;
	mem_bytes += size;
	mem_blocks++;
	return h + 1;
}

/* Take back a block from t_alloc; its size must match. */
static void
t_free(void *p, size_t size)
{
	struct hdr *h = (struct hdr *)p - 1;

	CHECK(h->magic == MAGIC, "free of %p: not from t_alloc or freed twice", p);
	CHECK(h->size == size, "free of %p: size %zu, allocated %lu", p, size, h->size);
	h->magic = 0;
	mem_bytes -= size;
	mem_blocks--;
	free(h);
}

static const struct popmap_allocator talloc = { t_alloc, t_free };

/* --- The reference model ------------------------------------------------------------ */

struct window {			/* pages [base, base+len), one byte each */
	uint64_t base, len;
	uint8_t *pop;
};

/* Disjoint, by ascending base. */
static struct window win[] = {
	{ 0, 1536, NULL },				/* three whole 2 MiB blocks */
	{ (1ull << 18) - 700, 1400, NULL },		/* across a 1 GiB boundary */
	{ (1ull << 27) - 600, 1200, NULL },		/* across a 512 GiB boundary */
	{ 0x987654321ull - 500, 1000, NULL },		/* somewhere in the middle */
	{ (1ull << 36) - 1200, 1200, NULL },		/* up to the last pindex */
};
#define NWIN	(sizeof(win) / sizeof(win[0]))

#define MAXRES	48
struct rentry {			/* a reservation pointer the map must hold */
	int level;
	uint64_t block;		/* pindex >> (9 * level) */
	void *ptr;
};
static struct rentry res[MAXRES];
static int nres;
static char tokens[1024];	/* reservation pointers are addresses in here */
static unsigned next_token;

static uint64_t ref_populated;
static int failed_calls;	/* sets that returned -1 under an injected failure */

/* Empty the model. */
static void
ref_reset(void)
{
	for (size_t i = 0; i < NWIN; i++) {
		free(win[i].pop);
		win[i].pop = calloc(win[i].len, 1);
	}
	nres = 0;
	ref_populated = 0;
}

/* The window holding pindex p, or NULL. */
static struct window *
ref_window(uint64_t p)
{
	for (size_t i = 0; i < NWIN; i++)
		if (p >= win[i].base && p - win[i].base < win[i].len)
			return &win[i];
	return NULL;
}

/* Whether p is populated in the model. */
static int
ref_get(uint64_t p)
{
	struct window *w = ref_window(p);

	return w != NULL && w->pop[p - w->base];
}

/* Populated pages in [a, b) in the model. */
static uint64_t
ref_count_range(uint64_t a, uint64_t b)
{
	uint64_t n = 0;

	for (size_t i = 0; i < NWIN; i++) {
		uint64_t lo = a > win[i].base ? a : win[i].base;
		uint64_t hi = b < win[i].base + win[i].len ? b : win[i].base + win[i].len;

		for (uint64_t p = lo; p < hi; p++)
			n += win[i].pop[p - win[i].base];
	}
	return n;
}

/* Populated pages in the aligned block of that level holding p, in the model. */
static uint64_t
ref_count(uint64_t p, int level)
{
	uint64_t a = p & ~(SPAN(level) - 1);

	return ref_count_range(a, a + SPAN(level));
}

/* The first populated page >= from in the model, or LIMIT. */
static uint64_t
ref_next(uint64_t from)
{
	for (size_t i = 0; i < NWIN; i++) {
		uint64_t p = from > win[i].base ? from : win[i].base;

		for (; p < win[i].base + win[i].len; p++)
			if (win[i].pop[p - win[i].base])
				return p;
	}
	return LIMIT;
}

/* The model's reservation entry for the block of that level holding p, or NULL. */
static struct rentry *
ref_res(uint64_t p, int level)
{
	for (int i = 0; i < nres; i++)
		if (res[i].level == level && res[i].block == p >> (9 * level))
			return &res[i];
	return NULL;
}

/* Reservation pointers in the block of that level holding p, in the model. */
static uint64_t
ref_res_count(uint64_t p, int level)
{
	uint64_t n = 0;

	for (int i = 0; i < nres; i++)
		if (res[i].level <= level &&
		    res[i].block >> (9 * (level - res[i].level)) == p >> (9 * level))
			n++;
	return n;
}

/* A pindex of a random window: its edges and block edges more often than not. */
static uint64_t
random_pindex(void)
{
	struct window *w = &win[rnd() % NWIN];
	uint64_t r = rnd(), p;

	switch (r % 4) {
	case 0:				/* near a 512 boundary inside the window */
		p = ((w->base + (r >> 8) % w->len) & ~511ull) + (r >> 40) % 5 - 2;
		if (p < w->base || p >= w->base + w->len)
			p = w->base + (r >> 8) % w->len;
		return p;
	case 1:				/* an end of the window */
		return (r >> 8) % 2 ? w->base + (r >> 9) % 3 : w->base + w->len - 1 - (r >> 9) % 3;
	default:
		return w->base + (r >> 8) % w->len;
	}
}

/* --- Checking the map against the model --------------------------------------------- */

/* Everything the map says about page p agrees with the model. */
static void
check_point(const struct popmap *pm, uint64_t p)
{
	CHECK(popmap_test(pm, p) == ref_get(p), "test(%lx) = %d", p, popmap_test(pm, p));
	CHECK(popmap_count(pm, p, PS_4K) == (uint64_t)ref_get(p), "count4k(%lx)", p);
	for (int level = PS_2M; level <= PS_1G; level++) {
		struct rentry *e = ref_res(p, level);

		CHECK(popmap_count(pm, p, level) == ref_count(p, level),
		    "count(%lx, level %d) = %lu, want %lu", p, level, popmap_count(pm, p, level),
		    ref_count(p, level));
		CHECK(popmap_reserv(pm, p, level) == (e != NULL ? e->ptr : NULL),
		    "reserv(%lx, level %d)", p, level);
		CHECK(popmap_reserv_count(pm, p, level) == ref_res_count(p, level),
		    "reserv_count(%lx, level %d) = %lu, want %lu", p, level,
		    popmap_reserv_count(pm, p, level), ref_res_count(p, level));
	}
	CHECK(pm->populated == ref_populated, "populated %lu, want %lu", pm->populated,
	    ref_populated);
}

/* qsort order for uint64_t. */
static int
cmp_u64(const void *x, const void *y)
{
	uint64_t u = *(const uint64_t *)x, v = *(const uint64_t *)y;

	return (u > v) - (u < v);
}

/*
 * The allocations the tree must hold: one per leaf, two per interior node, for exactly
 * the blocks (levels 1..4) that hold a populated page or a reservation pointer.
 */
static uint64_t
expected_blocks(void)
{
	size_t cap = 4 * (ref_populated + 2 * MAXRES) + 1, n = 0;
	uint64_t *keys = malloc(cap * sizeof(uint64_t)), blocks = 0;

	for (size_t i = 0; i < NWIN; i++)
		for (uint64_t o = 0; o < win[i].len; o++)
			if (win[i].pop[o])
				for (int l = 1; l <= 4; l++)
					keys[n++] = (uint64_t)l << 60 | (win[i].base + o) >> (9 * l);
	for (int i = 0; i < nres; i++)
		for (int l = res[i].level; l <= 4; l++)
			keys[n++] = (uint64_t)l << 60 |
			    res[i].block >> (9 * (l - res[i].level));
	qsort(keys, n, sizeof(keys[0]), cmp_u64);
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && keys[i] == keys[i - 1])
			continue;
		blocks += keys[i] >> 60 == 1 ? 1 : 2;
	}
	free(keys);
	return blocks;
}

/* A full comparison of the map with the model. */
static void
check_all(const struct popmap *pm)
{
	uint64_t p, q = 0, n;

	for (size_t i = 0; i < NWIN; i++) {
		for (p = win[i].base; p < win[i].base + win[i].len; p++)
			CHECK(popmap_test(pm, p) == ref_get(p), "all: test(%lx)", p);
		for (p = win[i].base & ~511ull; p < win[i].base + win[i].len; p += 512) {
			CHECK(popmap_count(pm, p, PS_2M) == ref_count(p, PS_2M),
			    "all: count2m(%lx)", p);
			CHECK(popmap_count(pm, p, PS_1G) == ref_count(p, PS_1G),
			    "all: count1g(%lx)", p);
		}
	}
	for (int i = 0; i < nres; i++) {
		p = res[i].block << (9 * res[i].level);
		CHECK(popmap_reserv(pm, p + rnd() % SPAN(res[i].level), res[i].level) == res[i].ptr,
		    "all: reserv entry %d", i);
	}

	/* The popmap_next walk lists exactly the model's pages. */
	n = 0;
	for (p = 0; popmap_next(pm, p, &q); p = q + 1) {
		CHECK(q >= p && q == ref_next(p), "all: next(%lx) = %lx, want %lx", p, q, ref_next(p));
		n++;
		if (q == LIMIT - 1)
			break;
	}
	CHECK(n == ref_populated, "all: next walk found %lu of %lu pages", n, ref_populated);
	CHECK(ref_next(p) == LIMIT || q == LIMIT - 1, "all: next walk stopped early at %lx", p);

	/* count_range: any alignment, across windows, up to and past the end. */
	CHECK(popmap_count_range(pm, 0, LIMIT) == ref_populated, "all: count of everything");
	CHECK(popmap_count_range(pm, 0, ~0ull) == ref_populated, "all: count of 2^64 pages");
	CHECK(popmap_count_range(pm, LIMIT, 100) == 0, "all: count past the limit");
	for (int k = 0; k < 60; k++) {
		uint64_t a = random_pindex() - rnd() % 700, len;

		switch (rnd() % 4) {
		case 0:
			len = rnd() % 4;
			break;
		case 1:
			len = rnd() % 2000;
			break;
		case 2:
			len = rnd() % (1ull << 20);
			break;
		default:
			len = rnd() % (1ull << 37);
			break;
		}
		if (a >= LIMIT)
			a = rnd() % LIMIT;
		CHECK(popmap_count_range(pm, a, len) ==
		    ref_count_range(a, len > LIMIT - a ? LIMIT : a + len),
		    "all: count_range(%lx, %lx)", a, len);
		CHECK(popmap_next(pm, a, &q) == (ref_next(a) != LIMIT) &&
		    (ref_next(a) == LIMIT || q == ref_next(a)), "all: next(%lx)", a);
	}
	CHECK(mem_blocks == expected_blocks(), "all: %lu allocations held, want %lu",
	    mem_blocks, expected_blocks());
	CHECK((pm->root == NULL) == (ref_populated == 0 && nres == 0), "all: root %p",
	    pm->root);
}

/* --- Operations on map and model together ------------------------------------------- */

/* Set p (unpopulated) in map and model; with fail_in set, the set may fail: then unchanged. */
static void
do_set(struct popmap *pm, uint64_t p)
{
	struct window *w = ref_window(p);
	uint64_t bytes = mem_bytes, blocks = mem_blocks;

	if (popmap_set(pm, p) != 0) {
		CHECK(fail_in == 0, "set(%lx) failed without an injected failure", p);
		failed_calls++;
		CHECK(mem_bytes == bytes && mem_blocks == blocks, "failed set(%lx) kept memory", p);
		check_point(pm, p);
		return;
	}
	w->pop[p - w->base] = 1;
	ref_populated++;
}

/* Clear p (populated) in map and model. */
static void
do_clear(struct popmap *pm, uint64_t p)
{
	struct window *w = ref_window(p);

	popmap_clear(pm, p);
	w->pop[p - w->base] = 0;
	ref_populated--;
}

/* popmap_set_block of the empty 2 MiB block at a, in map and model; may fail as do_set. */
static void
do_set_block(struct popmap *pm, uint64_t a)
{
	struct window *w = ref_window(a);
	uint64_t bytes = mem_bytes, blocks = mem_blocks;

	if (popmap_set_block(pm, a) != 0) {
		CHECK(fail_in == 0, "set_block(%lx) failed without an injected failure", a);
		failed_calls++;
		CHECK(mem_bytes == bytes && mem_blocks == blocks, "failed set_block(%lx) kept memory", a);
		CHECK(popmap_count(pm, a, PS_2M) == 0, "failed set_block(%lx) populated pages", a);
		return;
	}
	for (uint64_t q = a; q < a + 512; q++)
		w->pop[q - w->base] = 1;
	ref_populated += 512;
}

/* popmap_clear_block of the full 2 MiB block at a, in map and model. */
static void
do_clear_block(struct popmap *pm, uint64_t a)
{
	struct window *w = ref_window(a);

	popmap_clear_block(pm, a);
	for (uint64_t q = a; q < a + 512; q++)
		w->pop[q - w->base] = 0;
	ref_populated -= 512;
}

/* Set or clear the reservation pointer at (p, level) in map and model; may fail likewise. */
static void
do_reserv(struct popmap *pm, uint64_t p, int level, void *ptr)
{
	struct rentry *e = ref_res(p, level);
	uint64_t bytes = mem_bytes, blocks = mem_blocks;

	if (popmap_set_reserv(pm, p, level, ptr) != 0) {
		CHECK(ptr != NULL && fail_in == 0, "set_reserv(%lx) failed wrongly", p);
		failed_calls++;
		CHECK(mem_bytes == bytes && mem_blocks == blocks,
		    "failed set_reserv(%lx) kept memory", p);
		check_point(pm, p);
		return;
	}
	if (ptr == NULL && e != NULL)
		*e = res[--nres];
	else if (ptr != NULL && e == NULL)
		res[nres++] = (struct rentry){ level, p >> (9 * level), ptr };
}

/* A fresh reservation pointer. */
static void *
token(void)
{
	return &tokens[next_token++ % sizeof(tokens)];
}

/* Clear every page and reservation pointer; the map must then hold no memory at all. */
static void
clear_everything(struct popmap *pm)
{
	for (size_t i = 0; i < NWIN; i++)
		for (uint64_t o = 0; o < win[i].len; o++)
			if (win[i].pop[o])
				do_clear(pm, win[i].base + o);
	while (nres > 0)
		do_reserv(pm, res[0].block << (9 * res[0].level), res[0].level, NULL);
	CHECK(pm->root == NULL && pm->populated == 0, "cleared map not empty");
	CHECK(mem_blocks == 0 && mem_bytes == 0, "cleared map holds %lu bytes", mem_bytes);
}

/* --- Test groups --------------------------------------------------------------------- */

/* Empty-map answers, one page at each end, exact node counts, boundaries. */
static void
test_basic(void)
{
	struct popmap pm;
	uint64_t q;

	popmap_init(&pm, &talloc);
	CHECK(pm.root == NULL && pm.populated == 0 && mem_blocks == 0, "init allocated");
	CHECK(!popmap_test(&pm, 0) && !popmap_test(&pm, LIMIT - 1) && !popmap_test(&pm, LIMIT),
	    "empty test");
	CHECK(!popmap_test(&pm, ~0ull), "test of 2^64-1");
	CHECK(popmap_count(&pm, 12345, PS_1G) == 0, "empty count");
	CHECK(popmap_count_range(&pm, 0, LIMIT) == 0, "empty count_range");
	CHECK(!popmap_next(&pm, 0, &q), "empty next");
	CHECK(popmap_reserv(&pm, 0, PS_2M) == NULL, "empty reserv");
	CHECK(popmap_set_reserv(&pm, 77, PS_1G, NULL) == 0 && mem_blocks == 0,
	    "clearing an absent reservation pointer");

	/* One page: a leaf and three interior nodes (header + slot array each). */
	CHECK(popmap_set(&pm, 0) == 0, "set 0");
	CHECK(mem_blocks == 7, "one page needs 7 allocations, has %lu", mem_blocks);
	CHECK(popmap_test(&pm, 0) && !popmap_test(&pm, 1), "test after set 0");
	CHECK(popmap_count(&pm, 511, PS_2M) == 1 && popmap_count(&pm, 512,
	    PS_2M) == 0, "2M block boundary");
	CHECK(popmap_count(&pm, SPAN(2) - 1, PS_1G) == 1 &&
	    popmap_count(&pm, SPAN(2), PS_1G) == 0, "1G block boundary");
	CHECK(popmap_set(&pm, LIMIT - 1) == 0, "set the last pindex");
	CHECK(mem_blocks == 12, "two far pages share only the root: %lu", mem_blocks);
	CHECK(popmap_next(&pm, 1, &q) && q == LIMIT - 1, "next skips 2^36 pages");
	CHECK(popmap_next(&pm, LIMIT - 1, &q) && q == LIMIT - 1, "next at the last pindex");
	CHECK(!popmap_next(&pm, LIMIT, &q), "next past the limit");
	CHECK(popmap_count_range(&pm, 1, LIMIT - 2) == 0, "count_range between the two");
	CHECK(popmap_count_range(&pm, 0, LIMIT) == 2, "count_range of all");
	CHECK(popmap_count_range(&pm, LIMIT - 1, ~0ull) == 1, "count_range clipped");
	popmap_clear(&pm, 0);
	CHECK(mem_blocks == 7, "clear freed the path of page 0: %lu", mem_blocks);
	popmap_clear(&pm, LIMIT - 1);
	CHECK(mem_blocks == 0 && pm.root == NULL, "clear freed everything");

	/* A full 2 MiB block and a full word at the end of a leaf. */
	for (uint64_t p = 512; p < 1024; p++)
		CHECK(popmap_set(&pm, p) == 0, "fill %lx", p);
	CHECK(popmap_count(&pm, 700, PS_2M) == 512 &&
	    popmap_count(&pm, 700, PS_1G) == 512, "full block counts");
	CHECK(popmap_count_range(&pm, 511, 2) == 1 && popmap_count_range(&pm, 1023, 2) == 1 &&
	    popmap_count_range(&pm, 600, 100) == 100 && popmap_count_range(&pm, 960, 64) == 64,
	    "count_range in a full block");
	CHECK(popmap_next(&pm, 0, &q) && q == 512 && popmap_next(&pm, 1023, &q) && q == 1023 &&
	    !popmap_next(&pm, 1024, &q), "next in a full block");
	popmap_destroy(&pm);
	CHECK(pm.root == NULL && pm.populated == 0 && mem_blocks == 0 && mem_bytes == 0,
	    "destroy of a populated map left %lu bytes", mem_bytes);
	printf("popmap: basic OK\n");
}

/* Reservation pointers keep nodes alive, nest, and go away with their nodes. */
static void
test_reserv(void)
{
	struct popmap pm;
	void *a = token(), *b = token(), *c = token();
	uint64_t g = 5 * SPAN(2) + 3 * SPAN(1);		/* a 2 MiB block inside 1 GiB block 5 */

	popmap_init(&pm, &talloc);
	CHECK(popmap_set_reserv(&pm, g + 17, PS_2M, a) == 0, "set 2M pointer");
	CHECK(mem_blocks == 7, "a pointer on an empty area builds its path: %lu", mem_blocks);
	CHECK(popmap_reserv(&pm, g, PS_2M) == a &&
	    popmap_reserv(&pm, g + 511, PS_2M) == a &&
	    popmap_reserv(&pm, g + 512, PS_2M) == NULL &&
	    popmap_reserv(&pm, g, PS_1G) == NULL, "2M pointer scope");
	CHECK(popmap_reserv_count(&pm, g + 600, PS_1G) == 1 &&
	    popmap_reserv_count(&pm, g + 600, PS_2M) == 0 &&
	    popmap_reserv_count(&pm, g - SPAN(2), PS_1G) == 0, "reserv_count");
	CHECK(popmap_set_reserv(&pm, g, PS_2M, a) == 0, "setting the same pointer");
	CHECK(popmap_set_reserv(&pm, g, PS_1G, b) == 0, "set 1G pointer");
	CHECK(popmap_reserv(&pm, g - 3 * SPAN(1), PS_1G) == b &&
	    popmap_reserv_count(&pm, g, PS_1G) == 2, "1G pointer scope");
	CHECK(popmap_count(&pm, g, PS_1G) == 0 && pm.populated == 0,
	    "pointers are not pages");

	/* Pages come and go under the pointers; the nodes stay. */
	CHECK(popmap_set(&pm, g + 1) == 0 && popmap_set(&pm, g + SPAN(1)) == 0, "set pages");
	CHECK(mem_blocks == 8, "second leaf: %lu", mem_blocks);
	popmap_clear(&pm, g + 1);
	popmap_clear(&pm, g + SPAN(1));
	CHECK(mem_blocks == 7, "leaf without pointer freed, leaf with one kept: %lu", mem_blocks);
	CHECK(popmap_reserv(&pm, g, PS_2M) == a, "pointer survives its pages");
	CHECK(popmap_set_reserv(&pm, g, PS_2M, NULL) == 0, "clear 2M pointer");
	CHECK(mem_blocks == 6, "leaf freed, level-2 node kept for its pointer: %lu", mem_blocks);
	CHECK(popmap_set_reserv(&pm, g, PS_1G, NULL) == 0, "clear 1G pointer");
	CHECK(mem_blocks == 0 && pm.root == NULL, "everything freed: %lu", mem_blocks);

	/* A pointer at the very top of the range. */
	CHECK(popmap_set_reserv(&pm, LIMIT - 1, PS_1G, c) == 0 &&
	    popmap_reserv(&pm, LIMIT - SPAN(2), PS_1G) == c, "top 1G pointer");
	CHECK(popmap_set_reserv(&pm, LIMIT - 1, PS_1G, NULL) == 0 && mem_blocks == 0,
	    "top 1G pointer cleared");
	popmap_destroy(&pm);
	printf("popmap: reservation-pointers OK\n");
}

/*
 * Every allocation of a set (or set_reserv) that needs k new allocations fails in turn:
 * the call returns -1 and changes nothing; the (k+1)-th attempt succeeds.
 */
static void
test_alloc_failure(void)
{
	static const struct { uint64_t have, set; int level; uint64_t need; } cases[] = {
		{ LIMIT, 0, 0, 7 },			/* empty map: whole path */
		{ 0, 1ull << 35, 0, 5 },		/* root exists */
		{ 0, 1ull << 18, 0, 3 },		/* level-3 node exists */
		{ 0, 512, 0, 1 },			/* only the leaf is new */
		{ 0, 1, 0, 0 },				/* nothing is new */
		{ LIMIT, 3ull << 30, 2, 6 },		/* 1G pointer in an empty map */
		{ 0, 1ull << 18, 2, 2 },		/* 1G pointer, level-3 node exists */
		{ 0, 1ull << 18, 1, 3 },		/* 2M pointer */
		{ 0, 0, 1, 0 },				/* 2M pointer on an existing leaf */
	};
	int n = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (uint64_t k = 1; k <= cases[i].need + 1; k++) {
			struct popmap pm;
			uint64_t bytes, blocks, calls, q;
			int r;

			popmap_init(&pm, &talloc);
			if (cases[i].have != LIMIT)
				CHECK(popmap_set(&pm, cases[i].have) == 0, "case %zu: set up", i);
			bytes = mem_bytes;
			blocks = mem_blocks;
			calls = mem_calls;
			fail_in = k;
			if (cases[i].level == 0)
				r = popmap_set(&pm, cases[i].set);
			else
				r = popmap_set_reserv(&pm, cases[i].set, cases[i].level, tokens);
			if (k <= cases[i].need) {
				CHECK(r == -1, "case %zu: failure %lu not reported", i, k);
				CHECK(mem_bytes == bytes && mem_blocks == blocks,
				    "case %zu: failure %lu leaked or freed memory", i, k);
				CHECK(mem_calls - calls == k, "case %zu: %lu calls after failure %lu",
				    i, mem_calls - calls, k);
				CHECK(popmap_test(&pm, cases[i].set) ==
				    (cases[i].have == cases[i].set) && pm.populated ==
				    (cases[i].have != LIMIT), "case %zu: failure %lu changed pages",
				    i, k);
				if (cases[i].level != 0)
					CHECK(popmap_reserv(&pm, cases[i].set, cases[i].level) == NULL,
					    "case %zu: failed pointer set", i);
				CHECK(popmap_count_range(&pm, 0, LIMIT) == pm.populated,
				    "case %zu: counts after failure", i);
				CHECK(!popmap_next(&pm, cases[i].have + 1, &q),
				    "case %zu: next after failure", i);
			} else {
				CHECK(r == 0, "case %zu: needs more than %lu allocations", i,
				    cases[i].need);
				CHECK(mem_calls - calls == cases[i].need, "case %zu: %lu allocations",
				    i, mem_calls - calls);
				CHECK(cases[i].level != 0 ? popmap_reserv(&pm, cases[i].set,
				    cases[i].level) == tokens : popmap_test(&pm, cases[i].set),
				    "case %zu: not set", i);
				if (cases[i].level != 0)
					popmap_set_reserv(&pm, cases[i].set, cases[i].level, NULL);
			}
			fail_in = 0;
			popmap_destroy(&pm);
			CHECK(mem_blocks == 0, "case %zu: destroy left memory", i);
			n++;
		}
	}
	printf("popmap: alloc-failure OK (%d injected failures and successes)\n", n);
}

/* Random sequences against the model, with injected failures. */
static void
test_random(void)
{
	struct popmap pm;
	int steps = 50000, fills = 0, maxres = 0;
	uint64_t p;

	rng_seed(0x9090A9F00DULL);
	ref_reset();
	popmap_init(&pm, &talloc);
	for (int i = 0; i < steps; i++) {
		uint64_t r = rnd() % 100;

		if (rnd() % 12 == 0) {	/* fail one of the next few allocations */
			fail_in = 1 + rnd() % 7;
		}
		p = random_pindex();
		if (r < 70) {
			if (ref_get(p))
				do_clear(&pm, p);
			else
				do_set(&pm, p);
		} else if (r < 72) {	/* drain a whole window, so its nodes go */
			struct window *w = ref_window(p);

			fail_in = 0;
			for (uint64_t q = w->base; q < w->base + w->len; q++)
				if (ref_get(q))
					do_clear(&pm, q);
			for (int j = 0; j < nres; j++)
				if (rnd() % 2 == 0 && ref_window(res[j].block << (9 * res[j].level)) == w)
					do_reserv(&pm, res[j].block << (9 * res[j].level), res[j].level,
					    NULL);
		} else if (r < 80) {	/* fill or drain the whole 2 MiB block, if in a window */
			uint64_t a = p & ~511ull;
			int fill = rnd() % 2;

			if (ref_window(a) != ref_window(a + 511) || ref_window(a) == NULL)
				continue;
			uint64_t held = ref_count_range(a, a + 512);
			if (fill && held == 0 && rnd() % 2 == 0) {	/* in one walk */
				do_set_block(&pm, a);
				check_all(&pm);
				if (ref_count_range(a, a + 512) == 0)
					continue;	/* the injected failure came */
			} else if (!fill && held == 512 && rnd() % 2 == 0) {
				do_clear_block(&pm, a);
				check_all(&pm);
			}
			fail_in = 0;
			for (uint64_t q = a; q < a + 512; q++)
				if (fill && !ref_get(q))
					do_set(&pm, q);
				else if (!fill && ref_get(q))
					do_clear(&pm, q);
			CHECK(popmap_count(&pm, a, PS_2M) == (fill ? 512u : 0u),
			    "block %lx after %s", a, fill ? "fill" : "drain");
			fills++;
		} else {
			int level = 1 + (int)(rnd() % 2);
			struct rentry *e = ref_res(p, level);

			if (e != NULL)
				do_reserv(&pm, p, level, rnd() % 4 == 0 ? e->ptr : NULL);
			else if (nres < MAXRES)
				do_reserv(&pm, p, level, token());
		}
		fail_in = 0;
		maxres = nres > maxres ? nres : maxres;
		check_point(&pm, p);
		if (i % 500 == 499)
			check_all(&pm);
	}
	check_all(&pm);
	clear_everything(&pm);
	check_all(&pm);
	popmap_destroy(&pm);

	/* popmap_destroy frees a populated map; pointers must be cleared first. */
	for (int i = 0; i < 3000; i++) {
		p = random_pindex();
		if (!ref_get(p))
			do_set(&pm, p);
	}
	check_all(&pm);
	popmap_destroy(&pm);
	CHECK(mem_blocks == 0 && mem_bytes == 0 && pm.root == NULL && pm.populated == 0,
	    "destroy left %lu bytes", mem_bytes);
	ref_reset();
	CHECK(failed_calls > 0 && fills > 0 && maxres > 4, "random: too tame (%d failed calls, "
	    "%d fills and drains, at most %d pointers)", failed_calls, fills, maxres);
	printf("popmap: random-sequences OK (%d steps, %d failed allocations, %d block fills and "
	    "drains, up to %d pointers)\n", steps, failed_calls, fills, maxres);
}

/* Misuse scenarios for the death tests, and a word of the KASSERT message each must trip. */
static const char *const misuse_expect[] = {
	"already populated", "not populated", "not populated", "out of range", "out of range",
	"already has reservation", "reservation pointer left", "bad level", "bad level",
	"bad level",
};
#define NMISUSE	(int)(sizeof(misuse_expect) / sizeof(misuse_expect[0]))

/* Run misuse scenario which; it should not return. */
static void
misuse(int which)
{
	struct popmap pm;

	popmap_init(&pm, &talloc);
	switch (which) {
	case 0:		/* set twice */
		popmap_set(&pm, 42);
		popmap_set(&pm, 42);
		break;
	case 1:		/* clear of a page never set, in an empty map */
		popmap_clear(&pm, 42);
		break;
	case 2:		/* clear of a neighbour of a set page */
		popmap_set(&pm, 42);
		popmap_clear(&pm, 43);
		break;
	case 3:		/* set past the range */
		popmap_set(&pm, LIMIT);
		break;
	case 4:		/* count past the range */
		popmap_count(&pm, LIMIT + 5, PS_2M);
		break;
	case 5:		/* overwrite a reservation pointer */
		popmap_set_reserv(&pm, 0, PS_2M, tokens);
		popmap_set_reserv(&pm, 100, PS_2M, tokens + 1);
		break;
	case 6:		/* destroy with a pointer left */
		popmap_set_reserv(&pm, 0, PS_1G, tokens);
		popmap_destroy(&pm);
		break;
	case 7:		/* reservation pointer on a page */
		popmap_set_reserv(&pm, 0, PS_4K, tokens);
		break;
	case 8:		/* count of a 512 GiB block */
		popmap_count(&pm, 0, 3);
		break;
	case 9:		/* reserv query of a bad level */
		popmap_reserv(&pm, 0, -1);
		break;
	}
}

int
main(void)
{
	harness_start();
	test_basic();
	test_reserv();
	test_alloc_failure();
	test_random();
	harness_kassert(NMISUSE, misuse, misuse_expect);
	CHECK(mem_blocks == 0 && mem_bytes == 0, "%lu bytes outstanding at exit", mem_bytes);
	return harness_done();
}
