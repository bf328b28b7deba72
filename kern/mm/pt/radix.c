/*
 * kern/mm/pt/radix.c: the x86-64 4-level radix tables of user address spaces, the
 * design the MMU walks: map, look up, walk a range (never changing the tables), split
 * a range at its bounds, promote and demote superpages.  Under pt=clustered|guarded the
 * same functions keep the space's design in step with every change (write-through) and
 * refill these tables from it when they were dropped: they are then its cache
 * (kern/mm/pt/cache.c has the rules; the drop is at the end of this file).
 */
#include "inc/error.h"
#include "inc/memlayout.h"
#include "inc/mmu.h"
#include "inc/string.h"
#include "inc/util.h"
#include "inc/syscall.h"
#include "kern/console.h"
#include "kern/kassert.h"
#include "kern/mm/pt/machine.h"
#include "kern/mm/pt/pt.h"

/* The leaf flags for a page with protection prot (PROT_*), copy-on-write or not (PTE_P added by pmap_enter). */
uint64_t
pmap_prot_flags(uint32_t prot, bool cow)
{
	uint64_t flags = 0;
	if (prot != PROT_NONE)
		flags |= PTE_U;
	if ((prot & PROT_WRITE) && !cow)
		flags |= PTE_W;
	if (!(prot & PROT_EXEC))
		flags |= PTE_NX;
	if (cow)
		flags |= PTE_COW;
	return flags;
}

/*
 * ---- User address spaces ----
 * Each process has its own PML4: entries 0..255 (the lower half) are its own tables,
 * entries 256..511 are copied from kern_pml4 and point at the kernel's shared PDPTs.
 * User page-table pages come from the buddy allocator and are freed by pmap_destroy;
 * intermediate entries carry PTE_U|PTE_W so that the leaf alone decides access.
 */

#define PML4_USER_SLOTS 256

int
pmap_create(struct pmap *pm)
{
	uint64_t pa = pt_page_alloc();
	if (!pa)
		return -E_NO_MEM;
	pte_t *pml4 = pt_va(pa);
	for (int i = PML4_USER_SLOTS; i < NPTENTRIES; i++)
		pml4[i] = kern_pml4[i];
	pm->root = pa;
	pm->omt = 0;
	pm->overlays = 0;
	pm->ops = pt_design;
	pm->table = NULL;
	pm->cache_partial = false;
	pm->cache_refills = 0;
	pm->hint_pt = NULL;
	if (pm->ops && pm->ops->create(&pm->table) < 0) {
		pt_page_free(pa);
		return -E_NO_MEM;
	}
	return 0;
}

/*
 * ---- Writing through to a design ----
 * Under pt=clustered|guarded every change of a mapping goes to the design too
 * (kern/mm/pt/cache.c).  A design may need memory for it (a node); when none is left,
 * the caches of the other address spaces are dropped (pt_reclaim, which vm registers)
 * and the write tried again; a design that still cannot record a mapping the x86
 * tables already show is out of kernel memory in a way spos does not recover from.
 */
uint64_t (*pt_reclaim)(struct pmap *keep);
struct pt_cache_stats pt_cache_stats;

static pte_t *pmap_lookup_cached(struct pmap *pm, uint64_t va, int *level);
static void foreach_in_table(pte_t *table, int level, uint64_t base, uint64_t start, uint64_t end,
			     void (*fn)(pte_t *, uint64_t, int, void *), void *arg);

static void
must(struct pmap *pm, int r, const char *what, uint64_t va)
{
	KASSERT(r == 0, "%s: the %s table cannot record va 0x%lx: error %d", what, pm->ops->name, va, r);
}

static int
sync_leaf(struct pmap *pm, uint64_t va, int level, pte_t x86)
{
	int r = ptd_sync_leaf(pm, va, level, x86);
	if (r == -E_NO_MEM && pt_reclaim && pt_reclaim(pm))
		r = ptd_sync_leaf(pm, va, level, x86);
	return r;
}

/* What pmap_design_sync is doing: the space, and the first error of a map. */
struct resync {
	struct pmap *pm;
	int error;
};

