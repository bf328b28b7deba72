/*
 * The model TLB of trap-driven simulation.
 *
 * The method (Uhlig et al., "Trap-driven simulation with Tapeworm II", ASPLOS'94;
 * Gandhi et al.'s BadgerTrap, 2014; the SuperPageOverlay seed): to count the TLB
 * misses a proposed TLB would take, keep every user translation that is not resident
 * in a software model of that TLB "fake-invalid" in the real page tables (present
 * clear, a software bit saying it is really valid) and out of the hardware TLB.  An
 * access to it faults; the fault path recognises the fake fault, tells the model
 * (vtlb_miss), which inserts the translation and may evict another, makes the
 * translation valid again and returns.  The caller makes each evicted translation
 * fake-invalid again and invlpg's it.  Every access the model would hit runs at full
 * speed; every one it would miss costs one trap.
 *
 * The model (this file).  Three set-associative TLBs, one per x86 page size, each with
 * its own geometry (entries, ways, replacement, seed).  An entry is tagged by its page
 * number and, with tag_by_asid, the address space (else the caller flushes on a
 * switch).  The set of a page is vpn mod sets (any number of sets, not only powers of
 * two).  A 2 MiB entry carries the 512-bit OBV of its mapping, copied at the refill
 * (page overlays, Seshadri et al. ISCA'15): an access to a segment whose OBV bit is
 * set goes on to the 4 KiB TLB, and a 4 KiB miss there walks the per-process overlay
 * mapping table (OMT) instead of the page tables and inserts an "overlay" 4 KiB entry.
 * Accesses to the other segments are served by the 2 MiB entry alone.
 *
 * Replacement.  A refill takes the lowest-numbered invalid way of its set if there is
 * one (nothing is evicted); otherwise
 *   FIFO    the way inserted longest ago (stamps; hits change nothing);
 *   RANDOM  way xorshift64_below(rng, ways), one generator per TLB seeded from its
 *           geometry, drawn only when a full set must evict (hits change nothing);
 *   CLOCK   second chance: from the set's hand, an entry that was referenced since the
 *           hand last passed loses its bit and is skipped; the first one that was not
 *           is evicted and the hand moves past it.  "Referenced" is the model's own bit
 *           (set at the refill and on hits the model sees during a trap) OR the
 *           caller's referenced callback, which reads and clears the hardware accessed
 *           bit -- the only trace of the hits that never trapped.  The hand does not
 *           move when a free way is filled.
 * True LRU is impossible: hits do not trap, so the model never learns their order.
 *
 * Why the counts are exact.  FIFO and RANDOM change state only on misses, and the
 * model sees every miss, so its state and counts are those of a simulator that sees
 * every access (tests/tlbsim.c).  CLOCK also depends on hits, through reference bits:
 * exact as long as the callback reports every use of the translation since its
 * previous call (a stale accessed bit left at a refill is harmless: the refill sets
 * the model's bit anyway).  What the caller must keep true:
 *  - a translation is valid in the hardware tables exactly while vtlb_resident() says
 *    it is; for a 2 MiB model entry that is every 4 KiB hardware PTE backing it, and an
 *    overlaid segment needs both the 2 MiB and the 4 KiB overlay entry;
 *  - every victim is made fake-invalid again (a 2 MiB victim: all 512 PTEs behind it);
 *  - a mapping that changes (unmap, protect, COW, promotion, demotion) is invalidated
 *    here as with invlpg, and without tag_by_asid the model is flushed on a switch
 *    (vtlb_foreach lists what to make fake-invalid first).
 * With overlays one hardware PTE's accessed bit serves both the 2 MiB entry and the 4
 * KiB overlay entry; the caller keeps a software copy so reading one does not clear
 * the other.
 *
 * Walk references: 4, 3 and 2 memory references for a 4 KiB, 2 MiB and 1 GiB miss in
 * the x86 4-level radix table, 4 for an OMT walk.  Not modelled: paging-structure
 * caches (which would cut walk references), a second-level TLB, separate instruction
 * TLBs, prefetching, and the cost of the OBV fetch beside the 2 MiB walk.
 *
 * Cost: a lookup scans one set, O(ways); range invalidation and flushes scan all entries.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "inc/xorshift.h"
#include "kern/kassert.h"
#include "kern/mm/lib/vtlb.h"

static const unsigned page_shift[PS_NSIZES] = { 12, 21, 30 };
static const uint16_t max_entries[PS_NSIZES] = { VTLB_MAX_4K, VTLB_MAX_2M, VTLB_MAX_1G };
static const uint64_t walk_refs[PS_NSIZES] = {
	VTLB_WALK_REFS_4K, VTLB_WALK_REFS_2M, VTLB_WALK_REFS_1G
};

/* The entry array of TLB s.  (Casts away const so readers and writers can share it.) */
static struct vtlb_entry *
slots(const struct vtlb *t, unsigned s)
{
	const struct vtlb_entry *e = s == PS_4K ? t->e4k : s == PS_2M ? t->e2m : t->e1g;

	return (struct vtlb_entry *)e;
}

