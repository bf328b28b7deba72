/* Superpage policy: reservations at fault time, promotion, preemption (kern/mm/policy.c). */
#ifndef SPOS_KERN_POLICY_H
#define SPOS_KERN_POLICY_H

#include <stdbool.h>
#include <stdint.h>
#include "kern/mm/lib/page.h"

struct vmspace;
struct vm_region;
struct vm_object;

enum vm_policy {
	POLICY_BASE,	/* 4 KiB pages only */
	POLICY_EAGER,	/* Linux THP "always": a zeroed 2 MiB page at the first fault of a block */
	POLICY_RESERVE,	/* reservations and incremental promotion (Navarro et al.) */
};

struct policy_stats {
	uint64_t eager_2m;		/* 2 MiB pages mapped at first touch (eager) */
	uint64_t eager_fallbacks;	/* eager wanted a 2 MiB page and got none */
	uint64_t reserv_hits;		/* faults served from an existing reservation */
	uint64_t reserv_fallbacks;	/* no reservation could be made: plain 4 KiB frame */
	uint64_t promotion_attempts[2];	/* fully populated blocks offered to pmap_promote */
	uint64_t bytes_zeroed;
	uint64_t hugemap_2m;		/* /dev/hugemap: 2 MiB pages granted */
	uint64_t hugemap_fallbacks;	/* ... blocks chosen 2 MiB that got 4 KiB pages */
	uint64_t hugemap_bloat;		/* ... bytes of granted 2 MiB pages beyond the request */
	uint64_t util_fill_pages;	/* vm.promote.util: pages populated untouched to promote */
};

extern enum vm_policy vm_policy;
extern struct policy_stats policy_stats;

/* Read vm.policy= from the command line and set up the reservation module. */
void policy_init(void);
const char *policy_name(void);

/*
 * Populate the page at va of region r in vs after a demand fault: choose the frame
 * (a reservation's, a new 2 MiB page under eager, or a plain one), zero it, map it,
 * record it in the object's population map, and promote what became fully populated.
 * Returns 0 or -E_NO_MEM.
 */
int policy_populate(struct vmspace *vs, struct vm_region *r, uint64_t va);

/*
 * The one place that decides whether the aligned block of level (PS_2M or
 * PS_1G) containing va becomes a superpage, for every path: the fault that
 * populated its last page, mprotect making it uniform again, the page daemon
 * re-promoting a block it demoted.  The block must lie in one region (adjacent regions
 * of one object with equal protection are merged, so this means one object and one
 * protection) and be fully populated in that region's object; with need_reservation it
 * must also lie in a reservation (the fault and mprotect paths: only a reservation's
 * frames are contiguous, so other blocks are not worth an attempt; the daemon's eager
 * 2 MiB pages have none).  pmap_promote then checks all 512 entries.  True if promoted.
 */
bool policy_promote(struct vmspace *vs, uint64_t va, int level, bool need_reservation);

/* After a change of protection on [start, end): promote blocks that became uniform. */
void policy_repromote(struct vmspace *vs, uint64_t start, uint64_t end);

/* Whether va's page sits in a reservation of vs; its size in bytes then, else 0. */
uint64_t policy_reservation_at(struct vmspace *vs, struct vm_region *r, uint64_t va);

/*
 * /dev/hugemap: choose each block's page size in obj's hugemap from the fraction of
 * the block its request covers (HUGEMAP_THRESHOLD).
 */
void policy_hugemap_plan(struct vm_object *obj);
/* Block va of obj's hugemap, chosen 2 MiB, gets 4 KiB pages instead (counted). */
void policy_hugemap_fallback(struct vm_object *obj, uint64_t va);
/*
 * The page size /dev/hugemap gives va's block in region r: 2 MiB while chosen so and
 * still whole in r and not demoted, else 4 KiB; 0 if r is not a hugemap mapping.
 */
uint64_t policy_hugemap_size(struct vmspace *vs, struct vm_region *r, uint64_t va);
/* The threshold in force, in percent: HUGEMAP_THRESHOLD or hugemap.threshold=. */
uint64_t policy_hugemap_threshold(void);

/* Print every reservation (monitor `reserv`). */
void policy_print_reservations(void);

#endif
