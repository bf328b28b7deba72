/*
 * kern/mm/vm.c: address spaces as lists of regions, and the calls that change them
 * (mmap, munmap, mprotect, madvise, sbrk, fork).
 *
 * A region is a page-aligned range [start, end) with one protection, mapping a memory
 * object at an offset.  Regions never overlap and are kept sorted.  Pages are not
 * allocated when a region is made: kern/mm/fault.c fills them on first touch.  The page
 * tables (kern/mm/pt/radix.c) hold what is resident; the regions say what is allowed.
 *
 * Invariants:
 *   - a present user PTE lies inside a region, and its flags follow from the region's
 *     protection (pmap_prot_flags): U unless PROT_NONE, W only if PROT_WRITE and not
 *     PTE_COW, NX unless PROT_EXEC;
 *   - each present 4 KiB PTE holds one reference on its frame (struct page refcount),
 *     each 2 MiB leaf one on its block (maps2m), a 1 GiB leaf one on each of its 2 MiB
 *     blocks (kern/mm/frame.h);
 *   - PROT_NONE pages stay present with PTE_U clear, so their contents survive a
 *     later mprotect back to readable;
 *   - W^X: no region is ever writable and executable, and program text (an image
 *     segment loaded executable) never becomes writable, even after mprotect took
 *     PROT_EXEC away: its maxprot is PROT_READ|PROT_EXEC.  POSIX would allow a
 *     writable private copy; spos keeps code immutable instead.
 * Partial munmap/mprotect split regions; mprotect merges neighbours that become equal.
 */
#include "inc/error.h"
#include "inc/string.h"
#include "inc/util.h"
#include "inc/x86.h"
#include "kern/console.h"
#include "kern/kassert.h"
#include "kern/mm/kmalloc.h"
#include "kern/mm/frame.h"
#include "kern/mm/pt/pt.h"
#include "kern/mm/object.h"
#include "kern/mm/policy.h"
#include "kern/mm/vm.h"

#define PROT_ALL	(PROT_READ | PROT_WRITE | PROT_EXEC)
#define MAP_KNOWN	(MAP_PRIVATE | MAP_FIXED | MAP_ANON)

/* ---- live spaces and their observers ---- */

static struct vmspace *live_spaces;
static const struct vm_observer *observers[VM_OBSERVERS];
static int nobservers;

/*
 * ---- The x86 tables as a cache (pt=clustered|guarded; kern/mm/pt/cache.c) ----
 * Drop the caches of every space but keep's and the loaded one's (whose tables a caller
 * up the stack may be walking) and those the model TLB measures (its trap and CLOCK
 * bits live in the x86 entries: a drop would change what it counts).  Pages freed.
 */
static uint64_t
drop_caches(struct pmap *keep)
{
	uint64_t freed = 0;
	for (struct vmspace *vs = live_spaces; vs; vs = vs->next_live)
		if (&vs->pmap != keep && pmap_root(&vs->pmap) != rcr3() && !vs->tlb)
			freed += pmap_cache_drop(&vs->pmap);
	return freed;
}

void
vm_init(void)
{
	pt_reclaim = drop_caches;
}

void
vm_switch(void)
{
	if (pmap_cached() && (pt_drop_on_switch || (pt_cache_limit && pmap_user_pt_pages > pt_cache_limit)))
		drop_caches(NULL);
}

void
vm_observe(const struct vm_observer *obs)
{
	KASSERT(nobservers < VM_OBSERVERS, "vm_observe: more than %d observers", VM_OBSERVERS);
	observers[nobservers++] = obs;
}

void
vm_changed(struct vmspace *vs, uint64_t start, uint64_t end)
{
	for (int i = 0; i < nobservers; i++)
		if (observers[i]->changed)
			observers[i]->changed(vs, start, end);
}

struct vmspace *
vm_first_space(void)
{
	return live_spaces;
}

struct vmspace *
vm_create(void)
{
	struct vmspace *vs = kmalloc(sizeof *vs);
	if (!vs)
		return NULL;
	if (pmap_create(&vs->pmap) < 0) {
		kfree(vs);
		return NULL;
	}
	vs->next_live = live_spaces;
	live_spaces = vs;
	return vs;
}

/*
 * ---- the region tree ----
 * Besides the sorted list (which iterations follow), a space keeps its regions in a
 * treap keyed by start, so that vm_find, which every fault and every leaf of a fork or
 * munmap walk asks, costs O(log n) expected instead of a walk of the list.  A treap
 * needs no allocation (the links live in the region) and no rebalancing state: each
 * region's priority is a hash of its address, and a node's priority is never below
 * its children's.  Only start orders the tree, and no operation moves a region's
 * start (splits make a new region, merges and growth move ends), so the tree changes
 * only where the list gains or loses a region: region_link and region_unlink.
 */

