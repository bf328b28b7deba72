/*
 * The page-table interface (kern/mm/pt/): user address spaces' tables, their walks,
 * and superpage promotion and demotion.  Three designs (boot word pt=): the x86-64
 * radix tables the MMU walks (kern/mm/pt/radix.c), and the clustered and guarded tables
 * (kern/mm/pt/design.c), which hold the mappings while the x86 tables cache them
 * (kern/mm/pt/cache.c).  Every function below works the same under each.
 */
#ifndef SPOS_KERN_MM_PT_H
#define SPOS_KERN_MM_PT_H

#include "kern/mm/kpmap.h"
#include "kern/mm/pt/design.h"
#include "kern/mm/lib/pagesize.h"

/*
 * A user address space's page tables, as every layer above pt/ names them: callers
 * hold a struct pmap and never a design's raw root.  For the x86 radix design, root
 * is the PML4's physical address, the value loaded into CR3 (pmap_root).
 */
struct pmap {
	uint64_t root;
	uint64_t omt;		/* overlays: root of the overlay mapping table, 0 if none yet */
	uint64_t overlays;	/* overlaid 2 MiB pages (kern/mm/pt/overlay.c) */
	const struct pt_ops *ops;	/* the design holding the mappings; NULL: x86 tables alone */
	void *table;		/* the design's table */
	bool cache_partial;	/* the x86 tables were dropped since: refill before trusting a miss */
	uint64_t cache_refills;	/* leaves refilled from the design */
	/*
	 * The PT hint (kern/mm/pt/radix.c): the table of 4 KiB entries reached last, its
	 * 2 MiB block's number, and pt_pages_freed then.  NULL: none.
	 */
	pte_t *hint_pt;
	uint64_t hint_block, hint_epoch;
};

/* What CR3 holds while pm is the loaded address space. */
static inline uint64_t
pmap_root(const struct pmap *pm)
{
	return pm->root;
}

#define PTE_COW		0x200UL	/* software bit: frame shared copy-on-write, kept read-only */
/*
 * Software bit: on a PD entry pointing to a table, and on every PTE of that table, the
 * table shows an overlaid 2 MiB page (kern/mm/pt/overlay.c); rewrites keep it.
 */
#define PTE_OVL		0x400UL
/*
 * Accessed and dirty bits: every rewrite of a present leaf keeps them (the page daemon
 * samples A); only the hardware sets them, and only the daemon clears A.
 */
#define PTE_AD		(PTE_A | PTE_D)

/*
 * The leaf flags for a page with protection prot (PROT_*), shared copy-on-write or not:
 * U unless PROT_NONE, W only if PROT_WRITE and not cow, NX unless PROT_EXEC, PTE_COW.
 */
uint64_t pmap_prot_flags(uint32_t prot, bool cow);

/* New, empty tables for a user address space in *pm (the kernel half shared); 0 or -E_NO_MEM. */
int pmap_create(struct pmap *pm);
/* Free the user page-table pages of pml4 and the PML4 itself; every leaf must be unmapped. */
void pmap_destroy(struct pmap *pm);
/* Map the 4 KiB page at va to pa with flags (PTE_P added). Returns 0 or -E_NO_MEM. */
int pmap_enter(struct pmap *pm, uint64_t va, uint64_t pa, uint64_t flags);
/* The same for a leaf at level (1: 2 MiB, 2: 1 GiB; flags include PTE_PS); va, pa aligned. */
int pmap_enter_level(struct pmap *pm, uint64_t va, uint64_t pa, uint64_t flags, int level);
/*
 * The leaf entry mapping va: a PT entry, or a PD/PDPT entry with PTE_PS; *level says
 * which (0, 1, 2).  NULL when no table reaches va.  The entry may be non-present.
 */
pte_t *pmap_lookup(struct pmap *pm, uint64_t va, int *level);
/* Flush va from the TLB if pml4 is the loaded address space. */
void pmap_invalidate(struct pmap *pm, uint64_t va);
/* Flush every user translation of pm if it is the loaded address space. */
void pmap_flush(struct pmap *pm);
/*
 * Call fn(pte, va, level, arg) for each present leaf entry that intersects [start, end),
 * in address order: 4 KiB PTEs (level 0) and superpages (level 1: 2 MiB, level 2:
 * 1 GiB), each whole: va is the leaf's own start, which may lie below start, and the
 * leaf may reach past end.  The walk never changes the tables, so it cannot fail; a
 * caller that must act on [start, end) only splits first (pmap_split_range) or skips
 * the leaves that straddle.  fn may rewrite or clear the entry it is given, nothing
 * else of the tables.  Absent tables are skipped quickly.
 */
