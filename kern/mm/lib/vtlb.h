/*
 * The model TLB of trap-driven simulation (kern/mm/lib/vtlb.c; BadgerTrap, Tapeworm).
 *
 * Three set-associative TLBs, one per x86 page size: 4 KiB, 2 MiB and 1 GiB.  Each
 * 2 MiB entry carries an overlay bit vector (OBV, one bit per 4 KiB segment, after
 * Seshadri et al., "Page overlays", ISCA'15): an access to a segment whose bit is set
 * continues in the 4 KiB TLB, and a miss there walks the overlay mapping table (OMT).
 *
 * The kernel calls the model only when an access traps, i.e. when its translation is
 * not resident here (vtlb_miss), and keeps every other translation fake-invalid in the
 * hardware tables.  The model then inserts it and reports the entries it evicted, whose
 * hardware entries the kernel makes fake-invalid again.  vtlb.c's opening comment gives
 * the exact replacement rules and what the caller must do to keep the counts exact.
 *
 * No allocation, no lock, no hidden state: everything lives in struct vtlb (about 90
 * KiB), which the caller provides and serializes calls on.
 */
#ifndef SPOS_KERN_VTLB_H
#define SPOS_KERN_VTLB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kern/mm/lib/pagesize.h"


/*
 * Capacity of each TLB.  1536 is a large second-level TLB (Skylake's STLB); the 2 MiB
 * TLB is smaller because each of its entries also holds a 64-byte OBV.
 */
#define VTLB_MAX_4K	1536
#define VTLB_MAX_2M	512
#define VTLB_MAX_1G	256

#define VTLB_OBV_BITS	512			/* 4 KiB segments of a 2 MiB page */
#define VTLB_OBV_WORDS	(VTLB_OBV_BITS / 64)

/* Page-walk memory references per miss (x86 4-level radix; no paging-structure caches). */
#define VTLB_WALK_REFS_4K	4
#define VTLB_WALK_REFS_2M	3
#define VTLB_WALK_REFS_1G	2
#define VTLB_WALK_REFS_OMT	4		/* the OMT is a 4-level table too */

/* Most entries one vtlb_miss can evict: one 2 MiB entry and one 4 KiB (overlay) entry. */
#define VTLB_MAX_VICTIMS	2

enum vtlb_repl {
	VTLB_FIFO,	/* evict the entry inserted longest ago */
	VTLB_RANDOM,	/* evict a way chosen by xorshift64* from the geometry's seed */
	VTLB_CLOCK,	/* second chance: per-set hand over reference bits */
};

/* One TLB: entries / ways sets; ways == entries is fully associative, ways == 1 direct-mapped. */
struct vtlb_geometry {
	uint16_t entries;	/* 1 .. VTLB_MAX_* of its size */
	uint16_t ways;		/* divides entries */
	enum vtlb_repl repl;
	uint64_t seed;		/* VTLB_RANDOM: generator seed (0 means XORSHIFT64_ZERO_SEED) */
};

struct vtlb_config {
	struct vtlb_geometry tlb[PS_NSIZES];	/* indexed by enum page_size */
	/*
	 * true: entries are tagged with the caller's ASID (like PCIDs), so an address-space
	 * switch needs no flush.  false: ASIDs are ignored; the caller flushes on a switch.
	 */
	bool tag_by_asid;
};

/* A TLB entry, as the referenced callback and vtlb_foreach see it. */
struct vtlb_entry {
	uint64_t vpn;		/* va >> 12, 21 or 30: the page number in its TLB's size */
	uint64_t stamp;		/* FIFO: insertion sequence number within its TLB */
	uint16_t asid;		/* the tag: 0 unless tag_by_asid */
	uint8_t size;		/* enum page_size of its TLB */
	bool valid;
	bool ref;		/* CLOCK: referenced, as far as the model saw, since the hand passed */
	bool overlay;		/* 4 KiB TLB: filled by an OMT walk (a segment of an overlaid 2 MiB page) */
};

/*
 * VTLB_CLOCK: whether the translation of e was used since the last call for e, read
 * and cleared by the caller -- the accessed bit of the hardware entry, since hits do
 * not trap.  Called only on entries of a full set while choosing a victim.  It must
 * not call into the model.
 */
typedef bool (*vtlb_referenced_fn)(void *ctx, const struct vtlb_entry *e);

/* An entry evicted (or dropped) by the model: its translation must fault again. */
struct vtlb_victim {
	uint64_t va;		/* first byte of the page */
	enum page_size size;
	uint16_t asid;		/* the entry's tag: 0 unless tag_by_asid */
	bool overlay;		/* a 4 KiB overlay entry (a segment of a 2 MiB page) */
};

/*
 * Cumulative counts.  An access that traps is one vtlb_miss call; it looks up one TLB,
 * or two for a segment of an overlaid 2 MiB page (the 2 MiB TLB, then the 4 KiB one).
 */
struct vtlb_stats {
	uint64_t traps;				/* vtlb_miss calls: accesses that reached the model */
	uint64_t lookups[PS_NSIZES];		/* lookups in each TLB, = hits + misses */
	uint64_t hits[PS_NSIZES];		/* only those the model saw (during a trap) */
	uint64_t misses[PS_NSIZES];		/* refills; the 4 KiB ones include OMT walks */
	uint64_t evictions[PS_NSIZES];	/* valid entries replaced by a refill */
	uint64_t invalidations[PS_NSIZES];	/* entries dropped by invalidate and flushes */
	uint64_t walk_refs;			/* page-walk memory references, OMT walks included */
	uint64_t omt_walks;			/* 4 KiB misses of overlaid segments */
	uint64_t flushes;			/* vtlb_flush and vtlb_flush_asid calls */
};

