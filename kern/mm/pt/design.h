/*
 * The page-table designs behind struct pmap (kern/mm/pt/design.c): pt=radix (the x86
 * tables alone), pt=clustered or pt=guarded (the design holds every mapping, the x86
 * tables are a software-refilled cache of it).  radix.c calls these; nothing above pt/
 * does except through the pmap_* functions of pt.h.
 */
#ifndef SPOS_KERN_MM_PT_DESIGN_H
#define SPOS_KERN_MM_PT_DESIGN_H

#include <stdbool.h>
#include <stdint.h>
#include "kern/mm/lib/pagesize.h"
#include "kern/mm/pt/walk.h"

struct pmap;

/* One design's table operations, as kern/mm/pt/clustered.h and guarded.h define them. */
typedef void pt_leaf_fn(void *arg, uint64_t va, uint64_t pte, enum page_size size);
struct pt_ops {
	const char *name;
	int (*create)(void **table);			/* 0 or -E_NO_MEM */
	void (*destroy)(void *table);
	int (*map)(void *table, uint64_t va, uint64_t pte, enum page_size size);
	int (*unmap)(void *table, uint64_t va, enum page_size size);
	int (*protect)(void *table, uint64_t va, enum page_size size, uint64_t flags);
	bool (*lookup)(const void *table, uint64_t va, uint64_t *pte, enum page_size *size, unsigned *refs);
	void (*foreach)(const void *table, uint64_t start, uint64_t end, pt_leaf_fn *fn, void *arg);
	uint64_t (*bytes)(const void *table);		/* the design's own count (its paper's measure) */
	uint64_t (*pages)(const void *table);		/* 4 KiB pages mapped */
	void (*print)(const void *table);		/* its shape, one line (monitor `pt`) */
};

/* The design every new address space gets (pt=), NULL for radix. */
extern const struct pt_ops *pt_design;
/* pt.cache=: x86 table pages past which caches are dropped at a switch (0: no bound). */
extern uint64_t pt_cache_limit;
/* pt.drop=switch: drop the caches at every context switch. */
extern bool pt_drop_on_switch;

/*
 * ---- What radix.c calls when pm has a design (pm->ops != NULL) ----
 * The bits of an x86 leaf a design keeps: the frame and the flags, without PS (the
 * size says it), A and D (the cache's: see design.c) and the model TLB's bits.
 */
uint64_t ptd_value(pte_t x86);
/* Make the design's leaf at (va, level) what the x86 leaf x86 says.  0 or -E_NO_MEM. */
int ptd_sync_leaf(struct pmap *pm, uint64_t va, int level, pte_t x86);
/*
 * Unmap every leaf of the design in [start, end) (2 MiB aligned, no leaf straddling it),
 * before the x86 tables' leaves there are mapped again (pmap_design_sync).
 */
void ptd_unmap_range(struct pmap *pm, uint64_t start, uint64_t end);
/*
 * Refill the x86 cache with the design's leaves in every 2 MiB block that intersects
 * [start, end) and is not cached.  0, or -E_NO_MEM (the blocks done stay cached, the
 * one that failed is left uncached).
 */
int ptd_fill(struct pmap *pm, uint64_t start, uint64_t end);

/*
 * The x86 tables changed in [start, end) (2 MiB aligned, cached whole) by more than one
 * leaf (promotion, demotion, overlays): make the design match (ptd_unmap_range, then
 * map each x86 leaf), freeing other spaces' caches for memory if it must; `what` names
 * the caller for the panic when even that fails.  Nothing to do under pt=radix.
 */
void pmap_design_sync(struct pmap *pm, uint64_t start, uint64_t end, const char *what);

/* Memory for the designs' tables, counted: pt_mem_held() bytes are held now. */
uint64_t pt_mem_held(void);

#endif