/* The treap priority of r: a hash of its address, fixed for its life. */
static uint64_t
region_priority(const struct vm_region *r)
{
	return ((uint64_t)(uintptr_t)r >> 4) * 0x9E3779B97F4A7C15UL;
}

/* r, just linked into the sorted list, joins the tree. */
static void
region_link(struct vmspace *vs, struct vm_region *r)
{
	uint64_t prio = region_priority(r);
	struct vm_region **link = &vs->tree;
	while (*link && region_priority(*link) > prio)
		link = r->start < (*link)->start ? &(*link)->left : &(*link)->right;
	/* r takes this place: the subtree there, split by r's start, becomes its children */
	struct vm_region *t = *link, **lo = &r->left, **hi = &r->right;
	while (t) {
		if (t->start < r->start) {
			*lo = t;
			lo = &t->right;
			t = t->right;
		} else {
			*hi = t;
			hi = &t->left;
			t = t->left;
		}
	}
	*lo = *hi = NULL;
	*link = r;
}

/* r, about to be unlinked from the sorted list, leaves the tree. */
static void
region_unlink(struct vmspace *vs, struct vm_region *r)
{
	struct vm_region **link = &vs->tree;
	if (vs->hint == r)
		vs->hint = NULL;
	while (*link != r) {
		KASSERT(*link, "region_unlink: region [0x%lx, 0x%lx) is not in the tree", r->start, r->end);
		link = r->start < (*link)->start ? &(*link)->left : &(*link)->right;
	}
	/* its children, every start on the left below every one on the right, merge by priority */
	struct vm_region *a = r->left, *b = r->right;
	while (a && b) {
		if (region_priority(a) > region_priority(b)) {
			*link = a;
			link = &a->right;
			a = a->right;
		} else {
			*link = b;
			link = &b->left;
			b = b->left;
		}
	}
	*link = a ? a : b;
}

static bool
range_is_free(struct vmspace *vs, uint64_t start, uint64_t end)
{
	struct vm_region *r = first_region_ending_after(vs, start);
	return !r || r->start >= end;
}

/* Link r into the sorted list. */
static void
region_insert(struct vmspace *vs, struct vm_region *r)
{
	struct vm_region **pp = &vs->regions;
	while (*pp && (*pp)->start < r->start)
		pp = &(*pp)->next;
	r->next = *pp;
	*pp = r;
	region_link(vs, r);
}

static int region_add(struct vmspace *vs, uint64_t start, uint64_t end, uint32_t prot,
		      enum vm_region_kind kind, struct vm_object *obj);

static void
region_free(struct vm_region *r)
{
	object_unref(r->obj);
	kfree(r);
}

int
vm_map_region(struct vmspace *vs, uint64_t start, uint64_t end, uint32_t prot,
	      enum vm_region_kind kind, enum vm_object_type type, bool grows)
{
	if (start >= end || (start | end) & (PGSIZE - 1) || start < UTEXT || end > UTOP)
		return -E_INVAL;
	if (!range_is_free(vs, start, end))
		return -E_EXISTS;
	struct vm_object *obj = object_new(type, end - start, grows);
	if (!obj)
		return -E_NO_MEM;
	return region_add(vs, start, end, prot, kind, obj);
}

/* Add region [start, end) (valid, free) mapping obj, whose reference it takes.  0 or -E_NO_MEM. */
static int
region_add(struct vmspace *vs, uint64_t start, uint64_t end, uint32_t prot, enum vm_region_kind kind,
	   struct vm_object *obj)
{
	struct vm_region *r = kmalloc(sizeof *r);
	if (!r) {
		object_unref(obj);
		return -E_NO_MEM;
	}
	r->obj = obj;
	r->start = start;
	r->end = end;
	r->prot = prot;
	r->maxprot = kind == VR_IMAGE && (prot & PROT_EXEC) ? PROT_READ | PROT_EXEC : PROT_ALL;
	r->kind = kind;
	r->offset = 0;
	region_insert(vs, r);
	return 0;
}

/*
 * Split r at va (r->start < va < r->end): r keeps [start, va), a new region gets
 * [va, end) sharing the object.  Returns the new region or NULL when out of memory.
 */
static struct vm_region *
region_split(struct vmspace *vs, struct vm_region *r, uint64_t va)
{
	struct vm_region *tail = kmalloc(sizeof *tail);
	if (!tail)
		return NULL;
	*tail = *r;
	tail->start = va;
	tail->offset = r->offset + (va - r->start);
	tail->obj->refcount++;
	r->end = va;
	r->next = tail;
	region_link(vs, tail);
	return tail;
}

