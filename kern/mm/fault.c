/*
 * kern/mm/fault.c: what a user page fault means and how it is resolved.
 *
 * The fault path asks, in order:
 *   1. Is there a region at the address, and does its protection allow the access
 *      (read; write needs PROT_WRITE; instruction fetch needs PROT_EXEC; PROT_NONE
 *      allows nothing)?  If not, the access is refused and the process dies.
 *   2. Is no page mapped?  Demand zero: the policy (kern/mm/policy.c) chooses the
 *      frame -- a reservation's, an eager 2 MiB page, or a plain one -- and may promote.
 *   3. Is it a write to a copy-on-write page?  A 4 KiB page still shared is copied into
 *      a private page; one whose other sharers are gone is taken over in place.  A
 *      copy-on-write 2 MiB page whose other sharers are gone is made writable in place
 *      (no demotion); one still shared is resolved by the boot word cow=:
 *        overlay  (default) page overlays (kern/mm/pt/overlay.c): the superpage stays,
 *                 only the 4 KiB segment written is copied into an overlay page;
 *        copy2m   the whole 2 MiB is copied into a private 2 MiB page (falls back to
 *                 split when no free 2 MiB block exists);
 *        split    Linux since 5.8: demote to 4 KiB pages and copy the one written.
 *      A 1 GiB page is demoted to 2 MiB pages first (to 4 KiB under split).  In an
 *      overlaid page, a write to a segment not yet overlaid folds the overlays back into
 *      the frame when no one else maps it any more, copies the page into a private 2 MiB
 *      frame when it would exceed ovl.max= overlays (default OVL_MAX_DEFAULT), and
 *      otherwise overlays the segment.
 *   4. Otherwise the entry is stale (e.g. a TLB entry older than an mprotect): rewrite
 *      its flags from the region and retry.
 * Model-TLB misses never come here: a fault with the reserved bit set is the model's
 * (kern/trap.c sends it to kern/mm/tlbtrap.c).  After any change, the observers of the
 * address space (the model TLB) hear of it through vm_changed.
 */
#include "inc/error.h"
#include "inc/string.h"
#include "inc/util.h"
#include "kern/cmdline.h"
#include "kern/console.h"
#include "kern/kassert.h"
#include "kern/mm/frame.h"
#include "kern/mm/pt/pt.h"
#include "kern/mm/policy.h"
#include "kern/mm/tlbtrap.h"
#include "kern/mm/vm.h"
#include "kern/mm/fault.h"

struct fault_stats fault_stats;
enum cow_policy cow_policy = COW_OVERLAY;
/*
 * Overlays beyond which an overlaid 2 MiB page is copied into a private one.  Half the
 * segments: past it an overlaid page saves less than half of a copy's memory, and
 * every further segment written still costs a fault, a 4 KiB copy and, in the TLB, a
 * 4 KiB entry.  make bench-overlay, parent writing 50% of 64 MiB of 2 MiB pages at
 * random (about 255 segments per page): ovl.max=128 converges every page (65.6 MB
 * copied, 32 sweep misses), 256 converges the pages past half (43.6 MB, 5,284 misses),
 * 384 or 512 never (32.7 MB, 8,181 misses; cow=split: 32.7 MB, 16,384).  Below 10%
 * written the threshold is never reached.
 */
#define OVL_MAX_DEFAULT	256
static uint64_t ovl_max = OVL_MAX_DEFAULT;
static const char *const cow_names[] = { "overlay", "copy2m", "split" };

void
fault_init(void)
{
	const char *c = cmdline_get("cow");
	for (int i = 0; c && i < 3; i++)
		if (strcmp(c, cow_names[i]) == 0)
			cow_policy = (enum cow_policy)i;
	if (c && strcmp(c, cow_names[cow_policy]) != 0)
		cprintf("fault: unknown cow=%s, using cow=%s\n", c, cow_names[cow_policy]);
	ovl_max = MIN(MAX(cmdline_get_u64("ovl.max", ovl_max), 1), PS_PAGES(PS_2M));
}

const char *
fault_cow_name(void)
{
	return cow_names[cow_policy];
}

static bool
access_allowed(const struct vm_region *r, uint32_t err)
{
	if (r->prot == PROT_NONE)
		return false;
	if ((err & PFERR_W) && !(r->prot & PROT_WRITE))
		return false;
	if ((err & PFERR_I) && !(r->prot & PROT_EXEC))
		return false;
	return true;
}

