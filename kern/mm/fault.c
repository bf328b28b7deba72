/*
 * kern/mm/fault.c: what a user page fault means and how it is resolved.
 *
 * The fault path asks, in order:
 *   1. Is there a region at the address, and does its protection allow the access
 *      (read; write needs PROT_WRITE; instruction fetch needs PROT_EXEC; PROT_NONE
 *      allows nothing)?  If not, the access is refused and the process dies.
 *   2. Is no page mapped?  Demand zero: the policy (kern/mm/policy.c) chooses the
 *      frame -- a reservation's, an eager 2 MiB page, or a plain one -- and may promote.
 *   3. Is it a write to a copy-on-write page?  If the frame is still shared, copy
 *      it into a private page; if this is its last mapping, take it over in place.
 *      A copy-on-write superpage is demoted first and only the 4 KiB written is copied
 *      (what Linux does; page overlays will keep the superpage instead, at this step).
 *   4. Otherwise the entry is stale (e.g. a TLB entry older than an mprotect): rewrite
 *      its flags from the region and retry.
 * Model-TLB misses never come here: a fault with the reserved bit set is the model's
 * (kern/trap.c sends it to kern/mm/tlbtrap.c).  After any change, the observers of the
 * address space (the model TLB) hear of it through vm_changed.
 */
#include "inc/error.h"
#include "inc/string.h"
#include "inc/util.h"
#include "kern/console.h"
#include "kern/kassert.h"
#include "kern/mm/frame.h"
#include "kern/mm/pt/pt.h"
#include "kern/mm/policy.h"
#include "kern/mm/tlbtrap.h"
#include "kern/mm/vm.h"
#include "kern/mm/fault.h"

struct fault_stats fault_stats;

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

static int
copy_on_write(struct vmspace *vs, struct vm_region *r, uint64_t page, pte_t *pte)
{
	struct page *old = pa2page(PTE_ADDR(*pte));
	if (old->refcount == 1) {		/* the other sharers are gone: reuse in place */
		*pte = PTE_ADDR(*pte) | pmap_prot_flags(r->prot, false) | (*pte & PTE_AD) | PTE_P;
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
	pmap_invalidate(&vs->pmap, page);
	page_unref(old);
	fault_stats.cow_copy++;
	return 0;
}

int
vm_fault(struct vmspace *vs, uint64_t va, uint32_t err)
{
	uint64_t page = ROUNDDOWN(va, PGSIZE);
	int level, r;

	fault_stats.faults++;
	if (vs->tlb)
		vs->tlb->real_faults++;
	struct vm_region *reg = vm_find(vs, va);
	if (!reg || !access_allowed(reg, err)) {
		fault_stats.refused++;
		return -E_FAULT;
	}
	pte_t *pte = pmap_lookup(&vs->pmap, page, &level);
	uint64_t leaf_before = pte && (*pte & PTE_P) ? PS_SIZE(level) : PGSIZE;
	bool cow_write = pte && (*pte & PTE_P) && (err & PFERR_W) && (*pte & PTE_COW);
	while (cow_write && level > PS_4K) {	/* copy 4 KiB, not the superpage: split it */
		if (pmap_demote(&vs->pmap, page, level, DEMOTE_COW) < 0) {
			fault_stats.no_memory++;
			return -E_NO_MEM;
		}
		pte = pmap_lookup(&vs->pmap, page, &level);
	}
	if (!pte || !(*pte & PTE_P)) {
		r = policy_populate(vs, reg, page);	/* demand zero: which frame is policy */
		if (r == 0)
			fault_stats.demand_zero++;
	} else if (cow_write) {
		r = copy_on_write(vs, reg, page, pte);
	} else {
		uint64_t size_bit = level > PS_4K ? PTE_PS : 0;
		*pte = LEAF_ADDR(*pte, level) | pmap_prot_flags(reg->prot, *pte & PTE_COW) | (*pte & PTE_AD) | size_bit |
		       PTE_P;
		pmap_invalidate(&vs->pmap, page);
		r = 0;
	}
	if (r == -E_NO_MEM)
		fault_stats.no_memory++;
	if (r == 0) {				/* the access can now complete */
		pte = pmap_lookup(&vs->pmap, page, &level);
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
	 * superpage is split first.
	 */
	pte = pmap_lookup(&vs->pmap, page, &level);
	uint64_t leaf_after = pte && (*pte & PTE_P) ? PS_SIZE(level) : PGSIZE;
	uint64_t changed = MAX(leaf_before, leaf_after);
	vm_changed(vs, ROUNDDOWN(page, changed), ROUNDDOWN(page, changed) + changed);
	return r;
}