void pmap_foreach(struct pmap *pm, uint64_t start, uint64_t end,
		  void (*fn)(pte_t *pte, uint64_t va, int level, void *arg), void *arg);

/*
 * Copy leaves from src to dst, as fork does: for each present leaf of src that
 * intersects [start, end), in address order, fn(spte, dpte, va, level, arg) gets the
 * leaf's entry in src and the entry of dst at the same va and level, which is empty
 * (dst's tables are made on the way, with PTE_U|PTE_W as pmap_walk makes them).  fn
 * may write *dpte (a leaf of that level, or 0: nothing copied) and rewrite *spte, and
 * returns 0, or an error that ends the walk.  Both spaces' designs are told of what fn
 * wrote.  An overlaid 2 MiB page (a PD entry with PTE_OVL) is one call with its PD
 * entry and dpte NULL: dst gets no table for it, fn shares it (pmap_overlay_share).  Nothing is invalidated: the caller flushes what it changed in src.
 * Returns 0, fn's error, or -E_NO_MEM when a table of dst could not be made (what fn
 * wrote so far stays).  On x86 tables alone the walk keeps dst's table for the current
 * table of src, so a run of leaves costs one walk of each; with a design, each leaf of
 * dst is looked up from the root (a cache drop may free dst's tables meanwhile).
 */
int pmap_copy_range(struct pmap *src, struct pmap *dst, uint64_t start, uint64_t end,
		    int (*fn)(pte_t *spte, pte_t *dpte, uint64_t va, int level, void *arg), void *arg);

/*
 * Free the page-table pages below the PML4 that intersect [start, end) and map nothing
 * any more (after an unmap), so the blocks they covered can take a superpage again.
 * Returns how many were freed.  The PML4 itself stays.
 */
uint64_t pmap_prune(struct pmap *pm, uint64_t start, uint64_t end);

/*
 * The lowest address in [va, end) aligned to PS_SIZE(level) whose entry at level
 * (1: PD, 2: PDPT) points to a table rather than a superpage, or end if none (a va
 * inside such a block gives the block's start).  Absent tables are skipped quickly,
 * so walking a huge, sparse range costs what is mapped in it.
 */
uint64_t pmap_next_table(struct pmap *pm, uint64_t va, uint64_t end, int level);

/* ---- the designs (kern/mm/pt/design.c) and the x86 tables as their cache ---- */

/* Read the boot words pt=, pt.f=, pt.buckets=, pt.stride=, pt.cache=, pt.drop=. */
void pmap_design_init(void);
/* "radix", "clustered" or "guarded": the design of new address spaces. */
const char *pmap_design_name(void);
/* Whether the x86 tables are a cache of a design (pt=clustered|guarded). */
bool pmap_cached(void);
/*
 * After rewriting a leaf obtained from pmap_lookup (for va at level) in place: write
 * the change through to the design.  Nothing to do under pt=radix.
 */
void pmap_update(struct pmap *pm, uint64_t va, int level);
/*
 * Drop pm's x86 cache: free every table page below the PML4 except those of overlaid
 * blocks (and the tables above them), so that the design alone holds the mappings.
 * Returns the pages freed (0 under pt=radix, where the tables are not a cache).
 */
uint64_t pmap_cache_drop(struct pmap *pm);
/*
 * Set by vm at boot: drop the x86 caches of spaces other than keep (and the loaded one)
 * to free memory; returns the pages freed.  Called when a design needs memory.
 */
extern uint64_t (*pt_reclaim)(struct pmap *keep);
/*
 * Refill the whole x86 cache of pm from its design, dropping no other space's cache to
 * find memory (the invariant checker fills every space, then walks them); false when out
 * of memory.
 */
bool pmap_cache_fill(struct pmap *pm);
/* A fault at va: refill its block from the design if the cache lacks it.  True if refilled. */
bool pmap_refill(struct pmap *pm, uint64_t va);
/* Memory references the design's lookup of va takes (0 under pt=radix). */
unsigned pmap_lookup_refs(struct pmap *pm, uint64_t va);

struct pmap_design_stats {
	uint64_t bytes;			/* the design's own measure of its tables */
	uint64_t pages;			/* 4 KiB pages it maps */
	uint64_t refills;		/* leaves refilled into the x86 cache */
};
void pmap_design_stats(struct pmap *pm, struct pmap_design_stats *s);
/* One line's worth (no newline) on pm's design table: bytes, pages, shape (monitor `pt`). */
void pmap_design_print(struct pmap *pm);

