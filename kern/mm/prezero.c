/*
 * kern/mm/prezero.c: pre-zeroed pages -- zeroing moved off the fault path.
 *
 * HawkEye (Panwar, Bansal, Gopinath, ASPLOS'19), as we read it, observes that zeroing
 * dominates the cost of a huge-page fault (a 2 MiB page is 512 page zeroings) and
 * moves it off the critical path: a rate-limited kernel thread zeroes free pages in
 * the background (with non-temporal stores, so it does not pollute the caches), the
 * buddy allocator keeps zeroed free blocks apart from the others, and a fault that
 * needs a zeroed page takes one of those and skips the zeroing.
 *
 * What spos does:
 *   - two bounded pools beside the buddy allocator, of zeroed 4 KiB frames and zeroed
 *     2 MiB blocks (targets prezero.4k=PAGES, default 256 = 1 MiB, and prezero.2m=
 *     BLOCKS, default 4 = 8 MiB); prezero=off (default on) leaves them empty, and
 *     the kernel then behaves as before they existed;
 *   - they fill when the CPU would otherwise idle: the scheduler's idle loop
 *     (kern/sched.c) zeroes one frame or one block, lets a pending interrupt in, and
 *     comes back while nothing is runnable.  Not the page daemon: its passes run
 *     between time slices even when processes are runnable, so zeroing there would
 *     take time from them, which is what HawkEye's rate limit bounds; the idle loop
 *     spends only time nobody wanted, and a CPU-bound workload never pays for it.
 *     Zeroing only at idle also keeps runs deterministic under -icount: nothing is
 *     zeroed ahead unless every process sleeps (wait, or the tick_sleep system call)
 *     or the monitor waits for input;
 *   - they take a frame only while the buddy allocator keeps a floor of free memory
 *     (a sixteenth of it, the page daemon's pressure mark), and pool pages stay free
 *     memory for every count: phys_free_pages and the page daemon's free 2 MiB blocks
 *     include them, and frame_alloc takes them back (prezero_give_back) before it
 *     preempts a reservation, so no allocation fails while a pool holds a frame;
 *   - demand-zero faults take a pool frame when there is one (kern/mm/policy.c): a
 *     4 KiB frame under vm.policy=base and for the reserve policy's fallbacks (split
 *     off a pool block when the 4 KiB pool is empty), a 2 MiB block under eager and
 *     /dev/hugemap.  A 2 MiB reservation is made from a pool block when there is
 *     one: its frames are marked PG_ZERO and each is handed out without zeroing at
 *     its first population; a frame freed inside the reservation and handed out
 *     again is dirty (the mark went at the first population), and one leaving the
 *     reservation unpopulated loses its mark before the allocator sees it
 *     (frame_free_extent), so PG_ZERO never reaches the buddy allocator's free lists.
 * Measured (make bench-peer, guest instructions, p50): a 4 KiB fault after the CPU
 * idled costs 804 under vm.policy=base (1,428 with prezero=off, which zeroes at fault
 * time); a 2 MiB fault under eager 6,812 (269,076).  A fault that finds its pool empty
 * pays ~20 instructions for asking.
 * How it differs: spos keeps zeroed memory in small pools outside the buddy allocator
 * rather than as a second set of free lists inside it (no zero state to merge when
 * buddies coalesce, and the pools stay bounded), zeroes with lib/string.c's memset
 * (rep stos; QEMU has no caches to spare), and has no rate limit because it zeroes
 * only when idle.
 */
#include "inc/memlayout.h"
#include "inc/mmu.h"
#include "inc/string.h"
#include "kern/cmdline.h"
#include "kern/console.h"
#include "kern/kassert.h"
#include "kern/mm/prezero.h"

#define DEFAULT_TARGET_4K	256	/* 1 MiB */
#define DEFAULT_TARGET_2M	4	/* 8 MiB */

struct prezero_stats prezero_stats;
bool prezero_on = true;

static struct buddy *buddy;		/* where pool frames come from and go back to */
static uint64_t marked;			/* frames with PG_ZERO now */
static uint64_t target[2];		/* blocks wanted per pool: [0] 4 KiB, [1] 2 MiB */

/* One pool: a stack of blocks linked through their head's free-list link. */
static struct pool {
	struct page *top;
	uint64_t count;
} pools[2];

static unsigned
pool_order(int i)
{
	return i ? PS_ORDER(PS_2M) : 0;
}

void
prezero_init(struct buddy *b)
{
	const char *v = cmdline_get("prezero");
	buddy = b;
	if (v && strcmp(v, "off") == 0)
		prezero_on = false;
	else if (v && strcmp(v, "on") != 0)
		cprintf("prezero=%s unknown: on\n", v);
	target[0] = cmdline_get_u64("prezero.4k", DEFAULT_TARGET_4K);
	target[1] = cmdline_get_u64("prezero.2m", DEFAULT_TARGET_2M);
}

static void
pool_push(struct pool *p, struct page *pg)
{
	pg->next = p->top;
	p->top = pg;
	p->count++;
}

