/*
 * What the page-table designs (kern/mm/pt/) need of the machine: the kernel address of
 * a table page, and the CR3 and TLB instructions.  In the kernel these are the direct
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

/* Kernel address of the table page at pa (user tables exist only once the direct map does). */
static inline void *
pt_va(uint64_t pa)
{
	return KADDR(pa);
}
#endif

#endif
