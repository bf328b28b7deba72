/*
 * Page-table pages and the table walker (kern/mm/pt/walk.c), shared by the kernel's
 * own tables (kern/mm/kpmap.c) and the user page-table designs (kern/mm/pt/).
 */
#ifndef SPOS_KERN_MM_PT_WALK_H
#define SPOS_KERN_MM_PT_WALK_H

#include <stdint.h>
#include <stdbool.h>
#include "kern/mm/lib/pagesize.h"

typedef uint64_t pte_t;

/*
 * Pointer to the entry for va at level (0 = PT entry, 1 = PD, 2 = PDPT) in the tables
 * rooted at pml4.  With create, missing intermediate tables are allocated (zeroed)
 * with flags PTE_P|PTE_W plus inter_flags; without, returns NULL when one is missing.
 * Also returns NULL if a larger page already maps va above the requested level, or if
 * create is set and no page-table page could be allocated.
 */
pte_t *pmap_walk(pte_t *pml4, uint64_t va, int level, bool create, uint64_t inter_flags);

/* Allocate one zeroed page-table page; returns its physical address or 0. */
uint64_t pt_page_alloc(void);
/* Free the page-table page at physical address pa (counted in pt_pages_freed). */
void pt_page_free(uint64_t pa);

/*
 * Page-table pages freed so far.  A saved pointer to a table (struct pmap's PT hint,
 * kern/mm/pt/radix.c) is trusted only while this count has not moved.
 */
extern uint64_t pt_pages_freed;

/*
 * Tests only: page-table pages come from alloc (returns 0 when out of memory) instead
 * of frame_pt_page; returns the allocator it replaces.
 */
typedef uint64_t pt_alloc_fn(void);
pt_alloc_fn *pmap_use_page_allocator(pt_alloc_fn *alloc);

/* User page-table pages currently allocated (PDPT, PD, PT pages below the PML4s). */
extern uint64_t pmap_user_pt_pages;

#endif
