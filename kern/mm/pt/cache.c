/*
 * kern/mm/pt/cache.c: the x86 tables as a software-refilled cache of a page-table design.
 *
 * The GPT seed (Wiggins's guarded page tables for Linux) proposes, for machines whose
 * MMU walks x86-style tables, to keep the authoritative mappings in the design and to
 * treat the hardware tables as a cache of them: a page fault on a missing hardware entry
 * refills it from the design, and the hardware tables can be thrown away at any time.
 * spos does that for pt=clustered and pt=guarded (kern/mm/pt/design.c).
 *
 * The rules, which radix.c keeps and the invariant checker verifies (vm.check=1):
 *  - every leaf the x86 tables hold, the design holds too, with the same frame, size
 *    and flags (ptd_value: not the model TLB's bits), except A and D: while a leaf is
 *    cached the hardware sets them and the model TLB clears A in the x86 entry alone,
 *    and a drop writes them back (radix.c), as a software-refilled TLB writes back its
 *    reference and dirty bits;
 *  - the cache holds a 2 MiB block whole or not at all: if the PD entry of a block is
 *    present, every leaf the design has in the block is in the x86 tables.  So a walk of
 *    the x86 tables tells the truth about any block it finds, and a block it does not
 *    find is refilled from the design first (ptd_fill) when the cache has been dropped
 *    since the space began (pm->cache_partial; until then the cache holds everything
 *    and nothing is ever refilled).
 *  - every change to a mapping writes through: radix.c's map and foreach, promote and
 *    demote, overlay.c's changes of an overlaid block (pmap_design_sync), and whoever
 *    rewrites a leaf it looked up (pmap_update).
 * A and D make pages of a partial-subblock node of the clustered table differ, and
 * such a node becomes a full one when one of its pages is written back dirty (the
 * paper keeps one set of flags per partial subblock too).  What stays cached: an overlaid block's table (its struct page names the OBV record,
 * kern/mm/pt/overlay.c), and the space the model TLB measures (radix.c says why).
 */
#include <stddef.h>
#include "inc/error.h"
#include "inc/mmu.h"
#include "inc/util.h"
#include "kern/kassert.h"
#include "kern/mm/pt/design.h"
#include "kern/mm/pt/machine.h"
#include "kern/mm/pt/pt.h"

const struct pt_ops *pt_design;

#define DESIGN_MASK	((PTE_ADDR_MASK & ~(1UL << 51)) | (0xFFFUL & ~PTE_PS) | PTE_NX)

uint64_t
ptd_value(pte_t x86)
{
	return x86 & DESIGN_MASK & ~(1UL << 51);
}

int
ptd_sync_leaf(struct pmap *pm, uint64_t va, int level, pte_t x86)
{
	const struct pt_ops *ops = pm->ops;
	uint64_t have, want = ptd_value(x86);
	enum page_size size;
	va = ROUNDDOWN(va, PS_SIZE(level));
	bool found = ops->lookup(pm->table, va, &have, &size, NULL);
	if (found)
		KASSERT((int)size == level, "ptd_sync_leaf: va 0x%lx is a level-%d leaf in the design, %d in x86",
			va, (int)size, level);
	if (!(x86 & PTE_P))
		return found ? ops->unmap(pm->table, va, size) : 0;
	if (!found)
		return ops->map(pm->table, va, want, (enum page_size)level);
	if (have == want)
		return 0;
	if ((have & PTE_ADDR_MASK) == (want & PTE_ADDR_MASK))
		return ops->protect(pm->table, va, size, want & ~PTE_ADDR_MASK);
	int r = ops->unmap(pm->table, va, size);
	KASSERT(r == 0, "ptd_sync_leaf: unmap of a leaf just found: error %d", r);
	r = ops->map(pm->table, va, want, size);
	if (r < 0)	/* put the old one back: a node's worth of memory was just freed */
		KASSERT(ops->map(pm->table, va, have, size) == 0, "ptd_sync_leaf: cannot restore va 0x%lx", va);
	return r;
}

/* The leaves of a range, gathered before the design changes under them. */
#define SYNC_MAX	(NPTENTRIES + 1)
static struct {
	uint64_t va;
	enum page_size size;
} gathered[SYNC_MAX];
static unsigned ngathered;

static void
gather(void *arg, uint64_t va, uint64_t pte, enum page_size size)
{
	(void)arg;
	(void)pte;
	KASSERT(ngathered < SYNC_MAX, "ptd_unmap_range: more than %d leaves", SYNC_MAX);
	gathered[ngathered].va = va;
	gathered[ngathered++].size = size;
}

void
ptd_unmap_range(struct pmap *pm, uint64_t start, uint64_t end)
{
	KASSERT(start % PS_SIZE(PS_2M) == 0 && end % PS_SIZE(PS_2M) == 0,
		"ptd_unmap_range: [0x%lx, 0x%lx) is not 2 MiB aligned", start, end);
	ngathered = 0;
	pm->ops->foreach(pm->table, start, end, gather, NULL);
	for (unsigned i = 0; i < ngathered; i++) {
		KASSERT(gathered[i].va >= start && gathered[i].va + PS_SIZE(gathered[i].size) <= end,
			"ptd_unmap_range: a leaf at 0x%lx straddles [0x%lx, 0x%lx)", gathered[i].va, start, end);
		pm->ops->unmap(pm->table, gathered[i].va, gathered[i].size);
	}
}

/* What a fill is doing: the space, and whether an allocation failed. */
struct fill {
	struct pmap *pm;
	bool failed;
};

static void
install(void *arg, uint64_t va, uint64_t pte, enum page_size size)
{
	struct fill *f = arg;
	pte_t *pml4 = pt_va(f->pm->root);
	pte_t *slot = pmap_walk(pml4, va, size, false, 0);
	if (!slot) {
		/* no table reaches it: its block is not cached, nothing of it is installed yet */
		if (f->failed)
			return;
		if (!(slot = pmap_walk(pml4, va, size, true, PTE_U))) {
			f->failed = true;
			return;
		}
	}
	if (*slot & PTE_P)
		return;			/* its block is cached already */
	*slot = pte | PTE_P | (size > PS_4K ? PTE_PS : 0);
	f->pm->cache_refills++;
}

int
ptd_fill(struct pmap *pm, uint64_t start, uint64_t end)
{
	if (!pm->cache_partial)
		return 0;
	struct fill f = { pm, false };
	if (start >= end)
		return 0;
	pm->ops->foreach(pm->table, ROUNDDOWN(start, PS_SIZE(PS_2M)), ROUNDUP(end, PS_SIZE(PS_2M)), install, &f);
	return f.failed ? -E_NO_MEM : 0;
}
