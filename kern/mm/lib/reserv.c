/*
 * Superpage reservations.
 *
 * What the paper says (Navarro et al., "Practical, transparent operating system
 * support for superpages", OSDI'02, §4), and where spos does it:
 *
 *  1. Reserve at first touch.  At the first fault in a range that has no reservation,
 *     reserve a whole aligned physical extent for it, betting that the neighbours will
 *     be touched too.  [caller]
 *  2. Largest size that fits: the largest aligned superpage that contains the faulting
 *     page, overlaps no other reservation and no populated page and, for a fixed-size
 *     object, lies inside the object; if no extent of that size is free, preempt or
 *     settle for a smaller size.  [caller, asking the object's popmap]
 *  3. Later faults in the range take their frame at the matching offset, so a fully
 *     populated range is physically contiguous and aligned and is promoted without a
 *     copy.  [here: reserv_alloc_page]
 *  4. Partially populated reservations sit on one list per size, ordered by the time of
 *     their most recent population ("growth"); a full one leaves its list.  [here]
 *  5. When the physical allocator cannot satisfy a request, preempt the reservation at
 *     the head of the list -- the one that grew least recently -- returning its unused
 *     frames.  [caller decides when; here: reserv_preempt]
 *
 * This module owns the reservation objects: handing out frames at the matching offset,
 * in-use bits and counts, the per-size partial queues, breaking (returning unused
 * frames as maximal naturally aligned blocks), the frame -> reservation tables and the
 * counters.  The callers (kern/mm/policy.c, kern/mm/object.c, kern/mm/frame.c) choose
 * the size, allocate the extent from the buddy allocator and hand it to reserv_create,
 * record the reservation in the object's popmap and its list (and drop it again in
 * reserv_ops.detach, which every destruction calls), call reserv_free_page when a
 * frame's last mapping goes, preempt and retry when the buddy allocator is dry, promote
 * when the popmap says a block is full, break reservations on object teardown, and
 * supply the clock (now).
 *
 * Differences from FreeBSD's vm_reserv.c, and why:
 *  - FreeBSD has a static struct vm_reserv for every 2 MiB of RAM.  spos allocates a
 *    reservation when it is created (the struct, and its in-use bitmap separately: 64
 *    bytes for 2 MiB, exactly 8 pages for 1 GiB), so 1 GiB reservations cost memory only
 *    while they exist; two pointer tables indexed by physical superpage number map a
 *    frame to its reservation.
 *  - FreeBSD creates and populates a reservation in one call; here reserv_create and
 *    reserv_alloc_page are separate, so a new reservation sits on its queue with no
 *    frame in use until its first page is handed out.  A caller that gives up on it
 *    before that calls reserv_break, which returns the extent whole.
 *  - FreeBSD requeues a depopulated reservation at the tail, as if it had just grown.
 *    spos keeps it where its stamp says (time of the last *population*, as in the
 *    paper), so freeing pages never protects a reservation from preemption.
 *  - Two sizes, 2 MiB and 1 GiB, each with its own queue (FreeBSD/amd64 reserves 2 MiB).
 *
 * Invariants (checked by tests/test_reserv.c):
 *  - popcnt is the number of set bits in inuse; a live reservation has object != NULL.
 *  - on_queue iff popcnt < 2^order and not pinned; each queue is ordered by stamp,
 *    oldest at the head, and among equal stamps by the time of queueing.  A pinned
 *    reservation (the kernel's wired blocks) is never preempted.
 *  - The table entry of every superpage of a live reservation's extent points to it
 *    (2 MiB: one entry of by2m; 1 GiB: one entry of by1g); no 2 MiB reservation lies
 *    inside a 1 GiB one.
 *  - Stamps never decrease: now is checked against the latest time seen.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kern/kassert.h"
#include "kern/mm/lib/reserv.h"

#define NPAGES(order)	((uint64_t)1 << (order))	/* frames in an extent of that order */

struct queue {
	struct reserv *head, *tail;	/* head: least recently grown */
	uint64_t n;
};

struct reserv_stats reserv_stats;