static void
map_leaf(pte_t *pte, uint64_t va, int level, void *arg)
{
	struct resync *rs = arg;
	if (rs->error == 0)
		rs->error = rs->pm->ops->map(rs->pm->table, va, ptd_value(*pte), (enum page_size)level);
}

/* The design's leaves in [start, end) become the x86 tables' there.  0 or -E_NO_MEM. */
static int
resync(struct pmap *pm, uint64_t start, uint64_t end)
{
	struct resync rs = { pm, 0 };
	ptd_unmap_range(pm, start, end);
	foreach_in_table(pt_va(pm->root), 3, 0, start, end, map_leaf, &rs);
	return rs.error;
}

void
pmap_design_sync(struct pmap *pm, uint64_t start, uint64_t end, const char *what)
{
	if (!pm->ops)
		return;
	int r = resync(pm, start, end);
	if (r == -E_NO_MEM && pt_reclaim && pt_reclaim(pm))
		r = resync(pm, start, end);
	must(pm, r, what, start);
}

/* fill of a space whose x86 tables were dropped (cache_partial). */
static bool
fill_dropped(struct pmap *pm, uint64_t start, uint64_t end, bool reclaim)
{
	uint64_t before = pm->cache_refills;
	int r = ptd_fill(pm, start, end);
	if (r == -E_NO_MEM && reclaim && pt_reclaim && pt_reclaim(pm))
		r = ptd_fill(pm, start, end);
	pt_cache_stats.refills += pm->cache_refills - before;
	pt_cache_stats.fill_failures += r < 0;
	return r == 0;
}

/*
 * Refill the blocks of [start, end) the cache lacks; false only when out of memory.
 * With reclaim, other spaces' caches are dropped to find it first.  Inline: most
 * spaces have no design, or their cache whole.
 */
static inline bool
fill(struct pmap *pm, uint64_t start, uint64_t end, bool reclaim)
{
	return !pm->ops || !pm->cache_partial || fill_dropped(pm, start, end, reclaim);
}

bool
pmap_cached(void)
{
	return pt_design != NULL;
}

void
pmap_update(struct pmap *pm, uint64_t va, int level)
{
	if (!pm->ops)
		return;
	pte_t *pte = pmap_walk(pt_va(pm->root), va, level, false, 0);
	KASSERT(pte, "pmap_update: no level-%d entry for va 0x%lx", level, va);
	must(pm, sync_leaf(pm, va, level, *pte), "pmap_update", va);
}

bool
pmap_cache_fill(struct pmap *pm)
{
	return fill(pm, 0, UTOP, false);	/* no pt_reclaim: the caller walks every space */
}

bool
pmap_refill(struct pmap *pm, uint64_t va)
{
	int level;
	if (!pm->ops || !pm->cache_partial || va >= UTOP)
		return false;
	pte_t *pte = pmap_lookup_cached(pm, va, &level);
	if (pte && (*pte & PTE_P))
		return false;
	uint64_t before = pm->cache_refills;
	fill(pm, va, va + 1, true);
	if (pm->cache_refills == before)
		return false;		/* the design has nothing there either: a real fault */
	pt_cache_stats.refill_faults++;
	return true;
}

unsigned
pmap_lookup_refs(struct pmap *pm, uint64_t va)
{
	uint64_t pte;
	enum page_size size;
	unsigned refs = 0;
	if (pm->ops)
		pm->ops->lookup(pm->table, va, &pte, &size, &refs);
	return refs;
}

void
pmap_design_stats(struct pmap *pm, struct pmap_design_stats *s)
{
	*s = (struct pmap_design_stats){ 0 };
	if (!pm->ops)
		return;
	s->bytes = pm->ops->bytes(pm->table);
	s->pages = pm->ops->pages(pm->table);
	s->refills = pm->cache_refills;
}

/*
 * ---- Range walks ----
 * A walk visits only the slots of a table that are present: user tables are sparse (a
 * small process fills a few entries of each), and most of a walk's cost used to be
 * testing the empty ones.  Eight entries, one cache line, are tested at once by OR-ing
 * them, so an empty line costs about one test; no count or bitmap is kept beside the
 * tables, so nothing that writes an entry (overlays, the model TLB, vm's callbacks) has
 * to keep one up to date.
 */

