/*
 * Superpage reservations (kern/mm/lib/reserv.c), after Navarro et al. OSDI'02 and FreeBSD's
 * vm_reserv.c.
 *
 * A reservation ties a naturally aligned physical extent of 2^order frames (order 9 =
 * 2 MiB, order 18 = 1 GiB) to an aligned range of one memory object.  Frames are handed
 * out one at a time at the matching offset, so a fully populated range is physically
 * contiguous and can be promoted in place.  The module never calls the physical
 * allocator: the caller gives it extents it has allocated, and takes free frames back
 * through reserv_ops.free_frames.  It takes no lock: the caller serializes all calls.
 */
#ifndef SPOS_KERN_RESERV_H
#define SPOS_KERN_RESERV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kern/mm/lib/pagesize.h"

#define RESERV_NSIZES	2		/* index 0 = 2 MiB, 1 = 1 GiB in per-size arrays */

struct reserv {
	uint64_t pfn;			/* first frame, aligned to 2^order */
	uint8_t order;			/* PS_ORDER(PS_2M) or PS_ORDER(PS_1G) */
	void *object;			/* owner; never NULL while the reservation lives */
	uint64_t pindex;		/* first page index of the object range, aligned to 2^order */
	uint32_t popcnt;		/* frames handed out and not yet freed */
	uint64_t *inuse;		/* bit per frame: handed out and not freed (2^order bits) */
	uint64_t stamp;			/* time of the most recent population (LRU order) */
	struct reserv *prev, *next;	/* partially populated queue of its order */
	bool on_queue;			/* on that queue; true iff popcnt < 2^order and not pinned */
	bool pinned;			/* kept off the queue: never preempted (reserv_pin) */
	struct reserv *objprev, *objnext;	/* the owner's list of its reservations: kept by
					   the caller, NULL after reserv_create */
};

/* Cumulative counters; [0] = 2 MiB, [1] = 1 GiB. */
struct reserv_stats {
	uint64_t created[RESERV_NSIZES];
	uint64_t broken[RESERV_NSIZES];		/* by reserv_break, preemptions included */
	uint64_t preempted[RESERV_NSIZES];	/* by reserv_preempt */
	uint64_t fully_populated[RESERV_NSIZES];	/* times a reservation became full */
	uint64_t freed_whole[RESERV_NSIZES];	/* last frame freed: extent went back whole */
};

/*
 * What the module needs from its caller.  alloc serves the struct reserv (about 90
 * bytes), in-use bitmaps (64 bytes for 2 MiB, 32 KiB for 1 GiB) and, at init, the two
 * frame tables (8 bytes per 2 MiB of RAM, e.g. 16 KiB for 4 GiB).
 */
struct reserv_ops {
	void *(*alloc)(size_t size);		/* zeroed memory, NULL when out of memory */
	void (*free)(void *p, size_t size);	/* size as passed to alloc */
	/* Give the free naturally aligned block of 2^order frames at pfn back. */
	void (*free_frames)(uint64_t pfn, unsigned order);
	/*
	 * Optional (may be NULL): rv is about to be destroyed, by reserv_free_page,
	 * reserv_break or reserv_preempt; rv's fields are still valid.  The caller drops
	 * its pointers to rv here, e.g. the object's popmap entry.  It must not call into
	 * this module.
	 */
	void (*detach)(struct reserv *rv);
};

extern struct reserv_stats reserv_stats;

/*
 * Set up the module for physical frames [0, npages): allocates (through ops->alloc)
 * the frame -> reservation tables, ceil(npages / 2^9) + ceil(npages / 2^18) pointers.
 * Zeroes reserv_stats.  Returns 0, or -1 when out of memory.  ops must stay valid.
 */
int reserv_system_init(const struct reserv_ops *ops, uint64_t npages);

/* Free the tables again.  Panics if a reservation is still alive. */
void reserv_system_fini(void);

/*
 * A new reservation over the 2^order frames at pfn, which the caller has allocated,
 * for the object range starting at pindex (aligned to 2^order).  No frame is in use
 * yet; it starts on its partially populated queue with stamp now.  NULL when out of
 * memory (the caller frees the extent).  Panics on a bad order, misaligned pfn or
 * pindex, an extent past npages or overlapping a live reservation, or now going back
 * in time.
 */
