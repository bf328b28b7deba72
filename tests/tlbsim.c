/*
 * Reference TLB simulator: see tests/tlbsim.h for the rules it implements.
 *
 * Each set is an array of `ways` slots.  FIFO sets keep their entries packed at the
 * front of the array in insertion order, oldest first: a refill appends (after
 * dropping slot 0 when full) and an invalidation closes the gap.  RANDOM and CLOCK sets
 * keep entries where they were put, with a used flag per slot, and CLOCK a hand.
 * Speed is not a goal: everything is a linear scan.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inc/xorshift.h"
#include "tests/tlbsim.h"

static const unsigned shift_of[TLBSIM_NSIZES] = { 12, 21, 30 };
static const unsigned refs_of[TLBSIM_NSIZES] = { 4, 3, 2 };
#define OMT_REFS	4

struct sent {
	uint64_t page;
	uint16_t asid;
	bool used;		/* RANDOM, CLOCK: slot holds an entry */
	bool ref;		/* CLOCK: reference bit */
};

struct sset {
	struct sent *slot;	/* [ways] */
	unsigned n;		/* FIFO: entries, in slot[0..n) oldest first */
	unsigned hand;		/* CLOCK */
};

struct stlb {
	struct tlbsim_geom g;
	unsigned sets;
	struct sset *set;
	uint64_t rng;
};

struct tlbsim {
	struct stlb tlb[TLBSIM_NSIZES];
	bool tag_by_asid;
	struct tlbsim_counts c;
};

/* Zeroed host memory, or exit. */
static void *
zalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (p == NULL) {
		printf("tlbsim: out of host memory\n");
		exit(1);
	}
	return p;
}

struct tlbsim *
tlbsim_new(const struct tlbsim_geom geom[TLBSIM_NSIZES], bool tag_by_asid)
{
	struct tlbsim *sim = zalloc(1, sizeof(*sim));

	sim->tag_by_asid = tag_by_asid;
	for (int s = 0; s < TLBSIM_NSIZES; s++) {
		struct stlb *t = &sim->tlb[s];

		t->g = geom[s];
		if (t->g.ways == 0 || t->g.entries % t->g.ways != 0) {
			printf("tlbsim: bad geometry %u/%u\n", t->g.entries, t->g.ways);
			exit(1);
		}
		t->sets = t->g.entries / t->g.ways;
		t->set = zalloc(t->sets, sizeof(struct sset));
		for (unsigned i = 0; i < t->sets; i++)
			t->set[i].slot = zalloc(t->g.ways, sizeof(struct sent));
		t->rng = xorshift64_seed(t->g.seed);
	}
	return sim;
}

void
tlbsim_free(struct tlbsim *sim)
{
	for (int s = 0; s < TLBSIM_NSIZES; s++) {
		for (unsigned i = 0; i < sim->tlb[s].sets; i++)
			free(sim->tlb[s].set[i].slot);
		free(sim->tlb[s].set);
	}
	free(sim);
}

/* Whether slot k of set st holds an entry. */
static bool
occupied(const struct stlb *t, const struct sset *st, unsigned k)
{
	return t->g.repl == TLBSIM_FIFO ? k < st->n : st->slot[k].used;
}

/* Remove the entry in slot k of st. */
static void
take_out(const struct stlb *t, struct sset *st, unsigned k)
{
	if (t->g.repl == TLBSIM_FIFO) {
		memmove(&st->slot[k], &st->slot[k + 1], (st->n - k - 1) * sizeof(struct sent));
		st->n--;
	} else {
		st->slot[k].used = false;
	}
}

/* Look (page, asid) up in TLB s: on a hit set its reference bit and return true. */
static bool
probe(struct tlbsim *sim, int s, uint64_t page, uint16_t asid)
{
	struct stlb *t = &sim->tlb[s];
	struct sset *st = &t->set[page % t->sets];

	for (unsigned k = 0; k < t->g.ways; k++)
		if (occupied(t, st, k) && st->slot[k].page == page && st->slot[k].asid == asid) {
			st->slot[k].ref = true;
			return true;
		}
	return false;
}