/* The per-set clock hands of TLB s. */
static uint16_t *
hands(struct vtlb *t, unsigned s)
{
	return s == PS_4K ? t->hand4k : s == PS_2M ? t->hand2m : t->hand1g;
}

/* The tag stored for asid: asid itself, or 0 when the model ignores address spaces. */
static uint16_t
tag_of(const struct vtlb *t, uint16_t asid)
{
	return t->cfg.tag_by_asid ? asid : 0;
}

/* Panic unless s is a page size. */
static void
check_size(unsigned s, const char *fn)
{
	KASSERT(s < PS_NSIZES, "%s: bad page size %u", fn, s);
}

/* Whether OBV bit seg (0..511) is set. */
static bool
obv_bit(const uint64_t *obv, unsigned seg)
{
	return (obv[seg / 64] >> (seg % 64)) & 1;
}

/* The 4 KiB segment of its 2 MiB page that va lies in. */
static unsigned
segment_of(uint64_t va)
{
	return (unsigned)(va >> 12) & (VTLB_OBV_BITS - 1);
}

/* Slot of the valid entry (vpn, tag) in TLB s, or -1 if it is not resident. */
static int
find(const struct vtlb *t, unsigned s, uint64_t vpn, uint16_t tag)
{
	const struct vtlb_tlb *tl = &t->tlb[s];
	const struct vtlb_entry *e = slots(t, s);
	unsigned ways = tl->geo.ways;
	unsigned first = (unsigned)(vpn % tl->sets) * ways;

	for (unsigned i = first; i < first + ways; i++)
		if (e[i].valid && e[i].vpn == vpn && e[i].asid == tag)
			return (int)i;
	return -1;
}

/* Add every counter of d to *to. */
static void
add_stats(struct vtlb_stats *to, const struct vtlb_stats *d)
{
	to->traps += d->traps;
	for (unsigned s = 0; s < PS_NSIZES; s++) {
		to->lookups[s] += d->lookups[s];
		to->hits[s] += d->hits[s];
		to->misses[s] += d->misses[s];
		to->evictions[s] += d->evictions[s];
		to->invalidations[s] += d->invalidations[s];
	}
	to->walk_refs += d->walk_refs;
	to->omt_walks += d->omt_walks;
	to->flushes += d->flushes;
}

void
vtlb_default_config(struct vtlb_config *c)
{
	c->tlb[PS_4K] = (struct vtlb_geometry){ 64, 4, VTLB_CLOCK, 0x4B };
	c->tlb[PS_2M] = (struct vtlb_geometry){ 32, 4, VTLB_CLOCK, 0x2A };
	c->tlb[PS_1G] = (struct vtlb_geometry){ 4, 4, VTLB_CLOCK, 0x16 };
	c->tag_by_asid = true;
}

