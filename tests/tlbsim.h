/*
 * Reference TLB simulator (tests/tlbsim.c): the independent yardstick for the model
 * TLB of kern/mm/lib/vtlb.c.  It sees the FULL page-reference trace -- every access, hit or
 * miss -- whereas the kernel's model sees only the accesses that trap; the two must
 * count the same misses, evictions and walk references.  Written separately and kept
 * simple on purpose (a FIFO set is an explicit queue, oldest first); it shares nothing
 * with kern/mm/lib/vtlb.c but the random generator (inc/xorshift.h) and the definitions:
 *
 *  - three TLBs, 4 KiB, 2 MiB, 1 GiB; a page goes to set (page number mod sets), its
 *    tag is the page number plus, when tagging by ASID, the ASID;
 *  - an access to a 2 MiB page whose OBV bit for the 4 KiB segment is set ("overlaid")
 *    looks up the 2 MiB TLB and then the 4 KiB TLB; a miss there is an OMT walk;
 *  - a miss refills the lowest-numbered free way, else evicts: FIFO the oldest
 *    insertion, RANDOM way xorshift64_below(ways) of the TLB's generator, CLOCK the
 *    first entry from the set's hand whose reference bit is clear (clearing the bits
 *    it passes; the hand stops just past the victim); the reference bit is set at the
 *    refill and on every hit;
 *  - walk references per miss: 4 KiB 4, 2 MiB 3, 1 GiB 2, OMT 4;
 *  - invalidate(va) drops the pages of every size containing va; flush drops all;
 *    flush_asid drops one ASID's entries (all when not tagging).
 * Host-only (uses malloc).
 */
#ifndef SPOS_TESTS_TLBSIM_H
#define SPOS_TESTS_TLBSIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { TLBSIM_4K, TLBSIM_2M, TLBSIM_1G, TLBSIM_NSIZES };
enum tlbsim_repl { TLBSIM_FIFO, TLBSIM_RANDOM, TLBSIM_CLOCK };
enum tlbsim_op { TLBSIM_ACCESS, TLBSIM_INVALIDATE, TLBSIM_FLUSH, TLBSIM_FLUSH_ASID };

struct tlbsim_geom {
	unsigned entries, ways;		/* ways divides entries */
	enum tlbsim_repl repl;
	uint64_t seed;			/* RANDOM: the generator's seed */
};

/* One trace event. */
struct tlbsim_ref {
	uint64_t va;		/* ACCESS, INVALIDATE */
	uint16_t asid;		/* ACCESS, INVALIDATE, FLUSH_ASID */
	uint8_t op;		/* enum tlbsim_op */
	uint8_t size;		/* ACCESS: TLBSIM_4K/2M/1G, the page size mapping va */
	bool overlaid;		/* ACCESS of a 2 MiB page: the segment's OBV bit is set */
};

struct tlbsim_counts {
	uint64_t accesses;
	uint64_t lookups[TLBSIM_NSIZES], hits[TLBSIM_NSIZES], misses[TLBSIM_NSIZES];
	uint64_t evictions[TLBSIM_NSIZES];
	uint64_t walk_refs, omt_walks;
};

struct tlbsim;

/* A new empty simulator with one geometry per size; exits the test if out of memory. */
struct tlbsim *tlbsim_new(const struct tlbsim_geom geom[TLBSIM_NSIZES], bool tag_by_asid);

void tlbsim_free(struct tlbsim *sim);

/* Apply one event.  For an ACCESS, true when every lookup hit (it would not trap). */
bool tlbsim_step(struct tlbsim *sim, const struct tlbsim_ref *r);

/*
 * One instruction touching the bytes [va, va + len) of asid, mapped by pages of `size`
 * (not overlaid): an ACCESS of each page it touches, once, in address order -- a real
 * TLB completes the instruction and fills each page once, even if a later page's fill
 * evicts an earlier one.  True when every page hit.
 */
bool tlbsim_instruction(struct tlbsim *sim, uint64_t va, uint64_t len, uint8_t size, uint16_t asid);
/* The counts so far. */
void tlbsim_counts(const struct tlbsim *sim, struct tlbsim_counts *out);

/* Entries resident in TLB size now. */
unsigned tlbsim_resident(const struct tlbsim *sim, int size);

/*
 * Run a whole trace on a fresh simulator: the counts in *out and, if hit is not NULL,
 * hit[i] = tlbsim_step's result for event i.
 */
void tlbsim_run(const struct tlbsim_geom geom[TLBSIM_NSIZES], bool tag_by_asid,
    const struct tlbsim_ref *trace, size_t n, bool *hit, struct tlbsim_counts *out);

#endif