/* The first index in [i, hi) whose entry in table is present, or hi. */
static inline unsigned
next_present(const pte_t *table, unsigned i, unsigned hi)
{
	while (i < hi && !(table[i] & PTE_P)) {
		i++;
		if ((i & 7) == 0)
			while (i + 8 <= hi && !((table[i] | table[i + 1] | table[i + 2] | table[i + 3] | table[i + 4] |
						 table[i + 5] | table[i + 6] | table[i + 7]) & PTE_P))
				i += 8;
	}
	return i;
}

/* The slots [*lo, *hi) of a table at level, mapping from base, that intersect [start, end) (start < end). */
static inline void
slot_bounds(int level, uint64_t base, uint64_t start, uint64_t end, unsigned *lo, unsigned *hi)
{
	unsigned shift = PS_SHIFT(level);
	*lo = start > base ? (start - base) >> shift : 0;
	*hi = (end - base) >> shift >= NPTENTRIES ? NPTENTRIES : (end - base + PS_SIZE(level) - 1) >> shift;
}

/* Free the table at pa, at `level` (2 = PDPT, 1 = PD, 0 = PT), and every table below it. */
static void
free_table(uint64_t pa, int level)
{
	pte_t *table = pt_va(pa);
	for (unsigned i = 0; (i = next_present(table, i, NPTENTRIES)) < NPTENTRIES; i++) {
		KASSERT(level > PS_4K && !(table[i] & PTE_PS),
			"pmap_destroy: a leaf 0x%lx is still mapped (vm unmaps every leaf first)", table[i]);
		free_table(PTE_ADDR(table[i]), level - 1);
	}
	pt_page_free(pa);
	pmap_user_pt_pages--;
}

bool
pmap_drop_empty_table(struct pmap *pm, uint64_t va, int level)
{
	pte_t *pte = pmap_walk(pt_va(pm->root), va, level, false, 0);
	if (!pte || !(*pte & PTE_P) || (*pte & PTE_PS))
		return false;
	if (next_present(pt_va(PTE_ADDR(*pte)), 0, NPTENTRIES) < NPTENTRIES)
		return false;
	uint64_t pa = PTE_ADDR(*pte);
	*pte = 0;
	pmap_invalidate(pm, va);	/* invlpg also drops cached paging structures */
	free_table(pa, level - 1);
	return true;
}

void
pmap_destroy(struct pmap *pm)
{
	uint64_t pml4_pa = pm->root;
	pte_t *pml4 = pt_va(pml4_pa);
	KASSERT(rcr3() != pml4_pa, "pmap_destroy: PML4 0x%lx is still loaded", pml4_pa);
	for (int i = 0; i < PML4_USER_SLOTS; i++)
		if (pml4[i] & PTE_P)
			free_table(PTE_ADDR(pml4[i]), 2);
	pt_page_free(pml4_pa);
	if (pm->ops) {
		KASSERT(pm->ops->pages(pm->table) == 0, "pmap_destroy: the %s table still maps %lu pages",
			pm->ops->name, pm->ops->pages(pm->table));
		pm->ops->destroy(pm->table);
	}
}

/*
 * ---- The PT hint ----
 * Like the paging-structure caches of an x86 CPU, which keep the PD entries of recent
 * walks so that the next walk in the same 2 MiB block reads one entry, each space keeps
 * the table of 4 KiB entries it reached last: a run of faults, maps or lookups in one
 * 2 MiB block walks three levels once.  A table leaves its place in a space only by
 * being freed (unmap, promotion, exit, a design's cache drop, an overlay's end all free
 * it), so the hint is used only while no page-table page has been freed since it was
 * taken (pt_pages_freed; a free anywhere forgets every hint, which is cheap and safe).
 */
static inline pte_t *
hinted_pt(const struct pmap *pm, uint64_t va)
{
	if (pm->hint_pt && va >> PS_SHIFT(PS_2M) == pm->hint_block && pm->hint_epoch == pt_pages_freed)
		return pm->hint_pt;
	return NULL;
}

/* Remember pt, the table of 4 KiB entries for va's 2 MiB block, as the hint. */
static inline void
remember_pt(struct pmap *pm, uint64_t va, pte_t *pt)
{
	pm->hint_pt = pt;
	pm->hint_block = va >> PS_SHIFT(PS_2M);
	pm->hint_epoch = pt_pages_freed;
}