/*
 * The cache, all spaces: drops, table pages freed by them, leaves refilled, page faults
 * a refill resolved, refills that found no memory, A/D bits a drop could not write back.
 */
struct pt_cache_stats {
	uint64_t drops, pages_dropped, refills, refill_faults, fill_failures, ad_lost;
};
extern struct pt_cache_stats pt_cache_stats;

/*
 * Check pm's x86 leaves against its design (vm.check=1): calls bad(arg, va, x86, design
 * value, design size or -1) for each leaf that differs; returns how many did.
 */
uint64_t pmap_design_check(struct pmap *pm, void (*bad)(void *arg, uint64_t va, pte_t x86, uint64_t d, int dsize),
			   void *arg);

/* ---- superpages: promotion and demotion ---- */

/* Why a superpage was demoted (the counters keep one count per cause). */
enum demote_cause {			/* the same numbers as DEMOTE_BY_* in inc/syscall.h */
	DEMOTE_MPROTECT,	/* protection changed on part of it */
	DEMOTE_MUNMAP,		/* part of it unmapped */
	DEMOTE_MADVISE,		/* part of it dropped (DONTNEED) */
	DEMOTE_COW,		/* a write to a shared copy-on-write superpage */
	DEMOTE_PRESSURE,	/* speculative, by the page daemon under memory pressure */
	NDEMOTE_CAUSES
};

struct pmap_stats {
	uint64_t promotions[2];		/* [0] 2 MiB, [1] 1 GiB */
	uint64_t promotion_failures[2];	/* gate passed (fully populated) but entries not uniform */
	uint64_t demotions[NDEMOTE_CAUSES];
	uint64_t demotions_1g;		/* of which 1 GiB -> 2 MiB */
};
extern struct pmap_stats pmap_stats;

/* Physical address of a leaf entry at level (bits below the page size cleared). */
#define LEAF_ADDR(pte, level)	((pte) & PTE_ADDR_MASK & ~(PS_SIZE(level) - 1))
/* The x86 flag bits of a leaf entry (no frame, no model-TLB bits). */
#define LEAF_FLAGS	(0xFFFUL | PTE_NX)

/*
 * The size of the page a TLB caches for the present leaf pte at level: the leaf's own,
 * except that every PTE of an overlaid 2 MiB page (PTE_OVL) stands for the 2 MiB page
 * (kern/mm/pt/overlay.c).
 */
static inline enum page_size
pmap_leaf_size(pte_t pte, int level)
{
	return (pte & PTE_OVL) ? PS_2M : (enum page_size)level;
}

/*
 * Replace the 512 entries of the table under the level-(level) entry covering va by
 * one superpage entry (level 1: 2 MiB, level 2: 1 GiB), in place, without copying,
 * if they are all present, physically contiguous and aligned, with equal flags and no
 * copy-on-write.  The superpage's accessed and dirty bits are the OR of the entries':
 * none is lost and none invented (a block none of whose pages was written stays clean;
 * one written page makes all of it dirty, as one D bit cannot say which).  Frees the
 * table page and flushes the TLB.  True if promoted.
 */
bool pmap_promote(struct pmap *pm, uint64_t va, int level);
/*
 * Split the superpage at level covering va into 512 entries of the next size down,
 * same frames and flags.  Each entry gets the superpage's accessed and dirty bits: the
 * superpage has one of each, so which of its pages were written is not known (a clean
 * superpage gives clean pages; a dirty one dirty pages, never losing a write).
 * 0, or -E_NO_MEM when no page-table page could be allocated.
 */
int pmap_demote(struct pmap *pm, uint64_t va, int level, int cause);
/*
 * Demote the superpages that cross start or end (1 GiB to 2 MiB to 4 KiB as needed,
 * each counted under cause), so that every leaf lies wholly inside [start, end) or
 * wholly outside; start and end are page aligned.  The same frames stay mapped with
 * the same rights.  0, or -E_NO_MEM when a page-table page could not be allocated: the
 * demotions completed before it stay (each one whole), nothing else changed.
 */
int pmap_split_range(struct pmap *pm, uint64_t start, uint64_t end, int cause);
/*
 * If the level-(level) entry covering va (1: 2 MiB, 2: 1 GiB) points to a page table
 * with nothing present in it (left behind by munmap, which keeps tables), free that
 * table and clear the entry, so that a superpage can be entered there.  True if done.
 */
