/*
 * kern/mm/invariant.c: a checker for the invariants the memory system promises, run
 * on demand (monitor `check`, the kcheck system call, vm.check=1 after each run).
 *
 * The kernel asserts its invariants locally, where one operation could break them;
 * this file checks them globally, across modules, after the fact: a bug that keeps
 * every local assertion happy (an extra reference, a bit not cleared, a superpage
 * promoted across two regions) shows up here as soon as the state it leaves behind
 * is inspected, long before it panics somewhere unrelated.  What is checked:
 *
 *   buddy        every free list entry heads a free block of its order (PG_FREE,
 *                order, alignment, not reserved, refcount 0, links intact); the lists'
 *                lengths equal nfree[], their pages free_pages; every PG_FREE page is
 *                on a list; no page inside a free block is PG_FREE; buddies coalesced.
 *   reservations popcnt equals the in-use bitmap's population; every frame of the
 *                extent is allocated; a user reservation's frame is in use exactly
 *                when something maps it (refcount > 0); its object is live and its
 *                population map points back at it; no reservation pointer of a live
 *                object is dangling (counts agree).
 *   frames       the leaf entries of all live address spaces mapping a frame number
 *                exactly its refcount plus its 2 MiB block's maps2m (slab pages
 *                excepted: their refcount counts objects); each block's maps4k is the
 *                sum of its pages' refcounts; no leaf maps a free, reserved or
 *                nonexistent frame.
 *   page tables  the tables reachable from live PML4s are pmap_user_pt_pages, none
 *                shared between spaces, none free or mapped as user memory.
 *   regions      sorted, disjoint, page aligned, inside user space, W^X, each object's
 *                refcount equal to the regions naming it.
 *   leaves       every present leaf lies in regions of one object and one protection
 *                (a superpage too), grants no more than that protection allows
 *                (U, W, X; never W with COW), maps an aligned frame, and its pages are
 *                populated in the object's map; present pages equal resident_pages
 *                and the objects' populated counts.
 *   model TLB    for a measured space a leaf in the measured range is valid (bit 51
 *                clear) iff the model holds its translation; outside it, and in spaces
 *                not measured, bit 51 is never set; every model entry belongs to a live
 *                measured space with a valid leaf of that size there; tags are unique.
 *
 * Cost: O(frames + page-table entries + reservations x objects); a debug check.
 */
#include <stdarg.h>
#include "inc/error.h"
#include "inc/memlayout.h"
#include "inc/mmu.h"
#include "inc/string.h"
#include "inc/util.h"
#include "kern/cmdline.h"
#include "kern/console.h"
#include "kern/mm/kmalloc.h"
#include "kern/mm/frame.h"
#include "kern/mm/pt/pt.h"
#include "kern/mm/object.h"
#include "kern/mm/policy.h"
#include "kern/mm/lib/popmap.h"
#include "kern/mm/lib/reserv.h"
#include "kern/mm/tlbtrap.h"
#include "kern/mm/vm.h"
#include "kern/mm/lib/vtlb.h"
#include "kern/mm/invariant.h"

#define PRINT_MAX	20		/* violations printed in full per check */

/* Scratch map entry per frame: mappings found, and what the frame was seen as. */
#define MAP_COUNT	0x0FFFu		/* leaf PTEs mapping the frame */
#define MAP_FREE	0x1000u		/* inside a free buddy block */
#define MAP_TABLE	0x2000u		/* a user page-table page of a live space */

bool invariant_at_exit;

static int violations;

static void
violation(const char *fmt, ...)
{
	va_list ap;

	if (violations++ >= PRINT_MAX)
		return;
	cprintf("invariant: ");
	va_start(ap, fmt);
	vcprintf(fmt, ap);
	va_end(ap);
	cprintf("\n");
}

void
invariant_init(void)
{
	invariant_at_exit = cmdline_get_u64("vm.check", 0) != 0;
}

/* ---- the buddy allocator ---- */