int
pmap_enter_level(struct pmap *pm, uint64_t va, uint64_t pa, uint64_t flags, int level)
{
	uint64_t pml4_pa = pm->root;
	if (!fill(pm, va, va + 1, true))
		return -E_NO_MEM;
	pte_t *pt = level == PS_4K ? hinted_pt(pm, va) : NULL, *pte;
	if (pt) {
		pte = &pt[PTX(va, 0)];
	} else {
		if (!(pte = pmap_walk(pt_va(pml4_pa), va, level, true, PTE_U)))
			return -E_NO_MEM;
		if (level == PS_4K)
			remember_pt(pm, va, pte - PTX(va, 0));
	}
	KASSERT(!(*pte & PTE_P), "pmap_enter: va 0x%lx level %d is already mapped (0x%lx)", va, level, *pte);
	*pte = pa | flags | PTE_P;
	if (pm->ops) {
		int r = sync_leaf(pm, va, level, *pte);
		if (r < 0) {
			*pte = 0;
			return r;
		}
	}
	pmap_invalidate(pm, va);
	return 0;
}

int
pmap_enter(struct pmap *pm, uint64_t va, uint64_t pa, uint64_t flags)
{
	return pmap_enter_level(pm, va, pa, flags, 0);
}

/* pmap_lookup in the x86 tables only, refilling nothing. */
static pte_t *
pmap_lookup_cached(struct pmap *pm, uint64_t va, int *level)
{
	pte_t *pt = hinted_pt(pm, va);
	if (pt) {
		*level = 0;
		return &pt[PTX(va, 0)];
	}
	uint64_t pml4_pa = pm->root;
	pte_t *table = pt_va(pml4_pa);
	for (int l = 3; l > 0; l--) {
		pte_t e = table[PTX(va, l)];
		if (!(e & PTE_P))
			return NULL;
		if (e & PTE_PS) {
			*level = l;
			return &table[PTX(va, l)];
		}
		table = pt_va(PTE_ADDR(e));
	}
	remember_pt(pm, va, table);
	*level = 0;
	return &table[PTX(va, 0)];
}

pte_t *
pmap_lookup(struct pmap *pm, uint64_t va, int *level)
{
	if (va < UTOP)
		fill(pm, va, va + 1, true);
	return pmap_lookup_cached(pm, va, level);
}

void
pmap_invalidate(struct pmap *pm, uint64_t va)
{
	uint64_t pml4_pa = pm->root;
	if (rcr3() == pml4_pa)
		invlpg(va);
}

/* Visit the present leaves of `table` (at level, mapping from base) that intersect [start, end). */
static void
foreach_in_table(pte_t *table, int level, uint64_t base, uint64_t start, uint64_t end,
		 void (*fn)(pte_t *, uint64_t, int, void *), void *arg)
{
	unsigned i, hi;
	slot_bounds(level, base, start, end, &i, &hi);
	for (; (i = next_present(table, i, hi)) < hi; i++) {
		uint64_t va = base + ((uint64_t)i << PS_SHIFT(level));
		if (level == 0 || (table[i] & PTE_PS))
			fn(&table[i], va, level, arg);
		else
			foreach_in_table(pt_va(PTE_ADDR(table[i])), level - 1, va, start, end, fn, arg);
	}
}

/* A walk of a space with a design: the caller's function, then the design told of any change. */
struct through {
	struct pmap *pm;
	void (*fn)(pte_t *pte, uint64_t va, int level, void *arg);
	void *arg;
};

/* A walk's callback rewrote the leaf at (va, level) from before to now: tell pm's design if that changed it. */
static void
sync_if_changed(struct pmap *pm, uint64_t va, int level, pte_t before, pte_t now, const char *what)
{
	if (ptd_value(before) != ptd_value(now) || ((before ^ now) & PTE_P))
		must(pm, sync_leaf(pm, va, level, now), what, va);
}

static void
write_through(pte_t *pte, uint64_t va, int level, void *arg)
{
	struct through *t = arg;
	pte_t before = *pte;
	t->fn(pte, va, level, t->arg);
	sync_if_changed(t->pm, va, level, before, *pte, "pmap_foreach");
}

