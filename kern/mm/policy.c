/*
 * kern/mm/policy.c: when spos uses superpages — reservations at fault time, incremental
 * promotion, and preemption — on top of the mechanisms in kern/mm/lib/reserv.c (reservations),
 * kern/mm/lib/popmap.c (population maps) and kern/mm/pt/radix.c (promote/demote).
 *
 * The paper (Navarro, Iyer, Druschel, Cox, OSDI'02) and FreeBSD's vm_reserv.c:
 *   - at the first fault in an aligned range of a memory object, reserve the physical
 *     extent of the largest superpage that contains the faulting page and fits, and
 *     hand out its frames at matching offsets as pages are touched;
 *   - promote a range when it is fully populated, incrementally (4 KiB -> 2 MiB ->
 *     1 GiB), in place, since reservation frames are contiguous;
 *   - keep partially populated reservations by recency of growth and preempt the least
 *     recently grown one when the buddy allocator cannot satisfy a request.
 * What spos does, under vm.policy=reserve (the default):
 *   - objects are indexed by virtual page number, so object alignment is virtual
 *     alignment;
 *   - a block is eligible for a reservation if it does not overlap a populated page
 *     or another reservation of the object, and — for fixed-size objects (program
 *     images, mmap regions) — lies inside the object; growing objects (heap, stack) may
 *     reserve past their end into free address space, where they will grow, but never
 *     below their start;
 *   - 1 GiB is tried before 2 MiB, then a plain 4 KiB frame; a reservation is made
 *     only from free memory, while a frame the kernel or a fault needs may preempt
 *     (frame_alloc), as in FreeBSD;
 *   - frames are zeroed one 4 KiB page at a time as they are handed out, except those
 *     of a reservation made from a pre-zeroed block (kern/mm/prezero.c);
 *   - promotion is offered only when the population map says the block is full and it
 *     lies in a reservation, so a workload without reservations pays no failed attempts;
 *   - vm.promote.util=P (1..99; default 100, Navarro's full population): a utilization
 *     threshold after Ingens (Kwon et al., OSDI'16), which promotes a 2 MiB region once
 *     P% of it is in use.  When a fault brings a reservation's 2 MiB block, lying in its
 *     region, to P% populated, the rest of its pages are populated (zeroed and mapped
 *     from the reservation, counted as util_fill_pages: memory bloat) and the block is
 *     promoted.  Ingens decides from access bits sampled in the background and promotes
 *     asynchronously; spos decides at the fault, from the population map.
 * vm.policy=eager maps a zeroed 2 MiB page at the first fault of an aligned 2 MiB block
 * lying wholly inside the region (falling back to 4 KiB), like Linux THP "always";
 * vm.policy=base maps 4 KiB pages only.  All policies share the mechanisms below.
 *
 * /dev/hugemap (the seed's mmap driver for dynamic page sizes) chooses per mapping, not
 * per policy: at mmap, each 2 MiB-aligned block of the request whose requested fraction
 * is at least HUGEMAP_THRESHOLD gets one 2 MiB page, the others 4 KiB pages; whatever
 * vm.policy says, its objects get no reservations and no promotion.  The 2 MiB page is
 * allocated at the block's first touch, not at mmap: like every other page in spos it
 * costs nothing until used, and fork, munmap and exit then find it as an ordinary
 * resident leaf (the eager policy's path).  When no 2 MiB block is free even after the
 * allocator preempted partial reservations (frame_alloc), the block falls back to 4 KiB
 * pages for good and the fallback is counted; so does a block whose bloat had no room in
 * the address space at mmap (vm_mmap_hugemap).  The bloat -- the part of a 2 MiB page
 * beyond the request -- is counted when the page is granted.
 */
