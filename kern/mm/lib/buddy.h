/*
 * Buddy allocator for physical page frames (kern/mm/lib/buddy.c).
 *
 * Free memory is kept as naturally aligned blocks of 2^k pages, 0 <= k <= BUDDY_MAX_ORDER,
 * one circular doubly linked list per order.  The allocator only ever touches the
 * struct page array it is given; it allocates nothing itself and takes no lock, so the
 * caller serializes calls on one struct buddy.
 */
#ifndef SPOS_KERN_BUDDY_H
#define SPOS_KERN_BUDDY_H

#include <stdint.h>
#include "kern/mm/lib/page.h"

#define BUDDY_MAX_ORDER	18		/* 2^18 pages * 4 KiB = 1 GiB */
#define BUDDY_ORDERS	(BUDDY_MAX_ORDER + 1)

/* buddy_selfcheck's result when the allocator has no free page, so nothing was checked. */
#define BUDDY_SELFCHECK_EMPTY	1

struct buddy {
	struct page *pages;		/* pages[pfn] describes physical frame pfn, for pfn < npages */
	uint64_t npages;
	struct page free[BUDDY_ORDERS];	/* sentinel heads of circular doubly linked free lists */
	uint64_t nfree[BUDDY_ORDERS];	/* number of free blocks per order */
	uint64_t free_pages;		/* sum of nfree[k] << k */
	uint64_t managed_pages;		/* pages ever handed to the allocator by buddy_add_range */
};

/*
 * Make b an empty allocator over pages[0..npages).  O(1): it does not touch the page
 * array, which the caller has zeroed (PG_RESERVED may be set before or after).
 */
void buddy_init(struct buddy *b, struct page *pages, uint64_t npages);

/*
 * Give free RAM [pfn, pfn+count) to the allocator: split it into maximal naturally
 * aligned blocks, coalescing with already-free buddies.  Panics if the range leaves
 * the page array, holds a PG_RESERVED page, or overlaps memory that is already free.
 */
void buddy_add_range(struct buddy *b, uint64_t pfn, uint64_t count);

/*
 * A naturally aligned block of 2^order pages, or NULL when there is none or
 * order > BUDDY_MAX_ORDER.  The head page comes back with PG_FREE clear.
 */
struct page *buddy_alloc(struct buddy *b, unsigned order);

/*
 * Free a block allocated by buddy_alloc(b, order), coalescing it with its buddy as
 * often as possible.  Panics on a page outside the array, a misaligned or reserved
 * block, or one that is already (partly) free, e.g. a double free.
 */
void buddy_free(struct buddy *b, struct page *pg, unsigned order);

/* The physical frame number pg describes. */
static inline uint64_t
buddy_pfn(const struct buddy *b, const struct page *pg)
{
	return (uint64_t)(pg - b->pages);
}

/*
 * Exercise the allocator on one of its own free blocks, leaving its state as it was.
 * Returns 0 if all checks pass, BUDDY_SELFCHECK_EMPTY if there is no free page,
 * or -(source line) of the first failed check.  Uses O(1) stack and no other memory.
 */
int buddy_selfcheck(struct buddy *b);

/* A block taken off the free lists by buddy_claim_within. */
struct buddy_claim {
	uint64_t pfn;
	unsigned order;
};
int buddy_claim_within(struct buddy *b, uint64_t pfn, unsigned order, struct buddy_claim *claimed, int max);

#endif