void
pmap_foreach(struct pmap *pm, uint64_t start, uint64_t end,
	     void (*fn)(pte_t *pte, uint64_t va, int level, void *arg), void *arg)
{
	uint64_t pml4_pa = pm->root;
	end = MIN(end, UTOP);
	if (start >= end)
		return;
	if (!pm->ops) {
		foreach_in_table(pt_va(pml4_pa), 3, 0, start, end, fn, arg);
		return;
	}
	KASSERT(fill(pm, start, end, true), "pmap_foreach: no memory to refill [0x%lx, 0x%lx) from the %s table",
		start, end, pm->ops->name);
	struct through t = { pm, fn, arg };
	foreach_in_table(pt_va(pml4_pa), 3, 0, start, end, write_through, &t);
}

/* What pmap_copy_range is doing. */
struct copy {
	struct pmap *src, *dst;
	uint64_t start, end;
	int (*fn)(pte_t *spte, pte_t *dpte, uint64_t va, int level, void *arg);
	void *arg;
};

/* One leaf of a space with a design: dst's entry looked up from its root, then both designs told. */
static int
copy_leaf_design(struct copy *c, pte_t *spte, uint64_t va, int level)
{
	if (!fill(c->dst, va, va + 1, true))
		return -E_NO_MEM;
	pte_t *dpte = pmap_walk(pt_va(c->dst->root), va, level, true, PTE_U);
	if (!dpte)
		return -E_NO_MEM;
	KASSERT(!(*dpte & PTE_P), "pmap_copy_range: va 0x%lx level %d of dst is mapped (0x%lx)", va, level, *dpte);
	pte_t before = *spte;
	int r = c->fn(spte, dpte, va, level, c->arg);
	if (c->src->ops)
		sync_if_changed(c->src, va, level, before, *spte, "pmap_copy_range");
	if (c->dst->ops && (*dpte & PTE_P))
		must(c->dst, sync_leaf(c->dst, va, level, *dpte), "pmap_copy_range", va);
	return r;
}

/*
 * The leaves of src's table st (at level, mapping from base) intersecting the range,
 * copied into dst's table dt at the same place (x86 tables alone), or, with a design,
 * each through copy_leaf_design (dt unused).  A table of dst this walk makes and fn
 * leaves empty is freed again.  Returns 0 or the first error.
 */
static int
copy_in_table(struct copy *c, pte_t *st, pte_t *dt, int level, uint64_t base)
{
	bool design = c->src->ops || c->dst->ops;
	unsigned i, hi;
	slot_bounds(level, base, c->start, c->end, &i, &hi);
	for (; (i = next_present(st, i, hi)) < hi; i++) {
		uint64_t va = base + ((uint64_t)i << PS_SHIFT(level));
		int r;
		if (level == PS_2M && (st[i] & PTE_OVL)) {
			r = c->fn(&st[i], NULL, va, level, c->arg);	/* an overlaid page: fn shares it */
		} else if (level == 0 || (st[i] & PTE_PS)) {
			if (design) {
				r = copy_leaf_design(c, &st[i], va, level);
			} else {
				KASSERT(!(dt[i] & PTE_P), "pmap_copy_range: va 0x%lx level %d of dst is mapped (0x%lx)",
					va, level, dt[i]);
				r = c->fn(&st[i], &dt[i], va, level, c->arg);
			}
		} else if (design) {
			r = copy_in_table(c, pt_va(PTE_ADDR(st[i])), NULL, level - 1, va);
		} else {
			bool made = !(dt[i] & PTE_P);
			if (made) {
				uint64_t pa = pt_page_alloc();
				if (!pa)
					return -E_NO_MEM;
				pmap_user_pt_pages++;
				dt[i] = pa | PTE_P | PTE_W | PTE_U;
			}
			KASSERT(!(dt[i] & PTE_PS), "pmap_copy_range: va 0x%lx of dst is a superpage", va);
			pte_t *sub = pt_va(PTE_ADDR(dt[i]));
			r = copy_in_table(c, pt_va(PTE_ADDR(st[i])), sub, level - 1, va);
			if (made && next_present(sub, 0, NPTENTRIES) == NPTENTRIES) {
				pt_page_free(PTE_ADDR(dt[i]));
				dt[i] = 0;
				pmap_user_pt_pages--;
			}
		}
		if (r)
			return r;
	}
	return 0;
}