#include "inc/error.h"
#include "inc/string.h"
#include "inc/util.h"
#include "kern/cmdline.h"
#include "kern/console.h"
#include "kern/kassert.h"
#include "kern/mm/frame.h"
#include "kern/mm/pt/pt.h"
#include "kern/mm/lib/popmap.h"
#include "kern/mm/lib/reserv.h"
#include "kern/mm/object.h"
#include "kern/mm/prezero.h"
#include "kern/mm/vm.h"
#include "kern/mm/policy.h"

/*
 * The least fraction of a 2 MiB block, in percent, that /dev/hugemap maps with a 2 MiB
 * page.  Chosen by the measured sweep of tools/bench_hugemap.py (make bench-hugemap):
 * one boot per threshold, distribution and seed (1..4) runs user/hugemap_bench, which
 * maps 16 requests at once, touches them, and measures 100000 random 8-byte loads over
 * the requested bytes with the model TLB (64 4 KiB + 32 2 MiB entries, 4-way, clock).
 * Cost = bloat/worst bloat + misses/worst misses of the sweep, summed over the three
 * request distributions; the least cost wins:
 *                        bloat% at 50 / 55 / 60 / 70        misses per 1k at the same
 *   uniform 4K..8M        6.5 / 4.3 / 4.0 / 1.9             148 / 159 / 164 / 191
 *   log-normal ~1 MiB    10.3 / 8.3 / 6.6 / 4.4             209 / 231 / 260 / 295
 *   user/hugemap trace   17.5 /11.0 / 0.1 / 0.1              23 /  88 / 207 / 207
 *   total cost           2.50 /2.27 /2.09 /2.09  (10%: 3.60, 100%: 3.00; 60%: 2.087, 70%: 2.094)
 * The uniform and log-normal requests alone are nearly flat from 50 to 70 and would keep
 * 55 (1.42 / 1.35 / 1.38 / 1.38); the trace's requests of 281..283 pages, just around
 * 55%, tip the sum to 60.
 */
#define HUGEMAP_THRESHOLD	60

/* HUGEMAP_THRESHOLD unless the command line says hugemap.threshold=N (1..100), for sweeps and tests. */
static uint64_t hugemap_threshold = HUGEMAP_THRESHOLD;

enum vm_policy vm_policy = POLICY_RESERVE;
struct policy_stats policy_stats;

static const char *const policy_names[] = { "base", "eager", "reserve" };
static uint64_t promote_util = 100;	/* vm.promote.util: percent of a 2 MiB block populated */

void
policy_init(void)
{
	const char *p = cmdline_get("vm.policy");
	for (int i = 0; p && i < (int)ARRAY_SIZE(policy_names); i++)
		if (strcmp(p, policy_names[i]) == 0)
			vm_policy = (enum vm_policy)i;
	if (p && strcmp(p, policy_names[vm_policy]) != 0)
		cprintf("vm.policy=%s unknown: using %s\n", p, policy_names[vm_policy]);
	uint64_t u = cmdline_get_u64("vm.promote.util", 100);
	promote_util = u >= 1 && u <= 100 ? u : 100;
	if (promote_util < 100)
		cprintf("vm: promote a reservation's 2 MiB block at %lu%% populated\n", promote_util);
	uint64_t t = cmdline_get_u64("hugemap.threshold", HUGEMAP_THRESHOLD);
	if (t >= 1 && t <= 100)
		hugemap_threshold = t;
	object_system_init();
	cprintf("vm: policy %s\n", policy_names[vm_policy]);
}

const char *
policy_name(void)
{
	return policy_names[vm_policy];
}

/* ---- populating a page ---- */

static void
zero_frame(uint64_t pa, uint64_t size)
{
	memset(KADDR(pa), 0, size);
	policy_stats.bytes_zeroed += size;
}

/* A frame of size ps for a fault: a pre-zeroed one (*zeroed) if its pool has one. */
static struct page *
fault_frame(enum page_size ps, bool *zeroed)
{
	struct page *pg = prezero_take(ps);
	*zeroed = pg != NULL;
	return pg ? pg : frame_alloc(PS_ORDER(ps));
}

