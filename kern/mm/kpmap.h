/* The kernel's own page tables and CPU paging features (kern/mm/kpmap.c). */
#ifndef SPOS_KERN_MM_KPMAP_H
#define SPOS_KERN_MM_KPMAP_H

#include <stdint.h>
#include <stdbool.h>
#include "kern/mm/pt/walk.h"

extern pte_t *kern_pml4;		/* the kernel's PML4 (kernel virtual address) */
extern uint64_t kern_pml4_pa;		/* ... and its physical address, for CR3 */
extern bool cpu_has_1g_pages, cpu_has_smep, cpu_has_smap, cpu_has_nx;

/*
 * Build the kernel's own 4-level tables (direct map of [0, phys_limit) with 1 GiB
 * pages, or 2 MiB without PDPE1GB; the image with per-section permissions), load them,
 * and turn on global pages, SMEP and SMAP when the CPU has them.
 */
void pmap_init_kernel(uint64_t phys_limit);

#endif