/* The free lists: each entry a well-formed free block of its order; the counts. */
static void
check_free_lists(const struct buddy *b)
{
	uint64_t pages = 0;
	for (int k = 0; k < BUDDY_ORDERS; k++) {
		uint64_t n = 0;
		const struct page *head = &b->free[k];
		for (const struct page *pg = head->next; pg != head; pg = pg->next) {
			if (n > b->npages) {
				violation("buddy: free list of order %d does not end", k);
				break;
			}
			n++;
			uint64_t pfn = (uint64_t)(pg - b->pages);
			if (pg < b->pages || pfn >= b->npages) {
				violation("buddy: order %d list holds a page outside the array", k);
				break;
			}
			if (!(pg->flags & PG_FREE) || pg->order != k)
				violation("buddy: pfn 0x%lx on the order %d list has flags 0x%x order %u", pfn, k,
					  pg->flags, pg->order);
			if ((pfn & ((1UL << k) - 1)) || pfn + (1UL << k) > b->npages)
				violation("buddy: pfn 0x%lx misaligned or past the end for order %d", pfn, k);
			if (pg->flags & PG_RESERVED)
				violation("buddy: reserved pfn 0x%lx is on a free list", pfn);
			if (pg->next->prev != pg)
				violation("buddy: pfn 0x%lx: broken list links", pfn);
		}
		if (n != b->nfree[k])
			violation("buddy: order %d list holds %lu blocks, nfree says %lu", k, n, b->nfree[k]);
		pages += n << k;
	}
	if (pages != b->free_pages)
		violation("buddy: free lists hold %lu pages, free_pages says %lu", pages, b->free_pages);
}

/*
 * The page array: PG_FREE heads exactly the listed blocks, nothing inside a free block
 * is PG_FREE or referenced, and no free block has a free buddy of its own order.
 * With map, marks the pages of free blocks MAP_FREE.
 */
static void
check_page_states(const struct buddy *b, uint16_t *map)
{
	uint64_t heads[BUDDY_ORDERS] = { 0 };
	for (uint64_t pfn = 0; pfn < b->npages;) {
		const struct page *pg = &b->pages[pfn];
		if (!(pg->flags & PG_FREE)) {
			pfn++;
			continue;
		}
		unsigned k = pg->order;
		if (k > BUDDY_MAX_ORDER || (pfn & ((1UL << k) - 1)) || pfn + (1UL << k) > b->npages) {
			violation("buddy: PG_FREE pfn 0x%lx has bad order %u", pfn, k);
			pfn++;
			continue;
		}
		heads[k]++;
		for (uint64_t i = 0; i < (1UL << k); i++) {
			const struct page *p = &b->pages[pfn + i];
			if (i > 0 && (p->flags & PG_FREE))
				violation("buddy: pfn 0x%lx is PG_FREE inside the free block at 0x%lx", pfn + i, pfn);
			if (p->refcount != 0 || (p->flags & PG_RESERVED))
				violation("buddy: free pfn 0x%lx has refcount %u flags 0x%x", pfn + i, p->refcount,
					  p->flags);
			if (map)
				map[pfn + i] |= MAP_FREE;
		}
		uint64_t buddy = pfn ^ (1UL << k);
		if (k < BUDDY_MAX_ORDER && buddy < b->npages && (b->pages[buddy].flags & PG_FREE) &&
		    b->pages[buddy].order == k)
			violation("buddy: free blocks 0x%lx and 0x%lx of order %u were not coalesced", pfn, buddy, k);
		pfn += 1UL << k;
	}
	for (int k = 0; k < BUDDY_ORDERS; k++)
		if (heads[k] != b->nfree[k])
			violation("buddy: %lu PG_FREE heads of order %d, nfree says %lu", heads[k], k, b->nfree[k]);
}

int
invariant_check_buddy(const struct buddy *b)
{
	int before = violations;
	check_free_lists(b);
	check_page_states(b, NULL);
	return violations - before;
}

/* ---- address spaces ---- */

struct space_ctx {
	struct vmspace *vs;
	uint16_t *map;
	bool model_holds;		/* the model's entries for vs's tag are vs's */
	uint64_t present;		/* pages mapped by present leaves */
	uint64_t tables;		/* user page-table pages */
};

static const char *const level_names[] = { "4K", "2M", "1G" };

/* The regions covering [va, va+size): one object, one protection, no hole. */
static struct vm_region *
check_leaf_regions(struct vmspace *vs, uint64_t va, uint64_t size, int level)
{
	struct vm_region *first = vm_find(vs, va);
	if (!first) {
		violation("pml4 0x%lx: %s leaf at va 0x%lx outside every region", pmap_root(&vs->pmap), level_names[level], va);
		return NULL;
	}
	uint64_t covered = first->end;
	for (struct vm_region *r = first->next; covered < va + size; r = r->next) {
		if (!r || r->start != covered) {
			violation("pml4 0x%lx: %s leaf at va 0x%lx reaches past its region's end 0x%lx",
				  pmap_root(&vs->pmap), level_names[level], va, covered);
			return first;
		}
		if (r->obj != first->obj || r->prot != first->prot) {
			violation("pml4 0x%lx: %s leaf at va 0x%lx spans regions of different %s (at 0x%lx)",
				  pmap_root(&vs->pmap), level_names[level], va, r->obj != first->obj ? "objects" : "protections",
				  r->start);
			return first;
		}
		covered = r->end;
	}
	return first;
}