/* Whether regions of obj cover [start, end) without a hole. */
static bool
object_covers(struct vmspace *vs, struct vm_object *obj, uint64_t start, uint64_t end)
{
	uint64_t va = start;
	for (struct vm_region *o = first_region_ending_after(vs, start); o && va < end; o = o->next) {
		if (o->start > va || o->obj != obj)
			return false;
		va = o->end;
	}
	return va >= end;
}

/*
 * Whether the aligned block [blk, blk+size) may be reserved for region r.  A
 * fixed-size object (program segment, mmap region) reserves only blocks it covers
 * wholly, as Navarro caps a reservation at the object's size.  A growing object
 * (heap, stack) grows at its end: the block must start inside it and may reach past
 * its end only into free address space.
 */
static bool
block_eligible(struct vmspace *vs, struct vm_region *r, uint64_t blk, uint64_t size)
{
	if (blk + size <= blk || blk + size > UTOP || blk < UTEXT)
		return false;
	if (r->obj->fixed_size) {
		if (blk >= r->start && blk + size <= r->end)
			return true;
		if (size > r->obj->size)
			return false;	/* its regions cannot cover more than the object: no walk */
		return object_covers(vs, r->obj, blk, blk + size);
	}
	if (blk < r->start - r->offset)
		return false;		/* below the object's start: it never grows there */
	for (struct vm_region *o = first_region_ending_after(vs, blk); o && o->start < blk + size; o = o->next)
		if (o != r && o->obj != r->obj)
			return false;
	return true;
}

/* Make a reservation of the largest eligible size containing va; NULL if none. */
static struct reserv *
reserve_block(struct vmspace *vs, struct vm_region *r, uint64_t va)
{
	struct popmap *pm = &r->obj->popmap;
	for (int level = PS_1G; level >= PS_2M; level--) {
		uint64_t size = PS_SIZE(level), blk = ROUNDDOWN(va, size), pindex = blk >> PGSHIFT;
		unsigned order = level == PS_1G ? PS_ORDER(PS_1G) : PS_ORDER(PS_2M);
		if (!block_eligible(vs, r, blk, size) || popmap_count(pm, pindex, level) != 0 ||
		    popmap_reserv_count(pm, pindex, level) != 0)
			continue;
		struct page *extent = level == PS_2M ? prezero_take(PS_2M) : NULL;
		if (extent)
			prezero_mark(extent, order);	/* its frames need no zeroing */
		else if (!(extent = page_alloc(order)))	/* speculative: never preempt for it */
			continue;
		struct reserv *rv = object_reserve(r->obj, order, buddy_pfn(&phys_buddy, extent), pindex,
						   frame_clock);
		if (rv)
			return rv;
	}
	return NULL;
}

/* The reservation covering va's page in r's object, or NULL. */
static struct reserv *
reservation_of(struct vm_region *r, uint64_t va)
{
	return object_reservation(r->obj, va >> PGSHIFT);
}

uint64_t
policy_reservation_at(struct vmspace *vs, struct vm_region *r, uint64_t va)
{
	(void)vs;
	struct reserv *rv = reservation_of(r, va);
	return rv ? PGSIZE << rv->order : 0;
}

/* policy_promote of the block at blk, r being blk's region (NULL: none, or not known to hold it). */
static bool
promote_block(struct vmspace *vs, struct vm_region *r, uint64_t blk, int level, bool need_reservation)
{
	if (!r || blk < r->start || blk + PS_SIZE(level) > r->end)
		return false;		/* not one region: two objects or two protections */
	if (popmap_count(&r->obj->popmap, blk >> PGSHIFT, level) != PS_PAGES(level))
		return false;
	if (need_reservation && !reservation_of(r, blk))
		return false;
	policy_stats.promotion_attempts[level - 1]++;
	return pmap_promote(&vs->pmap, blk, level);
}