/* One access that trapped. */
struct vtlb_access {
	uint64_t va;
	enum page_size size;		/* page size of the mapping that translates va */
	/*
	 * PS_2M only: the mapping's OBV (VTLB_OBV_WORDS words, bit i = segment i, word
	 * i / 64), copied into the entry on a refill; NULL means all clear.  NULL for other
	 * sizes.  On a 2 MiB hit the entry's own copy decides, as in hardware.
	 */
	const uint64_t *obv;
	uint16_t asid;
	struct vtlb_stats *acct;	/* optional: counted here too (e.g. per process), or NULL */
};

struct vtlb_tlb {
	struct vtlb_geometry geo;
	uint16_t sets;			/* geo.entries / geo.ways */
	uint64_t rng;			/* VTLB_RANDOM: xorshift64* state */
	uint64_t next_stamp;		/* FIFO: stamp of the next insertion */
};

struct vtlb {
	struct vtlb_config cfg;
	vtlb_referenced_fn referenced;	/* may be NULL */
	void *ctx;
	struct vtlb_tlb tlb[PS_NSIZES];
	struct vtlb_stats stats;
	/* Set s of a TLB is entries [s * ways, (s + 1) * ways) of its array. */
	struct vtlb_entry e4k[VTLB_MAX_4K];
	struct vtlb_entry e2m[VTLB_MAX_2M];
	struct vtlb_entry e1g[VTLB_MAX_1G];
	uint64_t obv[VTLB_MAX_2M][VTLB_OBV_WORDS];	/* OBV of e2m[i] */
	uint16_t hand4k[VTLB_MAX_4K];			/* CLOCK: hand (a way) per set */
	uint16_t hand2m[VTLB_MAX_2M];
	uint16_t hand1g[VTLB_MAX_1G];
};

/*
 * The default: a Skylake-class first-level data TLB -- 4 KiB: 64 entries 4-way,
 * 2 MiB: 32 entries 4-way, 1 GiB: 4 entries fully associative -- with CLOCK
 * replacement (closest to the hardware's pseudo-LRU) and ASID tagging.
 */
void vtlb_default_config(struct vtlb_config *c);

/*
 * Make t an empty model with geometry c (copied).  referenced (may be NULL) and ctx
 * serve VTLB_CLOCK.  Zeroes the stats.  Panics on a bad geometry: entries outside
 * 1 .. VTLB_MAX_* or ways not dividing entries, or an unknown replacement.
 */
void vtlb_init(struct vtlb *t, const struct vtlb_config *c, vtlb_referenced_fn referenced,
    void *ctx);

/*
 * Whether an access to va, mapped with page size `size` in address space asid, would
 * hit in the model without trapping: its entry is resident and, for a segment whose
 * OBV bit is set in the resident 2 MiB entry, the 4 KiB entry is resident too.
 */
bool vtlb_resident(const struct vtlb *t, uint64_t va, enum page_size size, uint16_t asid);

/*
 * The access a trapped: look it up and insert what missed, counting lookups, hits,
 * misses, evictions and walk references in t->stats (and a->acct).  Fills victims[]
 * with the entries evicted (2 MiB first) and returns how many, 0 .. VTLB_MAX_VICTIMS.
 * Panics if the access is resident (it would not have trapped) or on a bad size/OBV.
 */
int vtlb_miss(struct vtlb *t, const struct vtlb_access *a,
    struct vtlb_victim victims[VTLB_MAX_VICTIMS]);

/*
 * invlpg: drop every entry of asid that translates va -- the 4 KiB, 2 MiB and 1 GiB
 * pages containing it.  Returns the number dropped (0..3).
 */
int vtlb_invalidate(struct vtlb *t, uint64_t va, uint16_t asid);

/*
 * Drop only the entry of TLB `size` (of asid) that translates va, if any: e.g. the
 * 4 KiB overlay entry of a segment whose overlay changed, keeping its 2 MiB entry.
 * Returns whether there was one.
 */
bool vtlb_invalidate_size(struct vtlb *t, uint64_t va, enum page_size size, uint16_t asid);

/* Drop every entry of asid that overlaps [va, va + len).  Returns the number dropped. */
int vtlb_invalidate_range(struct vtlb *t, uint64_t va, uint64_t len, uint16_t asid);

/* Drop every entry (e.g. on an address-space switch without ASID tagging). */
void vtlb_flush(struct vtlb *t);

/* Drop every entry of asid; everything when not tag_by_asid. */
void vtlb_flush_asid(struct vtlb *t, uint16_t asid);

/*
 * Replace the OBV of the resident 2 MiB entry of asid containing va (overlay milestone:
 * a segment was overlaid or merged back).  Returns false if there is none.  A segment
 * whose bit is cleared may leave a stale 4 KiB overlay entry: invalidate it.
 */
bool vtlb_set_obv(struct vtlb *t, uint64_t va, uint16_t asid, const uint64_t obv[VTLB_OBV_WORDS]);

/* The OBV of the resident 2 MiB entry of asid containing va, or NULL if none. */
const uint64_t *vtlb_obv(const struct vtlb *t, uint64_t va, uint16_t asid);

/* Call fn on every valid entry: 4 KiB TLB first, then 2 MiB, then 1 GiB, by slot. */
void vtlb_foreach(const struct vtlb *t, void (*fn)(void *arg, const struct vtlb_entry *e),
    void *arg);

/* The first virtual address of e's page. */
uint64_t vtlb_entry_va(const struct vtlb_entry *e);

#endif
