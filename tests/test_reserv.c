/*
 * Host unit test for superpage reservations (kern/mm/lib/reserv.c), built with -DHOSTTEST and
 * sanitizers.
 *
 * A fake physical allocator keeps a byte per frame over 2^20 frames (4 GiB): allocated
 * or free, plus whether the frame is in use (handed out by reserv_alloc_page, or an
 * ordinary frame left over by a break).  free_frames checks every block it is given:
 * naturally aligned, allocated, not in use, never freed twice.  A model of the live
 * reservations (extent, owner, population, stamp) is kept alongside; the detach
 * callback must name exactly the reservation the model expects to die.  Scenario groups
 * check the handout offsets, full population, whole-extent return, breaking into
 * maximal aligned blocks, LRU order and preemption, 1 GiB reservations and the frame
 * lookup; a random sequence checks everything against the model after every step.  All
 * metadata memory goes through a counting allocator (which can fail on request); at
 * the end nothing may be outstanding.  Misuse must trip a KASSERT in a fork()ed child.
 *
 * Prints one line per test group, then "reserv: N checks passed"; exits 0.  On the
 * first failure prints "reserv: FAIL <what>" and exits 1.
 */
#define HARNESS_NAME "reserv"
#include "tests/harness.h"

#include "kern/mm/lib/reserv.h"

#define NFRAMES		((uint64_t)1 << 20)
#define NPAGES(order)	((uint64_t)1 << (order))
#define O2M		PS_ORDER(PS_2M)
#define O1G		PS_ORDER(PS_1G)
#define SI(order)	((order) == O2M ? 0 : 1)

/* --- Counting metadata allocator ----------------------------------------------------- */

#define MAGIC	0x7E5E7F00DFACADEull

struct hdr {
	uint64_t size, magic;
};

static uint64_t mem_bytes, mem_blocks;	/* outstanding */
static uint64_t fail_in;		/* 0: never fail; k: the k-th alloc call from now fails */

/* Zeroed size bytes, or NULL on an injected failure. */
static void *
t_alloc(size_t size)
{
	struct hdr *h;

	if (fail_in != 0 && --fail_in == 0)
		return NULL;
	h = xcalloc(1, sizeof(*h) + size);
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

	CHECK(p != NULL && h->magic == MAGIC, "free of %p: not from t_alloc or freed twice", p);
	CHECK(h->size == size, "free of %p: size %zu, allocated %lu", p, size, h->size);
	h->magic = 0;
	mem_bytes -= size;
	mem_blocks--;
	free(h);
}

/* --- Fake physical memory ------------------------------------------------------------ */

static uint8_t *phys;		/* 1: allocated (outstanding) */
static uint8_t *used;		/* 1: in use: handed out by a reservation, or ordinary */
static uint64_t outstanding;	/* allocated frames */

struct block {
	uint64_t pfn;
	unsigned order;
};
#define MAXCALLS	(1u << 16)
static struct block *calls;		/* [MAXCALLS] free_frames calls since calls_reset */
static struct block *expect;		/* [MAXCALLS] scratch for do_break */
static size_t ncalls;

/* Forget the logged free_frames calls. */
static void
calls_reset(void)
{
	ncalls = 0;
}

/* free_frames: a naturally aligned, allocated block of frames none of which is in use. */
static void
f_free_frames(uint64_t pfn, unsigned order)
{
	CHECK(order <= O1G, "free_frames order %u", order);
	CHECK((pfn & (NPAGES(order) - 1)) == 0, "free_frames(%lx, %u) misaligned", pfn, order);
	CHECK(pfn < NFRAMES && NPAGES(order) <= NFRAMES - pfn, "free_frames(%lx) outside", pfn);
	for (uint64_t f = pfn; f < pfn + NPAGES(order); f++) {
		CHECK(phys[f], "free_frames(%lx, %u): frame %lx already free", pfn, order, f);
		CHECK(!used[f], "free_frames(%lx, %u): frame %lx is in use", pfn, order, f);
		phys[f] = 0;
	}
	outstanding -= NPAGES(order);
	CHECK(ncalls < MAXCALLS, "too many free_frames calls");
	calls[ncalls++] = (struct block){ pfn, order };
}

/* Allocate the extent of that order at pfn if all its frames are free. */
static int
grab(uint64_t pfn, unsigned order)
{
	for (uint64_t f = pfn; f < pfn + NPAGES(order); f++)
		if (phys[f])
			return 0;
	memset(phys + pfn, 1, NPAGES(order));
	outstanding += NPAGES(order);
	return 1;
}

/* Give back an extent that never became a reservation. */
static void
ungrab(uint64_t pfn, unsigned order)
{
	memset(phys + pfn, 0, NPAGES(order));
	outstanding -= NPAGES(order);
}

/* --- The model of live reservations -------------------------------------------------- */

#define MAXR	64
struct mres {
	struct reserv *rv;
	uint64_t pfn, pindex, stamp, popcnt;
	unsigned order;
	void *obj;
};
static struct mres mr[MAXR];
static int nmr;
static struct reserv *detached;		/* last reservation detach reported */
static int ndetached;
static char objs[8];			/* owners are addresses in here */
static uint64_t now;			/* the clock passed in */
static struct reserv_stats want;	/* expected counters */

#define MAXORD	NFRAMES
static uint64_t *ordinary;		/* in-use frames of broken reservations */
static uint64_t nordinary;

/* The model entry of rv, or NULL. */
static struct mres *
model_of(const struct reserv *rv)
{
	for (int i = 0; i < nmr; i++)
		if (mr[i].rv == rv)
			return &mr[i];
	return NULL;
}

/* detach: rv must be live in the model with the same fields; it leaves the model. */
static void
f_detach(struct reserv *rv)
{
	struct mres *m = model_of(rv);

	CHECK(m != NULL, "detach of unknown reservation %p", (void *)rv);
	CHECK(rv->pfn == m->pfn && rv->order == m->order && rv->object == m->obj &&
	    rv->pindex == m->pindex && rv->popcnt == m->popcnt,
	    "detach: reservation %p fields changed", (void *)rv);
	detached = rv;
	ndetached++;
	*m = mr[--nmr];
}