struct reserv *reserv_create(unsigned order, uint64_t pfn, void *object, uint64_t pindex,
    uint64_t now);

/*
 * Hand out the frame for pindex: rv->pfn + (pindex - rv->pindex).  Marks it in use,
 * sets the stamp to now and moves rv to the most recent end of its queue, or off it
 * when rv becomes full.  Panics if pindex is outside rv or its frame is already in use.
 */
uint64_t reserv_alloc_page(struct reserv *rv, uint64_t pindex, uint64_t now);

/*
 * The last user of frame pfn of rv freed it.  If rv has no frame in use any more, the
 * whole extent goes back through free_frames(rv->pfn, rv->order), rv is destroyed and
 * true is returned.  Otherwise rv is (re)queued by its unchanged stamp; false.
 * Panics if pfn is outside rv or not in use.
 */
bool reserv_free_page(struct reserv *rv, uint64_t pfn);

/*
 * reserv_free_page for each of the 2^order frames at pfn in one step: a naturally
 * aligned block of rv's extent, order 6 or more, whose frames are all in use (a 2 MiB
 * page's last mapping went).  True if rv is gone, as for reserv_free_page.  Panics if
 * the block is not part of rv or a frame of it is not in use.
 */
bool reserv_free_block(struct reserv *rv, uint64_t pfn, unsigned order);

/* Whether all 2^order frames at pfn (a naturally aligned block of rv, order >= 6) are in use. */
bool reserv_block_inuse(const struct reserv *rv, uint64_t pfn, unsigned order);

/*
 * Dissolve rv: its frames not in use go back through free_frames as maximal naturally
 * aligned blocks; those in use stay allocated and become ordinary frames.  rv is
 * destroyed.
 */
void reserv_break(struct reserv *rv);

/* Keep rv off the partially populated queue, so it is never preempted, until reserv_unpin. */
void reserv_pin(struct reserv *rv);

/* Undo reserv_pin: rv goes back on its queue by its stamp if it is partially populated. */
void reserv_unpin(struct reserv *rv);

/* The least recently grown partially populated reservation of that order, or NULL. */
struct reserv *reserv_lru(unsigned order);

/* Break reserv_lru(order) to give its free frames back; false if there is none. */
bool reserv_preempt(unsigned order);

/*
 * Aligned blocks of 2^order frames that breaking rv would give back whole: those of its
 * extent with no frame in use (for order >= rv->order: 1 if rv has no frame in use, else 0).
 */
uint64_t reserv_free_blocks(const struct reserv *rv, unsigned order);

/*
 * Break the least recently grown partially populated reservation, of either size,
 * among those whose break gives back a whole free aligned block of 2^order frames
 * (reserv_free_blocks(rv, order) > 0), so that a request of that order can succeed.
 * False, and nothing broken, if there is none.  O(partially populated reservations).
 */
bool reserv_preempt_for(unsigned order);

/* The latest time passed in (reserv_create, reserv_alloc_page): the growth clock. */
uint64_t reserv_clock(void);

/* Reservations of that order on the partially populated queue. */
uint64_t reserv_partial_count(unsigned order);

/* Live reservations of that order, partial or full. */
uint64_t reserv_count(unsigned order);

/* Whether the frame of rv for pindex (inside rv) is in use. */
bool reserv_page_inuse(const struct reserv *rv, uint64_t pindex);

/* The pindex of rv's first frame not in use (a word of the bitmap at a time); rv must have one. */
uint64_t reserv_first_free(const struct reserv *rv);

/*
 * The live reservation whose extent contains frame pfn, or NULL (also for pfn past
 * npages).  The frame itself may or may not be in use: callers check.  O(1).
 */
struct reserv *reserv_of_frame(uint64_t pfn);

/*
 * Call fn on every live reservation, 2 MiB ones first, each by ascending pfn.
 * fn must not create or destroy reservations.  O(npages / 512).
 */
void reserv_foreach(void (*fn)(struct reserv *rv, void *arg), void *arg);

#endif