/* What the model TLB should say about a leaf, against its bit 51. */
static void
check_leaf_trap(struct space_ctx *ctx, pte_t pte, uint64_t va, int level)
{
	struct vmspace *vs = ctx->vs;
	bool trap = (pte & PTE_TRAP) != 0;
	if (!vs->tlb) {
		if (trap)
			violation("pml4 0x%lx: leaf at va 0x%lx has bit 51 set but the space is not measured",
				  pmap_root(&vs->pmap), va);
		return;
	}
	bool in_range = va < vs->tlb->hi && va + PS_SIZE(level) > vs->tlb->lo;
	bool resident = ctx->model_holds && tlbtrap_resident(vs, va, pmap_leaf_size(pte, level));
	if (in_range && trap == resident)
		violation("pml4 0x%lx: %s leaf at va 0x%lx is %s but the model %s it", pmap_root(&vs->pmap),
			  level_names[level], va, trap ? "fake-invalid" : "valid", resident ? "holds" : "does not hold");
	if (!in_range && trap)
		violation("pml4 0x%lx: leaf at va 0x%lx outside the measured range has bit 51 set", pmap_root(&vs->pmap), va);
}

/* One present leaf: frames, flags, regions, population, model TLB. */
static void
check_leaf(struct space_ctx *ctx, pte_t pte, uint64_t va, int level)
{
	struct vmspace *vs = ctx->vs;
	uint64_t size = PS_SIZE(level), npages = size / PGSIZE;
	uint64_t addr = PTE_ADDR(pte);
	if (level > PS_4K)
		addr &= ~(uint64_t)0x1000;	/* PAT of a superpage entry, never used */
	if (addr & (size - 1))
		violation("pml4 0x%lx: %s leaf at va 0x%lx maps misaligned pa 0x%lx", pmap_root(&vs->pmap), level_names[level],
			  va, addr);
	ctx->present += npages;
	uint64_t pfn = addr >> PGSHIFT;
	if (pfn + npages > phys_buddy.npages) {
		violation("pml4 0x%lx: leaf at va 0x%lx maps pa 0x%lx beyond RAM", pmap_root(&vs->pmap), va, addr);
		return;
	}
	for (uint64_t i = 0; i < npages; i++) {
		const struct page *pg = &phys_buddy.pages[pfn + i];
		uint16_t *m = &ctx->map[pfn + i];
		if (*m & MAP_FREE)
			violation("pml4 0x%lx: va 0x%lx maps free frame 0x%lx", pmap_root(&vs->pmap), va + i * PGSIZE, pfn + i);
		if (*m & MAP_TABLE)
			violation("pml4 0x%lx: va 0x%lx maps page-table page 0x%lx", pmap_root(&vs->pmap), va + i * PGSIZE, pfn + i);
		if (pg->flags & PG_RESERVED)
			violation("pml4 0x%lx: va 0x%lx maps reserved frame 0x%lx", pmap_root(&vs->pmap), va + i * PGSIZE, pfn + i);
		if ((*m & MAP_COUNT) < MAP_COUNT)
			(*m)++;
	}
	struct vm_region *r = check_leaf_regions(vs, va, size, level);
	if (!r)
		return;
	if ((pte & PTE_U) && r->prot == PROT_NONE)
		violation("pml4 0x%lx: va 0x%lx is user-accessible in a PROT_NONE region", pmap_root(&vs->pmap), va);
	if ((pte & PTE_W) && (!(r->prot & PROT_WRITE) || (pte & PTE_COW)))
		violation("pml4 0x%lx: va 0x%lx is writable but its region is %s", pmap_root(&vs->pmap), va,
			  (pte & PTE_COW) ? "copy-on-write" : "not writable");
	if (cpu_has_nx && !(pte & PTE_NX) && !(r->prot & PROT_EXEC))
		violation("pml4 0x%lx: va 0x%lx is executable but its region is not", pmap_root(&vs->pmap), va);
	uint64_t populated = popmap_count_range(&r->obj->popmap, va >> PGSHIFT, npages);
	if (populated != npages)
		violation("pml4 0x%lx: %s leaf at va 0x%lx: %lu of its %lu pages populated in the object",
			  pmap_root(&vs->pmap), level_names[level], va, populated, npages);
	check_leaf_trap(ctx, pte, va, level);
}