static const struct reserv_ops tops = { t_alloc, t_free, f_free_frames, f_detach };

/* Fresh fake memory, model, and reservation system over npages frames. */
static void
setup(uint64_t npages)
{
	memset(phys, 0, NFRAMES);
	memset(used, 0, NFRAMES);
	outstanding = 0;
	nmr = 0;
	nordinary = 0;
	now = 0;
	memset(&want, 0, sizeof(want));
	CHECK(reserv_system_init(&tops, npages) == 0, "init over %lu frames", npages);
	CHECK(mem_blocks == 2, "init allocated %lu blocks", mem_blocks);
}

/* The system must hold no reservation and no memory after fini. */
static void
teardown(void)
{
	CHECK(reserv_count(O2M) == 0 && reserv_count(O1G) == 0, "reservations left");
	reserv_system_fini();
	CHECK(mem_blocks == 0 && mem_bytes == 0, "%lu bytes outstanding after fini", mem_bytes);
}

/* Create a reservation at pfn (allocating the extent) and add it to the model. */
static struct reserv *
make(unsigned order, uint64_t pfn, void *obj, uint64_t pindex)
{
	struct reserv *rv;

	CHECK(grab(pfn, order), "extent at %lx order %u not free", pfn, order);
	now++;
	rv = reserv_create(order, pfn, obj, pindex, now);
	CHECK(rv != NULL, "create at %lx", pfn);
	CHECK(rv->pfn == pfn && rv->order == order && rv->object == obj && rv->pindex == pindex &&
	    rv->popcnt == 0 && rv->stamp == now && rv->on_queue, "create: fields");
	CHECK(nmr < MAXR, "model full");
	mr[nmr++] = (struct mres){ rv, pfn, pindex, now, 0, order, obj };
	want.created[SI(order)]++;
	return rv;
}

/* Hand out the frame at offset off of rv, checking it is base + off. */
static void
populate(struct reserv *rv, uint64_t off)
{
	struct mres *m = model_of(rv);
	uint64_t pfn;

	now++;
	uint64_t first = 0;		/* reserv_first_free against a plain scan of the model */
	while (used[m->pfn + first])
		first++;
	CHECK(reserv_first_free(rv) == m->pindex + first, "first_free = %lx, want %lx",
	    reserv_first_free(rv), m->pindex + first);
	pfn = reserv_alloc_page(rv, m->pindex + off, now);
	CHECK(pfn == m->pfn + off, "alloc_page(+%lx) = %lx, want %lx", off, pfn, m->pfn + off);
	CHECK(!used[pfn], "alloc_page handed out in-use frame %lx", pfn);
	CHECK(reserv_page_inuse(rv, m->pindex + off), "page_inuse after alloc");
	used[pfn] = 1;
	m->popcnt++;
	m->stamp = now;
	CHECK(rv->popcnt == m->popcnt && rv->stamp == now, "alloc_page: popcnt or stamp");
	if (m->popcnt == NPAGES(m->order)) {
		want.fully_populated[SI(m->order)]++;
		CHECK(!rv->on_queue, "full reservation still queued");
	} else {
		CHECK(rv->on_queue, "partial reservation not queued");
	}
}

/* Free in-use frame pfn of rv; returns whether rv went away (with its whole extent). */
static int
depopulate(struct reserv *rv, uint64_t pfn)
{
	struct mres m = *model_of(rv);
	int gone;

	CHECK(used[pfn], "test frees frame %lx that is not in use", pfn);
	used[pfn] = 0;
	model_of(rv)->popcnt--;
	m.popcnt--;
	calls_reset();
	ndetached = 0;
	gone = reserv_free_page(rv, pfn);
	if (m.popcnt == 0) {
		CHECK(gone, "last free_page of %lx did not free the reservation", m.pfn);
		CHECK(ncalls == 1 && calls[0].pfn == m.pfn && calls[0].order == m.order,
		    "last free_page: %zu free_frames calls, want the whole extent once", ncalls);
		CHECK(ndetached == 1 && detached == rv, "last free_page: detach");
		want.freed_whole[SI(m.order)]++;
	} else {
		CHECK(!gone && ncalls == 0 && ndetached == 0, "free_page of %lx freed too much",
		    pfn);
		CHECK(rv->on_queue && rv->stamp == m.stamp, "free_page: not requeued by stamp");
	}
	return gone;
}

/* Free the 2 MiB block at pfn of rv, all in use, in one step; as depopulate. */
static int
depopulate_block(struct reserv *rv, uint64_t pfn)
{
	struct mres m = *model_of(rv);
	int gone;

	for (uint64_t k = 0; k < NPAGES(O2M); k++) {
		CHECK(used[pfn + k], "test frees block %lx whose frame %lx is not in use", pfn, pfn + k);
		used[pfn + k] = 0;
	}
	model_of(rv)->popcnt -= NPAGES(O2M);
	m.popcnt -= NPAGES(O2M);
	calls_reset();
	ndetached = 0;
	gone = reserv_free_block(rv, pfn, O2M);
	if (m.popcnt == 0) {
		CHECK(gone, "free_block of the last frames of %lx did not free the reservation", m.pfn);
		CHECK(ncalls == 1 && calls[0].pfn == m.pfn && calls[0].order == m.order,
		    "last free_block: %zu free_frames calls, want the whole extent once", ncalls);
		CHECK(ndetached == 1 && detached == rv, "last free_block: detach");
		want.freed_whole[SI(m.order)]++;
	} else {
		CHECK(!gone && ncalls == 0 && ndetached == 0, "free_block of %lx freed too much", pfn);
		CHECK(rv->on_queue && rv->stamp == m.stamp, "free_block: not requeued by stamp");
		for (uint64_t k = 0; k < NPAGES(O2M); k++)
			CHECK(!reserv_page_inuse(rv, m.pindex + (pfn - m.pfn) + k), "free_block left a frame in use");
	}
	return gone;
}

