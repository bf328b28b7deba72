/*
 * kern/mm/pt/overlay.c: page overlays (Seshadri et al., "Page overlays", ISCA'15; the
 * SuperPageOverlay seed), run for real in the page tables of spos.
 *
 * The paper: a superpage shared copy-on-write stays one superpage when written.  The
 * first write to one of its 4 KiB segments copies only that segment into an overlay
 * page; a per-mapping overlay bit vector (OBV, one bit per segment) says which segments
 * read and write their overlay instead of the shared frame, and an overlay mapping table
 * (OMT) maps the overlay pages.  The TLB's 2 MiB entry carries the OBV; an access to an
 * overlaid segment continues in the 4 KiB TLB, whose misses walk the OMT.  It was
 * evaluated in simulation only.
 *
 * spos: an overlaid 2 MiB page is a record (struct overlay: the block, the shared frame
 * F, the OBV and its population) holding one mapping of F's whole block (maps2m,
 * kern/mm/frame.h), and a per-address-space OMT: a separate 4-level table in x86 format
 * (pmap->omt) whose 4 KiB entries map the overlay pages, each holding one reference on
 * its page.  x86 cannot map 2 MiB with 4 KiB exceptions, so the tables the MMU walks
 * show the block as one table of 512 PTEs: segment j not overlaid maps F + j*4 KiB
 * copy-on-write (read-only), an overlaid segment i maps its overlay page exactly as the
 * OMT entry does.  The PD entry and every PTE of that table carry the software bit
 * PTE_OVL, and the table page's struct page names the record (the OBV lives "beside the
 * page tables": a PD entry has no room for 512 bits).  The model TLB (kern/mm/tlbtrap.c)
 * is what treats the block as one 2 MiB entry with an OBV plus 4 KiB overlay entries.
 *
 * How an overlaid page ends (each counted):
 *   fold      the sharers of F are gone (this record is F's only mapping): the overlays
 *             are copied back into F, freed, and the block is one writable 2 MiB leaf;
 *   converge  too many segments overlaid (fault.c's ovl.max): a private 2 MiB frame gets
 *             F's segments and the overlays, F's mapping is dropped;
 *   dissolve  an operation that cuts the block (munmap, mprotect, DONTNEED of part or all
 *             of it, exit): it becomes an ordinary table of 4 KiB PTEs, F's segments
 *             referenced one by one -- the demotion of the overlay world.
 * Fork shares an overlaid page whole (pmap_overlay_share): the child gets its own record
 * with the same frame and OBV, and each overlay page is shared copy-on-write by both
 * (read-only in both OMTs and tables), so a later write to an overlaid segment copies
 * that overlay page again -- or takes it over when the other side's copy is gone.
 * The alternate OMT (boot word omt=folded; the seed's "slightly different, alternate
 * approach"): no separate table -- the overlay mappings live in the regular tables.  The
 * PD entry of an overlaid page then stands for the seed's triple (a pointer to the
 * next-level table, the data mapping -- the record's frame -- and the OBV): segment i
 * with its OBV bit set maps its overlay page in that table's PTE i, every other segment
 * the data mapping; an all-zero OBV is a plain superpage, an all-ones one a plain table.
 * It saves the OMT's own table pages (overlay_stats.omt_pages stays 0); a 4 KiB overlay
 * miss walks the regular tables instead of the OMT, four references either way.
 *
 * Differences from the paper: the OMT is per address space, not global; an overlay page
 * is a whole 4 KiB page (the paper packs overlays of smaller segments).
 */
#include "inc/error.h"
#include "inc/memlayout.h"
#include "inc/mmu.h"
#include "inc/string.h"
#include "inc/util.h"
#include "kern/cmdline.h"
#include "kern/console.h"
#include "kern/kassert.h"
#include "kern/mm/frame.h"
#include "kern/mm/kmalloc.h"
#include "kern/mm/pt/machine.h"
#include "kern/mm/pt/walk.h"
#include "kern/mm/pt/pt.h"