static struct {
	const struct reserv_ops *ops;
	bool ready;			/* between reserv_system_init and reserv_system_fini */
	uint64_t npages;		/* frames [0, npages) may be reserved */
	struct reserv **by2m;		/* [pfn >> 9]: live 2 MiB reservation there, or NULL */
	struct reserv **by1g;		/* [pfn >> 18]: live 1 GiB reservation there, or NULL */
	uint64_t n2m, n1g;		/* entries in by2m, by1g */
	struct queue partial[RESERV_NSIZES];
	uint64_t live[RESERV_NSIZES];
	uint64_t now;			/* latest time passed in */
} rs;

/* Index of an order in the per-size arrays; panics unless it is 9 or 18. */
static unsigned
size_index(unsigned order)
{
	KASSERT(order == PS_ORDER(PS_2M) || order == PS_ORDER(PS_1G),
	    "reserv: bad order %u", order);
	return order == PS_ORDER(PS_2M) ? 0 : 1;
}

/* Bytes of the in-use bitmap of an extent of that order. */
static size_t
bitmap_bytes(unsigned order)
{
	return NPAGES(order) / 8;
}

/* Table slot that points to a live reservation of that order at pfn. */
static struct reserv **
table_slot(unsigned order, uint64_t pfn)
{
	return order == PS_ORDER(PS_2M) ? &rs.by2m[pfn >> PS_ORDER(PS_2M)] :
	    &rs.by1g[pfn >> PS_ORDER(PS_1G)];
}

/* Panic if now is before the latest time seen. */
static void
check_time(uint64_t now)
{
	KASSERT(now >= rs.now, "reserv: time went back from %lu to %lu", rs.now, now);
}

/* Panic unless rv is a live reservation. */
static void
check_live(const struct reserv *rv, const char *fn)
{
	KASSERT(rv != NULL && rv->object != NULL, "%s: reservation %p is not live", fn,
	    (const void *)rv);
	KASSERT((rv->order == PS_ORDER(PS_2M) || rv->order == PS_ORDER(PS_1G)) &&
	    rv->pfn < rs.npages && *table_slot(rv->order, rv->pfn) == rv,
	    "%s: reservation %p not in its table", fn, (const void *)rv);
}

/* Take rv off its queue. */
static void
dequeue(struct reserv *rv)
{
	struct queue *q = &rs.partial[size_index(rv->order)];

	KASSERT(rv->on_queue, "reserv: dequeue of %p, which is not queued", (void *)rv);
	if (rv->prev != NULL)
		rv->prev->next = rv->next;
	else
		q->head = rv->next;
	if (rv->next != NULL)
		rv->next->prev = rv->prev;
	else
		q->tail = rv->prev;
	rv->prev = rv->next = NULL;
	rv->on_queue = false;
	q->n--;
}

/* Put rv on its queue before pos (NULL: at the tail). */
static void
enqueue_before(struct reserv *rv, struct reserv *pos)
{
	struct queue *q = &rs.partial[size_index(rv->order)];

	KASSERT(!rv->on_queue, "reserv: %p is already queued", (void *)rv);
	rv->next = pos;
	rv->prev = pos != NULL ? pos->prev : q->tail;
	if (rv->prev != NULL)
		rv->prev->next = rv;
	else
		q->head = rv;
	if (pos != NULL)
		pos->prev = rv;
	else
		q->tail = rv;
	rv->on_queue = true;
	q->n++;
}

/*
 * Put rv on its queue at the place its stamp says: after every reservation grown at
 * or before that time.  Creation and population stamp with the latest time, so they
 * append at the tail (see reserv_alloc_page), and so does reserv_unpin in the kernel,
 * which pins a reservation only while linking it at its creation.  The one case that
 * lands inside the queue is a full reservation losing a page: it rejoins at the time
 * it was last grown, which lies before the stamps of the reservations grown since.
 * The walk goes from the tail, past exactly those, so it costs O(1 + reservations of
 * its size grown since rv became full).  That step stays a search: finding rv's
 * predecessor among the stamps on the queue is not O(1) on a list, and keeping full
 * reservations queued as placeholders would only move the cost to reserv_lru and
 * reserv_preempt_for, which would have to step over them.
 */
static void
enqueue_by_stamp(struct reserv *rv)
{
	struct reserv *after = rs.partial[size_index(rv->order)].tail;

	while (after != NULL && after->stamp > rv->stamp)
		after = after->prev;
	enqueue_before(rv, after != NULL ? after->next : rs.partial[size_index(rv->order)].head);
}