/*
 * The canonical decomposition of the frames of m's extent not in use: each maximal
 * run split greedily into maximal naturally aligned blocks.  Returns the count.
 */
static size_t
expected_blocks(const struct mres *m, struct block *out, size_t max)
{
	uint64_t end = m->pfn + NPAGES(m->order), p = m->pfn;
	size_t n = 0;

	while (p < end) {
		uint64_t q;

		if (used[p]) {
			p++;
			continue;
		}
		for (q = p; q < end && !used[q]; q++)
			;
		while (p < q) {
			unsigned k = m->order;

			while (NPAGES(k) > q - p || (p & (NPAGES(k) - 1)) != 0)
				k--;
			CHECK(n < max, "expected decomposition too long");
			out[n++] = (struct block){ p, k };
			p += NPAGES(k);
		}
	}
	return n;
}

/* qsort order for blocks by pfn. */
static int
cmp_block(const void *x, const void *y)
{
	const struct block *u = x, *v = y;

	return (u->pfn > v->pfn) - (u->pfn < v->pfn);
}

static bool preempt_useful;	/* do_break preempts with reserv_preempt_for(order) */

/*
 * Break rv (preempting when order is nonzero: then rv must be the LRU of that order, or
 * with preempt_useful the one reserv_preempt_for(order) picks):
 * exactly the not-in-use frames come back, as maximal aligned blocks; the in-use ones
 * become ordinary.
 */
static void
do_break(struct reserv *rv, unsigned preempt_order)
{
	struct mres m = *model_of(rv);
	size_t n = expected_blocks(&m, expect, MAXCALLS);

	calls_reset();
	ndetached = 0;
	if (preempt_order != 0 && preempt_useful) {
		CHECK(reserv_preempt_for(preempt_order), "preempt_for found nothing");
		want.preempted[SI(m.order)]++;
	} else if (preempt_order != 0) {
		CHECK(reserv_preempt(preempt_order), "preempt found nothing");
		want.preempted[SI(preempt_order)]++;
	} else {
		reserv_break(rv);
	}
	want.broken[SI(m.order)]++;
	CHECK(ndetached == 1 && detached == rv, "break: detach did not name %p", (void *)rv);
	qsort(calls, ncalls, sizeof(calls[0]), cmp_block);
	CHECK(ncalls == n, "break gave %zu blocks, want %zu", ncalls, n);
	for (size_t i = 0; i < n; i++)
		CHECK(calls[i].pfn == expect[i].pfn && calls[i].order == expect[i].order,
		    "break block %zu: (%lx, %u), want (%lx, %u)", i, calls[i].pfn, calls[i].order,
		    expect[i].pfn, expect[i].order);
	for (uint64_t f = m.pfn; f < m.pfn + NPAGES(m.order); f++) {
		CHECK(phys[f] == used[f], "break: frame %lx allocated %d in use %d", f, phys[f],
		    used[f]);
		if (f % 64 == 0)
			CHECK(reserv_of_frame(f) == NULL, "break: frame %lx still found", f);
		if (used[f]) {
			CHECK(nordinary < MAXORD, "too many ordinary frames");
			ordinary[nordinary++] = f;
		}
	}
	CHECK(reserv_of_frame(m.pfn) == NULL, "broken reservation still found by frame");
}

/* Free ordinary frame i (left by a break) straight to the fake allocator. */
static void
free_ordinary(uint64_t i)
{
	uint64_t f = ordinary[i];

	CHECK(phys[f] && used[f], "ordinary frame %lx not allocated", f);
	CHECK(reserv_of_frame(f) == NULL || reserv_of_frame(f)->pfn > f ||
	    reserv_of_frame(f)->pfn + NPAGES(reserv_of_frame(f)->order) <= f,
	    "ordinary frame %lx inside a reservation", f);
	phys[f] = used[f] = 0;
	outstanding--;
	ordinary[i] = ordinary[--nordinary];
}

/* for reserv_foreach: collect the reservations. */
struct seen {
	struct reserv *rv[MAXR];
	int n;
};

static void
collect(struct reserv *rv, void *arg)
{
	struct seen *s = arg;

	CHECK(s->n < MAXR, "foreach: too many");
	s->rv[s->n++] = rv;
}

/*
 * Everything the module says agrees with the model: counts, stats, queue order and
 * membership, reserv_foreach, frame lookup, and the frames outstanding.
 */