struct overlay_stats overlay_stats;
static bool omt_folded;		/* omt=folded: overlay mappings in the regular tables */

void
pmap_overlay_init(void)
{
	const char *v = cmdline_get("omt");
	omt_folded = v && strcmp(v, "folded") == 0;
	if (v && !omt_folded && strcmp(v, "separate") != 0)
		cprintf("overlay: unknown omt=%s, using omt=separate\n", v);
}

bool
pmap_overlay_folded(void)
{
	return omt_folded;
}

#define SEGMENTS	PS_PAGES(PS_2M)

static bool
obv_test(const struct overlay *ov, unsigned i)
{
	return (ov->obv[i / 64] >> (i % 64)) & 1;
}

/* The PD entry covering va, or NULL when no table reaches that level. */
static pte_t *
pd_entry(struct pmap *pm, uint64_t va)
{
	return pmap_walk(pt_va(pm->root), va, PS_2M, false, 0);
}

struct overlay *
pmap_overlay_at(struct pmap *pm, uint64_t va)
{
	if (!pm->overlays)
		return NULL;
	pte_t *pde = pd_entry(pm, va);
	if (!pde || (*pde & (PTE_P | PTE_PS | PTE_OVL)) != (PTE_P | PTE_OVL))
		return NULL;
	struct overlay *ov = pa2page(PTE_ADDR(*pde))->overlay;
	KASSERT(ov && ov->va == ROUNDDOWN(va, PG2M), "pmap_overlay_at: PD entry of va 0x%lx has no record", va);
	return ov;
}

/*
 * The OMT entry of va, creating the OMT and its tables if create; NULL if absent or out
 * of memory.  OMT tables are counted in overlay_stats.omt_pages, not with the tables
 * the MMU walks (pmap_user_pt_pages).
 */
static pte_t *
omt_entry(struct pmap *pm, uint64_t va, bool create)
{
	if (!pm->omt) {
		if (!create || !(pm->omt = pt_page_alloc()))
			return NULL;
		overlay_stats.omt_pages++;
	}
	pte_t *table = pt_va(pm->omt);
	for (int l = 3; l > PS_4K; l--) {
		pte_t *e = &table[PTX(va, l)];
		if (!(*e & PTE_P)) {
			uint64_t pa = create ? pt_page_alloc() : 0;
			if (!pa)
				return NULL;
			overlay_stats.omt_pages++;
			*e = pa | PTE_P | PTE_W | PTE_U;
		}
		table = pt_va(PTE_ADDR(*e));
	}
	return &table[PTX(va, PS_4K)];
}

/* Make the PD entry pde of pm point to table_pa, the table showing overlaid page ov. */
static void
overlay_install(struct pmap *pm, pte_t *pde, uint64_t table_pa, struct overlay *ov)
{
	pa2page(table_pa)->overlay = ov;
	*pde = table_pa | PTE_P | PTE_W | PTE_U | PTE_OVL;
	pmap_user_pt_pages++;
	pm->overlays++;
}

int
pmap_overlay_create(struct pmap *pm, uint64_t va)
{
	int level;
	va = ROUNDDOWN(va, PG2M);
	pte_t *pde = pmap_lookup(pm, va, &level);
	KASSERT(pde && level == PS_2M && (*pde & PTE_P) && (*pde & PTE_COW),
		"pmap_overlay_create: va 0x%lx is not a copy-on-write 2 MiB page", va);
	struct overlay *ov = kmalloc(sizeof *ov);
	if (!ov)
		return -E_NO_MEM;
	uint64_t table_pa = pt_page_alloc();
	if (!table_pa) {
		kfree(ov);
		return -E_NO_MEM;
	}
	memset(ov, 0, sizeof *ov);
	ov->va = va;
	ov->frame = LEAF_ADDR(*pde, PS_2M);
	pte_t *table = pt_va(table_pa);
	uint64_t flags = (*pde & LEAF_FLAGS & ~PTE_PS) | PTE_OVL;
	for (unsigned j = 0; j < SEGMENTS; j++)
		table[j] = (ov->frame + j * PGSIZE) | flags;
	overlay_install(pm, pde, table_pa, ov);	/* the record keeps F's block mapping */
	pmap_flush(pm);
	pmap_design_sync(pm, va, va + PG2M, "pmap_overlay_create");
	overlay_stats.created++;
	return 0;
}