/* Make region boundaries fall at start and end (both page aligned). -E_NO_MEM possible. */
static int
split_at_bounds(struct vmspace *vs, uint64_t start, uint64_t end)
{
	struct vm_region *r = vm_find(vs, start);
	if (r && r->start < start && !region_split(vs, r, start))
		return -E_NO_MEM;
	r = vm_find(vs, end - 1);
	if (r && end < r->end && !region_split(vs, r, end))
		return -E_NO_MEM;
	return 0;
}

/* Merge r with its successor while they are adjacent and alike. */
static void
merge_with_next(struct vmspace *vs, struct vm_region *r)
{
	struct vm_region *n;
	while ((n = r->next) && n->start == r->end && n->prot == r->prot && n->maxprot == r->maxprot &&
	       n->kind == r->kind && n->obj == r->obj && n->offset == r->offset + (r->end - r->start)) {
		r->end = n->end;
		region_unlink(vs, n);
		r->next = n->next;
		region_free(n);
	}
}

/*
 * Widen [*start, *end) to the whole leaves mapped at its two ends (an overlaid page
 * counts as its 2 MiB page: kern/mm/pt/overlay.c).  A superpage split or created at a
 * bound changes every translation inside it, not only those in the range: the observers (the model TLB, which must drop all of a superpage's
 * translations, as a real TLB does) hear of the whole superpage.  Called before a
 * change (the superpages about to be split) and after it (those just promoted).
 */
static void
widen_to_leaves(struct vmspace *vs, uint64_t *start, uint64_t *end)
{
	int level;
	pte_t *pte = pmap_lookup(&vs->pmap, *start, &level);
	if (pte && (*pte & PTE_P))
		*start = ROUNDDOWN(*start, PS_SIZE(pmap_leaf_size(*pte, level)));
	pte = pmap_lookup(&vs->pmap, *end - 1, &level);
	if (pte && (*pte & PTE_P))
		*end = ROUNDUP(*end, PS_SIZE(pmap_leaf_size(*pte, level)));
}

/* ---- releasing pages ---- */

struct release_ctx {
	struct vmspace *vs;
};

/*
 * Mark the pages of a leaf at level mapping pindex populated in pm (a 2 MiB block in
 * one walk).  0, or -E_NO_MEM with pm unchanged.
 */
static int
populate_leaf(struct popmap *pm, uint64_t pindex, int level)
{
	if (level == PS_4K)
		return popmap_set(pm, pindex) < 0 ? -E_NO_MEM : 0;
	for (uint64_t i = 0; i < PS_PAGES(level); i += PS_PAGES(PS_2M)) {
		if (popmap_set_block(pm, pindex + i) < 0) {
			while (i > 0) {
				i -= PS_PAGES(PS_2M);
				popmap_clear_block(pm, pindex + i);
			}
			return -E_NO_MEM;
		}
	}
	return 0;
}

/* Undo populate_leaf. */
static void
depopulate_leaf(struct popmap *pm, uint64_t pindex, int level)
{
	if (level == PS_4K) {
		popmap_clear(pm, pindex);
		return;
	}
	for (uint64_t i = 0; i < PS_PAGES(level); i += PS_PAGES(PS_2M))
		popmap_clear_block(pm, pindex + i);
}

/* Unmap one leaf (any size), depopulate its pages and drop its frame references. */
static void
release_pte(pte_t *pte, uint64_t va, int level, void *arg)
{
	struct release_ctx *ctx = arg;
	uint64_t base = LEAF_ADDR(*pte, level), npages = PS_SIZE(level) / PGSIZE;
	struct vm_region *r = vm_find(ctx->vs, va);
	KASSERT(r, "release_pte: a leaf at va 0x%lx lies in no region", va);
	*pte = 0;
	pmap_invalidate(&ctx->vs->pmap, va);
	ctx->vs->resident_pages -= npages;
	depopulate_leaf(&r->obj->popmap, va >> PGSHIFT, level);
	if (level == PS_4K)
		page_unref(pa2page(base));
	else
		for (uint64_t b = 0; b < PS_SIZE(level); b += PG2M)
			frame_unref2m(pa2page(base + b));
}

/*
 * Unmap and release every resident page in [start, end); regions are untouched.
 * Superpages straddling a bound are demoted first (cause); -E_NO_MEM if that fails,
 * before anything was released.
 */
static int
release_range(struct vmspace *vs, uint64_t start, uint64_t end, int cause)
{
	struct release_ctx ctx = { vs };
	pmap_overlay_dissolve_range(&vs->pmap, start, end);	/* overlaid pages become 4 KiB tables */
	int r = pmap_split_range(&vs->pmap, start, end, cause);
	if (r < 0)
		return r;
	pmap_foreach(&vs->pmap, start, end, release_pte, &ctx);	/* nothing straddles */
	pmap_prune(&vs->pmap, start, end);	/* empty tables go: superpages can come back */
	return 0;
}