static void
check_state(int lookups)
{
	uint64_t frames = nordinary;
	struct seen s = { .n = 0 };

	for (unsigned si = 0; si < RESERV_NSIZES; si++) {
		unsigned order = si == 0 ? O2M : O1G;
		uint64_t live = 0, partial = 0, n = 0;
		struct mres *lru = NULL;

		for (int i = 0; i < nmr; i++) {
			if (mr[i].order != order)
				continue;
			live++;
			if (mr[i].popcnt < NPAGES(order)) {
				partial++;
				if (lru == NULL || mr[i].stamp < lru->stamp)
					lru = &mr[i];
			}
		}
		CHECK(reserv_count(order) == live, "order %u: %lu live, want %lu", order,
		    reserv_count(order), live);
		CHECK(reserv_partial_count(order) == partial, "order %u: %lu partial, want %lu",
		    order, reserv_partial_count(order), partial);
		CHECK(reserv_lru(order) == (lru != NULL ? lru->rv : NULL), "order %u: wrong LRU",
		    order);
		for (struct reserv *rv = reserv_lru(order); rv != NULL; rv = rv->next) {
			struct mres *m = model_of(rv);

			CHECK(m != NULL && m->order == order, "queue %u holds a stranger", order);
			CHECK(rv->on_queue && rv->popcnt < NPAGES(order), "queue %u: bad member",
			    order);
			CHECK(rv->next == NULL || (rv->next->prev == rv && rv->next->stamp >=
			    rv->stamp), "queue %u: links or stamp order", order);
			CHECK(++n <= partial, "queue %u longer than %lu", order, partial);
		}
		CHECK(n == partial, "queue %u has %lu, want %lu", order, n, partial);
		CHECK(reserv_stats.created[si] == want.created[si] &&
		    reserv_stats.broken[si] == want.broken[si] &&
		    reserv_stats.preempted[si] == want.preempted[si] &&
		    reserv_stats.fully_populated[si] == want.fully_populated[si] &&
		    reserv_stats.freed_whole[si] == want.freed_whole[si], "order %u: stats", order);
	}
	for (int i = 0; i < nmr; i++) {
		struct reserv *rv = mr[i].rv;

		CHECK(rv->popcnt == mr[i].popcnt && rv->stamp == mr[i].stamp,
		    "reservation %lx: popcnt %u stamp %lu", mr[i].pfn, rv->popcnt, rv->stamp);
		CHECK(rv->on_queue == (mr[i].popcnt < NPAGES(mr[i].order)), "on_queue of %lx",
		    mr[i].pfn);
		CHECK(reserv_of_frame(mr[i].pfn) == rv &&
		    reserv_of_frame(mr[i].pfn + NPAGES(mr[i].order) - 1) == rv,
		    "reserv_of_frame at the ends of %lx", mr[i].pfn);
		frames += NPAGES(mr[i].order);
	}
	CHECK(outstanding == frames, "%lu frames outstanding, want %lu", outstanding, frames);
	reserv_foreach(collect, &s);
	CHECK(s.n == nmr, "foreach saw %d of %d", s.n, nmr);
	for (int i = 0; i < s.n; i++) {
		CHECK(model_of(s.rv[i]) != NULL, "foreach: stranger");
		if (i > 0 && s.rv[i]->order == s.rv[i - 1]->order)
			CHECK(s.rv[i]->pfn > s.rv[i - 1]->pfn, "foreach: not by pfn");
		if (i > 0)
			CHECK(s.rv[i]->order >= s.rv[i - 1]->order, "foreach: 1 GiB before 2 MiB");
	}
	for (int k = 0; k < lookups; k++) {
		uint64_t f = rnd() % NFRAMES;
		struct reserv *want_rv = NULL;

		for (int i = 0; i < nmr; i++)
			if (f >= mr[i].pfn && f - mr[i].pfn < NPAGES(mr[i].order))
				want_rv = mr[i].rv;
		CHECK(reserv_of_frame(f) == want_rv, "reserv_of_frame(%lx)", f);
	}
}

/* A random in-use offset of m (which has popcnt > 0). */
static uint64_t
random_used_offset(const struct mres *m)
{
	uint64_t n = NPAGES(m->order), off = rnd() % n;

	while (!used[m->pfn + off])
		off = (off + 1) % n;
	return off;
}

/* A random offset of m not in use (m is not full). */
static uint64_t
random_free_offset(const struct mres *m)
{
	uint64_t n = NPAGES(m->order), off = rnd() % n;

	while (used[m->pfn + off])
		off = (off + 1) % n;
	return off;
}

/* --- Test groups --------------------------------------------------------------------- */

