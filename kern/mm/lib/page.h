/*
 * struct page: per-physical-page metadata, one per 4 KiB frame.
 *
 * The kernel keeps an array of these indexed by physical frame number (pfn).
 * Fields marked (b) belong to the buddy allocator (kern/mm/lib/buddy.c) and mean something
 * only while PG_FREE is set: a page has PG_FREE exactly when it heads a free block,
 * and then it is linked on the free list for its order.  Allocated pages and the
 * non-head pages of a free block have PG_FREE clear and their (b) fields are stale.
 * PG_RESERVED is set by whoever describes physical memory, before the page is ever
 * handed to the allocator, and the allocator never hands such a page out.
 * refcount is 0 while a page is free.
 *
 * Later layers: refcount counts the 4 KiB leaf entries mapping the frame; maps2m, kept
 * on the first page of each 2 MiB-aligned block, counts the mappings of the whole
 * block (a 2 MiB leaf, a 1 GiB leaf over it, an overlaid 2 MiB page): one count for a
 * superpage, not 512; maps4k, also on the first page, is the sum of the block's
 * refcounts, so "is anything of this block mapped by 4 KiB entries" is one load
 * (kern/mm/frame.c).  A page-table page that shows an overlaid
 * 2 MiB page (kern/mm/pt/overlay.c) names its overlay record in `overlay`, in place of
 * the free-list links it does not use while allocated.
 */
struct overlay;
#ifndef SPOS_KERN_PAGE_H
#define SPOS_KERN_PAGE_H

#include <stdint.h>

struct page {
	union {
		struct {
			struct page *next, *prev;	/* (b) free-list links while it heads a free block */
		};
		struct overlay *overlay;	/* an overlaid 2 MiB page's table page: its record */
	};
	uint32_t refcount;		/* owners/mappings; used by later layers, buddy leaves it 0 */
	uint32_t maps2m;		/* first page of a 2 MiB block: mappings of the whole block */
	uint32_t maps4k;		/* first page of a 2 MiB block: its pages' refcounts summed */
	uint16_t flags;			/* PG_* */
	uint8_t order;			/* (b) order of the free block this page heads, when PG_FREE */
};

#define PG_FREE		0x1u	/* heads a free buddy block of 2^order pages */
#define PG_RESERVED	0x2u	/* not allocatable RAM (firmware, kernel image, hole); set by caller */
#define PG_ZERO		0x4u	/* a reservation's free frame known to hold zeros (kern/mm/prezero.c) */

#endif
