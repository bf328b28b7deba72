/*
 * The page sizes of spos, one vocabulary for every layer (kern/mm/lib/pagesize.h).
 *
 * x86-64 maps 4 KiB, 2 MiB and 1 GiB pages; each size is a leaf at one page-table
 * level, and the enum's value is that level (0: a PT entry, 1: a PD entry, 2: a PDPT
 * entry), so the page tables, the population maps, the reservations and the model TLB
 * index their per-size state the same way.  A page of size s spans 2^PS_ORDER(s)
 * base pages (the buddy allocator's order), 2^PS_SHIFT(s) bytes.  The macros are
 * constant expressions, usable in array sizes and case labels.
 */
#ifndef SPOS_KERN_MM_PAGESIZE_H
#define SPOS_KERN_MM_PAGESIZE_H

enum page_size { PS_4K, PS_2M, PS_1G };
#define PS_NSIZES	3

#define PS_ORDER(s)	(9 * (s))			/* log2 of the base pages in one: 0, 9, 18 */
#define PS_SHIFT(s)	(12 + PS_ORDER(s))		/* log2 of its bytes: 12, 21, 30 */
#define PS_SIZE(s)	((uint64_t)1 << PS_SHIFT(s))	/* bytes: 4 KiB, 2 MiB, 1 GiB */
#define PS_PAGES(s)	((uint64_t)1 << PS_ORDER(s))	/* base pages: 1, 512, 2^18 */

#endif