/* One 2 MiB reservation through its whole life: offsets, full population, free. */
static void
test_lifecycle(void)
{
	struct reserv *rv;
	uint64_t order[512], base = 3 * 512, pidx = 0x40000ull * 512;

	setup(NFRAMES);
	CHECK(reserv_of_frame(base) == NULL && reserv_lru(O2M) == NULL, "empty system");
	rv = make(O2M, base, &objs[0], pidx);
	CHECK(reserv_partial_count(O2M) == 1 && reserv_lru(O2M) == rv, "new one is queued");
	CHECK(reserv_of_frame(base) == rv && reserv_of_frame(base + 511) == rv &&
	    reserv_of_frame(base - 1) == NULL && reserv_of_frame(base + 512) == NULL,
	    "reserv_of_frame covers the extent");
	CHECK(reserv_of_frame(NFRAMES) == NULL && reserv_of_frame(~0ull) == NULL,
	    "reserv_of_frame past the end");
	for (uint64_t i = 0; i < 512; i++)
		order[i] = i;
	for (uint64_t i = 511; i > 0; i--) {
		uint64_t j = rnd() % (i + 1), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	for (uint64_t i = 0; i < 512; i++) {
		CHECK(!reserv_page_inuse(rv, pidx + order[i]), "page_inuse before alloc");
		populate(rv, order[i]);
		check_state(i % 64 == 0 ? 20 : 0);
	}
	CHECK(reserv_partial_count(O2M) == 0 && reserv_lru(O2M) == NULL && !rv->on_queue,
	    "full one left the queue");
	CHECK(reserv_stats.fully_populated[0] == 1, "fully_populated counted");
	for (uint64_t i = 0; i < 512; i++) {
		int gone = depopulate(rv, base + order[(i * 7) % 512]);

		CHECK(gone == (i == 511), "free %lu: gone %d", i, gone);
		if (!gone)
			check_state(0);
	}
	CHECK(outstanding == 0 && reserv_of_frame(base) == NULL, "whole extent returned");
	check_state(100);
	teardown();
	printf("reserv: lifecycle OK\n");
}

/* Queue order is by last population; preemption takes the head. */
static void
test_lru(void)
{
	struct reserv *a, *b, *c, *d;

	setup(NFRAMES);
	a = make(O2M, 0, &objs[0], 0);
	b = make(O2M, 512, &objs[0], 512);
	c = make(O2M, 8 * 512, &objs[1], 0);
	CHECK(reserv_lru(O2M) == a, "creation order");
	populate(a, 5);
	populate(b, 5);
	populate(c, 5);
	populate(a, 6);
	CHECK(reserv_lru(O2M) == b && b->next == c && c->next == a && a->next == NULL,
	    "A, B, C, A again: LRU is B");
	check_state(10);
	do_break(b, O2M);
	CHECK(reserv_lru(O2M) == c, "after preempting B, C is next");
	check_state(10);

	/* A full reservation that loses a page goes back by its stamp, not to the tail. */
	d = make(O2M, 16 * 512, &objs[2], 1024);
	for (uint64_t i = 0; i < 512; i++)
		populate(d, i);
	populate(c, 9);			/* c: latest; a: stamp before d's fill */
	CHECK(reserv_lru(O2M) == a && a->next == c, "queue without the full one");
	depopulate(d, 16 * 512 + 100);
	CHECK(reserv_lru(O2M) == a && a->next == d && d->next == c,
	    "depopulated full one sits between A and C by stamp");
	check_state(10);
	depopulate(a, 5);
	CHECK(reserv_lru(O2M) == a, "freeing a page does not refresh the stamp");

	/* Preempt until nothing is left; each time the head goes. */
	while (reserv_lru(O2M) != NULL) {
		do_break(reserv_lru(O2M), O2M);
		check_state(10);
	}
	CHECK(!reserv_preempt(O2M) && !reserv_preempt(O1G), "preempt of an empty queue");
	CHECK(reserv_stats.preempted[0] == 4 && reserv_stats.broken[0] == 4,
	    "preempted %lu broken %lu", reserv_stats.preempted[0], reserv_stats.broken[0]);
	while (nordinary > 0)
		free_ordinary(0);
	check_state(10);
	teardown();
	printf("reserv: lru-and-preempt OK\n");
}

/* The queue of that order must hold exactly want[0..n), head first, linked both ways. */
static void
check_queue(unsigned order, struct reserv *const *want_q, int n, const char *what)
{
	struct reserv *rv = reserv_lru(order), *prev = NULL;

	for (int i = 0; i < n; i++, prev = rv, rv = rv->next) {
		CHECK(rv == want_q[i], "%s: queue position %d holds %p, want %p", what, i,
		    (void *)rv, (void *)want_q[i]);
		CHECK(rv->prev == prev, "%s: queue position %d: back link", what, i);
	}
	CHECK(rv == NULL, "%s: queue longer than %d", what, n);
	CHECK(reserv_partial_count(order) == (uint64_t)n, "%s: partial count %lu, want %d", what,
	    reserv_partial_count(order), n);
}

/*
 * The exact order of the queue.  Population appends at the tail; a partial reservation
 * losing a page stays where it is; a full one losing a page rejoins after every
 * reservation grown at or before its stamp (after equal stamps too), which may be the
 * head, the middle or the tail; unpinning queues by stamp the same way.
 */
static void
test_lru_order(void)
{
	struct reserv *a, *b, *c, *d, *e;

	setup(NFRAMES);
	a = make(O2M, 0, &objs[0], 0);
	b = make(O2M, 512, &objs[0], 512);
	for (uint64_t i = 0; i < 512; i++)
		populate(b, i);
	now--;				/* c is created at the time b became full */
	c = make(O2M, 1024, &objs[1], 0);
	CHECK(c->stamp == b->stamp, "c and b share a stamp");
	d = make(O2M, 1536, &objs[1], 512);
	populate(a, 0);
	check_queue(O2M, (struct reserv *[]){ c, d, a }, 3, "population appends");
	depopulate(b, 512 + 7);
	check_queue(O2M, (struct reserv *[]){ c, b, d, a }, 4, "full one rejoins after its equal");
	depopulate(b, 512 + 8);
	populate(a, 1);
	depopulate(a, 0);
	check_queue(O2M, (struct reserv *[]){ c, b, d, a }, 4, "partial ones losing pages stay");

	/* Full while everyone else grows: it rejoins at the head. */
	e = make(O2M, 2048, &objs[2], 0);
	for (uint64_t i = 0; i < 512; i++)
		populate(e, i);
	populate(c, 0);
	populate(b, 7);
	populate(d, 0);
	populate(a, 0);
	check_queue(O2M, (struct reserv *[]){ c, b, d, a }, 4, "full one off the queue");
	depopulate(e, 2048);
	check_queue(O2M, (struct reserv *[]){ e, c, b, d, a }, 5, "oldest full one rejoins at the head");

	/* Full after everyone else: it rejoins at the tail. */
	populate(e, 0);
	depopulate(e, 2048 + 511);
	check_queue(O2M, (struct reserv *[]){ c, b, d, a, e }, 5, "newest full one rejoins at the tail");

	/* Pinned while others grow: unpinning puts it back by its stamp, in the middle. */
	reserv_pin(d);
	populate(c, 1);
	check_queue(O2M, (struct reserv *[]){ b, a, e, c }, 4, "pinned one off the queue");
	reserv_unpin(d);
	check_queue(O2M, (struct reserv *[]){ b, d, a, e, c }, 5, "unpinned one by its stamp");
	check_state(10);

	while (reserv_lru(O2M) != NULL)
		do_break(reserv_lru(O2M), 0);
	while (nordinary > 0)
		free_ordinary(0);
	check_state(10);
	teardown();
	printf("reserv: lru-order OK\n");
}

/* Breaking returns exactly the unused frames, as maximal aligned blocks. */
/*
 * Preemption for a request of 2^order frames takes the least recently grown reservation
 * of either size whose break gives back a free aligned block of that order, passing over
 * older ones that would not; a pinned one is never taken, and unpinning queues it again.
 */
static void
test_preempt_for(void)
{
	struct reserv *a, *b, *c;

	setup(NFRAMES);
	a = make(O2M, 0, &objs[0], 0);
	b = make(O1G, NPAGES(O1G), &objs[1], 0);
	c = make(O2M, 512, &objs[2], 512);
	populate(a, 0);
	populate(b, 0);
	populate(c, 3);
	CHECK(reserv_free_blocks(a, O2M) == 0 && reserv_free_blocks(a, 0) == 511 &&
	    reserv_free_blocks(a, 3) == 63, "free blocks of a 2 MiB reservation with frame 0 in use");
	CHECK(reserv_free_blocks(b, O2M) == 511 && reserv_free_blocks(b, O1G) == 0,
	    "free 2 MiB blocks of a 1 GiB reservation with frame 0 in use");
	preempt_useful = true;
	do_break(b, O2M);		/* a is older, but its break frees no 2 MiB block */
	check_state(10);
	CHECK(!reserv_preempt_for(O2M), "2 MiB reservations in use give no 2 MiB block");
	reserv_pin(a);
	CHECK(reserv_lru(O2M) == c, "a pinned reservation leaves its queue");
	do_break(c, 1);			/* a would be older, but it is pinned */
	CHECK(!reserv_preempt_for(0), "a pinned reservation is never preempted");
	reserv_unpin(a);
	CHECK(reserv_lru(O2M) == a && a->on_queue, "unpinning queues it again");
	do_break(a, 3);
	preempt_useful = false;
	check_state(10);
	while (nordinary > 0)
		free_ordinary(0);
	check_state(10);
	teardown();
	printf("reserv: preempt-for OK\n");
}

static void
test_break(void)
{
	static const uint64_t patterns[][8] = {
		{ 0 },				/* nothing in use: empty list */
		{ 1, 0 },			/* first frame */
		{ 1, 511 },			/* last frame */
		{ 2, 1, 2 },
		{ 2, 255, 256 },		/* around the middle */
		{ 3, 0, 511, 256 },
		{ 4, 7, 100, 300, 301 },
	};
	int n = 0;

	setup(NFRAMES);
	for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		struct reserv *rv = make(O2M, (40 + i) * 512, &objs[3], i * 512);

		for (uint64_t k = 1; k <= patterns[i][0]; k++)
			populate(rv, patterns[i][k]);
		do_break(rv, 0);
		check_state(0);
		n++;
	}
	/* All but one in use, and random densities. */
	for (int t = 0; t < 40; t++) {
		struct reserv *rv = make(O2M, (100 + t) * 512, &objs[4], t * 512);
		uint64_t k = t == 0 ? 511 : rnd() % 512;

		for (uint64_t j = 0; j < k; j++)
			populate(rv, random_free_offset(model_of(rv)));
		do_break(rv, 0);
		n++;
	}
	check_state(50);
	while (nordinary > 0)
		free_ordinary(rnd() % nordinary);
	CHECK(outstanding == 0, "frames left after breaks");
	teardown();
	printf("reserv: break OK (%d patterns)\n", n);
}