/* The PTE of segment va in ov's table. */
static pte_t *
segment_pte(struct pmap *pm, uint64_t va)
{
	int level;
	pte_t *pte = pmap_lookup(pm, va, &level);
	KASSERT(pte && level == PS_4K && (*pte & PTE_OVL), "overlay: va 0x%lx has no overlaid PTE", va);
	return pte;
}

int
pmap_overlay_write(struct pmap *pm, struct overlay *ov, uint64_t va, uint64_t flags)
{
	va = ROUNDDOWN(va, PGSIZE);
	unsigned i = (va - ov->va) >> PGSHIFT;
	pte_t *pte = segment_pte(pm, va);
	pte_t *omt = omt_folded ? NULL : omt_entry(pm, va, true);
	if (!omt_folded && !omt)
		return -E_NO_MEM;
	uint64_t src = PTE_ADDR(*pte), entry;	/* entry: the overlay mapping */
	struct page *old = obv_test(ov, i) ? pa2page(src) : NULL;
	if (old && old->refcount == 1) {	/* an overlay no other space shares: write in place */
		entry = src | flags | ((omt ? *omt : *pte) & PTE_AD) | PTE_P;
	} else {
		struct page *copy = frame_alloc(0);
		if (!copy)
			return -E_NO_MEM;
		memcpy(page2kva(copy), KADDR(src), PGSIZE);
		page_ref(copy);
		entry = page2pa(copy) | flags | PTE_P;
		overlay_stats.bytes_copied += PGSIZE;
		if (old) {
			page_unref(old);
		} else {
			ov->obv[i / 64] |= 1UL << (i % 64);
			ov->count++;
			overlay_stats.pages_live++;
			overlay_stats.pages_created++;
		}
	}
	if (omt)
		*omt = entry;
	*pte = entry | PTE_OVL;
	pmap_update(pm, va, PS_4K);
	pmap_invalidate(pm, va);
	return 0;
}

/* Clear segment i's OMT entry; its overlay page's reference passes to the caller. */
static uint64_t
omt_clear(struct pmap *pm, struct overlay *ov, unsigned i)
{
	overlay_stats.pages_live--;
	if (omt_folded)			/* the table's PTE is the mapping; the caller rewrites it */
		return PTE_ADDR(*segment_pte(pm, ov->va + i * PGSIZE));
	pte_t *omt = omt_entry(pm, ov->va + i * PGSIZE, false);
	KASSERT(omt && (*omt & PTE_P), "overlay: segment %u of va 0x%lx has no OMT entry", i, ov->va);
	uint64_t pa = PTE_ADDR(*omt);
	*omt = 0;
	return pa;
}

/* Forget ov: its table page and record go; the PD entry is the caller's. */
static void
overlay_free(struct pmap *pm, struct overlay *ov, uint64_t table_pa)
{
	pa2page(table_pa)->overlay = NULL;
	pt_page_free(table_pa);
	pmap_user_pt_pages--;
	pm->overlays--;
	kfree(ov);
}