bool pmap_drop_empty_table(struct pmap *pm, uint64_t va, int level);

/* ---- page overlays (kern/mm/pt/overlay.c) ---- */

/* An overlaid 2 MiB page: the shared frame, the overlay bit vector and its population. */
struct overlay {
	uint64_t va;			/* the 2 MiB block */
	uint64_t frame;			/* F: the shared 2 MiB frame (one block mapping held) */
	uint64_t obv[PS_PAGES(PS_2M) / 64];	/* bit i: segment i maps its overlay page */
	uint32_t count;			/* bits set in obv */
};

struct overlay_stats {
	uint64_t created;		/* 2 MiB pages overlaid (first overlay-on-write) */
	uint64_t pages_created;		/* overlay pages made */
	uint64_t pages_live;		/* overlay pages mapped by OMTs now */
	uint64_t folded;		/* overlaid pages folded back into their frame */
	uint64_t converged;		/* overlaid pages copied into a private 2 MiB frame */
	uint64_t dissolved;		/* overlaid pages turned into plain 4 KiB tables */
	uint64_t shared;		/* overlaid pages a fork gave a child */
	uint64_t bytes_copied;		/* by overlay writes, folds and convergence */
	uint64_t omt_pages;		/* OMT table pages allocated now */
};
extern struct overlay_stats overlay_stats;

/* Read the boot word omt=separate|folded (kern/mm/pt/overlay.c explains both). */
void pmap_overlay_init(void);
/* Whether omt=folded: overlay mappings in the regular tables, no separate OMT. */
bool pmap_overlay_folded(void);
/* The overlaid 2 MiB page containing va, or NULL. */
struct overlay *pmap_overlay_at(struct pmap *pm, uint64_t va);
/*
 * Make the copy-on-write 2 MiB leaf at va an overlaid page with no overlay yet: the
 * MMU's tables show it as 512 copy-on-write PTEs of the same frame.  0 or -E_NO_MEM
 * (nothing changed).
 */
int pmap_overlay_create(struct pmap *pm, uint64_t va);
/*
 * A write to segment va of ov: give it an overlay page of its own, writable with leaf
 * flags (a copy of the shared frame's segment, or of an overlay page shared with another
 * space; reused in place when no one shares it), in the OMT and the MMU's table.
 * 0 or -E_NO_MEM (nothing changed).
 */
int pmap_overlay_write(struct pmap *pm, struct overlay *ov, uint64_t va, uint64_t flags);
/*
 * Fork: give child (no mapping at ov's block yet) a copy of parent's overlaid page ov,
 * sharing the frame and every overlay page copy-on-write (made read-only in parent
 * too; the caller flushes nothing more).  0 or -E_NO_MEM (nothing shared).
 */
int pmap_overlay_share(struct pmap *parent, struct overlay *ov, struct pmap *child);
/* ov's frame has no other mapping: copy the overlays into it; one 2 MiB leaf with flags. */
void pmap_overlay_fold(struct pmap *pm, struct overlay *ov, uint64_t flags);
/* Copy ov into a new private 2 MiB frame mapped with flags.  0 or -E_NO_MEM (nothing changed). */
int pmap_overlay_converge(struct pmap *pm, struct overlay *ov, uint64_t flags);
/* Turn ov into an ordinary table of 4 KiB PTEs (same contents, same rights); cannot fail. */
void pmap_overlay_dissolve(struct pmap *pm, struct overlay *ov);
/* Dissolve every overlaid page intersecting [start, end). */
void pmap_overlay_dissolve_range(struct pmap *pm, uint64_t start, uint64_t end);
/* Free the OMT of pm, which has no overlaid page left. */
void pmap_overlay_teardown(struct pmap *pm);
/*
 * The page daemon moved the frame mapped at va (an overlay page, PTE_OVL) to pa and
 * repointed the PTE: the OMT entry follows (nothing to do under omt=folded).
 */
void pmap_overlay_moved(struct pmap *pm, uint64_t va, uint64_t pa);
/* The OMT entry mapping va's overlay page, or NULL (always under omt=folded). */
pte_t *pmap_overlay_omt(struct pmap *pm, uint64_t va);
/* Segments of ov overlaid; whether segment va is. */
unsigned pmap_overlay_count(const struct overlay *ov);
bool pmap_overlay_has(const struct overlay *ov, uint64_t va);

#endif