/* A user page-table page: counted once, never shared, free or user memory. */
static void
check_table_page(struct space_ctx *ctx, uint64_t pa, uint64_t va, int level)
{
	uint64_t pfn = pa >> PGSHIFT;
	ctx->tables++;
	if (pfn >= phys_buddy.npages) {
		violation("pml4 0x%lx: table for va 0x%lx (level %d) at pa 0x%lx beyond RAM", pmap_root(&ctx->vs->pmap), va,
			  level, pa);
		return;
	}
	uint16_t *m = &ctx->map[pfn];
	if (*m & MAP_TABLE)
		violation("pml4 0x%lx: table page 0x%lx (va 0x%lx) is linked twice", pmap_root(&ctx->vs->pmap), pfn, va);
	if (*m & MAP_FREE)
		violation("pml4 0x%lx: table page 0x%lx (va 0x%lx) is free", pmap_root(&ctx->vs->pmap), pfn, va);
	*m |= MAP_TABLE;
}

/*
 * The table at pa shows an overlaid 2 MiB page at base (kern/mm/pt/overlay.c): its
 * record names it; segment j maps its overlay page exactly as the OMT does if its OBV
 * bit is set (under omt=folded the PTE is the only mapping: no OMT), else the shared frame's segment j copy-on-write; every PTE carries
 * PTE_OVL.  The shared frame counts as mapped once per page (the record's block
 * mapping), whether a segment shows it or its overlay.
 */
static void
check_overlaid(struct space_ctx *ctx, uint64_t pa, uint64_t base)
{
	struct pmap *pm = &ctx->vs->pmap;
	check_table_page(ctx, pa, base, 0);
	struct overlay *ov = pa2page(pa)->overlay;
	if (!ov || ov->va != base || (ov->frame & (PG2M - 1))) {
		violation("pml4 0x%lx: overlaid table at va 0x%lx has no (or a wrong) record", pmap_root(pm), base);
		return;
	}
	const pte_t *table = KADDR(pa);
	unsigned count = 0;
	for (unsigned j = 0; j < NPTENTRIES; j++) {
		uint64_t va = base + j * PGSIZE;
		pte_t e = table[j];
		if ((e & (PTE_P | PTE_OVL)) != (PTE_P | PTE_OVL)) {
			violation("pml4 0x%lx: overlaid segment va 0x%lx: PTE 0x%lx not present or not PTE_OVL", pmap_root(pm),
				  va, e);
			continue;
		}
		pte_t *omt = pmap_overlay_omt(pm, va);
		if (pmap_overlay_has(ov, va)) {
			count++;
			if (pmap_overlay_folded() ? omt != NULL :
			    !omt || PTE_ADDR(*omt) != PTE_ADDR(e) || (*omt & PTE_W) != (e & PTE_W))
				violation("pml4 0x%lx: overlay of va 0x%lx: PTE 0x%lx, OMT entry 0x%lx", pmap_root(pm), va, e,
					  omt ? *omt : 0);
			uint16_t *m = &ctx->map[(ov->frame >> PGSHIFT) + j];
			if ((*m & MAP_COUNT) < MAP_COUNT)
				(*m)++;		/* the shared frame's page, hidden by the overlay */
		} else if (PTE_ADDR(e) != ov->frame + j * PGSIZE || !(e & PTE_COW) || omt) {
			violation("pml4 0x%lx: overlaid segment va 0x%lx: PTE 0x%lx is not the shared frame's copy-on-write "
				  "page 0x%lx (OMT entry %s)", pmap_root(pm), va, e, ov->frame + j * PGSIZE,
				  omt ? "present" : "absent");
		}
		check_leaf(ctx, e, va, 0);
	}
	if (count != pmap_overlay_count(ov))
		violation("pml4 0x%lx: overlaid page va 0x%lx: %u OBV bits set, count says %u", pmap_root(pm), base, count,
			  pmap_overlay_count(ov));
}

/* Walk the table at pa (level 2 = PDPT, 1 = PD, 0 = PT) covering [base, ...). */
static void
walk_table(struct space_ctx *ctx, uint64_t pa, int level, uint64_t base)
{
	check_table_page(ctx, pa, base, level);
	if ((pa >> PGSHIFT) >= phys_buddy.npages)
		return;
	const pte_t *table = KADDR(pa);
	for (int i = 0; i < NPTENTRIES; i++) {
		pte_t e = table[i];
		uint64_t va = base + ((uint64_t)i << PTX_SHIFT(level));
		if (!(e & PTE_P))
			continue;
		if (level == 0 || (e & PTE_PS))
			check_leaf(ctx, e, va, level);
		else if (level == PS_2M && (e & PTE_OVL))
			check_overlaid(ctx, PTE_ADDR(e), va);
		else
			walk_table(ctx, PTE_ADDR(e), level - 1, va);
	}
}

