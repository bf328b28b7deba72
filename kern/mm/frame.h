/* Physical memory: the struct page array and the buddy allocator over it (kern/mm/frame.c). */
#ifndef SPOS_KERN_PHYS_H
#define SPOS_KERN_PHYS_H

#include <stdbool.h>
#include <stdint.h>
#include "inc/memlayout.h"
#include "inc/mmu.h"
#include "inc/util.h"
#include "kern/mm/lib/pagesize.h"
#include "kern/mm/lib/page.h"
#include "kern/mm/lib/buddy.h"

extern struct buddy phys_buddy;
extern uint64_t phys_usable_bytes;	/* RAM the firmware reports available */
extern uint64_t phys_limit;		/* one past the highest available physical address */

/* Kernel virtual address of a page-table page at physical pa (boot alias before the switch). */
void *pt_page_va(uint64_t pa);
/* Allocate n zeroed pages before the physical allocator exists; returns physical address. */
uint64_t boot_alloc(uint64_t npages);
/* The physical range the boot allocator handed out. */
void boot_alloc_range(uint64_t *start, uint64_t *end);
/* The kernel's own tables are loaded: the bootstrap alias is gone (kern/mm/kpmap.c). */
void frame_boot_alias_done(void);
/* One zeroed page-table page (boot allocator, then a wired page): physical address, 0 if none. */
uint64_t frame_pt_page(void);
/* Free a page from frame_pt_page (or the PML4 of an address space) by its physical address. */
void frame_pt_page_free(uint64_t pa);

/* Highest end of available RAM in the firmware map (before phys_init). */
uint64_t phys_scan_limit(void);
/* Build the struct page array and hand all free RAM to the buddy allocator. */
void phys_init(void);

/* The smallest order whose block (2^order pages) holds bytes. */
static inline unsigned
frame_order_for(uint64_t bytes)
{
	unsigned order = 0;
	while ((PGSIZE << order) < bytes)
		order++;
	return order;
}

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


/*
 * Frames mapped by user page tables count their mappings: a 4 KiB leaf in the frame's
 * refcount, a mapping of a whole 2 MiB block (a 2 MiB leaf; a 1 GiB leaf counts once on
 * each of its 2 MiB blocks; an overlaid 2 MiB page) once in the block's maps2m.  A
 * frame is free when both are zero; fork of a 2 MiB page touches one count, not 512.
 */
/* The first page of the 2 MiB block holding pg. */
static inline struct page *
page_block2m(struct page *pg)
{
	return pa2page(ROUNDDOWN(page2pa(pg), PG2M));
}

static inline void
page_ref(struct page *pg)
{
	pg->refcount++;
	page_block2m(pg)->maps4k++;
}

/* Drop one 4 KiB mapping; the frame returns to the allocator with its last mapping. */
void page_unref(struct page *pg);

/* Migration: the one 4 KiB mapping of from now maps to (from is not freed here). */
static inline void
page_move_ref(struct page *from, struct page *to)
{
	page_ref(to);
	from->refcount--;
	page_block2m(from)->maps4k--;
}

/* One more mapping of the whole 2 MiB block headed by head (2 MiB aligned). */
static inline void
frame_ref2m(struct page *head)
{
	head->maps2m++;
}

/* Drop one mapping of the whole block; its frames no 4 KiB entry maps go with the last. */
void frame_unref2m(struct page *head);

/*
 * The 512 4 KiB entries mapping block head became one 2 MiB leaf (promotion): their
 * 512 references become one block mapping.  frame_split2m is the reverse (demotion).
 */
void frame_merge2m(struct page *head);
void frame_split2m(struct page *head);

/* Whether the mappings of one address space are the only ones of block head: one block mapping, no 4 KiB one. */
bool frame_sole2m(struct page *head);

/* A frame of any size from the buddy allocator, preempting reservations if needed. */
struct page *frame_alloc(unsigned order);

/* The last mapping of frame pg is gone: give it to its reservation or the allocator. */
void frame_free(struct page *pg);

/* A 4 KiB page for the kernel's own use, clustered in wired 2 MiB blocks; free with frame_free. */
struct page *wired_page_alloc(void);
extern uint64_t wired_pages;		/* wired pages handed out so far */
/* Live wired 2 MiB blocks and the pages in use in them. */
void wired_usage(uint64_t *blocks, uint64_t *in_use);

/* Reservation stamps: the clock, and advancing it (every population). */
extern uint64_t frame_clock;
void frame_clock_tick(void);
/* reserv_ops.free_frames for the kernel's reservations. */
void frame_free_extent(uint64_t pfn, unsigned order);
/* The reservation module is set up (kern/mm/policy.c): wired blocks may be made. */
void frame_reservations_ready(void);
struct reserv;
/* Whether rv is one of the wired blocks. */
bool frame_is_wired(const struct reserv *rv);
/* reserv_ops.detach's part for wired blocks: true if rv was one (it leaves the pool). */
bool frame_wired_detach(struct reserv *rv);

#endif
