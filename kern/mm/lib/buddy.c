/*
 * Buddy allocator for physical page frames.
 *
 * A block of order k is 2^k pages starting at a pfn that is a multiple of 2^k.
 * Its buddy is the order-k block at pfn ^ 2^k; the two together form the order-(k+1)
 * block at pfn & ~2^k.  Allocation takes the smallest free block that is big enough
 * and splits it in halves, putting the upper halves back on the free lists; freeing
 * merges a block with its buddy for as long as the buddy is free at the same order.
 *
 * Invariants (checked by tests/test_buddy.c; buddy_selfcheck checks some at boot):
 *  - A page has PG_FREE iff it heads a free block; its order field is then the block's
 *    order and it is linked on free[order].
 *  - Free blocks are naturally aligned, disjoint, inside [0, npages), and hold no
 *    PG_RESERVED page.
 *  - Coalescing is eager: for no free block of order k < BUDDY_MAX_ORDER is the buddy
 *    also a free block of order k.  So the free blocks are exactly the maximal naturally
 *    aligned runs of free pages (of at most BUDDY_MAX_ORDER).
 *  - nfree[k] is the length of free[k]; free_pages is the sum of nfree[k] << k.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kern/mm/lib/buddy.h"
#include "kern/kassert.h"

#define BLOCK(order)	((uint64_t)1 << (order))	/* pages in a block of that order */

/* Order of the block buddy_selfcheck exercises, when the allocator has one that large. */
#define SELFCHECK_ORDER	10

/* Floor of log2(x).  Requires x != 0. */
static unsigned
ilog2(uint64_t x)
{
	return 63 - (unsigned)__builtin_clzll(x);
}

/* Number of trailing zero bits of x.  Requires x != 0. */
static unsigned
ctz(uint64_t x)
{
	return (unsigned)__builtin_ctzll(x);
}

/* Make head an empty list. */
static void
list_init(struct page *head)
{
	head->next = head;
	head->prev = head;
}

/* Whether the list at head has no entries. */
static bool
list_empty(const struct page *head)
{
	return head->next == head;
}

/* Insert pg at the front of the list at head. */
static void
list_push(struct page *head, struct page *pg)
{
	pg->next = head->next;
	pg->prev = head;
	head->next->prev = pg;
	head->next = pg;
}

/* Unlink pg from whatever list it is on and clear its links. */
static void
list_del(struct page *pg)
{
	pg->prev->next = pg->next;
	pg->next->prev = pg->prev;
	pg->next = NULL;
	pg->prev = NULL;
}

/* Move every entry of the list at from, in order, to the list at to; from ends empty. */
static void
list_move_all(struct page *from, struct page *to)
{
	if (list_empty(from)) {
		list_init(to);
		return;
	}
	to->next = from->next;
	to->prev = from->prev;
	to->next->prev = to;
	to->prev->next = to;
	list_init(from);
}

/* Record the 2^order pages at pfn as a free block: mark its head, put it on free[order]. */
static void
free_insert(struct buddy *b, uint64_t pfn, unsigned order)
{
	struct page *pg = &b->pages[pfn];

	pg->flags |= PG_FREE;
	pg->order = (uint8_t)order;
	list_push(&b->free[order], pg);
	b->nfree[order]++;
	b->free_pages += BLOCK(order);
}

/* Take the free block of that order headed by pg off its list and unmark it. */
static void
free_remove(struct buddy *b, struct page *pg, unsigned order)
{
	list_del(pg);
	pg->flags &= ~PG_FREE;
	b->nfree[order]--;
	b->free_pages -= BLOCK(order);
}

/*
 * Whether the block of 2^order pages at pfn (aligned for order) overlaps any free block.
 * A free block that starts at or below pfn and reaches it has its head at pfn rounded
 * down to some order >= order; one that starts above pfn lies wholly inside the block
 * (free blocks are aligned), so its head, which carries PG_FREE, is one of the block's
 * pages.  O(orders + 2^order), no more than the caller spends on the block's pages.
 */
static bool
overlaps_free(const struct buddy *b, uint64_t pfn, unsigned order)
{
	for (unsigned k = order; k <= BUDDY_MAX_ORDER; k++) {
		const struct page *h = &b->pages[pfn & ~(BLOCK(k) - 1)];

		if ((h->flags & PG_FREE) && buddy_pfn(b, h) + BLOCK(h->order) > pfn)
			return true;
	}
	for (uint64_t i = 1; i < BLOCK(order); i++)
		if (b->pages[pfn + i].flags & PG_FREE)
			return true;
	return false;
}

/*
 * Return the 2^order pages at pfn to the free lists, merging with the buddy while it
 * is a free block of the same order.  Requires an aligned block inside the array
 * that overlaps no free block.
 */