void
vm_destroy(struct vmspace *vs)
{
	for (int i = 0; i < nobservers; i++)
		if (observers[i]->destroyed)
			observers[i]->destroyed(vs);
	for (struct vmspace **pp = &live_spaces; *pp; pp = &(*pp)->next_live)
		if (*pp == vs) {
			*pp = vs->next_live;
			break;
		}
	release_range(vs, 0, UTOP, DEMOTE_MUNMAP);	/* nothing straddles: cannot fail */
	vs->tree = vs->hint = NULL;
	while (vs->regions) {
		struct vm_region *r = vs->regions;
		vs->regions = r->next;
		region_free(r);
	}
	pmap_overlay_teardown(&vs->pmap);
	pmap_destroy(&vs->pmap);
	kfree(vs);
}

/* ---- fork ---- */

/* A fork copying one region's leaves (pmap_copy_range). */
struct fork_ctx {
	struct vmspace *parent, *child;
	struct vm_region *r, *c;	/* the parent's region and the child's copy of it */
	uint64_t flags;			/* leaf flags of both copies: r's protection, copy-on-write */
};

/* Share the overlaid 2 MiB page at blk with the child (kern/mm/pt/overlay.c); 0 or -E_NO_MEM. */
static int
fork_overlaid(struct fork_ctx *ctx, uint64_t blk)
{
	struct popmap *pm = &ctx->c->obj->popmap;
	if (populate_leaf(pm, blk >> PGSHIFT, PS_2M) < 0)
		return -E_NO_MEM;
	if (pmap_overlay_share(&ctx->parent->pmap, pmap_overlay_at(&ctx->parent->pmap, blk), &ctx->child->pmap) < 0) {
		depopulate_leaf(pm, blk >> PGSHIFT, PS_2M);
		return -E_NO_MEM;
	}
	ctx->child->resident_pages += PS_PAGES(PS_2M);
	return 0;
}

/*
 * Share one resident leaf (any size) copy-on-write: the child's entry *dpte, the
 * parent's *spte rewritten read-only.  0 or -E_NO_MEM (nothing changed for this leaf).
 */
static int
fork_leaf(pte_t *spte, pte_t *dpte, uint64_t va, int level, void *arg)
{
	struct fork_ctx *ctx = arg;
	if (va < ctx->r->start)		/* begun in the region before: copied with it */
		return 0;
	if (!dpte)			/* an overlaid page: shared whole */
		return fork_overlaid(ctx, va);
	uint64_t flags = ctx->flags | (level > PS_4K ? PTE_PS : 0);
	uint64_t base = LEAF_ADDR(*spte, level);
	if (populate_leaf(&ctx->c->obj->popmap, va >> PGSHIFT, level) < 0)
		return -E_NO_MEM;
	/* the child's entry is not referenced yet; its frame holds what the parent wrote */
	*dpte = base | flags | (*spte & PTE_D) | PTE_P;
	if (level == PS_4K)
		page_ref(pa2page(base));
	else
		for (uint64_t b = 0; b < PS_SIZE(level); b += PG2M)
			frame_ref2m(pa2page(base + b));
	ctx->child->resident_pages += PS_SIZE(level) / PGSIZE;
	*spte = base | flags | (*spte & PTE_AD) | PTE_P;
	return 0;
}

/* The child's copy of parent object obj: the one made for an earlier region, or new. */
static struct vm_object *
fork_object(struct vmspace *parent, struct vmspace *child, struct vm_region *pr)
{
	struct vm_region *c = child->regions;
	for (struct vm_region *p = parent->regions; p != pr; p = p->next, c = c->next)
		if (p->obj == pr->obj) {
			c->obj->refcount++;
			return c->obj;
		}
	return object_new_like(pr->obj);
}

struct vmspace *
vm_fork(struct vmspace *parent)
{
	struct vmspace *child = vm_create();
	if (!child)
		return NULL;
	child->heap_start = parent->heap_start;
	child->brk = parent->brk;
	struct vm_region **tail = &child->regions;
	for (struct vm_region *r = parent->regions; r; r = r->next) {
		struct vm_region *c = kmalloc(sizeof *c);
		struct vm_object *obj = c ? fork_object(parent, child, r) : NULL;
		if (!obj) {
			kfree(c);
			vm_destroy(child);
			return NULL;
		}
		*c = *r;
		c->obj = obj;
		c->next = NULL;
		*tail = c;
		tail = &c->next;
		region_link(child, c);
	}
	/* region by region, so that each leaf's region is known and only its slots are scanned */
	int err = 0;
	for (struct vm_region *r = parent->regions, *c = child->regions; r && !err; r = r->next, c = c->next) {
		struct fork_ctx ctx = { parent, child, r, c, pmap_prot_flags(r->prot, true) };
		err = pmap_copy_range(&parent->pmap, &child->pmap, r->start, r->end, fork_leaf, &ctx);
	}
	pmap_flush(&parent->pmap);	/* its entries were rewritten read-only */
	vm_changed(parent, 0, UTOP);
	if (err) {
		vm_destroy(child);	/* parent pages stay COW-marked: harmless, resolved on write */
		return NULL;
	}
	return child;
}