/* Whether r is the first region of vs naming its object. */
static bool
first_of_object(struct vmspace *vs, struct vm_region *r)
{
	for (struct vm_region *o = vs->regions; o != r; o = o->next)
		if (o->obj == r->obj)
			return false;
	return true;
}

/* Nodes of the region tree t, counting at most *budget of them (a cycle ends the count). */
static uint64_t
tree_nodes(const struct vm_region *t, uint64_t *budget)
{
	if (!t || *budget == 0)
		return 0;
	(*budget)--;
	return 1 + tree_nodes(t->left, budget) + tree_nodes(t->right, budget);
}

/*
 * Regions sorted, disjoint, aligned, in user space, W^X; object refcounts; the search
 * tree holds exactly the listed regions (vm_find finds each at both ends).
 */
static void
check_regions(struct vmspace *vs)
{
	uint64_t prev_end = 0, listed = 0;
	for (struct vm_region *r = vs->regions; r; r = r->next, listed++) {
		if (r->start < r->end && (vm_find(vs, r->start) != r || vm_find(vs, r->end - 1) != r))
			violation("pml4 0x%lx: vm_find misses region [0x%lx, 0x%lx) (the search tree)",
				  pmap_root(&vs->pmap), r->start, r->end);
		if (r->start >= r->end || ((r->start | r->end) & (PGSIZE - 1)) || r->start < UTEXT || r->end > UTOP)
			violation("pml4 0x%lx: bad region [0x%lx, 0x%lx)", pmap_root(&vs->pmap), r->start, r->end);
		if (r->start < prev_end)
			violation("pml4 0x%lx: region [0x%lx, 0x%lx) overlaps or precedes the one ending at 0x%lx",
				  pmap_root(&vs->pmap), r->start, r->end, prev_end);
		if ((r->prot & PROT_WRITE) && (r->prot & PROT_EXEC))
			violation("pml4 0x%lx: region [0x%lx, 0x%lx) is writable and executable", pmap_root(&vs->pmap), r->start,
				  r->end);
		prev_end = MAX(prev_end, r->end);
		if (!first_of_object(vs, r))
			continue;
		uint32_t refs = 0;
		for (struct vm_region *o = vs->regions; o; o = o->next)
			refs += o->obj == r->obj;
		if (r->obj->refcount != refs)
			violation("pml4 0x%lx: object of region 0x%lx has refcount %u, %u regions name it",
				  pmap_root(&vs->pmap), r->start, r->obj->refcount, refs);
	}
	uint64_t budget = listed + 1, in_tree = tree_nodes(vs->tree, &budget);
	if (in_tree != listed)
		violation("pml4 0x%lx: the search tree holds %lu%s regions, the list %lu", pmap_root(&vs->pmap), in_tree,
			  budget == 0 ? " or more" : "", listed);
}

/* Objects of vs: populated counts and reservations; returns their user reservations. */
static uint64_t
check_objects(struct vmspace *vs, uint64_t present)
{
	uint64_t populated = 0, reservations = 0;
	for (struct vm_region *r = vs->regions; r; r = r->next) {
		if (!first_of_object(vs, r))
			continue;
		struct popmap *pm = &r->obj->popmap;
		populated += pm->populated;
		if (popmap_root_count(pm) != pm->populated)
			violation("pml4 0x%lx: object of region 0x%lx: map root counts %lu pages, populated says %lu",
				  pmap_root(&vs->pmap), r->start, popmap_root_count(pm), pm->populated);
		uint64_t listed = object_reserv_count(r->obj);
		if (listed != popmap_reserv_total(pm))
			violation("pml4 0x%lx: object of region 0x%lx lists %lu reservations, its map points at %lu",
				  pmap_root(&vs->pmap), r->start, listed, popmap_reserv_total(pm));
		reservations += listed;
	}
	if (populated != present)
		violation("pml4 0x%lx: objects hold %lu populated pages, %lu are mapped", pmap_root(&vs->pmap), populated,
			  present);
	return reservations;
}

