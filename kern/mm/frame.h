/* Physical memory: the struct page array and the buddy allocator over it (kern/mm/frame.c). */
#ifndef SPOS_KERN_PHYS_H
#define SPOS_KERN_PHYS_H

#include <stdint.h>
#include "inc/memlayout.h"
#include "inc/mmu.h"
#include "kern/mm/lib/page.h"
#include "kern/mm/lib/buddy.h"

extern struct buddy phys_buddy;
extern uint64_t phys_usable_bytes;	/* RAM the firmware reports available */
extern uint64_t phys_limit;		/* one past the highest available physical address */

/* Highest end of available RAM in the firmware map (before phys_init). */
uint64_t phys_scan_limit(void);
/* Build the struct page array and hand all free RAM to the buddy allocator. */
void phys_init(void);

/* A naturally aligned block of 2^order pages, or NULL when memory is exhausted. */
struct page *page_alloc(unsigned order);
/* The same, filled with zeros. */
struct page *page_alloc_zeroed(unsigned order);
/* Return a block obtained from page_alloc with the same order. */
void page_free(struct page *pg, unsigned order);

static inline uint64_t
page2pa(const struct page *pg)
{
	return buddy_pfn(&phys_buddy, pg) << PGSHIFT;
}

static inline struct page *
pa2page(uint64_t pa)
{
	return &phys_buddy.pages[pa >> PGSHIFT];
}

static inline void *
page2kva(const struct page *pg)
{
	return KADDR(page2pa(pg));
}

uint64_t phys_free_pages(void);
/* Print totals and free blocks per order (monitor `meminfo`). */
void phys_print_meminfo(void);


/* Frames mapped by user page tables count their mappings in refcount. */
static inline void
page_ref(struct page *pg)
{
	pg->refcount++;
}

/* Drop one mapping; the frame returns to the allocator with its last one. */
void page_unref(struct page *pg);

#endif