/* ---- loading ---- */

int
vm_load_bytes(struct vmspace *vs, uint64_t va, const void *src, uint64_t len)
{
	const uint8_t *from = src;
	while (len > 0) {
		struct vm_region *r = vm_find(vs, va);
		if (!r)
			return -E_FAULT;
		int level, err;
		pte_t *pte = pmap_lookup(&vs->pmap, va, &level);
		if (!pte || !(*pte & PTE_P)) {
			if ((err = policy_populate(vs, r, va)) < 0)
				return err;
			pte = pmap_lookup(&vs->pmap, va, &level);
		}
		uint64_t page_size = PS_SIZE(level), off = va & (page_size - 1);
		uint64_t n = MIN(len, PGSIZE - (va & (PGSIZE - 1)));
		memcpy((uint8_t *)KADDR(LEAF_ADDR(*pte, level)) + off, from, n);
		va += n;
		from += n;
		len -= n;
	}
	return 0;
}

/* ---- the system calls ---- */

/* Validate a user range: page aligned start, nonzero length, inside [UTEXT, UTOP). */
static int
check_range(uint64_t addr, uint64_t len, uint64_t *end)
{
	if (len == 0 || (addr & (PGSIZE - 1)))
		return -E_INVAL;
	uint64_t rounded = ROUNDUP(len, PGSIZE);
	if (rounded < len || addr + rounded < addr)	/* overflow */
		return -E_INVAL;
	*end = addr + rounded;
	if (addr < UTEXT || *end > UTOP)
		return -E_INVAL;
	return 0;
}

/* Highest free, 2 MiB-aligned if big enough, gap of len bytes below UMMAPTOP; 0 if none. */
static uint64_t
find_free_range(struct vmspace *vs, uint64_t len)
{
	uint64_t align = len >= PG1G ? PG1G : len >= PG2M ? PG2M : PGSIZE;
	uint64_t floor = MAX(ROUNDUP(vs->brk, PGSIZE), UTEXT) + PG1G;	/* room for the heap */
	if (len > UMMAPTOP)
		return 0;
	uint64_t cand = ROUNDDOWN(UMMAPTOP - len, align);
	while (cand >= floor) {
		struct vm_region *r = first_region_ending_after(vs, cand);
		if (!r || r->start >= cand + len)
			return cand;
		if (r->start < len)
			return 0;
		cand = ROUNDDOWN(r->start - len, align);
	}
	return 0;
}

/*
 * If an anonymous mmap region with the same protection ends at start, grow it over
 * [start, end) (free space) instead of making a new region, and merge it with the
 * next region if that one continues the same object: a hole punched by munmap and
 * mapped again rejoins its object, its reservations and its chance of promotion.
 */
static bool
extend_previous(struct vmspace *vs, uint64_t start, uint64_t end, uint32_t prot)
{
	struct vm_region *prev = vs->regions;
	while (prev && prev->end < start)
		prev = prev->next;
	if (!prev || prev->end != start || prev->kind != VR_MMAP || prev->prot != prot)
		return false;
	prev->end = end;
	prev->obj->size = MAX(prev->obj->size, end - prev->start);
	merge_with_next(vs, prev);
	return true;
}

/*
 * Check mmap's prot and len (flags are the caller's) and choose the start of
 * [addr, addr + *len), *len rounded to pages: MAP_FIXED's addr, a usable hint, or the
 * highest free gap of *len bytes (of whole 2 MiB blocks with whole_blocks).  The start,
 * or -E_INVAL, -E_PERM, -E_EXISTS, -E_NO_MEM.
 */
static int64_t
mmap_place(struct vmspace *vs, uint64_t addr, uint64_t *len, uint32_t prot, uint32_t flags, bool whole_blocks)
{
	uint64_t end;

	if (prot & ~PROT_ALL)
		return -E_INVAL;
	if ((prot & PROT_WRITE) && (prot & PROT_EXEC))
		return -E_PERM;			/* W^X */
	if (*len == 0 || *len > UTOP)
		return -E_INVAL;
	uint64_t len_pages = ROUNDUP(*len, PGSIZE);
	*len = len_pages;
	if (flags & MAP_FIXED) {
		int r = check_range(addr, len_pages, &end);
		if (r < 0)
			return r;
		if (!range_is_free(vs, addr, end))
			return -E_EXISTS;
	} else if (addr && check_range(addr, len_pages, &end) == 0 && range_is_free(vs, addr, end)) {
		/* the hint is usable */
	} else {
		addr = find_free_range(vs, whole_blocks ? ROUNDUP(len_pages, PG2M) : len_pages);
		if (!addr)
			return -E_NO_MEM;
	}
	return (int64_t)addr;
}