int
pmap_copy_range(struct pmap *src, struct pmap *dst, uint64_t start, uint64_t end,
		int (*fn)(pte_t *spte, pte_t *dpte, uint64_t va, int level, void *arg), void *arg)
{
	end = MIN(end, UTOP);
	if (start >= end)
		return 0;
	if (!fill(src, start, end, true))
		return -E_NO_MEM;
	struct copy c = { src, dst, start, end, fn, arg };
	return copy_in_table(&c, pt_va(src->root), pt_va(dst->root), 3, 0);
}

/*
 * Free the tables below `table` (at level l, mapping from base) that intersect
 * [start, end) and hold no present entry, clearing the entries that pointed to them.
 * Returns whether `table` itself is now empty.
 */
static bool
prune_in_table(pte_t *table, int l, uint64_t base, uint64_t start, uint64_t end, uint64_t *freed)
{
	unsigned i, hi;
	slot_bounds(l, base, start, end, &i, &hi);
	for (; l > PS_4K && (i = next_present(table, i, hi)) < hi; i++) {
		pte_t e = table[i];
		if (e & PTE_PS)
			continue;
		uint64_t va = base + ((uint64_t)i << PS_SHIFT(l));
		if (prune_in_table(pt_va(PTE_ADDR(e)), l - 1, va, MAX(start, va), end, freed)) {
			table[i] = 0;
			pt_page_free(PTE_ADDR(e));
			pmap_user_pt_pages--;
			(*freed)++;
		}
	}
	return next_present(table, 0, NPTENTRIES) == NPTENTRIES;
}

uint64_t
pmap_prune(struct pmap *pm, uint64_t start, uint64_t end)
{
	uint64_t freed = 0;
	end = MIN(end, UTOP);
	if (start < end) {
		prune_in_table(pt_va(pm->root), 3, 0, start, end, &freed);
		if (freed)
			pmap_flush(pm);	/* the paging-structure caches too */
	}
	return freed;
}

/* pmap_next_table within `table` at level l, which maps from base. */
static uint64_t
next_table_in(pte_t *table, int l, uint64_t base, uint64_t va, uint64_t end, int level)
{
	unsigned i, hi;
	slot_bounds(l, base, va, end, &i, &hi);
	for (; (i = next_present(table, i, hi)) < hi; i++) {
		uint64_t a = base + ((uint64_t)i << PS_SHIFT(l));
		if (table[i] & PTE_PS)
			continue;
		if (l == level)
			return a;
		uint64_t found = next_table_in(pt_va(PTE_ADDR(table[i])), l - 1, a, MAX(a, va), end, level);
		if (found < end)
			return found;
	}
	return end;
}

uint64_t
pmap_next_table(struct pmap *pm, uint64_t va, uint64_t end, int level)
{
	uint64_t pml4_pa = pm->root;
	end = MIN(end, UTOP);
	if (va < end && !fill(pm, va, end, true))
		return va;	/* out of memory to look: say there may be one at va */
	return va < end ? next_table_in(pt_va(pml4_pa), 3, 0, va, end, level) : end;
}

/*
 * ---- Superpages ----
 * A 2 MiB page is a PD entry with PTE_PS, a 1 GiB page a PDPT entry with PTE_PS; the
 * flag bits sit where a PTE has them (PAT, bit 12 in a superpage entry, is never used
 * here, so LEAF_ADDR clears it with the offset bits).  Promotion and demotion rewrite
 * one entry and free or allocate one table page; the frames do not move.
 */
struct pmap_stats pmap_stats;


/* Flush every user translation of the address space if it is the loaded one. */
static void
flush_user_tlb(uint64_t pml4_pa)
{
	if (rcr3() == pml4_pa)
		lcr3(pml4_pa);		/* user entries are not global */
}

void
pmap_flush(struct pmap *pm)
{
	flush_user_tlb(pm->root);
}