/* 1 GiB reservations: offsets, lookup, break, full population, no overlap with 2 MiB. */
static void
test_1g(void)
{
	uint64_t base = NPAGES(O1G), pidx = 7 * NPAGES(O1G);
	struct reserv *g, *s;

	setup(NFRAMES);
	g = make(O1G, base, &objs[5], pidx);
	s = make(O2M, 0, &objs[5], 0);
	CHECK(reserv_of_frame(base) == g && reserv_of_frame(base + NPAGES(O1G) - 1) == g &&
	    reserv_of_frame(base + 12345) == g && reserv_of_frame(base - 1) == NULL &&
	    reserv_of_frame(0) == s, "lookup of 1 GiB and 2 MiB extents");
	CHECK(reserv_lru(O1G) == g && reserv_lru(O2M) == s, "separate queues");
	populate(g, 0);
	populate(g, NPAGES(17));
	populate(g, NPAGES(O1G) - 1);
	populate(g, 12345);
	check_state(100);
	do_break(g, O1G);		/* preempt the 1 GiB one */
	check_state(100);
	do_break(s, 0);
	while (nordinary > 0)
		free_ordinary(0);

	/* Fully populate a 1 GiB reservation, free it all: one order-18 block. */
	g = make(O1G, 3 * NPAGES(O1G), &objs[6], 0);
	for (uint64_t i = 0; i < NPAGES(O1G); i++)
		populate(g, (i * 40503) % NPAGES(O1G));		/* odd stride: a permutation */
	CHECK(!g->on_queue && reserv_partial_count(O1G) == 0 &&
	    reserv_stats.fully_populated[1] == 1, "full 1 GiB reservation");
	check_state(100);
	for (uint64_t i = 0; i < NPAGES(O1G); i++)
		depopulate(g, 3 * NPAGES(O1G) + (i * 7) % NPAGES(O1G));
	check_state(100);
	CHECK(outstanding == 0, "1 GiB extent returned");
	teardown();

	/* An odd-sized memory: the last partial superpage has table entries too. */
	setup(NPAGES(O1G) + 1000);
	g = make(O1G, 0, &objs[7], 0);
	CHECK(reserv_of_frame(NPAGES(O1G) + 999) == NULL && reserv_of_frame(NPAGES(O1G) + 1000)
	    == NULL, "lookup in the partial top superpage");
	populate(g, 3);
	do_break(g, 0);
	free_ordinary(0);
	teardown();
	printf("reserv: 1gib OK\n");
}

/* Out-of-memory: create returns NULL and changes nothing; init fails cleanly. */
/*
 * A 2 MiB block freed in one step (a 2 MiB page's last mapping): from a full 2 MiB
 * reservation it frees the extent; from a 1 GiB one it leaves the rest in use, the
 * reservation requeued by its stamp, and each of the block's frames free in it.
 */