bool
policy_promote(struct vmspace *vs, uint64_t va, int level, bool need_reservation)
{
	uint64_t blk = ROUNDDOWN(va, PS_SIZE(level));
	return promote_block(vs, vm_find(vs, blk), blk, level, need_reservation);
}

/* Offer the blocks containing va, in region r, for promotion, 2 MiB then 1 GiB. */
static void
try_promote(struct vmspace *vs, struct vm_region *r, uint64_t va)
{
	for (int level = PS_2M; level <= PS_1G; level++)
		if (!promote_block(vs, r, ROUNDDOWN(va, PS_SIZE(level)), level, true))
			return;
}

/*
 * Map a zeroed 2 MiB page for the block around va, if it lies in r and nothing of it is
 * populated or mapped: -E_INVAL otherwise, -E_NO_MEM when out of memory (*no_frame
 * counts a missing 2 MiB block).
 */
static int
populate_2m(struct vmspace *vs, struct vm_region *r, uint64_t va, uint64_t *no_frame)
{
	uint64_t blk = ROUNDDOWN(va, PG2M), pindex = blk >> PGSHIFT;
	struct popmap *pm = &r->obj->popmap;
	if (blk < r->start || blk + PG2M > r->end || popmap_count(pm, pindex, PS_2M) != 0)
		return -E_INVAL;
	int level;
	if (pmap_lookup(&vs->pmap, blk, &level))
		return -E_INVAL;		/* a page table (or a page) is already there */
	bool zeroed;
	struct page *pg = fault_frame(PS_2M, &zeroed);
	if (!pg) {
		(*no_frame)++;
		return -E_NO_MEM;
	}
	if (popmap_set_block(pm, pindex) < 0) {
		page_free(pg, PS_ORDER(PS_2M));
		return -E_NO_MEM;
	}
	if (!zeroed)
		zero_frame(page2pa(pg), PG2M);
	if (pmap_enter_level(&vs->pmap, blk, page2pa(pg), pmap_prot_flags(r->prot, false) | PTE_PS, PS_2M) < 0) {
		popmap_clear_block(pm, pindex);
		page_free(pg, PS_ORDER(PS_2M));
		return -E_NO_MEM;
	}
	frame_ref2m(pg);
	vs->resident_pages += PS_PAGES(PS_2M);
	return 0;
}

/* Eager: map a zeroed 2 MiB page for the block around va, if it fits. -E_NO_MEM: fall back. */
static int
populate_eager(struct vmspace *vs, struct vm_region *r, uint64_t va)
{
	int err = populate_2m(vs, r, va, &policy_stats.eager_fallbacks);
	if (err == 0)
		policy_stats.eager_2m++;
	return err;
}

/* Bytes of the 2 MiB block at blk that the hugemap's request covers. */
static uint64_t
hugemap_requested(const struct hugemap *hm, uint64_t blk)
{
	return MIN(hm->req_end, blk + PG2M) - MAX(hm->req_start, blk);
}

void
policy_hugemap_plan(struct vm_object *obj)
{
	struct hugemap *hm = obj->hugemap;
	for (uint64_t i = 0; i < hm->nblocks; i++) {
		uint64_t req = hugemap_requested(hm, hm->first_blk + i * PG2M);
		hm->choice[i] = req * 100 >= hugemap_threshold * PG2M ? HM_2M : HM_4K;
	}
}

uint64_t
policy_hugemap_threshold(void)
{
	return hugemap_threshold;
}

void
policy_hugemap_fallback(struct vm_object *obj, uint64_t va)
{
	*object_hugemap_choice(obj, va) = HM_FALLBACK;
	policy_stats.hugemap_fallbacks++;
}