bool
pmap_promote(struct pmap *pm, uint64_t va, int level)
{
	uint64_t pml4_pa = pm->root;
	va = ROUNDDOWN(va, PS_SIZE(level));
	if (!fill(pm, va, va + PS_SIZE(level), true))
		return false;
	pte_t *entry = pmap_walk(pt_va(pml4_pa), va, level, false, 0);
	if (!entry || !(*entry & PTE_P) || (*entry & (PTE_PS | PTE_OVL)))
		return false;		/* no table below, already a superpage, or overlaid */
	pte_t *table = pt_va(PTE_ADDR(*entry));
	uint64_t step = PS_SIZE(level - 1);
	bool child_is_super = level - 1 > 0;
	uint64_t base = LEAF_ADDR(table[0], level - 1);
	uint64_t flags = table[0] & LEAF_FLAGS & ~PTE_AD;
	uint64_t ad = 0;
	bool uniform = (table[0] & PTE_P) && (base & (PS_SIZE(level) - 1)) == 0 && !(flags & PTE_COW);
	for (int i = 0; i < NPTENTRIES && uniform; i++) {
		pte_t e = table[i];
		uniform = (e & PTE_P) && LEAF_ADDR(e, level - 1) == base + i * step &&
			  (e & LEAF_FLAGS & ~PTE_AD) == flags && (!child_is_super || (e & PTE_PS));
		ad |= e & PTE_AD;
	}
	if (!uniform) {
		pmap_stats.promotion_failures[level - 1]++;
		return false;
	}
	uint64_t table_pa = PTE_ADDR(*entry);
	if (level == PS_2M)
		pt_block_merged(base);
	*entry = base | flags | ad | PTE_PS;
	flush_user_tlb(pml4_pa);
	pt_page_free(table_pa);
	pmap_user_pt_pages--;
	pmap_stats.promotions[level - 1]++;
	pmap_design_sync(pm, va, va + PS_SIZE(level), "pmap_promote");
	return true;
}

int
pmap_demote(struct pmap *pm, uint64_t va, int level, int cause)
{
	uint64_t pml4_pa = pm->root;
	int l;
	va = ROUNDDOWN(va, PS_SIZE(level));
	pte_t *entry = pmap_lookup(pm, va, &l);
	KASSERT(entry && l == level && (*entry & PTE_P) && (*entry & PTE_PS),
		"pmap_demote: va 0x%lx is not a present level-%d superpage", va, level);
	uint64_t table_pa = pt_page_alloc();
	if (!table_pa)
		return -E_NO_MEM;
	pmap_user_pt_pages++;
	pte_t *table = pt_va(table_pa);
	uint64_t base = LEAF_ADDR(*entry, level);
	uint64_t flags = *entry & LEAF_FLAGS;
	if (level == PS_2M)
		flags &= ~PTE_PS;	/* 4 KiB entries have no PS (bit 7 is PAT there) */
	for (int i = 0; i < NPTENTRIES; i++)
		table[i] = (base + i * PS_SIZE(level - 1)) | flags;
	if (level == PS_2M)
		pt_block_split(base);
	*entry = table_pa | PTE_P | PTE_W | PTE_U;
	flush_user_tlb(pml4_pa);
	pmap_design_sync(pm, va, va + PS_SIZE(level), "pmap_demote");
	pmap_stats.demotions[cause]++;
	if (level == PS_1G)
		pmap_stats.demotions_1g++;
	return 0;
}

/* Demote the superpages crossing the page boundary va, larger first, until no leaf straddles it. */
static int
split_at(struct pmap *pm, uint64_t va, int cause)
{
	int level, r;
	pte_t *pte;
	while (va < UTOP && (pte = pmap_lookup(pm, va, &level)) && level > PS_4K && (*pte & PTE_P) &&
	       (va & (PS_SIZE(level) - 1)))
		if ((r = pmap_demote(pm, va, level, cause)) < 0)
			return r;
	return 0;
}

int
pmap_split_range(struct pmap *pm, uint64_t start, uint64_t end, int cause)
{
	int r = split_at(pm, start, cause);
	return r < 0 ? r : split_at(pm, end, cause);
}

/*
 * ---- Dropping the cache ----
 * The accessed and dirty bits of leaf e (va at level) go to the design first: while
 * a leaf is cached, its x86 entry has the latest (the hardware sets them, the model TLB
 * and the page daemon clear A there).  A clustered table may need a node for it (a page of a partial subblock now
 * differs from its neighbours): without one the bits are lost, and counted.
 */