static struct page *
pool_pop(struct pool *p)
{
	struct page *pg = p->top;
	if (pg) {
		p->top = pg->next;
		pg->next = NULL;
		p->count--;
	}
	return pg;
}

static void *
block_kva(struct page *pg)
{
	return KADDR(buddy_pfn(buddy, pg) << PGSHIFT);
}

/*
 * A 4 KiB frame when the 4 KiB pool is empty comes from a 2 MiB block of the other
 * pool, whose other 511 frames join the 4 KiB pool: under vm.policy=base no fault asks
 * for a 2 MiB block, and the zeroing done ahead is not wasted.
 */
struct page *
prezero_take(enum page_size ps)
{
	int i = ps == PS_2M;
	assert(ps == PS_4K || ps == PS_2M);
	if (!prezero_on)
		return NULL;
	struct page *blk;
	if (i == 0 && !pools[0].top && (blk = pool_pop(&pools[1])) != NULL)
		for (uint64_t k = PS_PAGES(PS_2M); k-- > 0;)
			pool_push(&pools[0], &blk[k]);
	struct page *pg = pool_pop(&pools[i]);
	if (pg)
		prezero_stats.hits[i]++;
	else
		prezero_stats.misses[i]++;
	return pg;
}

uint64_t
prezero_pages(void)
{
	return pools[0].count + (pools[1].count << PS_ORDER(PS_2M));
}

uint64_t
prezero_blocks(enum page_size ps)
{
	return pools[ps == PS_2M].count;
}

/* Return every block of pool i to the allocator; the number of pages returned. */
static uint64_t
pool_drain(int i)
{
	uint64_t pages = 0;
	struct page *pg;
	while ((pg = pool_pop(&pools[i])) != NULL) {
		buddy_free(buddy, pg, pool_order(i));
		pages += 1UL << pool_order(i);
	}
	return pages;
}

/*
 * The least that serves: one 4 KiB frame for a 4 KiB request, one 2 MiB block for a
 * request of up to 2 MiB; otherwise a whole pool, the 4 KiB one first (its frames may
 * coalesce with free neighbours into what is asked for).
 */
bool
prezero_give_back(unsigned order)
{
	uint64_t pages = 0;
	struct page *pg;
	if (order == 0 && (pg = pool_pop(&pools[0])) != NULL) {
		buddy_free(buddy, pg, 0);
		pages = 1;
	} else if (order <= PS_ORDER(PS_2M) && (pg = pool_pop(&pools[1])) != NULL) {
		buddy_free(buddy, pg, PS_ORDER(PS_2M));
		pages = PS_PAGES(PS_2M);
	} else if (!(pages = pool_drain(0))) {
		pages = pool_drain(1);
	}
	prezero_stats.given_back += pages;
	return pages > 0;
}

/* Whether the allocator keeps its floor of free memory after giving up 2^order frames. */
static bool
can_take(unsigned order)
{
	return buddy->free_pages >= (1UL << order) + buddy->managed_pages / 16;
}

bool
prezero_idle(void)
{
	if (!prezero_on)
		return false;
	for (int i = 0; i < 2; i++) {
		unsigned order = pool_order(i);
		struct page *pg;
		if (pools[i].count >= target[i] || !can_take(order) || !(pg = buddy_alloc(buddy, order)))
			continue;
		memset(block_kva(pg), 0, PGSIZE << order);
		prezero_stats.pages_zeroed += 1UL << order;
		pool_push(&pools[i], pg);
		return true;
	}
	return false;
}

void
prezero_mark(struct page *head, unsigned order)
{
	for (uint64_t i = 0; i < (1UL << order); i++)
		head[i].flags |= PG_ZERO;
	marked += 1UL << order;
}

bool
prezero_claim(struct page *pg)
{
	if (!(pg->flags & PG_ZERO))
		return false;
	pg->flags &= ~PG_ZERO;
	marked--;
	prezero_stats.reserv_hits++;
	return true;
}

/*
 * Only 2 MiB reservations come from the pool: a larger extent holds no mark.  Free
 * extents of every reservation (wired blocks too) come here, so with no marked frame
 * anywhere the scan is skipped.
 */
void
prezero_forget(struct page *head, unsigned order)
{
	for (uint64_t i = 0; marked > 0 && order <= PS_ORDER(PS_2M) && i < (1UL << order); i++)
		if (head[i].flags & PG_ZERO) {
			head[i].flags &= ~PG_ZERO;
			marked--;
		}
}

void
prezero_print(void)
{
	cprintf("prezero %s: pools 4K %lu/%lu pages, 2M %lu/%lu blocks; hits 4K %lu 2M %lu reserv %lu, "
		"misses 4K %lu 2M %lu; zeroed ahead %lu KiB; given back %lu pages\n",
		prezero_on ? "on" : "off", pools[0].count, target[0], pools[1].count, target[1],
		prezero_stats.hits[0], prezero_stats.hits[1], prezero_stats.reserv_hits, prezero_stats.misses[0],
		prezero_stats.misses[1], prezero_stats.pages_zeroed * 4, prezero_stats.given_back);
}