/* A write to the copy-on-write 4 KiB page at page (entry pte, not overlaid). */
static int
copy_on_write(struct vmspace *vs, struct vm_region *r, uint64_t page, pte_t *pte)
{
	struct page *old = pa2page(PTE_ADDR(*pte));
	if (old->refcount == 1 && page_block2m(old)->maps2m == 0) {	/* sharers gone: reuse */
		*pte = PTE_ADDR(*pte) | pmap_prot_flags(r->prot, false) | (*pte & PTE_AD) | PTE_P;
		pmap_update(&vs->pmap, page, PS_4K);
		pmap_invalidate(&vs->pmap, page);
		fault_stats.cow_reuse++;
		return 0;
	}
	struct page *copy = frame_alloc(0);
	if (!copy)
		return -E_NO_MEM;
	memcpy(page2kva(copy), page2kva(old), PGSIZE);
	page_ref(copy);
	*pte = page2pa(copy) | pmap_prot_flags(r->prot, false) | PTE_P;
	pmap_update(&vs->pmap, page, PS_4K);
	pmap_invalidate(&vs->pmap, page);
	page_unref(old);
	fault_stats.cow_copy++;
	fault_stats.cow_bytes_copied += PGSIZE;
	return 0;
}

/*
 * A write to the copy-on-write 2 MiB leaf pte at block blk: taken over in place, or
 * copied whole (copy2m), or overlaid.  Returns 0 when resolved, 1 when it is to be
 * split (cow=split, or copy2m without a free 2 MiB block), or -E_NO_MEM.
 */
static int
cow_superpage(struct vmspace *vs, struct vm_region *r, uint64_t blk, pte_t *pte)
{
	struct page *head = pa2page(LEAF_ADDR(*pte, PS_2M));
	uint64_t flags = pmap_prot_flags(r->prot, false) | PTE_PS | PTE_P;
	if (frame_sole2m(head)) {
		*pte = LEAF_ADDR(*pte, PS_2M) | flags | (*pte & PTE_AD);
		pmap_update(&vs->pmap, blk, PS_2M);
		pmap_invalidate(&vs->pmap, blk);
		fault_stats.cow_reuse_2m++;
		return 0;
	}
	if (cow_policy == COW_COPY2M) {
		struct page *copy = frame_alloc(PS_ORDER(PS_2M));
		if (!copy)
			return 1;
		memcpy(page2kva(copy), page2kva(head), PG2M);
		frame_ref2m(copy);
		*pte = page2pa(copy) | flags;
		pmap_update(&vs->pmap, blk, PS_2M);
		pmap_invalidate(&vs->pmap, blk);
		frame_unref2m(head);
		fault_stats.cow_copy_2m++;
		fault_stats.cow_bytes_copied += PG2M;
		return 0;
	}
	if (cow_policy == COW_OVERLAY)
		return pmap_overlay_create(&vs->pmap, blk);	/* the segment is written below */
	return 1;
}

/* A write to a copy-on-write segment of an overlaid 2 MiB page. */
static int
overlay_on_write(struct vmspace *vs, struct vm_region *r, uint64_t page)
{
	struct overlay *ov = pmap_overlay_at(&vs->pmap, page);
	uint64_t flags = pmap_prot_flags(r->prot, false);
	KASSERT(ov, "overlay_on_write: va 0x%lx is not in an overlaid page", page);
	if (!pmap_overlay_has(ov, page)) {
		if (frame_sole2m(pa2page(ov->frame))) {		/* the sharers are gone */
			pmap_overlay_fold(&vs->pmap, ov, flags);
			return 0;
		}
		if (pmap_overlay_count(ov) + 1 > ovl_max && pmap_overlay_converge(&vs->pmap, ov, flags) == 0)
			return 0;
	}
	int err = pmap_overlay_write(&vs->pmap, ov, page, flags);
	if (err == 0)
		fault_stats.cow_overlay++;
	return err;
}

/* A write to the copy-on-write page at page, mapped by a leaf at level. */
static int
cow_fault(struct vmspace *vs, struct vm_region *r, uint64_t page, int level)
{
	int err;
	pte_t *pte;
	if (level == PS_1G) {
		if (pmap_demote(&vs->pmap, page, PS_1G, DEMOTE_COW) < 0)
			return -E_NO_MEM;
		level = PS_2M;
	}
	if (level == PS_2M) {
		pte = pmap_lookup(&vs->pmap, page, &level);
		err = cow_superpage(vs, r, ROUNDDOWN(page, PG2M), pte);
		if (err < 0)
			return err;
		if (err == 1 && pmap_demote(&vs->pmap, page, PS_2M, DEMOTE_COW) < 0)
			return -E_NO_MEM;
		if (err == 1)
			fault_stats.cow_split_2m++;
		if (err == 0 && pmap_lookup(&vs->pmap, page, &level) && level == PS_2M)
			return 0;		/* taken over or copied whole */
	}
	pte = pmap_lookup(&vs->pmap, page, &level);
	if (!(*pte & PTE_OVL))
		return copy_on_write(vs, r, page, pte);
	uint64_t copied = overlay_stats.bytes_copied;
	err = overlay_on_write(vs, r, page);
	fault_stats.cow_bytes_copied += overlay_stats.bytes_copied - copied;
	return err;
}