static void
write_back_ad(struct pmap *pm, uint64_t va, int level, pte_t e)
{
	uint64_t d;
	enum page_size size;
	if (!pm->ops->lookup(pm->table, va, &d, &size, NULL))
		return;
	KASSERT((int)size == level, "write_back_ad: va 0x%lx is a level-%d leaf, %d in the design", va, level,
		(int)size);
	if ((e & PTE_AD) != (d & PTE_AD) &&
	    pm->ops->protect(pm->table, va, size, ((d & ~PTE_AD) | (e & PTE_AD)) & ~PTE_ADDR_MASK) < 0)
		pt_cache_stats.ad_lost++;
}

/*
 * Clear what `table` (at level l) caches and free the tables below it that end up
 * empty; an overlaid block's table stays (kern/mm/pt/cache.c).  True if nothing is left
 * in table, for the caller to free it.
 */
static bool
drop_in_table(struct pmap *pm, pte_t *table, int l, uint64_t base, uint64_t *freed)
{
	bool empty = true;
	for (unsigned i = 0; (i = next_present(table, i, NPTENTRIES)) < NPTENTRIES; i++) {
		pte_t e = table[i];
		uint64_t va = base + ((uint64_t)i << PS_SHIFT(l));
		if (l == PS_4K || (e & PTE_PS)) {
			write_back_ad(pm, va, l, e);
			table[i] = 0;
		} else if (l == PS_2M && (e & PTE_OVL)) {
			empty = false;
		} else if (drop_in_table(pm, pt_va(PTE_ADDR(e)), l - 1, va, freed)) {
			table[i] = 0;
			pt_page_free(PTE_ADDR(e));
			pmap_user_pt_pages--;
			(*freed)++;
		} else {
			empty = false;
		}
	}
	return empty;
}

uint64_t
pmap_cache_drop(struct pmap *pm)
{
	if (!pm->ops)
		return 0;
	pte_t *pml4 = pt_va(pm->root);
	uint64_t freed = 0;
	for (int i = 0; i < PML4_USER_SLOTS; i++)
		if ((pml4[i] & PTE_P) && drop_in_table(pm, pt_va(PTE_ADDR(pml4[i])), 2, (uint64_t)i << PS_SHIFT(3), &freed)) {
			pt_page_free(PTE_ADDR(pml4[i]));
			pml4[i] = 0;
			pmap_user_pt_pages--;
			freed++;
		}
	pm->cache_partial = true;
	pmap_flush(pm);
	pt_cache_stats.drops++;
	pt_cache_stats.pages_dropped += freed;
	return freed;
}

/* What the check of a space against its design is doing. */
struct dcheck {
	struct pmap *pm;
	void (*bad)(void *arg, uint64_t va, pte_t x86, uint64_t d, int dsize);
	void *arg;
	uint64_t wrong, x86_pages;
};

static void
check_leaf(pte_t *pte, uint64_t va, int level, void *arg)
{
	struct dcheck *c = arg;
	uint64_t d = 0;
	enum page_size size;
	bool found = c->pm->ops->lookup(c->pm->table, va, &d, &size, NULL);
	c->x86_pages += PS_PAGES(level);
	if (!found || (int)size != level || (d & ~PTE_AD) != (ptd_value(*pte) & ~PTE_AD)) {
		c->wrong++;
		c->bad(c->arg, va, *pte, found ? d : 0, found ? (int)size : -1);
	}
}

uint64_t
pmap_design_check(struct pmap *pm, void (*bad)(void *arg, uint64_t va, pte_t x86, uint64_t d, int dsize), void *arg)
{
	if (!pm->ops)
		return 0;
	struct dcheck c = { pm, bad, arg, 0, 0 };
	foreach_in_table(pt_va(pm->root), 3, 0, 0, UTOP, check_leaf, &c);
	/* a complete cache holds every page the design does; a partial one, at most as many */
	uint64_t dpages = pm->ops->pages(pm->table);
	if (pm->cache_partial ? c.x86_pages > dpages : c.x86_pages != dpages) {
		c.wrong++;
		bad(arg, UTOP, c.x86_pages, dpages, -2);
	}
	return c.wrong;
}