/* A leaf the x86 cache holds that its design does not hold the same way. */
static void
design_differs(void *arg, uint64_t va, pte_t x86, uint64_t d, int dsize)
{
	struct vmspace *vs = arg;
	if (dsize == -2)
		violation("pml4 0x%lx: the x86 tables map %lu pages, the %s table %lu", pmap_root(&vs->pmap), x86,
			  pmap_design_name(), d);
	else
		violation("pml4 0x%lx: va 0x%lx is 0x%lx in the x86 tables, 0x%lx (level %d) in the %s table",
			  pmap_root(&vs->pmap), va, x86, d, dsize, pmap_design_name());
}

/* Every check of one live address space; returns its user reservations. */
static uint64_t
check_space(struct vmspace *vs, uint16_t *map, uint64_t *tables)
{
	struct space_ctx ctx = { .vs = vs, .map = map };
	pmap_design_check(&vs->pmap, design_differs, vs);
	ctx.model_holds = vs->tlb && (tlb_model.cfg.tag_by_asid || tlbtrap_owner() == vs);
	check_regions(vs);
	const pte_t *pml4 = KADDR(pmap_root(&vs->pmap));
	for (int i = 0; i < NPTENTRIES / 2; i++) {
		if (!(pml4[i] & PTE_P))
			continue;
		if (pml4[i] & PTE_PS)
			violation("pml4 0x%lx: PML4 entry %d has PS set", pmap_root(&vs->pmap), i);
		else
			walk_table(&ctx, PTE_ADDR(pml4[i]), 2, (uint64_t)i << PTX_SHIFT(3));
	}
	if (ctx.present != vs->resident_pages)
		violation("pml4 0x%lx: %lu pages mapped, resident_pages says %lu", pmap_root(&vs->pmap), ctx.present,
			  vs->resident_pages);
	*tables += ctx.tables;
	return check_objects(vs, ctx.present);
}

/* ---- reservations ---- */

struct reserv_ctx {
	const uint16_t *map;
	uint64_t user;			/* reservations that are not wired blocks */
};

static unsigned
popcount64(uint64_t x)
{
	unsigned n = 0;
	for (; x; x &= x - 1)
		n++;
	return n;
}

static void
check_reservation(struct reserv *rv, void *arg)
{
	struct reserv_ctx *ctx = arg;
	uint64_t frames = 1UL << rv->order, bits = 0;
	int level = rv->order == PS_ORDER(PS_1G) ? PS_1G : PS_2M;
	for (uint64_t w = 0; w < frames / 64; w++)
		bits += popcount64(rv->inuse[w]);
	if (bits != rv->popcnt)
		violation("reservation pfn 0x%lx: popcnt %u, in-use bitmap holds %lu", rv->pfn, rv->popcnt, bits);
	if (rv->on_queue != (rv->popcnt < frames && !rv->pinned))
		violation("reservation pfn 0x%lx: on_queue %d with popcnt %u", rv->pfn, rv->on_queue, rv->popcnt);
	for (uint64_t i = 0; i < frames; i++) {
		uint64_t pfn = rv->pfn + i;
		const struct page *pg = &phys_buddy.pages[pfn];
		bool inuse = (rv->inuse[i / 64] >> (i % 64)) & 1;
		if (ctx->map[pfn] & MAP_FREE) {
			violation("reservation pfn 0x%lx: frame 0x%lx is free in the buddy allocator", rv->pfn, pfn);
			continue;
		}
		if (rv->pinned)		/* a wired block: kernel pages, refcounts mean nothing here */
			continue;
		uint32_t block = phys_buddy.pages[ROUNDDOWN(pfn, PS_PAGES(PS_2M))].maps2m;
		if (inuse != (pg->refcount + block > 0))
			violation("reservation pfn 0x%lx: frame 0x%lx %s in use but has refcount %u + block %u", rv->pfn,
				  pfn, inuse ? "is" : "is not", pg->refcount, block);
	}
	if (rv->pinned)
		return;
	ctx->user++;
	struct vm_object *obj = rv->object;
	bool live = false;
	for (struct vmspace *vs = vm_first_space(); vs && !live; vs = vs->next_live)
		for (struct vm_region *r = vs->regions; r && !live; r = r->next)
			live = r->obj == obj;
	if (!live)
		violation("reservation pfn 0x%lx (va 0x%lx): its object is not live", rv->pfn, rv->pindex << PGSHIFT);
	else if (popmap_reserv(&obj->popmap, rv->pindex, level) != rv)
		violation("reservation pfn 0x%lx (va 0x%lx): its object's map does not point at it", rv->pfn,
			  rv->pindex << PGSHIFT);
}

/* ---- the model TLB's entries ---- */

