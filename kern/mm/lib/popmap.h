/*
 * Population map of one memory object (kern/mm/lib/popmap.c), after Navarro et al. OSDI'02 §4.
 *
 * Records which pages of the object are populated (pindex = virtual page number, so an
 * aligned 2 MiB or 1 GiB block of the object is one of virtual memory) and, for every
 * aligned 2 MiB block (level 1) and 1 GiB block (level 2), how many of its pages are
 * populated and an optional reservation pointer.  Every query costs O(tree depth).
 * The map takes its memory from the caller's allocator and takes no lock: the caller
 * serializes calls on one struct popmap.
 */
#ifndef SPOS_KERN_POPMAP_H
#define SPOS_KERN_POPMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kern/mm/lib/pagesize.h"

#define POPMAP_PINDEX_BITS	36			/* 48-bit virtual addresses */
#define POPMAP_PINDEX_LIMIT	((uint64_t)1 << POPMAP_PINDEX_BITS)	/* pindex < this */

/* Where the map's nodes come from. */
struct popmap_allocator {
	void *(*alloc)(size_t size);		/* zeroed memory, or NULL when out of memory */
	void (*free)(void *p, size_t size);	/* size as passed to alloc */
};

struct popmap {
	void *root;			/* tree over [0, POPMAP_PINDEX_LIMIT); NULL when empty */
	uint64_t populated;		/* pages set in the whole map */
	const struct popmap_allocator *a;
	/*
	 * The path of the last 2 MiB block set or cleared (a leaf and its three
	 * ancestors), so that a run of pages in one block walks the tree once;
	 * hint_block is that block's pindex / 512, or POPMAP_NO_HINT.  Any node freed
	 * forgets it.
	 */
	uint64_t hint_block;
	void *hint[4];
};
#define POPMAP_NO_HINT	(~(uint64_t)0)

/* Make pm an empty map that allocates its nodes from a.  Allocates nothing yet. */
void popmap_init(struct popmap *pm, const struct popmap_allocator *a);

/*
 * Mark pindex populated.  Returns 0, or -1 when a node could not be allocated, in which
 * case the map is unchanged.  Panics if pindex is out of range or already populated.
 */
int popmap_set(struct popmap *pm, uint64_t pindex);

/* Mark pindex unpopulated, freeing nodes left empty.  Panics unless it was populated. */
void popmap_clear(struct popmap *pm, uint64_t pindex);

/*
 * popmap_set (popmap_clear) of the 512 pages of the aligned 2 MiB block at pindex in
 * one walk: a 2 MiB page mapped (unmapped) whole.  set: 0, or -1 with the map
 * unchanged when out of memory; panics unless no page of the block is populated.
 * clear: panics unless every page of it is.
 */
int popmap_set_block(struct popmap *pm, uint64_t pindex);
void popmap_clear_block(struct popmap *pm, uint64_t pindex);

/* Whether pindex is populated (false for pindex out of range). */
bool popmap_test(const struct popmap *pm, uint64_t pindex);

/*
 * Populated pages in the aligned block of that level (POPMAP_LEVEL_*) containing
 * pindex.  Panics on a bad level or pindex out of range.  O(depth).
 */
uint64_t popmap_count(const struct popmap *pm, uint64_t pindex, int level);

/*
 * Populated pages in [start, start+npages), any alignment; the part past
 * POPMAP_PINDEX_LIMIT counts as empty.  O(npages/512 + depth).
 */
uint64_t popmap_count_range(const struct popmap *pm, uint64_t start, uint64_t npages);

/*
 * Reservation pointer of the aligned block of level PS_2M or PS_1G
 * containing pindex, or NULL.  O(depth).
 */
void *popmap_reserv(const struct popmap *pm, uint64_t pindex, int level);

/*
 * Set (rv != NULL) or clear (rv == NULL) the reservation pointer of that block.
 * Returns 0, or -1 when a node could not be allocated (map unchanged; clearing never
 * fails).  Panics when setting over a different non-NULL pointer.
 */
int popmap_set_reserv(struct popmap *pm, uint64_t pindex, int level, void *rv);

/*
 * Reservation pointers held by the aligned block of level containing pindex, its own
 * and those of blocks inside it: e.g. whether a 1 GiB block would overlap a 2 MiB
 * reservation.  Level PS_2M or PS_1G.  O(depth).
 */
uint64_t popmap_reserv_count(const struct popmap *pm, uint64_t pindex, int level);

/*
 * Reservation pointers held anywhere in the map, and populated pages as the tree's root
 * counts them (equal to pm->populated while the map is consistent).  O(1); for the
 * invariant checker (kern/mm/invariant.c).
 */
uint64_t popmap_reserv_total(const struct popmap *pm);
uint64_t popmap_root_count(const struct popmap *pm);

/*
 * The first populated pindex >= from, in *pindex; false if there is none.
 * Skips empty subtrees: O(512 * depth) at worst.
 */
bool popmap_next(const struct popmap *pm, uint64_t from, uint64_t *pindex);

/*
 * Free every node; pm is empty afterwards (populated pages are forgotten).  Panics if a
 * reservation pointer is left: the owner must clear those first.
 */
void popmap_destroy(struct popmap *pm);

#endif