/* Replace ov's table by one 2 MiB leaf of frame with flags; the overlays are released. */
static void
overlay_to_leaf(struct pmap *pm, struct overlay *ov, uint64_t frame, uint64_t flags)
{
	pte_t *pde = pd_entry(pm, ov->va);
	uint64_t table_pa = PTE_ADDR(*pde);
	pte_t *table = pt_va(table_pa);
	uint64_t ad = 0;
	for (unsigned j = 0; j < SEGMENTS; j++) {
		ad |= table[j] & PTE_AD;
		if (!obv_test(ov, j))
			continue;
		uint64_t pa = omt_clear(pm, ov, j);
		memcpy(KADDR(frame + j * PGSIZE), KADDR(pa), PGSIZE);
		overlay_stats.bytes_copied += PGSIZE;
		page_unref(pa2page(pa));
	}
	*pde = frame | flags | ad | PTE_PS | PTE_P;
	pmap_flush(pm);
	pmap_design_sync(pm, ov->va, ov->va + PG2M, "overlay_to_leaf");
	overlay_free(pm, ov, table_pa);
}

void
pmap_overlay_fold(struct pmap *pm, struct overlay *ov, uint64_t flags)
{
	KASSERT(frame_sole2m(pa2page(ov->frame)), "pmap_overlay_fold: frame 0x%lx of va 0x%lx is still shared",
		ov->frame, ov->va);
	overlay_stats.folded++;
	overlay_to_leaf(pm, ov, ov->frame, flags);
}

int
pmap_overlay_converge(struct pmap *pm, struct overlay *ov, uint64_t flags)
{
	struct page *blk = frame_alloc(PS_ORDER(PS_2M));
	if (!blk)
		return -E_NO_MEM;
	uint64_t frame = page2pa(blk), shared = ov->frame;
	for (unsigned j = 0; j < SEGMENTS; j++)
		if (!obv_test(ov, j)) {
			memcpy(KADDR(frame + j * PGSIZE), KADDR(shared + j * PGSIZE), PGSIZE);
			overlay_stats.bytes_copied += PGSIZE;
		}
	frame_ref2m(blk);
	overlay_stats.converged++;
	overlay_to_leaf(pm, ov, frame, flags);
	frame_unref2m(pa2page(shared));
	return 0;
}

int
pmap_overlay_share(struct pmap *parent, struct overlay *pov, struct pmap *child)
{
	struct overlay *ov = kmalloc(sizeof *ov);
	uint64_t table_pa = ov ? pt_page_alloc() : 0;
	pte_t *pde = table_pa ? pmap_walk(pt_va(child->root), pov->va, PS_2M, true, PTE_U) : NULL;
	/* the OMT's table for the block: every segment's entry exists from here on */
	bool omt_ok = pde && (omt_folded || !pov->count || omt_entry(child, pov->va, true));
	if (!omt_ok) {
		if (table_pa)
			pt_page_free(table_pa);
		kfree(ov);
		return -E_NO_MEM;		/* tables pmap_walk made stay, empty: harmless */
	}
	KASSERT(!(*pde & PTE_P), "pmap_overlay_share: va 0x%lx is mapped in the child", pov->va);
	*ov = *pov;
	pte_t *ptable = pt_va(PTE_ADDR(*pd_entry(parent, pov->va)));
	pte_t *ctable = pt_va(table_pa);
	for (unsigned j = 0; j < SEGMENTS; j++) {
		uint64_t seg = ov->va + j * PGSIZE;
		if (obv_test(ov, j)) {		/* the overlay page, copy-on-write in both */
			uint64_t entry = (PTE_ADDR(ptable[j]) | (ptable[j] & LEAF_FLAGS & ~(PTE_W | PTE_OVL))) |
					 PTE_COW;
			page_ref(pa2page(PTE_ADDR(entry)));
			ptable[j] = entry | PTE_OVL;
			if (!omt_folded) {
				*omt_entry(parent, seg, false) = entry;
				*omt_entry(child, seg, false) = entry & ~PTE_AD;
			}
			ctable[j] = (entry & ~PTE_AD) | PTE_OVL;
			overlay_stats.pages_live++;
		} else {
			ctable[j] = PTE_ADDR(ptable[j]) | (ptable[j] & LEAF_FLAGS & ~PTE_AD);
		}
	}
	pmap_flush(parent);
	frame_ref2m(pa2page(ov->frame));
	overlay_install(child, pde, table_pa, ov);
	pmap_design_sync(parent, ov->va, ov->va + PG2M, "pmap_overlay_share");
	pmap_design_sync(child, ov->va, ov->va + PG2M, "pmap_overlay_share");
	overlay_stats.shared++;
	return 0;
}