static void
check_model_entry(void *arg, const struct vtlb_entry *e)
{
	(void)arg;
	struct vmspace *owner = tlbtrap_owner();
	int owners = owner ? 1 : 0;
	if (tlb_model.cfg.tag_by_asid) {
		for (struct vmspace *vs = vm_first_space(); vs; vs = vs->next_live) {
			if (vs->tlb && vs->tlb->asid == e->asid) {
				owner = vs;
				owners++;
			}
		}
	}
	uint64_t va = vtlb_entry_va(e);
	if (owners != 1) {
		violation("model TLB: %s entry va 0x%lx tag %u belongs to %d measured spaces", level_names[e->size], va,
			  e->asid, owners);
		return;
	}
	int level;
	pte_t *pte = pmap_lookup(&owner->pmap, va, &level);
	if (pte && (*pte & PTE_P) && (*pte & PTE_OVL) && (e->size == PS_2M || e->overlay))
		return;		/* an overlaid page: its PTEs' trap bits are checked leaf by leaf */
	if (!pte || !(*pte & PTE_P) || level != e->size || (*pte & PTE_TRAP))
		violation("model TLB: %s entry va 0x%lx tag %u has no valid %s leaf behind it", level_names[e->size],
			  va, e->asid, level_names[e->size]);
}

/* The flush-mode owner must be a live measured space. */
static void
check_model_owner(void)
{
	struct vmspace *owner = tlbtrap_owner();
	if (!owner)
		return;
	for (struct vmspace *vs = vm_first_space(); vs; vs = vs->next_live)
		if (vs == owner && owner->tlb)
			return;
	violation("model TLB: its owner %p is not a live measured space", owner);
}

/* ---- everything ---- */

int
invariant_check(bool verbose)
{
	violations = 0;
	/*
	 * pt=clustered|guarded: every dropped x86 cache is refilled whole first, before the
	 * free frames are noted (a refill allocates table pages), since the checks read the
	 * x86 tables; a refill drops no other space's cache.
	 */
	for (struct vmspace *vs = vm_first_space(); vs; vs = vs->next_live)
		if (!pmap_cache_fill(&vs->pmap)) {
			cprintf("invariant: no memory to refill the x86 tables of pml4 0x%lx: not checked\n",
				pmap_root(&vs->pmap));
			return 0;
		}
	check_free_lists(&phys_buddy);
	check_page_states(&phys_buddy, NULL);
	if (violations) {		/* the allocator itself is broken: do not allocate from it */
		cprintf("invariant: %d violations (buddy allocator)\n", violations);
		return violations;
	}
	uint64_t npages = phys_buddy.npages;
	unsigned order = frame_order_for(npages * sizeof(uint16_t));
	struct page *scratch = buddy_alloc(&phys_buddy, order);	/* not page_alloc: no fault injection */
	if (!scratch) {
		cprintf("invariant: no memory for the frame map: only the buddy allocator checked\n");
		return 0;
	}
	uint16_t *map = page2kva(scratch);
	memset(map, 0, npages * sizeof(uint16_t));
	check_page_states(&phys_buddy, map);

	uint64_t tables = 0, object_reservations = 0;
	for (struct vmspace *vs = vm_first_space(); vs; vs = vs->next_live)
		object_reservations += check_space(vs, map, &tables);
	if (tables != pmap_user_pt_pages)
		violation("page tables: %lu reachable from live address spaces, pmap_user_pt_pages says %lu", tables,
			  pmap_user_pt_pages);

	struct reserv_ctx rc = { map, 0 };
	reserv_foreach(check_reservation, &rc);
	if (rc.user != object_reservations)
		violation("reservations: %lu live, %lu owned by live objects", rc.user, object_reservations);

	uint64_t block_refs = 0;		/* refcounts of the current 2 MiB block so far */
	for (uint64_t pfn = 0; pfn < npages; pfn++) {
		const struct page *pg = &phys_buddy.pages[pfn];
		if (!kmalloc_is_slab(pg) && !(map[pfn] & MAP_FREE))
			block_refs += pg->refcount;
		if ((pfn + 1) % PS_PAGES(PS_2M) == 0 || pfn + 1 == npages) {
			const struct page *head = &phys_buddy.pages[ROUNDDOWN(pfn, PS_PAGES(PS_2M))];
			if (head->maps4k != block_refs)
				violation("2 MiB block pfn 0x%lx: maps4k %u, its pages' refcounts sum to %lu",
					  ROUNDDOWN(pfn, PS_PAGES(PS_2M)), head->maps4k, block_refs);
			block_refs = 0;
		}
		uint64_t mapped = map[pfn] & MAP_COUNT;
		uint32_t block = phys_buddy.pages[ROUNDDOWN(pfn, PS_PAGES(PS_2M))].maps2m;
		if ((map[pfn] & MAP_FREE) || kmalloc_is_slab(pg) || pg->refcount + block == mapped)
			continue;
		violation("frame 0x%lx: refcount %u + block mappings %u, mapped by %lu leaf entries", pfn, pg->refcount,
			  block, mapped);
	}

	check_model_owner();
	vtlb_foreach(&tlb_model, check_model_entry, NULL);

	buddy_free(&phys_buddy, scratch, order);
	if (violations > PRINT_MAX)
		cprintf("invariant: ... %d more not shown\n", violations - PRINT_MAX);
	if (verbose || violations)
		cprintf("invariant: %d violations (%lu frames, %lu page tables, %lu reservations)\n", violations, npages,
			tables, reserv_count(PS_ORDER(PS_2M)) + reserv_count(PS_ORDER(PS_1G)));
	return violations;
}