/* Put (page, asid) into TLB s, evicting by its policy if the set is full. */
static void
fill(struct tlbsim *sim, int s, uint64_t page, uint16_t asid)
{
	struct stlb *t = &sim->tlb[s];
	struct sset *st = &t->set[page % t->sets];
	struct sent ne = { .page = page, .asid = asid, .used = true, .ref = true };
	unsigned w = t->g.ways, k;

	if (t->g.repl == TLBSIM_FIFO) {
		if (st->n == w) {
			take_out(t, st, 0);
			sim->c.evictions[s]++;
		}
		st->slot[st->n++] = ne;
		return;
	}
	for (k = 0; k < w; k++)
		if (!st->slot[k].used) {
			st->slot[k] = ne;
			return;
		}
	sim->c.evictions[s]++;
	if (t->g.repl == TLBSIM_RANDOM) {
		k = (unsigned)xorshift64_below(&t->rng, w);
	} else {
		while (st->slot[st->hand].ref) {
			st->slot[st->hand].ref = false;
			st->hand = (st->hand + 1) % w;
		}
		k = st->hand;
		st->hand = (st->hand + 1) % w;
	}
	st->slot[k] = ne;
}

/* One lookup in TLB s, refilled on a miss at `refs` walk references; true on a hit. */
static bool
lookup(struct tlbsim *sim, int s, uint64_t va, uint16_t asid, unsigned refs)
{
	uint64_t page = va >> shift_of[s];

	sim->c.lookups[s]++;
	if (probe(sim, s, page, asid)) {
		sim->c.hits[s]++;
		return true;
	}
	sim->c.misses[s]++;
	sim->c.walk_refs += refs;
	fill(sim, s, page, asid);
	return false;
}

/* Drop from TLB s the entries of `page` (any page if any_page) of asid (any if any_asid). */
static void
drop(struct tlbsim *sim, int s, bool any_page, uint64_t page, bool any_asid, uint16_t asid)
{
	struct stlb *t = &sim->tlb[s];

	for (unsigned i = 0; i < t->sets; i++) {
		struct sset *st = &t->set[i];

		for (unsigned k = t->g.ways; k-- > 0;)
			if (occupied(t, st, k) && (any_page || st->slot[k].page == page) &&
			    (any_asid || st->slot[k].asid == asid))
				take_out(t, st, k);
	}
}

bool
tlbsim_step(struct tlbsim *sim, const struct tlbsim_ref *r)
{
	uint16_t asid = sim->tag_by_asid ? r->asid : 0;
	bool hit;

	switch (r->op) {
	case TLBSIM_ACCESS:
		sim->c.accesses++;
		if (r->size != TLBSIM_2M)
			return lookup(sim, r->size, r->va, asid, refs_of[r->size]);
		hit = lookup(sim, TLBSIM_2M, r->va, asid, refs_of[TLBSIM_2M]);
		if (r->overlaid) {
			if (!lookup(sim, TLBSIM_4K, r->va, asid, OMT_REFS)) {
				sim->c.omt_walks++;
				hit = false;
			}
		}
		return hit;
	case TLBSIM_INVALIDATE:
		for (int s = 0; s < TLBSIM_NSIZES; s++)
			drop(sim, s, false, r->va >> shift_of[s], false, asid);
		return false;
	case TLBSIM_FLUSH:
	case TLBSIM_FLUSH_ASID:
		for (int s = 0; s < TLBSIM_NSIZES; s++)
			drop(sim, s, true, 0, r->op == TLBSIM_FLUSH || !sim->tag_by_asid, asid);
		return false;
	}
	printf("tlbsim: bad op %u\n", r->op);
	exit(1);
}

bool
tlbsim_instruction(struct tlbsim *sim, uint64_t va, uint64_t len, uint8_t size, uint16_t asid)
{
	uint64_t first = va >> shift_of[size], last = (va + len - 1) >> shift_of[size];
	bool hit = true;

	for (uint64_t page = first; page <= last; page++) {
		struct tlbsim_ref r = { .va = page << shift_of[size], .asid = asid, .op = TLBSIM_ACCESS,
					.size = size, .overlaid = false };

		hit &= tlbsim_step(sim, &r);
	}
	return hit;
}

void
tlbsim_counts(const struct tlbsim *sim, struct tlbsim_counts *out)
{
	*out = sim->c;
}

unsigned
tlbsim_resident(const struct tlbsim *sim, int size)
{
	const struct stlb *t = &sim->tlb[size];
	unsigned n = 0;

	for (unsigned i = 0; i < t->sets; i++)
		for (unsigned k = 0; k < t->g.ways; k++)
			n += occupied(t, &t->set[i], k);
	return n;
}

void
tlbsim_run(const struct tlbsim_geom geom[TLBSIM_NSIZES], bool tag_by_asid,
    const struct tlbsim_ref *trace, size_t n, bool *hit, struct tlbsim_counts *out)
{
	struct tlbsim *sim = tlbsim_new(geom, tag_by_asid);

	for (size_t i = 0; i < n; i++) {
		bool h = tlbsim_step(sim, &trace[i]);

		if (hit != NULL)
			hit[i] = h;
	}
	tlbsim_counts(sim, out);
	tlbsim_free(sim);
}