/* The first index >= from in [from, n) whose bit in map equals set, or n (n % 64 == 0). */
static uint64_t
find_bit(const uint64_t *map, uint64_t from, uint64_t n, bool set)
{
	while (from < n) {
		uint64_t w = (set ? map[from / 64] : ~map[from / 64]) & (~(uint64_t)0 << (from % 64));

		if (w != 0)
			return (from & ~(uint64_t)63) + (uint64_t)__builtin_ctzll(w);
		from = (from & ~(uint64_t)63) + 64;
	}
	return n;
}

/*
 * Give the free frames [pfn, pfn+count) back as maximal naturally aligned blocks:
 * at each step the largest block that starts at pfn, is aligned there, and fits.
 */
static void
free_run(uint64_t pfn, uint64_t count)
{
	while (count > 0) {
		unsigned order = 63 - (unsigned)__builtin_clzll(count);

		if (pfn != 0 && (unsigned)__builtin_ctzll(pfn) < order)
			order = (unsigned)__builtin_ctzll(pfn);
		rs.ops->free_frames(pfn, order);
		pfn += NPAGES(order);
		count -= NPAGES(order);
	}
}

/*
 * Take rv out of the module's view: tell the caller (detach), clear its table entry.
 * rv must be off its queue; its fields stay valid until release.
 */
static void
forget(struct reserv *rv)
{
	KASSERT(!rv->on_queue, "reserv: destroying %p while queued", (void *)rv);
	if (rs.ops->detach != NULL)
		rs.ops->detach(rv);
	*table_slot(rv->order, rv->pfn) = NULL;
	rs.live[size_index(rv->order)]--;
}

/* Free the memory of a reservation that forget has taken out. */
static void
release(struct reserv *rv)
{
	rv->object = NULL;
	rs.ops->free(rv->inuse, bitmap_bytes(rv->order));
	rs.ops->free(rv, sizeof(*rv));
}

/*
 * Set up for frames [0, npages): allocate the frame -> reservation tables and zero the
 * counters.  Returns 0, or -1 when out of memory.
 */
int
reserv_system_init(const struct reserv_ops *ops, uint64_t npages)
{
	KASSERT(ops != NULL && ops->alloc != NULL && ops->free != NULL &&
	    ops->free_frames != NULL, "reserv_system_init: incomplete ops");
	KASSERT(!rs.ready, "reserv_system_init: already initialized");
	rs.ops = ops;
	rs.npages = npages;
	rs.n2m = (npages + NPAGES(PS_ORDER(PS_2M)) - 1) >> PS_ORDER(PS_2M);
	rs.n1g = (npages + NPAGES(PS_ORDER(PS_1G)) - 1) >> PS_ORDER(PS_1G);
	rs.by2m = rs.by1g = NULL;
	if (rs.n2m != 0 && (rs.by2m = ops->alloc(rs.n2m * sizeof(struct reserv *))) == NULL)
		return -1;
	if (rs.n1g != 0 && (rs.by1g = ops->alloc(rs.n1g * sizeof(struct reserv *))) == NULL) {
		ops->free(rs.by2m, rs.n2m * sizeof(struct reserv *));
		rs.by2m = NULL;
		return -1;
	}
	for (unsigned i = 0; i < RESERV_NSIZES; i++) {
		rs.partial[i].head = rs.partial[i].tail = NULL;
		rs.partial[i].n = 0;
		rs.live[i] = 0;
		reserv_stats.created[i] = reserv_stats.broken[i] = 0;
		reserv_stats.preempted[i] = reserv_stats.fully_populated[i] = 0;
		reserv_stats.freed_whole[i] = 0;
	}
	rs.now = 0;
	rs.ready = true;
	return 0;
}

/* Free the tables; panics if a reservation is alive. */
void
reserv_system_fini(void)
{
	KASSERT(rs.ready, "reserv_system_fini: not initialized");
	KASSERT(rs.live[0] == 0 && rs.live[1] == 0,
	    "reserv_system_fini: %lu + %lu reservations alive", rs.live[0], rs.live[1]);
	if (rs.by2m != NULL)
		rs.ops->free(rs.by2m, rs.n2m * sizeof(struct reserv *));
	if (rs.by1g != NULL)
		rs.ops->free(rs.by1g, rs.n1g * sizeof(struct reserv *));
	rs.by2m = rs.by1g = NULL;
	rs.n2m = rs.n1g = rs.npages = 0;
	rs.ready = false;
}