static void
free_block(struct buddy *b, uint64_t pfn, unsigned order)
{
	while (order < BUDDY_MAX_ORDER) {
		uint64_t bpfn = pfn ^ BLOCK(order);
		struct page *bp;

		if (bpfn >= b->npages)
			break;
		bp = &b->pages[bpfn];
		if (!(bp->flags & PG_FREE) || bp->order != order)
			break;
		free_remove(b, bp, order);
		pfn &= ~BLOCK(order);
		order++;
	}
	free_insert(b, pfn, order);
}

/* Make b an empty allocator over pages[0..npages); the page array is not touched. */
void
buddy_init(struct buddy *b, struct page *pages, uint64_t npages)
{
	KASSERT(pages != NULL || npages == 0, "buddy_init: no page array for %lu pages", npages);
	b->pages = pages;
	b->npages = npages;
	for (unsigned k = 0; k < BUDDY_ORDERS; k++) {
		list_init(&b->free[k]);
		b->nfree[k] = 0;
	}
	b->free_pages = 0;
	b->managed_pages = 0;
}

/*
 * Free the RAM [pfn, pfn+count): carve it into maximal naturally aligned blocks and
 * free each.  Panics if the range leaves the array, holds a reserved page, or is free.
 */
void
buddy_add_range(struct buddy *b, uint64_t pfn, uint64_t count)
{
	KASSERT(pfn <= b->npages && count <= b->npages - pfn,
	    "buddy_add_range: [%lu, %lu+%lu) outside %lu pages", pfn, pfn, count, b->npages);
	for (uint64_t i = pfn; i < pfn + count; i++)
		KASSERT(!(b->pages[i].flags & PG_RESERVED),
		    "buddy_add_range: pfn %lu is reserved", i);
	b->managed_pages += count;
	while (count > 0) {
		unsigned order = ilog2(count);

		if (order > BUDDY_MAX_ORDER)
			order = BUDDY_MAX_ORDER;
		if (pfn != 0 && ctz(pfn) < order)
			order = ctz(pfn);
		KASSERT(!overlaps_free(b, pfn, order),
		    "buddy_add_range: pfn %lu order %u is already free", pfn, order);
		free_block(b, pfn, order);
		pfn += BLOCK(order);
		count -= BLOCK(order);
	}
}

/*
 * Allocate a naturally aligned block of 2^order pages: split the smallest free block
 * of at least that order.  Returns its head page, or NULL if there is none.
 */
struct page *
buddy_alloc(struct buddy *b, unsigned order)
{
	struct page *pg;
	uint64_t pfn;
	unsigned k;

	if (order > BUDDY_MAX_ORDER)
		return NULL;
	for (k = order; k <= BUDDY_MAX_ORDER && list_empty(&b->free[k]); k++)
		;
	if (k > BUDDY_MAX_ORDER)
		return NULL;
	pg = b->free[k].next;
	free_remove(b, pg, k);
	pfn = buddy_pfn(b, pg);
	while (k > order) {
		k--;
		free_insert(b, pfn + BLOCK(k), k);
	}
	return pg;
}

/*
 * Free the block of 2^order pages headed by pg, as allocated by buddy_alloc.
 * Panics on a block outside the array, misaligned, reserved, or already free.
 */
void
buddy_free(struct buddy *b, struct page *pg, unsigned order)
{
	uint64_t pfn;

	KASSERT(pg >= b->pages && pg < b->pages + b->npages,
	    "buddy_free: page %p outside the page array", (void *)pg);
	KASSERT(order <= BUDDY_MAX_ORDER, "buddy_free: order %u too large", order);
	pfn = buddy_pfn(b, pg);
	KASSERT((pfn & (BLOCK(order) - 1)) == 0,
	    "buddy_free: pfn %lu not aligned for order %u", pfn, order);
	KASSERT(BLOCK(order) <= b->npages - pfn,
	    "buddy_free: pfn %lu order %u runs past %lu pages", pfn, order, b->npages);
	KASSERT(!(pg->flags & PG_RESERVED), "buddy_free: pfn %lu is reserved", pfn);
	KASSERT(!overlaps_free(b, pfn, order),
	    "buddy_free: pfn %lu order %u is already free (double free?)", pfn, order);
	free_block(b, pfn, order);
}

/* In the self-check: fail with -(line number) unless cond holds. */
#define CHECK(cond)	do { if (!(cond)) return -__LINE__; } while (0)

/* A bijection of [0, 2^order), to visit the pages of a block in scrambled order. */
static uint64_t
scramble(uint64_t i, unsigned order)
{
	return (i * 0x9E3779B97F4A7C15ull + 0x5BD1E995u) & (BLOCK(order) - 1);
}