void
pmap_overlay_dissolve(struct pmap *pm, struct overlay *ov)
{
	pte_t *pde = pd_entry(pm, ov->va);
	uint64_t table_pa = PTE_ADDR(*pde);
	pte_t *table = pt_va(table_pa);
	for (unsigned j = 0; j < SEGMENTS; j++) {
		if (obv_test(ov, j))
			omt_clear(pm, ov, j);		/* its reference passes to the PTE */
		else
			page_ref(pa2page(ov->frame + j * PGSIZE));
		table[j] &= ~PTE_OVL;
	}
	*pde &= ~PTE_OVL;
	pmap_design_sync(pm, ov->va, ov->va + PG2M, "pmap_overlay_dissolve");
	pa2page(table_pa)->overlay = NULL;
	pm->overlays--;
	frame_unref2m(pa2page(ov->frame));	/* frees F's overlaid segments if no one else maps them */
	kfree(ov);
	overlay_stats.dissolved++;
}

void
pmap_overlay_dissolve_range(struct pmap *pm, uint64_t start, uint64_t end)
{
	if (!pm->overlays)
		return;
	for (uint64_t va = ROUNDDOWN(start, PG2M); va < end && pm->overlays;) {
		uint64_t next = pmap_next_table(pm, va, end, PS_2M);
		if (next >= end)
			break;
		struct overlay *ov = pmap_overlay_at(pm, next);
		if (ov)
			pmap_overlay_dissolve(pm, ov);
		va = next + PG2M;
	}
}

/* Free the OMT's table pages at level (2 = PDPT ...) under pa; every entry is clear. */
static void
omt_free_table(uint64_t pa, int level)
{
	pte_t *table = pt_va(pa);
	for (int i = 0; i < NPTENTRIES; i++) {
		if (!(table[i] & PTE_P))
			continue;
		KASSERT(level > PS_4K, "pmap_overlay_teardown: the OMT still maps 0x%lx", table[i]);
		omt_free_table(PTE_ADDR(table[i]), level - 1);
	}
	pt_page_free(pa);
	overlay_stats.omt_pages--;
}

void
pmap_overlay_teardown(struct pmap *pm)
{
	KASSERT(pm->overlays == 0, "pmap_overlay_teardown: %lu overlaid pages left", pm->overlays);
	if (!pm->omt)
		return;
	pte_t *pml4 = pt_va(pm->omt);
	for (int i = 0; i < NPTENTRIES; i++)
		if (pml4[i] & PTE_P)
			omt_free_table(PTE_ADDR(pml4[i]), 2);
	pt_page_free(pm->omt);
	overlay_stats.omt_pages--;
	pm->omt = 0;
}

void
pmap_overlay_moved(struct pmap *pm, uint64_t va, uint64_t pa)
{
	pte_t *omt = omt_folded ? NULL : pmap_overlay_omt(pm, va);
	if (omt)
		*omt = pa | (*omt & ~PTE_ADDR_MASK);
}

pte_t *
pmap_overlay_omt(struct pmap *pm, uint64_t va)
{
	pte_t *e = omt_entry(pm, va, false);
	return e && (*e & PTE_P) ? e : NULL;
}

unsigned
pmap_overlay_count(const struct overlay *ov)
{
	return ov->count;
}

bool
pmap_overlay_has(const struct overlay *ov, uint64_t va)
{
	return obv_test(ov, (ROUNDDOWN(va, PGSIZE) - ov->va) >> PGSHIFT);
}