int64_t
vm_mmap(struct vmspace *vs, uint64_t addr, uint64_t len, uint32_t prot, uint32_t flags)
{
	if ((flags & ~MAP_KNOWN) || !(flags & MAP_ANON))
		return -E_INVAL;
	int64_t placed = mmap_place(vs, addr, &len, prot, flags, false);
	if (placed < 0)
		return placed;
	addr = (uint64_t)placed;
	if (extend_previous(vs, addr, addr + len, prot))
		return (int64_t)addr;
	int r = vm_map_region(vs, addr, addr + len, prot, VR_MMAP, OBJ_ANON, false);	/* fixed size */
	return r < 0 ? r : (int64_t)addr;
}

/* Whether the hugemap block at blk may grow over [start, end) (bloat): free user space. */
static bool
bloat_fits(struct vmspace *vs, uint64_t start, uint64_t end)
{
	return start == end || (start >= UTEXT && end <= UMMAPTOP && range_is_free(vs, start, end));
}

/*
 * The request's end blocks decide the region's bounds: a partial end block chosen
 * 2 MiB takes in its bloat, or falls back to 4 KiB pages if the bloat's address space
 * is taken (a lone block needs room on both sides).
 */
int64_t
vm_mmap_hugemap(struct vmspace *vs, uint64_t addr, uint64_t len, uint32_t prot, uint32_t flags)
{
	if (flags & ~(MAP_PRIVATE | MAP_FIXED))
		return -E_INVAL;
	if (len > phys_buddy.managed_pages * PGSIZE)
		return -E_NO_MEM;		/* more than memory: the device does not overcommit */
	int64_t placed = mmap_place(vs, addr, &len, prot, flags, true);
	if (placed < 0)
		return placed;
	uint64_t start = (uint64_t)placed, end = start + len;
	struct vm_object *obj = object_new(OBJ_HUGEMAP, len, false);
	if (!obj || object_hugemap_init(obj, start, end) < 0) {
		if (obj)
			object_unref(obj);
		return -E_NO_MEM;
	}
	policy_hugemap_plan(obj);
	uint64_t lo = ROUNDDOWN(start, PG2M), hi = ROUNDUP(end, PG2M), last = hi - PG2M;
	bool lo_fits = bloat_fits(vs, lo, start), hi_fits = bloat_fits(vs, end, hi);
	if (*object_hugemap_choice(obj, lo) == HM_2M) {
		if (lo_fits && (lo != last || hi_fits))
			start = lo;
		else
			policy_hugemap_fallback(obj, lo);
	}
	if (*object_hugemap_choice(obj, last) == HM_2M) {
		if (hi_fits)
			end = hi;
		else
			policy_hugemap_fallback(obj, last);
	}
	obj->size = end - start;
	int r = region_add(vs, start, end, prot, VR_DEVICE, obj);
	return r < 0 ? r : placed;
}

/*
 * munmap of a hugemap request's whole part of its first (last) block takes the bloat
 * below (above) it too, as far as regions of the same object reach: the bloat exists
 * only for the sake of that part.
 */
static void
widen_to_bloat(struct vmspace *vs, uint64_t *start, uint64_t *end)
{
	struct vm_region *r = first_region_ending_after(vs, *start);
	struct hugemap *hm = r && r->start < *end ? r->obj->hugemap : NULL;
	if (hm && *start <= hm->req_start && *end >= MIN(hm->req_end, ROUNDDOWN(hm->req_start, PG2M) + PG2M)) {
		struct vm_region *below;
		while (*start > hm->first_blk && (below = vm_find(vs, *start - 1)) && below->obj == r->obj)
			*start = MAX(below->start, hm->first_blk);
	}
	for (r = first_region_ending_after(vs, *start); r && r->next && r->next->start < *end; r = r->next)
		;
	hm = r && r->start < *end ? r->obj->hugemap : NULL;
	uint64_t blocks_end = hm ? hm->first_blk + hm->nblocks * PG2M : 0;
	if (hm && *end >= hm->req_end && *start <= MAX(hm->req_start, ROUNDUP(hm->req_end, PG2M) - PG2M)) {
		struct vm_region *above;
		while (*end < blocks_end && (above = vm_find(vs, *end)) && above->obj == r->obj)
			*end = MIN(above->end, blocks_end);
	}
}