void
vtlb_init(struct vtlb *t, const struct vtlb_config *c, vtlb_referenced_fn referenced,
    void *ctx)
{
	for (unsigned s = 0; s < PS_NSIZES; s++) {
		const struct vtlb_geometry *g = &c->tlb[s];

		KASSERT(g->entries >= 1 && g->entries <= max_entries[s],
		    "vtlb_init: TLB %u: %u entries, not 1..%u", s, g->entries, max_entries[s]);
		KASSERT(g->ways >= 1 && g->ways <= g->entries && g->entries % g->ways == 0,
		    "vtlb_init: TLB %u: %u ways do not divide %u entries", s, g->ways,
		    g->entries);
		KASSERT(g->repl == VTLB_FIFO || g->repl == VTLB_RANDOM || g->repl == VTLB_CLOCK,
		    "vtlb_init: TLB %u: unknown replacement %u", s, (unsigned)g->repl);
	}
	t->cfg = *c;
	t->referenced = referenced;
	t->ctx = ctx;
	t->stats = (struct vtlb_stats){ 0 };
	for (unsigned s = 0; s < PS_NSIZES; s++) {
		struct vtlb_tlb *tl = &t->tlb[s];
		struct vtlb_entry *e = slots(t, s);
		uint16_t *hand = hands(t, s);

		tl->geo = c->tlb[s];
		tl->sets = tl->geo.entries / tl->geo.ways;
		tl->rng = xorshift64_seed(tl->geo.seed);
		tl->next_stamp = 0;
		for (unsigned i = 0; i < max_entries[s]; i++) {
			e[i] = (struct vtlb_entry){ .size = (uint8_t)s };
			hand[i] = 0;
		}
	}
	for (unsigned i = 0; i < VTLB_MAX_2M; i++)
		for (unsigned w = 0; w < VTLB_OBV_WORDS; w++)
			t->obv[i][w] = 0;
}

bool
vtlb_resident(const struct vtlb *t, uint64_t va, enum page_size size, uint16_t asid)
{
	uint16_t tag = tag_of(t, asid);
	int i;

	check_size(size, "vtlb_resident");
	i = find(t, size, va >> page_shift[size], tag);
	if (i < 0)
		return false;
	if (size != PS_2M || !obv_bit(t->obv[i], segment_of(va)))
		return true;
	return find(t, PS_4K, va >> page_shift[PS_4K], tag) >= 0;
}

/*
 * CLOCK victim in the full set starting at slot first: sweep from the set's hand.
 * Each entry visited loses its reference bits; the first that had none is the victim.
 * After one full turn every bit is clear, so this visits at most ways + 1 entries.
 */
static unsigned
clock_victim(struct vtlb *t, unsigned s, unsigned set, unsigned first)
{
	struct vtlb_entry *e = slots(t, s);
	uint16_t *hand = &hands(t, s)[set];
	unsigned ways = t->tlb[s].geo.ways;

	for (unsigned n = 0;; n++) {
		unsigned way = *hand;
		struct vtlb_entry *v = &e[first + way];
		bool ref = v->ref;

		if (n < ways && t->referenced != NULL)
			ref = t->referenced(t->ctx, v) || ref;	/* always read-and-clear */
		v->ref = false;
		*hand = (uint16_t)((way + 1) % ways);
		if (!ref)
			return first + way;
	}
}

/*
 * The slot a refill of set `set` of TLB s goes to: its lowest-numbered invalid way, or
 * (*evict = true) the replacement policy's victim.
 */
static unsigned
choose_slot(struct vtlb *t, unsigned s, unsigned set, bool *evict)
{
	struct vtlb_tlb *tl = &t->tlb[s];
	struct vtlb_entry *e = slots(t, s);
	unsigned ways = tl->geo.ways, first = set * ways, victim;

	for (unsigned i = first; i < first + ways; i++)
		if (!e[i].valid) {
			*evict = false;
			return i;
		}
	*evict = true;
	switch (tl->geo.repl) {
	case VTLB_FIFO:
		victim = first;
		for (unsigned i = first + 1; i < first + ways; i++)
			if (e[i].stamp < e[victim].stamp)
				victim = i;
		return victim;
	case VTLB_RANDOM:
		return first + (unsigned)xorshift64_below(&tl->rng, ways);
	default:
		return clock_victim(t, s, set, first);
	}
}