/* 0 if b holds exactly one free block: the one of that order at pfn; else -line. */
static int
check_single(struct buddy *b, uint64_t pfn, unsigned order)
{
	for (unsigned k = 0; k < BUDDY_ORDERS; k++)
		CHECK(b->nfree[k] == (k == order ? 1u : 0u));
	CHECK(b->free_pages == BLOCK(order));
	CHECK(b->free[order].next == &b->pages[pfn]);
	CHECK(b->pages[pfn].flags & PG_FREE);
	CHECK(b->pages[pfn].order == order);
	return 0;
}

/*
 * Note the self-check now holds the 2^order pages at pg (marked by refcount 1).
 * 0 if the block is aligned, inside the test block [base, base+2^border), and none
 * of its pages is held already; else -line.
 */
static int
hold(struct buddy *b, struct page *pg, unsigned order, uint64_t base, unsigned border)
{
	uint64_t pfn = buddy_pfn(b, pg);

	CHECK((pfn & (BLOCK(order) - 1)) == 0);
	CHECK(pfn >= base && pfn + BLOCK(order) <= base + BLOCK(border));
	CHECK(!(pg->flags & PG_FREE));
	for (uint64_t i = 0; i < BLOCK(order); i++) {
		CHECK(pg[i].refcount == 0);
		pg[i].refcount = 1;
	}
	return 0;
}

/* Give back a block taken by hold; its order is in pg->order. */
static void
unhold(struct buddy *b, struct page *pg)
{
	unsigned order = pg->order;

	for (uint64_t i = 0; i < BLOCK(order); i++)
		pg[i].refcount = 0;
	buddy_free(b, pg, order);
}

/*
 * The self-check proper, on an allocator that has been emptied: add the 2^order
 * pages at base and exercise them.  Returns 0 or -line.  Leaves b holding only pages
 * of that block, maybe some of them allocated and marked with refcount 1.
 */
static int
check_block(struct buddy *b, uint64_t base, unsigned order)
{
	static const uint8_t mix[] = { 2, 0, 1, 3, 0, 5, 1, 0, 4, 2, 0, 1 };
	struct page *pg, *held, **pp;
	uint64_t i;
	int r;

	CHECK(buddy_alloc(b, 0) == NULL);
	CHECK(buddy_alloc(b, BUDDY_MAX_ORDER + 1) == NULL);
	buddy_add_range(b, base, BLOCK(order));
	if ((r = check_single(b, base, order)) != 0)
		return r;

	/* Every page on its own, then back in scrambled order. */
	for (i = 0; i < BLOCK(order); i++) {
		CHECK((pg = buddy_alloc(b, 0)) != NULL);
		if ((r = hold(b, pg, 0, base, order)) != 0)
			return r;
		pg->order = 0;
	}
	CHECK(buddy_alloc(b, 0) == NULL);
	CHECK(b->free_pages == 0);
	for (i = 0; i < BLOCK(order); i++)
		unhold(b, &b->pages[base + scramble(i, order)]);
	if ((r = check_single(b, base, order)) != 0)
		return r;

	/*
	 * Mixed orders until not even one page is left, chained through next; then
	 * free every other block of the chain, then the rest.
	 */
	held = NULL;
	for (i = 0;; i++) {
		unsigned o = mix[i % sizeof(mix)] < order ? mix[i % sizeof(mix)] : order;

		if ((pg = buddy_alloc(b, o)) == NULL) {
			if (o == 0)
				break;
			continue;
		}
		if ((r = hold(b, pg, o, base, order)) != 0)
			return r;
		pg->order = (uint8_t)o;
		pg->next = held;
		held = pg;
	}
	CHECK(b->free_pages == 0);
	for (pp = &held; *pp != NULL;) {
		pg = *pp;
		*pp = pg->next;
		unhold(b, pg);
		if (*pp != NULL)
			pp = &(*pp)->next;
	}
	while ((pg = held) != NULL) {
		held = pg->next;
		unhold(b, pg);
	}
	if ((r = check_single(b, base, order)) != 0)
		return r;

	/* The whole block at once, and nothing larger. */
	if (order < BUDDY_MAX_ORDER)
		CHECK(buddy_alloc(b, order + 1) == NULL);
	CHECK(buddy_alloc(b, order) == &b->pages[base]);
	CHECK(b->free_pages == 0);
	buddy_free(b, &b->pages[base], order);
	return check_single(b, base, order);
}

/*
 * Check the live allocator without losing memory: set its free lists aside, run
 * check_block on the first 2^min(10, top) pages of one free block (top = highest
 * non-empty order), then restore lists, counts and pages exactly.  Returns 0,
 * BUDDY_SELFCHECK_EMPTY when nothing is free, or -line of the failed check.
 * Requires free pages to have refcount 0.  Uses about 1 KiB of stack.
 */
