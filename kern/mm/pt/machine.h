/*
 * What the page-table designs (kern/mm/pt/) need of the machine: the kernel address of
 * a table page, the CR3 and TLB instructions, and the frames' mapping counts (a
 * 2 MiB leaf counts once for its block: kern/mm/frame.h).  In the kernel these are the direct
 * map and inc/x86.h; in the host unit test (-DHOSTTEST) the test provides them over a
 * fake physical memory and a fake CPU (tests/radix_host.h).
 */
#ifndef SPOS_KERN_MM_PT_MACHINE_H
#define SPOS_KERN_MM_PT_MACHINE_H

#ifdef HOSTTEST
#include "tests/radix_host.h"
#else
#include "inc/memlayout.h"
#include "inc/x86.h"
#include "kern/mm/frame.h"

/* Kernel address of the table page at pa (user tables exist only once the direct map does). */
static inline void *
pt_va(uint64_t pa)
{
	return KADDR(pa);
}

/* Promotion: the 512 4 KiB mappings of the 2 MiB block at pa became one 2 MiB leaf. */
static inline void
pt_block_merged(uint64_t pa)
{
	frame_merge2m(pa2page(pa));
}

/* Demotion: the 2 MiB leaf of the block at pa became 512 4 KiB entries. */
static inline void
pt_block_split(uint64_t pa)
{
	frame_split2m(pa2page(pa));
}
#endif

#endif