int
vm_munmap(struct vmspace *vs, uint64_t addr, uint64_t len)
{
	uint64_t end;
	int r = check_range(addr, len, &end);
	if (r < 0)
		return r;
	widen_to_bloat(vs, &addr, &end);
	if ((r = split_at_bounds(vs, addr, end)) < 0)
		return r;
	uint64_t lo = addr, hi = end;
	widen_to_leaves(vs, &lo, &hi);
	r = release_range(vs, addr, end, DEMOTE_MUNMAP);
	vm_changed(vs, lo, hi);
	if (r < 0)
		return r;
	for (struct vm_region **pp = &vs->regions; *pp;) {
		struct vm_region *reg = *pp;
		if (reg->start >= addr && reg->end <= end) {
			region_unlink(vs, reg);
			*pp = reg->next;
			region_free(reg);
		} else {
			pp = &reg->next;
		}
	}
	return 0;
}

/* True if regions cover [start, end) without a hole. */
static bool
range_fully_mapped(struct vmspace *vs, uint64_t start, uint64_t end)
{
	uint64_t va = start;
	for (struct vm_region *r = first_region_ending_after(vs, start); r && va < end; r = r->next) {
		if (r->start > va)
			return false;
		va = r->end;
	}
	return va >= end;
}

struct protect_ctx {
	struct vmspace *vs;
	uint32_t prot;
};

static void
protect_pte(pte_t *pte, uint64_t va, int level, void *arg)
{
	struct protect_ctx *ctx = arg;
	uint64_t size_bit = level > PS_4K ? PTE_PS : 0;
	*pte = LEAF_ADDR(*pte, level) | pmap_prot_flags(ctx->prot, *pte & PTE_COW) | (*pte & PTE_AD) | size_bit | PTE_P;
	pmap_invalidate(&ctx->vs->pmap, va);
}

int
vm_mprotect(struct vmspace *vs, uint64_t addr, uint64_t len, uint32_t prot)
{
	uint64_t end;
	int r = check_range(addr, len, &end);
	if (r < 0)
		return r;
	if (prot & ~PROT_ALL)
		return -E_INVAL;
	if ((prot & PROT_WRITE) && (prot & PROT_EXEC))
		return -E_PERM;
	if (!range_fully_mapped(vs, addr, end))
		return -E_NOT_FOUND;
	for (struct vm_region *reg = first_region_ending_after(vs, addr); reg && reg->start < end; reg = reg->next)
		if (reg->kind == VR_GUARD || (prot & ~reg->maxprot))
			return -E_PERM;		/* the guard stays; program text stays read-only */
	/*
	 * All or nothing: the steps that can fail (splitting regions, demoting superpages
	 * that cross a bound) change no protection; then regions and entries change, which
	 * cannot fail.  On failure the split regions merge back.
	 */
	uint64_t lo = addr, hi = end;
	widen_to_leaves(vs, &lo, &hi);
	pmap_overlay_dissolve_range(&vs->pmap, addr, end);	/* same contents and rights, 4 KiB tables */
	if ((r = split_at_bounds(vs, addr, end)) == 0 &&
	    (r = pmap_split_range(&vs->pmap, addr, end, DEMOTE_MPROTECT)) == 0) {
		for (struct vm_region *reg = first_region_ending_after(vs, addr); reg && reg->start < end;
		     reg = reg->next)
			reg->prot = prot;
		struct protect_ctx ctx = { vs, prot };
		pmap_foreach(&vs->pmap, addr, end, protect_pte, &ctx);	/* nothing straddles */
	}
	for (struct vm_region *reg = vs->regions; reg; reg = reg->next)
		merge_with_next(vs, reg);
	if (r < 0) {
		vm_changed(vs, lo, hi);		/* some superpages may have been demoted */
		return r;
	}
	policy_repromote(vs, addr, end);	/* blocks whose protection became uniform again */
	widen_to_leaves(vs, &lo, &hi);
	vm_changed(vs, lo, hi);
	return 0;
}

int
vm_madvise(struct vmspace *vs, uint64_t addr, uint64_t len, uint32_t advice)
{
	uint64_t end;
	int r = check_range(addr, len, &end);
	if (r < 0)
		return r;
	if (advice == MADV_NORMAL)
		return range_fully_mapped(vs, addr, end) ? 0 : -E_NOT_FOUND;
	if (advice != MADV_DONTNEED)
		return -E_INVAL;
	if (!range_fully_mapped(vs, addr, end))
		return -E_NOT_FOUND;
	uint64_t lo = addr, hi = end;
	widen_to_leaves(vs, &lo, &hi);
	r = release_range(vs, addr, end, DEMOTE_MADVISE);	/* next touch: demand zero */
	vm_changed(vs, lo, hi);
	return r;
}