int
buddy_selfcheck(struct buddy *b)
{
	struct page stolen[BUDDY_ORDERS];
	uint64_t nstolen[BUDDY_ORDERS];
	uint64_t free_pages = b->free_pages, managed = b->managed_pages, sum = 0, base, i;
	unsigned k, top = 0, order, from;
	struct page *head;
	int r;

	for (k = 0; k < BUDDY_ORDERS; k++) {
		sum += b->nfree[k] << k;
		if (b->nfree[k] != 0)
			top = k;
	}
	CHECK(sum == free_pages);
	if (free_pages == 0)
		return BUDDY_SELFCHECK_EMPTY;

	/* The first block of the lowest non-empty order >= order. */
	order = top < SELFCHECK_ORDER ? top : SELFCHECK_ORDER;
	for (from = order; b->nfree[from] == 0; from++)
		;
	head = b->free[from].next;
	CHECK(head != &b->free[from]);
	CHECK(head >= b->pages && head < b->pages + b->npages);
	base = buddy_pfn(b, head);
	CHECK((head->flags & PG_FREE) && head->order == from);
	CHECK((base & (BLOCK(from) - 1)) == 0 && BLOCK(from) <= b->npages - base);
	if (from < BUDDY_MAX_ORDER && (base ^ BLOCK(from)) < b->npages) {
		struct page *bp = &b->pages[base ^ BLOCK(from)];

		CHECK(!(bp->flags & PG_FREE) || bp->order != from);
	}
	for (i = 0; i < BLOCK(order); i++) {
		CHECK(head[i].refcount == 0);
		CHECK(!(head[i].flags & PG_RESERVED));
		CHECK(i == 0 || !(head[i].flags & PG_FREE));
	}

	/* Steal every free list, and the test block from its list. */
	for (k = 0; k < BUDDY_ORDERS; k++) {
		list_move_all(&b->free[k], &stolen[k]);
		nstolen[k] = b->nfree[k];
		b->nfree[k] = 0;
	}
	b->free_pages = 0;
	list_del(head);
	head->flags &= ~PG_FREE;

	r = check_block(b, base, order);

	/*
	 * b now holds pages of the test block only, some maybe allocated: forget them all,
	 * then put the block back at the front of its list and the lists back in b.
	 */
	for (k = 0; k < BUDDY_ORDERS; k++)
		list_init(&b->free[k]);
	for (i = 0; i < BLOCK(order); i++) {
		head[i].flags &= ~PG_FREE;
		head[i].refcount = 0;
	}
	head->flags |= PG_FREE;
	head->order = (uint8_t)from;
	list_push(&stolen[from], head);
	for (k = 0; k < BUDDY_ORDERS; k++) {
		list_move_all(&stolen[k], &b->free[k]);
		b->nfree[k] = nstolen[k];
	}
	b->free_pages = free_pages;
	b->managed_pages = managed;
	return r;
}

/*
 * Take every free block lying inside the aligned block of 2^order pages at pfn off the
 * free lists, as if allocated, and record them in claimed[] (pfn and order each) so
 * the caller can give them back with buddy_free one by one, or free the whole block
 * with buddy_free(pfn, order) once it owns every other page of it too.  Returns the
 * number of blocks claimed (at most max), or -1 if a free block contains the whole
 * block (then it is simply free: allocate it) or more than max would be needed.
 * Used by the page daemon to empty a 2 MiB block before migrating its last pages.
 */
int
buddy_claim_within(struct buddy *b, uint64_t pfn, unsigned order, struct buddy_claim *claimed, int max)
{
	KASSERT(order <= BUDDY_MAX_ORDER && (pfn & (BLOCK(order) - 1)) == 0 && pfn + BLOCK(order) <= b->npages,
		"buddy_claim_within: bad block %lu order %u", (unsigned long)pfn, order);
	for (unsigned k = order; k <= BUDDY_MAX_ORDER; k++) {
		const struct page *h = &b->pages[pfn & ~(BLOCK(k) - 1)];
		if ((h->flags & PG_FREE) && h->order >= order && buddy_pfn(b, h) + BLOCK(h->order) > pfn)
			return -1;		/* already wholly free */
	}
	int n = 0;
	for (uint64_t p = pfn; p < pfn + BLOCK(order);) {
		struct page *pg = &b->pages[p];
		if (pg->flags & PG_FREE) {
			if (n == max) {
				for (int i = 0; i < n; i++)	/* undo */
					free_block(b, claimed[i].pfn, claimed[i].order);
				return -1;
			}
			claimed[n].pfn = p;
			claimed[n].order = pg->order;
			n++;
			free_remove(b, pg, pg->order);
			p += BLOCK(claimed[n - 1].order);
		} else {
			p++;
		}
	}
	return n;
}
