/*
 * kern/mm/object.c: memory objects -- what a region maps -- with their population maps
 * and their reservations.
 *
 * The object layer sits between the allocators and page tables below and the policy
 * above (kern/mm/README).  It owns:
 *   - the lifetime of an object (object_new, object_unref: the last reference breaks
 *     the object's reservations and frees its population map);
 *   - the memory of population-map nodes and reservation structs (node_alloc), which
 *     the reservation module also uses through reserv_ops;
 *   - the object's own list of reservations, linked through struct reserv's
 *     objnext/objprev.  A reservation joins it in object_reserve, right after
 *     reserv_create, and leaves it in detach, which the reservation module calls on
 *     every destruction: the last frame freed (reserv_free_page), reserv_break, and
 *     preemption inside frame_alloc.  So an object going away breaks exactly its own
 *     reservations, in O(its reservations), where a scan of the frame tables
 *     (reserv_foreach) for each one cost O(reservations x RAM).
 * Wired blocks (kern/mm/frame.c) are reservations too, owned by a sentinel that is not
 * an object: detach hands them to frame.c first.
 */
#include "inc/error.h"
#include "inc/string.h"
#include "inc/util.h"
#include "kern/console.h"
#include "kern/kassert.h"
#include "kern/mm/frame.h"
#include "kern/mm/kmalloc.h"
#include "kern/mm/lib/reserv.h"
#include "kern/mm/object.h"

/* ---- memory for popmap nodes and reservation bitmaps ---- */

static void *
node_alloc(size_t size)
{
	if (size <= KMALLOC_MAX)
		return kmalloc(size);
	struct page *pg = size <= PGSIZE ? wired_page_alloc() : frame_alloc(frame_order_for(size));
	if (!pg)
		return NULL;
	memset(page2kva(pg), 0, PGSIZE << frame_order_for(size));
	return page2kva(pg);
}

static void
node_free(void *p, size_t size)
{
	if (size <= KMALLOC_MAX)
		kfree(p);
	else if (size <= PGSIZE)
		frame_free(pa2page(PADDR(p)));
	else
		page_free(pa2page(PADDR(p)), frame_order_for(size));
}

/* The size of a hugemap of n blocks. */
static size_t
hugemap_bytes(uint64_t n)
{
	return sizeof(struct hugemap) + n;
}

const struct popmap_allocator popmap_kernel_allocator = { node_alloc, node_free };

/* ---- an object's reservations ---- */

static int
reserv_level(const struct reserv *rv)
{
	return rv->order == PS_ORDER(PS_1G) ? PS_1G : PS_2M;
}

/* Put rv at the head of its object's list. */
static void
list_add(struct vm_object *obj, struct reserv *rv)
{
	rv->objprev = NULL;
	rv->objnext = obj->reservs;
	if (obj->reservs)
		obj->reservs->objprev = rv;
	obj->reservs = rv;
}

/* Take rv off its object's list. */
static void
list_remove(struct vm_object *obj, struct reserv *rv)
{
	if (rv->objprev)
		rv->objprev->objnext = rv->objnext;
	else
		obj->reservs = rv->objnext;
	if (rv->objnext)
		rv->objnext->objprev = rv->objprev;
	rv->objprev = rv->objnext = NULL;
}

/* reserv_ops.detach: a reservation is going away; its object forgets it. */
static void
detach(struct reserv *rv)
{
	if (frame_wired_detach(rv))
		return;
	struct vm_object *obj = rv->object;
	list_remove(obj, rv);
	popmap_set_reserv(&obj->popmap, rv->pindex, reserv_level(rv), NULL);
}

static const struct reserv_ops reserv_kernel_ops = { node_alloc, node_free, frame_free_extent, detach };

void
object_system_init(void)
{
	if (reserv_system_init(&reserv_kernel_ops, phys_buddy.npages) < 0)
		panic("no memory for the reservation tables");
	frame_reservations_ready();
}

/*
 * Linking the reservation into the population map may allocate nodes, and an
 * allocation may preempt: the new reservation is pinned meanwhile, or it could be
 * preempted (it is partial, and near OOM the only one) and then linked after being
 * freed.  It is on the object's list from the start, so a break on any path unlinks it.
 */