static void
test_free_block(void)
{
	uint64_t base = NPAGES(O1G);
	struct reserv *g, *s;

	setup(NFRAMES);
	s = make(O2M, 0, &objs[1], 0);
	g = make(O1G, base, &objs[2], NPAGES(O1G));
	for (uint64_t k = 0; k < NPAGES(O2M); k++)
		populate(s, k);
	for (uint64_t k = 0; k < 3 * NPAGES(O2M); k++)
		populate(g, k);
	CHECK(reserv_block_inuse(g, base + NPAGES(O2M), O2M) && !reserv_block_inuse(g, base + 3 * NPAGES(O2M), O2M),
	    "block_inuse of a 1 GiB reservation's blocks");
	CHECK(depopulate_block(g, base + NPAGES(O2M)) == 0, "a 1 GiB reservation went with one block");
	CHECK(!reserv_block_inuse(g, base + NPAGES(O2M), O2M), "the freed block is still in use");
	check_state(100);
	CHECK(depopulate_block(s, 0) == 1, "a full 2 MiB reservation stayed after its block was freed");
	check_state(100);
	do_break(g, 0);
	while (nordinary > 0)
		free_ordinary(0);
	check_state(100);
	printf("reserv: free-block OK\n");
	teardown();
}

static void
test_nomem(void)
{
	struct reserv *rv;
	uint64_t bytes;

	fail_in = 1;
	CHECK(reserv_system_init(&tops, NFRAMES) == -1 && mem_blocks == 0, "init, first alloc");
	fail_in = 2;
	CHECK(reserv_system_init(&tops, NFRAMES) == -1 && mem_blocks == 0, "init, second alloc");
	fail_in = 0;
	setup(NFRAMES);
	bytes = mem_bytes;
	CHECK(grab(512, O2M), "grab");
	fail_in = 1;
	rv = reserv_create(O2M, 512, &objs[0], 0, ++now);
	CHECK(rv == NULL && fail_in == 0, "create without memory");
	CHECK(mem_bytes == bytes && reserv_of_frame(512) == NULL && reserv_count(O2M) == 0 &&
	    reserv_partial_count(O2M) == 0 && reserv_stats.created[0] == 0,
	    "failed create changed state");
	ungrab(512, O2M);
	rv = make(O2M, 512, &objs[0], 0);
	CHECK(mem_bytes == bytes + sizeof(struct reserv) + 64, "2 MiB reservation takes %lu bytes",
	    mem_bytes - bytes);
	do_break(rv, 0);
	CHECK(grab(512, O2M), "grab");
	fail_in = 2;			/* the bitmap, after the struct */
	rv = reserv_create(O2M, 512, &objs[0], 0, ++now);
	CHECK(rv == NULL && mem_bytes == bytes && reserv_count(O2M) == 0,
	    "create without memory for the bitmap");
	ungrab(512, O2M);
	rv = make(O2M, 512, &objs[0], 0);
	do_break(rv, 0);
	rv = make(O1G, 0, &objs[0], 0);
	CHECK(mem_bytes == bytes + sizeof(struct reserv) + 32768,
	    "1 GiB reservation takes %lu bytes", mem_bytes - bytes);
	do_break(rv, 0);
	check_state(10);
	teardown();
	/* Tiny memories: no table at all, or less than one superpage. */
	CHECK(reserv_system_init(&tops, 0) == 0 && reserv_of_frame(0) == NULL, "0 frames");
	reserv_system_fini();
	CHECK(reserv_system_init(&tops, 100) == 0 && reserv_of_frame(99) == NULL, "100 frames");
	reserv_system_fini();
	CHECK(mem_blocks == 0, "tiny systems leaked");
	printf("reserv: out-of-memory OK\n");
}

/* Random creates, populations, frees, breaks and preemptions against the model. */
static void
test_random(void)
{
	int steps = 40000, made = 0, broken = 0, preempted = 0, freed = 0, full = 0, nomem = 0, blocks = 0;

	rng_seed(0x2E5E2F00D5EEDull);
	setup(NFRAMES);
	for (int i = 0; i < steps; i++) {
		uint64_t r = rnd() % 100;

		if (r < 6 || nmr == 0) {			/* create */
			/* 2 MiB ones in the lower half of memory, 1 GiB ones in the upper. */
			unsigned order = rnd() % 10 == 0 ? O1G : O2M;
			uint64_t half = (NFRAMES / 2) >> order;
			uint64_t pfn = (rnd() % half + (order == O1G ? half : 0)) << order;
			uint64_t pindex = (rnd() % (1ull << (36 - order))) << order;
			struct reserv *rv;

			if (nmr >= MAXR - 1 || !grab(pfn, order))
				continue;
			if (rnd() % 20 == 0) {	/* the struct or the bitmap cannot be had */
				fail_in = 1 + rnd() % 2;
				rv = reserv_create(order, pfn, &objs[rnd() % 8], pindex, ++now);
				CHECK(rv == NULL, "create under injected failure");
				fail_in = 0;
				ungrab(pfn, order);
				nomem++;
				continue;
			}
			ungrab(pfn, order);
			make(order, pfn, &objs[rnd() % 8], pindex);
			made++;
		} else if (r < 60) {			/* populate */
			struct mres *m = &mr[rnd() % nmr];

			if (m->popcnt == NPAGES(m->order))
				continue;
			populate(m->rv, random_free_offset(m));
			if (m->popcnt == NPAGES(m->order))
				full++;
		} else if (r < 70) {			/* fill a 2 MiB one up */
			struct mres *m = &mr[rnd() % nmr];

			if (m->order != O2M || m->popcnt == NPAGES(O2M))
				continue;
			while (m->popcnt < NPAGES(O2M))
				populate(m->rv, random_free_offset(m));
			full++;
		} else if (r < 88) {			/* free a 2 MiB block in one step */
			struct mres *m = &mr[rnd() % nmr];
			uint64_t blk = m->pfn + ((rnd() % NPAGES(m->order - O2M)) << O2M);
			bool all = true;

			for (uint64_t k = 0; k < NPAGES(O2M); k++)
				all &= used[blk + k] != 0;
			CHECK(reserv_block_inuse(m->rv, blk, O2M) == all, "block_inuse of %lx is not %d", blk, all);
			if (all) {
				freed += depopulate_block(m->rv, blk);
				blocks++;
			}
		} else if (r < 90) {			/* free a frame */
			struct mres *m = &mr[rnd() % nmr];

			if (nordinary > 0 && rnd() % 2 == 0) {
				for (uint64_t k = rnd() % 1024; k > 0 && nordinary > 0; k--)
					free_ordinary(rnd() % nordinary);
				continue;
			}
			if (m->popcnt == 0)
				continue;
			freed += depopulate(m->rv, m->pfn + random_used_offset(m));
		} else if (r < 95) {			/* break */
			do_break(mr[rnd() % nmr].rv, 0);
			broken++;
		} else {				/* preempt */
			unsigned order = rnd() % 2 == 0 ? O1G : O2M;
			struct reserv *lru = reserv_lru(order);

			if (lru == NULL) {
				CHECK(!reserv_preempt(order), "preempt with an empty queue");
				continue;
			}
			do_break(lru, order);
			preempted++;
		}
		check_state(i % 100 == 0 ? 200 : 2);
	}
	while (nmr > 0)
		do_break(mr[0].rv, 0);
	while (nordinary > 0)
		free_ordinary(rnd() % nordinary);
	check_state(100);
	CHECK(outstanding == 0, "%lu frames outstanding at the end", outstanding);
	CHECK(made > 100 && broken > 100 && preempted > 50 && freed > 10 && full > 50 &&
	    reserv_stats.created[1] > 10 && reserv_stats.preempted[1] > 0 && blocks > 10, "random: too tame");
	printf("reserv: random-sequences OK (%d steps: %d created, %lu of them 1 GiB, %d failed "
	    "creates, %d full, %d freed whole, %d 2 MiB blocks freed in one step, %d broken, %d preempted)\n",
	    steps, made, reserv_stats.created[1], nomem, full, freed, blocks, broken, preempted);
	teardown();
}