/*
 * A miss in TLB s on (vpn, tag): count it with `refs` walk references in *d and insert
 * the entry, referenced; an evicted entry is appended to victims[*nv].  Returns the slot.
 */
static unsigned
refill(struct vtlb *t, struct vtlb_stats *d, unsigned s, uint64_t vpn, uint16_t tag,
    bool overlay, uint64_t refs, struct vtlb_victim *victims, int *nv)
{
	struct vtlb_tlb *tl = &t->tlb[s];
	struct vtlb_entry *e = slots(t, s);
	bool evict;
	unsigned i = choose_slot(t, s, (unsigned)(vpn % tl->sets), &evict);

	d->lookups[s]++;
	d->misses[s]++;
	d->walk_refs += refs;
	if (evict) {
		KASSERT(*nv < VTLB_MAX_VICTIMS, "vtlb_miss: more than %d victims",
		    VTLB_MAX_VICTIMS);
		victims[(*nv)++] = (struct vtlb_victim){
			.va = vtlb_entry_va(&e[i]), .size = (enum page_size)s,
			.asid = e[i].asid, .overlay = e[i].overlay,
		};
		d->evictions[s]++;
	}
	e[i] = (struct vtlb_entry){
		.vpn = vpn, .stamp = tl->next_stamp++, .asid = tag, .size = (uint8_t)s,
		.valid = true, .ref = true, .overlay = overlay,
	};
	return i;
}

/* A lookup in TLB s that hit slot i while the model was looking: count it, mark it used. */
static void
model_hit(struct vtlb *t, struct vtlb_stats *d, unsigned s, int i)
{
	d->lookups[s]++;
	d->hits[s]++;
	slots(t, s)[i].ref = true;
}

int
vtlb_miss(struct vtlb *t, const struct vtlb_access *a,
    struct vtlb_victim victims[VTLB_MAX_VICTIMS])
{
	struct vtlb_stats d = { 0 };
	uint16_t tag = tag_of(t, a->asid);
	uint64_t vpn4 = a->va >> page_shift[PS_4K];
	int nv = 0, i, j;

	check_size(a->size, "vtlb_miss");
	KASSERT(a->obv == NULL || a->size == PS_2M,
	    "vtlb_miss: an OBV for a page of size %u", (unsigned)a->size);
	KASSERT(!vtlb_resident(t, a->va, a->size, a->asid),
	    "vtlb_miss: va %lx (size %u, asid %u) is resident, it cannot trap", a->va,
	    (unsigned)a->size, (unsigned)a->asid);
	d.traps = 1;
	if (a->size != PS_2M) {
		refill(t, &d, a->size, a->va >> page_shift[a->size], tag, false,
		    walk_refs[a->size], victims, &nv);
	} else {
		i = find(t, PS_2M, a->va >> page_shift[PS_2M], tag);
		if (i >= 0) {
			model_hit(t, &d, PS_2M, i);
		} else {
			i = (int)refill(t, &d, PS_2M, a->va >> page_shift[PS_2M], tag, false,
			    VTLB_WALK_REFS_2M, victims, &nv);
			for (unsigned w = 0; w < VTLB_OBV_WORDS; w++)
				t->obv[i][w] = a->obv != NULL ? a->obv[w] : 0;
		}
		if (obv_bit(t->obv[i], segment_of(a->va))) {
			j = find(t, PS_4K, vpn4, tag);
			if (j >= 0) {
				model_hit(t, &d, PS_4K, j);
			} else {
				refill(t, &d, PS_4K, vpn4, tag, true, VTLB_WALK_REFS_OMT,
				    victims, &nv);
				d.omt_walks++;
			}
		}
	}
	add_stats(&t->stats, &d);
	if (a->acct != NULL)
		add_stats(a->acct, &d);
	return nv;
}