/* ---- proving the checker ---- */

/* Run the whole check quietly on a planted corruption; true if it saw something. */
static bool
caught(const char *what, bool buddy_only)
{
	cprintf("invariant: selftest: planting %s\n", what);
	int n = buddy_only ? (violations = 0, invariant_check_buddy(&phys_buddy)) : invariant_check(false);
	if (n == 0)
		cprintf("invariant: selftest: %s NOT detected\n", what);
	return n > 0;
}

int
invariant_selftest(struct vmspace *vs, uint64_t va)
{
	va = ROUNDDOWN(va, PGSIZE);
	struct vm_region *r = vm_find(vs, va);
	int level;
	pte_t *pte = pmap_lookup(&vs->pmap, va, &level);
	if (!r || !r->next || !pte || !(*pte & PTE_P) || level != 0 || (*pte & PTE_COW) || !(r->prot & PROT_WRITE) ||
	    (r->prot & PROT_EXEC) || popmap_count(&r->obj->popmap, va >> PGSHIFT, PS_2M) < 2)
		return -E_INVAL;
	if (invariant_check(false) != 0)
		return -E_INVAL;
	struct page *pg = pa2page(PTE_ADDR(*pte));
	struct reserv *rv = reserv_of_frame(page2pa(pg) >> PGSHIFT);
	int missed = 0;
	pte_t saved = *pte;

	pg->refcount++;
	missed += !caught("an extra page_ref", false);
	pg->refcount--;

	popmap_clear(&r->obj->popmap, va >> PGSHIFT);	/* the block keeps a page: no node is freed */
	missed += !caught("a missing popmap_set", false);
	if (popmap_set(&r->obj->popmap, va >> PGSHIFT) < 0)
		panic("invariant_selftest: cannot restore the population map");

	*pte &= ~PTE_NX;
	missed += !caught("an executable PTE in a non-executable region", false);
	*pte = saved;

	r->prot &= ~PROT_WRITE;
	missed += !caught("a writable PTE in a read-only region", false);
	r->prot |= PROT_WRITE;

	uint64_t end = r->end;
	r->end = r->next->start + PGSIZE;
	missed += !caught("overlapping regions", false);
	r->end = end;

	struct vm_region *root = vs->tree, *kept = root->right ? root->right : root->left;
	if (root->right)
		root->right = NULL;
	else
		root->left = NULL;
	missed += !caught("a subtree lost from the region tree", false);
	if (kept && kept->start > root->start)
		root->right = kept;
	else
		root->left = kept;

	vs->resident_pages++;
	missed += !caught("a resident_pages count off by one", false);
	vs->resident_pages--;

	pmap_user_pt_pages++;
	missed += !caught("a page-table page count off by one", false);
	pmap_user_pt_pages--;

	if (!vs->tlb) {
		*pte |= PTE_TRAP;
		missed += !caught("bit 51 on a leaf of an unmeasured space", false);
		*pte = saved;
	}

	if (rv && !rv->pinned) {
		rv->popcnt++;
		missed += !caught("a reservation popcnt off by one", false);
		rv->popcnt--;
	}

	phys_buddy.free_pages++;
	missed += !caught("a free page count off by one", true);
	phys_buddy.free_pages--;

	for (int k = 0; k < BUDDY_ORDERS; k++) {
		struct page *head = phys_buddy.free[k].next;
		if (head == &phys_buddy.free[k])
			continue;
		head->order = (uint8_t)(k + 1);
		missed += !caught("a free block with the wrong order", true);
		head->order = (uint8_t)k;
		break;
	}
	if (invariant_check(false) != 0)
		panic("invariant_selftest: state not restored");
	return missed;
}