/* /dev/hugemap: the 2 MiB page of va's block if the device chose one for it; else nonzero. */
static int
populate_hugemap(struct vmspace *vs, struct vm_region *r, uint64_t va)
{
	uint8_t *choice = object_hugemap_choice(r->obj, va);
	uint64_t no_frame = 0, blk = ROUNDDOWN(va, PG2M);
	if (!choice || *choice != HM_2M)
		return -E_INVAL;
	if (blk >= r->start && blk + PG2M <= r->end && popmap_count(&r->obj->popmap, blk >> PGSHIFT, PS_2M) == 0)
		pmap_drop_empty_table(&vs->pmap, blk, PS_2M);	/* left by an earlier mapping */
	int err = populate_2m(vs, r, va, &no_frame);
	if (err == 0) {
		policy_stats.hugemap_2m++;
		policy_stats.hugemap_bloat += PG2M - hugemap_requested(r->obj->hugemap, blk);
	} else if (no_frame) {
		policy_hugemap_fallback(r->obj, va);
	}
	return err;
}

uint64_t
policy_hugemap_size(struct vmspace *vs, struct vm_region *r, uint64_t va)
{
	uint8_t *choice = object_hugemap_choice(r->obj, va);
	if (!choice)
		return 0;
	uint64_t blk = ROUNDDOWN(va, PG2M);
	int level;
	pte_t *pte = pmap_lookup(&vs->pmap, blk, &level);
	bool has_4k = pte && level == PS_4K && popmap_count(&r->obj->popmap, blk >> PGSHIFT, PS_2M) != 0;
	if (*choice != HM_2M || blk < r->start || blk + PG2M > r->end || has_4k)
		return PGSIZE;		/* chosen small, fallen back, or cut (demoted) since */
	return PG2M;
}

/*
 * The frame for va's page under the reserve policy, or 0 when out of memory; *zeroed
 * if it is known to hold zeros.
 */
static uint64_t
reserved_frame(struct vmspace *vs, struct vm_region *r, uint64_t va, bool *zeroed)
{
	struct reserv *rv = reservation_of(r, va);
	uint64_t pindex = va >> PGSHIFT;
	if (rv && !reserv_page_inuse(rv, pindex)) {
		policy_stats.reserv_hits++;
	} else if (!rv && (rv = reserve_block(vs, r, va)) != NULL) {
		/* a new reservation */
	} else {
		policy_stats.reserv_fallbacks++;
		struct page *pg = fault_frame(PS_4K, zeroed);
		return pg ? page2pa(pg) : 0;
	}
	uint64_t pfn = reserv_alloc_page(rv, pindex, frame_clock);
	*zeroed = prezero_claim(&phys_buddy.pages[pfn]);
	return pfn << PGSHIFT;
}

/*
 * Map the 4 KiB frame pa (zeroed: known to hold zeros) at page of r, recording it in
 * the object's population map, zeroing it if needed and taking its reference.  0, or
 * -E_NO_MEM with nothing changed: the frame goes back to its reservation or the
 * allocator.
 */
static int
map_frame(struct vmspace *vs, struct vm_region *r, uint64_t page, uint64_t pa, bool zeroed)
{
	struct popmap *pm = &r->obj->popmap;
	struct page *pg = pa2page(pa);
	if (popmap_set(pm, page >> PGSHIFT) < 0 ||
	    pmap_enter(&vs->pmap, page, pa, pmap_prot_flags(r->prot, false)) < 0) {
		if (popmap_test(pm, page >> PGSHIFT))
			popmap_clear(pm, page >> PGSHIFT);
		page_ref(pg);
		page_unref(pg);			/* back to its reservation or the allocator */
		return -E_NO_MEM;
	}
	if (!zeroed)
		zero_frame(pa, PGSIZE);
	page_ref(pg);
	vs->resident_pages++;
	return 0;
}

/*
 * vm.promote.util: if the reservation's 2 MiB block around va lies in r and is at least
 * promote_util% populated, populate the rest of it from the reservation (zeroed), so
 * that try_promote finds it full.  Stops at a page the reservation has handed out for
 * something else, or when memory for the map runs out (the block stays 4 KiB then).
 */