/*
 * Grow the heap over [old_top, new_top), free address space.  Munmap, MAP_FIXED and
 * mprotect may have cut the heap into pieces: only the top piece, the heap region
 * ending at old_top, is extended, and only if it is still read-write; otherwise the
 * new part becomes a read-write region of its own, continuing the top piece's object
 * (or a new heap object if no heap piece ends at old_top).  0 or -E_NO_MEM.
 */
static int
heap_grow(struct vmspace *vs, uint64_t old_top, uint64_t new_top)
{
	struct vm_region *top = old_top > vs->heap_start ? vm_find(vs, old_top - 1) : NULL;
	if (!top || top->kind != VR_HEAP || top->end != old_top) {
		int r = vm_map_region(vs, old_top, new_top, PROT_READ | PROT_WRITE, VR_HEAP, OBJ_ANON, true);
		return r == -E_EXISTS ? -E_NO_MEM : r;
	}
	uint64_t obj_start = top->start - top->offset;
	if (top->prot == (PROT_READ | PROT_WRITE)) {
		top->end = new_top;
	} else {
		struct vm_region *r = kmalloc(sizeof *r);
		if (!r)
			return -E_NO_MEM;
		*r = *top;
		r->start = old_top;
		r->end = new_top;
		r->prot = PROT_READ | PROT_WRITE;
		r->offset = old_top - obj_start;
		r->obj->refcount++;
		top->next = r;
		region_link(vs, r);
	}
	top->obj->size = MAX(top->obj->size, new_top - obj_start);
	return 0;
}

int64_t
vm_sbrk(struct vmspace *vs, int64_t increment)
{
	uint64_t old = vs->brk;
	uint64_t new = old + (uint64_t)increment;

	if ((increment > 0 && new < old) || (increment < 0 && new > old) || new < vs->heap_start)
		return -E_INVAL;
	uint64_t old_top = ROUNDUP(old, PGSIZE), new_top = ROUNDUP(new, PGSIZE);
	if (new_top > old_top) {
		if (new_top > UMMAPTOP || !range_is_free(vs, old_top, new_top))
			return -E_NO_MEM;
		int r = heap_grow(vs, old_top, new_top);
		if (r < 0)
			return r;
	} else if (new_top < old_top) {
		int r = vm_munmap(vs, new_top, old_top - new_top);	/* whatever lies there */
		if (r < 0)
			return r;
	}
	vs->brk = new;
	return (int64_t)old;
}

void
vm_query(struct vmspace *vs, uint64_t va, struct vm_query *q)
{
	memset(q, 0, sizeof *q);
	q->va = va;
	struct vm_region *r = vm_find(vs, va);
	if (!r)
		return;
	q->mapped = 1;
	q->prot = r->prot;
	q->region_start = r->start;
	q->region_end = r->end;
	int level;
	pte_t *pte = pmap_lookup(&vs->pmap, va, &level);
	if (pte && (*pte & PTE_P)) {
		q->present = 1;
		q->page_size = PS_SIZE(level);
		q->cow = (*pte & PTE_COW) != 0;
		q->writable = (*pte & PTE_W) != 0;
		q->accessed = (*pte & PTE_A) != 0;
		q->dirty = (*pte & PTE_D) != 0;
		q->pfn = (LEAF_ADDR(*pte, level) + (va & (PS_SIZE(level) - 1))) >> PGSHIFT;
		struct overlay *ov = pmap_overlay_at(&vs->pmap, va);
		if (ov) {		/* one 2 MiB page to the model, 4 KiB entries to the MMU */
			q->page_size = PG2M;
			q->overlaid = 1 + pmap_overlay_has(ov, va);
			q->overlays = pmap_overlay_count(ov);
		}
	}
	q->reservation_size = policy_reservation_at(vs, r, va);
	q->device_page_size = policy_hugemap_size(vs, r, va);
	uint8_t *choice = object_hugemap_choice(r->obj, va);
	q->device_fallback = choice && *choice == HM_FALLBACK;
}

void
vm_print(struct vmspace *vs)
{
	static const char *const kinds[] = { "image", "heap", "stack", "guard", "mmap", "dev" };
	for (struct vm_region *r = vs->regions; r; r = r->next)
		cprintf("  %016lx-%016lx %c%c%c %-5s %6lu KiB\n", r->start, r->end,
			(r->prot & PROT_READ) ? 'r' : '-', (r->prot & PROT_WRITE) ? 'w' : '-',
			(r->prot & PROT_EXEC) ? 'x' : '-', kinds[r->kind], (r->end - r->start) >> 10);
	cprintf("  resident: %lu pages\n", vs->resident_pages);
}