/*
 * A reservation of the caller's 2^order frames at pfn for the object range at pindex,
 * queued with no frame in use.  NULL when out of memory.
 */
struct reserv *
reserv_create(unsigned order, uint64_t pfn, void *object, uint64_t pindex, uint64_t now)
{
	unsigned si = size_index(order);
	struct reserv *rv;

	KASSERT(rs.ready, "reserv_create: not initialized");
	KASSERT(object != NULL, "reserv_create: no object");
	KASSERT((pfn & (NPAGES(order) - 1)) == 0 && (pindex & (NPAGES(order) - 1)) == 0,
	    "reserv_create: pfn %lx or pindex %lx not aligned to order %u", pfn, pindex, order);
	KASSERT(pfn <= rs.npages && NPAGES(order) <= rs.npages - pfn,
	    "reserv_create: pfn %lx order %u past %lu frames", pfn, order, rs.npages);
	KASSERT(rs.by1g[pfn >> PS_ORDER(PS_1G)] == NULL,
	    "reserv_create: pfn %lx overlaps a 1 GiB reservation", pfn);
	if (order == PS_ORDER(PS_2M))
		KASSERT(rs.by2m[pfn >> PS_ORDER(PS_2M)] == NULL,
		    "reserv_create: pfn %lx overlaps a 2 MiB reservation", pfn);
	else
		for (uint64_t i = 0; i < NPAGES(order - PS_ORDER(PS_2M)); i++)
			KASSERT(rs.by2m[(pfn >> PS_ORDER(PS_2M)) + i] == NULL,
			    "reserv_create: pfn %lx overlaps a 2 MiB reservation", pfn);
	check_time(now);
	if ((rv = rs.ops->alloc(sizeof(*rv))) == NULL)
		return NULL;
	if ((rv->inuse = rs.ops->alloc(bitmap_bytes(order))) == NULL) {
		rs.ops->free(rv, sizeof(*rv));
		return NULL;
	}
	rs.now = now;
	rv->pfn = pfn;
	rv->order = (uint8_t)order;
	rv->object = object;
	rv->pindex = pindex;
	rv->popcnt = 0;
	for (uint64_t i = 0; i < bitmap_bytes(order) / 8; i++)
		rv->inuse[i] = 0;
	rv->stamp = now;
	rv->prev = rv->next = NULL;
	rv->on_queue = false;
	rv->pinned = false;
	rv->objprev = rv->objnext = NULL;
	enqueue_before(rv, NULL);
	*table_slot(order, pfn) = rv;
	rs.live[si]++;
	reserv_stats.created[si]++;
	return rv;
}

/* Hand out the frame of rv for pindex, making rv the most recently grown of its size. */
uint64_t
reserv_alloc_page(struct reserv *rv, uint64_t pindex, uint64_t now)
{
	uint64_t off;

	check_live(rv, "reserv_alloc_page");
	off = pindex - rv->pindex;
	KASSERT(off < NPAGES(rv->order), "reserv_alloc_page: pindex %lx outside reservation "
	    "at pindex %lx order %u", pindex, rv->pindex, rv->order);
	KASSERT(!(rv->inuse[off / 64] >> (off % 64) & 1),
	    "reserv_alloc_page: frame %lx for pindex %lx already in use", rv->pfn + off, pindex);
	KASSERT(rv->popcnt < NPAGES(rv->order), "reserv_alloc_page: popcnt corrupted");
	check_time(now);
	rs.now = now;
	rv->inuse[off / 64] |= (uint64_t)1 << (off % 64);
	rv->popcnt++;
	rv->stamp = now;
	if (rv->on_queue && rv == rs.partial[size_index(rv->order)].tail && rv->popcnt < NPAGES(rv->order))
		return rv->pfn + off;	/* the most recently grown already: stays at the tail */
	if (rv->on_queue)
		dequeue(rv);
	if (rv->popcnt == NPAGES(rv->order))
		reserv_stats.fully_populated[size_index(rv->order)]++;
	else if (!rv->pinned)
		enqueue_before(rv, NULL);	/* the latest stamp: O(1) at the tail */
	return rv->pfn + off;
}

/*
 * Frame pfn of rv is free again.  True when it was the last one, and the extent went
 * back whole and rv is gone; false when rv is (re)queued by its stamp.
 */