static void
fill_to_threshold(struct vmspace *vs, struct vm_region *r, uint64_t va)
{
	uint64_t blk = ROUNDDOWN(va, PG2M), first = blk >> PGSHIFT;
	struct popmap *pm = &r->obj->popmap;
	if (promote_util >= 100)
		return;
	struct reserv *rv = reservation_of(r, blk);
	if (!rv || blk < r->start || blk + PG2M > r->end)
		return;
	uint64_t have = popmap_count(pm, first, PS_2M);
	if (have == PS_PAGES(PS_2M) || have * 100 < promote_util * PS_PAGES(PS_2M))
		return;
	for (uint64_t i = 0; i < PS_PAGES(PS_2M); i++) {
		uint64_t pindex = first + i;
		if (popmap_test(pm, pindex))
			continue;
		if (reserv_page_inuse(rv, pindex))
			return;
		uint64_t pfn = reserv_alloc_page(rv, pindex, frame_clock);
		if (map_frame(vs, r, blk + i * PGSIZE, pfn << PGSHIFT, prezero_claim(&phys_buddy.pages[pfn])) < 0)
			return;
		policy_stats.util_fill_pages++;
	}
}

int
policy_populate(struct vmspace *vs, struct vm_region *r, uint64_t va)
{
	uint64_t page = ROUNDDOWN(va, PGSIZE), pa;
	bool zeroed;

	KASSERT(page >= r->start && page < r->end, "policy_populate: va 0x%lx outside its region [0x%lx, 0x%lx)",
		va, r->start, r->end);
	/* that page is not populated yet: popmap_set in map_frame asserts it */
	frame_clock_tick();
	bool hugemap = r->obj->type == OBJ_HUGEMAP;
	if (hugemap && populate_hugemap(vs, r, page) == 0)
		return 0;
	if (!hugemap && vm_policy == POLICY_EAGER && populate_eager(vs, r, page) == 0)
		return 0;
	if (!hugemap && vm_policy == POLICY_RESERVE) {
		pa = reserved_frame(vs, r, page, &zeroed);
	} else {
		struct page *pg = fault_frame(PS_4K, &zeroed);
		pa = pg ? page2pa(pg) : 0;
	}
	if (!pa || map_frame(vs, r, page, pa, zeroed) < 0)
		return -E_NO_MEM;
	if (!hugemap && vm_policy == POLICY_RESERVE) {
		fill_to_threshold(vs, r, page);
		try_promote(vs, r, page);
	}
	return 0;
}

void
policy_repromote(struct vmspace *vs, uint64_t start, uint64_t end)
{
	if (vm_policy != POLICY_RESERVE)
		return;
	/* only blocks mapped by a page table can be promoted: skip the rest quickly */
	for (uint64_t blk = ROUNDDOWN(start, PG2M); (blk = pmap_next_table(&vs->pmap, blk, end, 1)) < end;
	     blk += PG2M)
		try_promote(vs, vm_find(vs, blk), blk);
}

static void
print_reserv(struct reserv *rv, void *arg)
{
	(void)arg;
	const char *state = frame_is_wired(rv) ? "wired  " :
			    rv->popcnt < (1UL << rv->order) ? "partial" : "full   ";
	cprintf("  %s pfn 0x%08lx va 0x%012lx populated %6u/%-6lu %s stamp %lu\n",
		rv->order == PS_ORDER(PS_1G) ? "1G" : "2M", rv->pfn, rv->pindex << PGSHIFT, rv->popcnt,
		1UL << rv->order, state, rv->stamp);
}

void
policy_print_reservations(void)
{
	cprintf("reservations: %lu of 2 MiB (%lu partial), %lu of 1 GiB (%lu partial)\n",
		reserv_count(PS_ORDER(PS_2M)), reserv_partial_count(PS_ORDER(PS_2M)),
		reserv_count(PS_ORDER(PS_1G)), reserv_partial_count(PS_ORDER(PS_1G)));
	reserv_foreach(print_reserv, NULL);
}