struct reserv *
object_reserve(struct vm_object *obj, unsigned order, uint64_t pfn, uint64_t pindex, uint64_t now)
{
	int level = order == PS_ORDER(PS_1G) ? PS_1G : PS_2M;
	KASSERT(popmap_reserv_count(&obj->popmap, pindex, level) == 0,
		"object_reserve: block at pindex 0x%lx already holds a reservation", pindex);
	struct reserv *rv = reserv_create(order, pfn, obj, pindex, now);
	if (!rv) {
		frame_free_extent(pfn, order);
		return NULL;
	}
	list_add(obj, rv);
	reserv_pin(rv);
	int err = popmap_set_reserv(&obj->popmap, pindex, level, rv);
	reserv_unpin(rv);
	if (err < 0) {
		reserv_break(rv);	/* gives the whole extent back */
		return NULL;
	}
	return rv;
}

struct reserv *
object_reservation(struct vm_object *obj, uint64_t pindex)
{
	struct reserv *rv = popmap_reserv(&obj->popmap, pindex, PS_2M);
	return rv ? rv : popmap_reserv(&obj->popmap, pindex, PS_1G);
}

uint64_t
object_reserv_count(const struct vm_object *obj)
{
	uint64_t n = 0;
	for (const struct reserv *rv = obj->reservs; rv; rv = rv->objnext) {
		KASSERT(rv->object == obj, "object %p lists reservation pfn 0x%lx of another owner",
			(const void *)obj, rv->pfn);
		n++;
	}
	return n;
}

/* ---- lifetime ---- */

struct vm_object *
object_new(enum vm_object_type type, uint64_t size, bool grows)
{
	struct vm_object *obj = kmalloc(sizeof *obj);
	if (!obj)
		return NULL;
	obj->type = type;
	obj->fixed_size = !grows;
	obj->refcount = 1;
	obj->size = size;
	obj->reservs = NULL;
	obj->hugemap = NULL;
	popmap_init(&obj->popmap, &popmap_kernel_allocator);
	return obj;
}

void
object_unref(struct vm_object *obj)
{
	KASSERT(obj->refcount > 0, "object_unref: object %p has no reference", (void *)obj);
	if (--obj->refcount > 0)
		return;
	while (obj->reservs)
		reserv_break(obj->reservs);	/* detach unlinks it; frames still mapped stay allocated */
	popmap_destroy(&obj->popmap);
	if (obj->hugemap)
		node_free(obj->hugemap, hugemap_bytes(obj->hugemap->nblocks));
	kfree(obj);
}

int
object_hugemap_init(struct vm_object *obj, uint64_t req_start, uint64_t req_end)
{
	uint64_t first = ROUNDDOWN(req_start, PG2M), n = (ROUNDUP(req_end, PG2M) - first) / PG2M;
	struct hugemap *hm = node_alloc(hugemap_bytes(n));	/* zeroed: every block HM_4K */
	if (!hm)
		return -E_NO_MEM;
	hm->req_start = req_start;
	hm->req_end = req_end;
	hm->first_blk = first;
	hm->nblocks = n;
	obj->hugemap = hm;
	return 0;
}

uint8_t *
object_hugemap_choice(struct vm_object *obj, uint64_t va)
{
	struct hugemap *hm = obj->hugemap;
	if (!hm || va < hm->first_blk || (va - hm->first_blk) / PG2M >= hm->nblocks)
		return NULL;
	return &hm->choice[(va - hm->first_blk) / PG2M];
}

struct vm_object *
object_new_like(const struct vm_object *src)
{
	struct vm_object *obj = object_new(src->type, src->size, !src->fixed_size);
	const struct hugemap *hm = src->hugemap;
	if (!obj || !hm)
		return obj;
	if (object_hugemap_init(obj, hm->req_start, hm->req_end) < 0) {
		object_unref(obj);
		return NULL;
	}
	memcpy(obj->hugemap->choice, hm->choice, hm->nblocks);
	return obj;
}