/* Drop the valid entry in slot i of TLB s. */
static void
drop(struct vtlb *t, unsigned s, unsigned i)
{
	slots(t, s)[i].valid = false;
	t->stats.invalidations[s]++;
}

int
vtlb_invalidate(struct vtlb *t, uint64_t va, uint16_t asid)
{
	uint16_t tag = tag_of(t, asid);
	int n = 0;

	for (unsigned s = 0; s < PS_NSIZES; s++) {
		int i = find(t, s, va >> page_shift[s], tag);

		if (i >= 0) {
			drop(t, s, (unsigned)i);
			n++;
		}
	}
	return n;
}

bool
vtlb_invalidate_size(struct vtlb *t, uint64_t va, enum page_size size, uint16_t asid)
{
	int i = find(t, size, va >> page_shift[size], tag_of(t, asid));

	if (i < 0)
		return false;
	drop(t, size, (unsigned)i);
	return true;
}

int
vtlb_invalidate_range(struct vtlb *t, uint64_t va, uint64_t len, uint16_t asid)
{
	uint16_t tag = tag_of(t, asid);
	uint64_t last = va + len - 1;
	int n = 0;

	if (len == 0)
		return 0;
	KASSERT(last >= va, "vtlb_invalidate_range: [%lx, +%lx) wraps", va, len);
	for (unsigned s = 0; s < PS_NSIZES; s++) {
		struct vtlb_entry *e = slots(t, s);

		for (unsigned i = 0; i < t->tlb[s].geo.entries; i++) {
			uint64_t first = vtlb_entry_va(&e[i]);
			uint64_t end = first + (((uint64_t)1 << page_shift[s]) - 1);

			if (e[i].valid && e[i].asid == tag && first <= last && end >= va) {
				drop(t, s, i);
				n++;
			}
		}
	}
	return n;
}

/* Drop every valid entry, or (all == false) only those tagged tag. */
static void
drop_tagged(struct vtlb *t, bool all, uint16_t tag)
{
	for (unsigned s = 0; s < PS_NSIZES; s++) {
		struct vtlb_entry *e = slots(t, s);

		for (unsigned i = 0; i < t->tlb[s].geo.entries; i++)
			if (e[i].valid && (all || e[i].asid == tag))
				drop(t, s, i);
	}
	t->stats.flushes++;
}

void
vtlb_flush(struct vtlb *t)
{
	drop_tagged(t, true, 0);
}

void
vtlb_flush_asid(struct vtlb *t, uint16_t asid)
{
	drop_tagged(t, !t->cfg.tag_by_asid, asid);
}

bool
vtlb_set_obv(struct vtlb *t, uint64_t va, uint16_t asid, const uint64_t obv[VTLB_OBV_WORDS])
{
	int i = find(t, PS_2M, va >> page_shift[PS_2M], tag_of(t, asid));

	if (i < 0)
		return false;
	for (unsigned w = 0; w < VTLB_OBV_WORDS; w++)
		t->obv[i][w] = obv[w];
	return true;
}

const uint64_t *
vtlb_obv(const struct vtlb *t, uint64_t va, uint16_t asid)
{
	int i = find(t, PS_2M, va >> page_shift[PS_2M], tag_of(t, asid));

	return i < 0 ? NULL : t->obv[i];
}

void
vtlb_foreach(const struct vtlb *t, void (*fn)(void *arg, const struct vtlb_entry *e),
    void *arg)
{
	for (unsigned s = 0; s < PS_NSIZES; s++) {
		const struct vtlb_entry *e = slots(t, s);

		for (unsigned i = 0; i < t->tlb[s].geo.entries; i++)
			if (e[i].valid)
				fn(arg, &e[i]);
	}
}

uint64_t
vtlb_entry_va(const struct vtlb_entry *e)
{
	return e->vpn << page_shift[e->size];
}