bool
reserv_free_page(struct reserv *rv, uint64_t pfn)
{
	uint64_t off;
	unsigned order;

	check_live(rv, "reserv_free_page");
	off = pfn - rv->pfn;
	order = rv->order;
	KASSERT(off < NPAGES(order), "reserv_free_page: frame %lx outside reservation at "
	    "%lx order %u", pfn, rv->pfn, order);
	KASSERT(rv->inuse[off / 64] >> (off % 64) & 1,
	    "reserv_free_page: frame %lx not in use", pfn);
	KASSERT(rv->popcnt > 0, "reserv_free_page: popcnt corrupted");
	rv->inuse[off / 64] &= ~((uint64_t)1 << (off % 64));
	rv->popcnt--;
	if (rv->popcnt == 0) {
		if (rv->on_queue)
			dequeue(rv);
		reserv_stats.freed_whole[size_index(order)]++;
		forget(rv);
		rs.ops->free_frames(rv->pfn, order);
		release(rv);
		return true;
	}
	if (!rv->on_queue && !rv->pinned)
		enqueue_by_stamp(rv);	/* it was full; a partial one stays where it is */
	return false;
}

/*
 * reserv_free_page for each of the 2^order frames at pfn, all in use, in one step: a
 * whole 2 MiB page's frames go back to their reservation as one block (the bits are
 * cleared a word at a time, so order is at least 6), and rv, if it was full, is
 * requeued once rather than walked into its queue again for each frame.
 */
bool
reserv_free_block(struct reserv *rv, uint64_t pfn, unsigned order)
{
	uint64_t off, n = NPAGES(order);

	check_live(rv, "reserv_free_block");
	off = pfn - rv->pfn;
	KASSERT(order >= 6 && order <= rv->order && off < NPAGES(rv->order) && (off & (n - 1)) == 0,
	    "reserv_free_block: frames %lx order %u are not a block of reservation at %lx order %u",
	    pfn, order, rv->pfn, rv->order);
	KASSERT(reserv_block_inuse(rv, pfn, order),
	    "reserv_free_block: a frame of %lx order %u is not in use", pfn, order);
	KASSERT(rv->popcnt >= n, "reserv_free_block: popcnt corrupted");
	for (uint64_t w = off / 64; w < (off + n) / 64; w++)
		rv->inuse[w] = 0;
	rv->popcnt -= (uint32_t)n;
	if (rv->popcnt == 0) {
		if (rv->on_queue)
			dequeue(rv);
		reserv_stats.freed_whole[size_index(rv->order)]++;
		forget(rv);
		rs.ops->free_frames(rv->pfn, rv->order);
		release(rv);
		return true;
	}
	if (!rv->on_queue && !rv->pinned)
		enqueue_by_stamp(rv);
	return false;
}

/* Whether every frame of the 2^order frames at pfn (order >= 6, inside rv, aligned) is in use. */
bool
reserv_block_inuse(const struct reserv *rv, uint64_t pfn, unsigned order)
{
	uint64_t off = pfn - rv->pfn, n = NPAGES(order);

	KASSERT(order >= 6 && order <= rv->order && off < NPAGES(rv->order) && (off & (n - 1)) == 0,
	    "reserv_block_inuse: frames %lx order %u are not a block of reservation at %lx order %u",
	    pfn, order, rv->pfn, rv->order);
	for (uint64_t w = off / 64; w < (off + n) / 64; w++)
		if (rv->inuse[w] != ~(uint64_t)0)
			return false;
	return true;
}

/* Keep rv off the partially populated queue until reserv_unpin: it is never preempted. */
void
reserv_pin(struct reserv *rv)
{
	check_live(rv, "reserv_pin");
	rv->pinned = true;
	if (rv->on_queue)
		dequeue(rv);
}

/* rv may be preempted again: back on its queue by its stamp unless it is full. */
void
reserv_unpin(struct reserv *rv)
{
	check_live(rv, "reserv_unpin");
	KASSERT(rv->pinned, "reserv_unpin: %p is not pinned", (void *)rv);
	rv->pinned = false;
	if (rv->popcnt < NPAGES(rv->order))
		enqueue_by_stamp(rv);
}