/*
 * The size of the translation a model TLB sees for leaf pte at level (PGSIZE if none):
 * an overlaid page's PTEs are one 2 MiB page to it.
 */
static uint64_t
model_leaf(const pte_t *pte, int level)
{
	if (!pte || !(*pte & PTE_P))
		return PGSIZE;
	return PS_SIZE(pmap_leaf_size(*pte, level));
}

int
vm_fault(struct vmspace *vs, uint64_t va, uint32_t err)
{
	uint64_t page = ROUNDDOWN(va, PGSIZE);
	int level, r;

	struct vm_region *reg = vm_find(vs, va);
	bool allowed = reg && access_allowed(reg, err);
	/* pt=clustered|guarded: the x86 cache lacked it (counted apart: pt_cache_stats) */
	if (allowed && pmap_refill(&vs->pmap, page))
		return 0;
	fault_stats.faults++;
	if (vs->tlb)
		vs->tlb->real_faults++;
	if (!allowed) {
		fault_stats.refused++;
		return -E_FAULT;
	}
	pte_t *pte = pmap_lookup(&vs->pmap, page, &level);
	uint64_t leaf_before = model_leaf(pte, level);
	bool cow_write = pte && (*pte & PTE_P) && (err & PFERR_W) && (*pte & PTE_COW);
	if (cow_write) {
		r = cow_fault(vs, reg, page, level);
	} else if (!pte || !(*pte & PTE_P)) {
		r = policy_populate(vs, reg, page);	/* demand zero: which frame is policy */
		if (r == 0)
			fault_stats.demand_zero++;
	} else {
		uint64_t size_bit = level > PS_4K ? PTE_PS : 0;
		*pte = LEAF_ADDR(*pte, level) | pmap_prot_flags(reg->prot, *pte & PTE_COW) | (*pte & (PTE_AD | PTE_OVL)) |
		       size_bit | PTE_P;
		pmap_update(&vs->pmap, page, level);
		pmap_invalidate(&vs->pmap, page);
		r = 0;
	}
	if (r == -E_NO_MEM)
		fault_stats.no_memory++;
	pte = pmap_lookup(&vs->pmap, page, &level);	/* the leaf now */
	if (r == 0) {				/* the access can now complete */
		KASSERT(pte && (*pte & PTE_P) && (*pte & PTE_U), "vm_fault: va 0x%lx resolved but not mapped for user",
			va);
		KASSERT(!(err & PFERR_W) || ((*pte & PTE_W) && !(*pte & PTE_COW)),
			"vm_fault: write to va 0x%lx resolved but the leaf 0x%lx is not writable", va, *pte);
		KASSERT(!(err & PFERR_I) || !(*pte & PTE_NX), "vm_fault: fetch at va 0x%lx resolved but the leaf is NX",
			va);
	}
	/*
	 * The model TLB follows, as a real TLB is invalidated: only the translation of page
	 * changed, unless a superpage was demoted (the COW split) or promoted (by
	 * policy_populate), or a superpage's flags were rewritten: then every translation of
	 * the superpage changed, so the larger of the leaf before and the leaf after is
	 * reported whole.  A 4 KiB change inside a superpage that stays is impossible: the
	 * superpage is split first -- except in an overlaid page (one 2 MiB page to the
	 * model), where overlaying a segment changes the OBV and that segment's overlay, not
	 * the 2 MiB translation: only the segment is reported (kern/mm/tlbtrap.c updates the
	 * OBV in place, as the seed's OS does).
	 */
	uint64_t leaf_after = model_leaf(pte, level);
	uint64_t changed = MAX(leaf_before, leaf_after);
	if (pte && (*pte & PTE_OVL) && leaf_before <= PG2M)
		changed = PGSIZE;
	vm_changed(vs, ROUNDDOWN(page, changed), ROUNDDOWN(page, changed) + changed);
	return r;
}