/* Misuse scenarios for the death tests, and a word of the KASSERT message each must trip. */
static const char *const misuse_expect[] = {
	"already in use", "outside reservation", "not in use", "outside reservation",
	"overlaps a 1 GiB", "overlaps a 2 MiB", "overlaps a 2 MiB", "not aligned", "not aligned",
	"past", "time went back", "bad order", "reservations alive", "not live",
	"not in its table",
};
#define NMISUSE	(int)(sizeof(misuse_expect) / sizeof(misuse_expect[0]))

/* free_frames for the death tests: accept anything. */
static void
m_free_frames(uint64_t pfn, unsigned order)
{
	(void)pfn;
	(void)order;
}

static const struct reserv_ops mops = { t_alloc, t_free, m_free_frames, NULL };

/* Run misuse scenario which; it should not return. */
static void
misuse(int which)
{
	struct reserv *rv, copy;

	reserv_system_init(&mops, NFRAMES);
	rv = reserv_create(O2M, 512, &objs[0], 1024, 10);
	reserv_alloc_page(rv, 1024 + 3, 11);
	switch (which) {
	case 0:		/* frame handed out twice */
		reserv_alloc_page(rv, 1024 + 3, 12);
		break;
	case 1:		/* pindex past the range */
		reserv_alloc_page(rv, 1024 + 512, 12);
		break;
	case 2:		/* free of a frame not in use */
		reserv_free_page(rv, 512 + 4);
		break;
	case 3:		/* free of a frame of another extent */
		reserv_free_page(rv, 1024 + 3);
		break;
	case 4:		/* 2 MiB inside a 1 GiB */
		reserv_create(O1G, NPAGES(O1G), &objs[0], 0, 12);
		reserv_create(O2M, NPAGES(O1G) + 512, &objs[0], 0, 13);
		break;
	case 5:		/* 1 GiB over a 2 MiB */
		reserv_create(O1G, 0, &objs[0], 0, 12);
		break;
	case 6:		/* the same 2 MiB twice */
		reserv_create(O2M, 512, &objs[1], 0, 12);
		break;
	case 7:		/* misaligned frame */
		reserv_create(O2M, 4096 + 8, &objs[0], 0, 12);
		break;
	case 8:		/* misaligned pindex */
		reserv_create(O1G, NPAGES(O1G), &objs[0], 512, 12);
		break;
	case 9:		/* past the end of memory */
		reserv_create(O2M, NFRAMES, &objs[0], 0, 12);
		break;
	case 10:	/* time going backwards */
		reserv_alloc_page(rv, 1024 + 4, 5);
		break;
	case 11:	/* order neither 9 nor 18 */
		reserv_create(10, 1024, &objs[0], 0, 12);
		break;
	case 12:	/* fini with a live reservation */
		reserv_system_fini();
		break;
	case 13:	/* a reservation that is not live */
		copy = *rv;
		copy.object = NULL;
		reserv_alloc_page(&copy, 1024 + 4, 12);
		break;
	case 14:	/* a stale copy of a live one */
		copy = *rv;
		reserv_free_page(&copy, 512 + 3);
		break;
	}
}

int
main(void)
{
	harness_start();
	phys = xcalloc(NFRAMES, 1);
	used = xcalloc(NFRAMES, 1);
	ordinary = xcalloc(MAXORD, sizeof(uint64_t));
	calls = xcalloc(MAXCALLS, sizeof(struct block));
	expect = xcalloc(MAXCALLS, sizeof(struct block));
	rng_seed(0xBEEF5EED);
	test_lifecycle();
	test_lru();
	test_lru_order();
	test_preempt_for();
	test_break();
	test_1g();
	test_free_block();
	test_nomem();
	test_random();
	harness_kassert(NMISUSE, misuse, misuse_expect);
	CHECK(mem_blocks == 0 && mem_bytes == 0, "%lu bytes outstanding at exit", mem_bytes);
	free(phys);
	free(used);
	free(ordinary);
	free(calls);
	free(expect);
	return harness_done();
}