/* Dissolve rv: unused frames go back as maximal aligned blocks, used ones stay allocated. */
void
reserv_break(struct reserv *rv)
{
	uint64_t n, i, j;

	check_live(rv, "reserv_break");
	if (rv->on_queue)
		dequeue(rv);
	reserv_stats.broken[size_index(rv->order)]++;
	forget(rv);
	n = NPAGES(rv->order);
	for (i = find_bit(rv->inuse, 0, n, false); i < n; i = find_bit(rv->inuse, j, n, false)) {
		j = find_bit(rv->inuse, i, n, true);
		free_run(rv->pfn + i, j - i);
	}
	release(rv);
}

/* Head of the partial queue of that order, or NULL. */
struct reserv *
reserv_lru(unsigned order)
{
	return rs.partial[size_index(order)].head;
}

/* Break the least recently grown partial reservation of that order; false if none. */
bool
reserv_preempt(unsigned order)
{
	struct reserv *rv = reserv_lru(order);

	if (rv == NULL)
		return false;
	reserv_stats.preempted[size_index(order)]++;
	reserv_break(rv);
	return true;
}

/* Aligned 2^order blocks of rv with no frame in use. */
uint64_t
reserv_free_blocks(const struct reserv *rv, unsigned order)
{
	uint64_t n = NPAGES(rv->order), size = NPAGES(order), count = 0;

	if (order >= rv->order)
		return rv->popcnt == 0 ? 1 : 0;
	if (order == 0)
		return n - rv->popcnt;
	for (uint64_t i = 0; i < n; i += size)		/* a result past i + size: none in use */
		if (find_bit(rv->inuse, i, i + size, true) >= i + size)
			count++;
	return count;
}

/*
 * Break the least recently grown partial reservation, of either size, whose break
 * gives back a free aligned block of 2^order frames.  Breaking one that has a frame in
 * use in every such block would return nothing the request can use, so those are
 * passed over: the two queues are walked together, oldest stamp first.
 */
bool
reserv_preempt_for(unsigned order)
{
	struct reserv *small = rs.partial[0].head, *big = rs.partial[1].head;

	while (small != NULL || big != NULL) {
		struct reserv **next = big != NULL && (small == NULL || big->stamp < small->stamp) ?
		    &big : &small;
		struct reserv *rv = *next;

		if (reserv_free_blocks(rv, order) > 0) {
			reserv_stats.preempted[size_index(rv->order)]++;
			reserv_break(rv);
			return true;
		}
		*next = rv->next;
	}
	return false;
}

/* The latest time passed in. */
uint64_t
reserv_clock(void)
{
	return rs.now;
}

/* Reservations on the partial queue of that order. */
uint64_t
reserv_partial_count(unsigned order)
{
	return rs.partial[size_index(order)].n;
}

/* Live reservations of that order. */
uint64_t
reserv_count(unsigned order)
{
	return rs.live[size_index(order)];
}

/* Whether rv's frame for pindex is in use. */
bool
reserv_page_inuse(const struct reserv *rv, uint64_t pindex)
{
	uint64_t off = pindex - rv->pindex;

	KASSERT(off < NPAGES(rv->order), "reserv_page_inuse: pindex %lx outside reservation "
	    "at pindex %lx order %u", pindex, rv->pindex, rv->order);
	return rv->inuse[off / 64] >> (off % 64) & 1;
}

uint64_t
reserv_first_free(const struct reserv *rv)
{
	uint64_t off = find_bit(rv->inuse, 0, NPAGES(rv->order), false);

	KASSERT(off < NPAGES(rv->order), "reserv_first_free: reservation at pindex %lx is full", rv->pindex);
	return rv->pindex + off;
}

/* The live reservation whose extent holds frame pfn, or NULL. */
struct reserv *
reserv_of_frame(uint64_t pfn)
{
	struct reserv *rv;

	if (!rs.ready || pfn >= rs.npages)
		return NULL;
	if ((rv = rs.by2m[pfn >> PS_ORDER(PS_2M)]) != NULL)
		return rv;
	return rs.by1g[pfn >> PS_ORDER(PS_1G)];
}

/* fn(rv, arg) for every live reservation: 2 MiB ones, then 1 GiB ones, by pfn. */
void
reserv_foreach(void (*fn)(struct reserv *rv, void *arg), void *arg)
{
	if (!rs.ready)
		return;
	for (uint64_t i = 0; i < rs.n2m; i++)
		if (rs.by2m[i] != NULL)
			fn(rs.by2m[i], arg);
	for (uint64_t i = 0; i < rs.n1g; i++)
		if (rs.by1g[i] != NULL)
			fn(rs.by1g[i], arg);
}
