/* x86-64 page tables: the kernel's tables and the walker (kern/pmap.c). */
#ifndef SPOS_KERN_PMAP_H
#define SPOS_KERN_PMAP_H

#include <stdint.h>
#include <stdbool.h>

typedef uint64_t pte_t;

extern pte_t *kern_pml4;		/* the kernel's PML4 (kernel virtual address) */
extern uint64_t kern_pml4_pa;		/* ... and its physical address, for CR3 */
extern bool cpu_has_1g_pages, cpu_has_smep, cpu_has_smap, cpu_has_nx;

/* Kernel virtual address of a page-table page at physical pa (boot alias before the switch). */
void *pt_page_va(uint64_t pa);

/*
 * Build the kernel's own 4-level tables (direct map of [0, phys_limit) with 1 GiB
 * pages, or 2 MiB without PDPE1GB; the image with per-section permissions), load them,
 * and turn on global pages, SMEP and SMAP when the CPU has them.
 */
void pmap_init_kernel(uint64_t phys_limit);

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

/* The physical range the boot allocator handed out (reserved by kern/phys.c). */
void boot_alloc_range(uint64_t *start, uint64_t *end);
/* Allocate n zeroed pages before the physical allocator exists; returns physical address. */
uint64_t boot_alloc(uint64_t npages);
/* After this, page-table pages come from the physical allocator. */
void pmap_use_page_allocator(uint64_t (*alloc)(void));

#endif

/* ---- user address spaces (the lower half of a PML4) ---- */

#define PTE_COW		0x200UL	/* software bit: frame shared copy-on-write, kept read-only */

/* A new PML4 sharing the kernel half; returns its physical address, or 0 when out of memory. */
uint64_t pmap_create(void);
/* Free the user page-table pages of pml4 and the PML4 itself; every leaf must be unmapped. */
void pmap_destroy(uint64_t pml4_pa);
/* Map the 4 KiB page at va to pa with flags (PTE_P added). Returns 0 or -E_NO_MEM. */
int pmap_enter(uint64_t pml4_pa, uint64_t va, uint64_t pa, uint64_t flags);
/*
 * The leaf entry mapping va: a PT entry, or a PD/PDPT entry with PTE_PS; *level says
 * which (0, 1, 2).  NULL when no table reaches va.  The entry may be non-present.
 */
pte_t *pmap_lookup(uint64_t pml4_pa, uint64_t va, int *level);
/* Flush va from the TLB if pml4 is the loaded address space. */
void pmap_invalidate(uint64_t pml4_pa, uint64_t va);
/*
 * Call fn(pte, va, arg) for each present 4 KiB leaf entry in [start, end), skipping
 * absent tables quickly.  fn may change or clear the entry.
 */
void pmap_foreach(uint64_t pml4_pa, uint64_t start, uint64_t end,
		  void (*fn)(pte_t *pte, uint64_t va, void *arg), void *arg);
/* User page-table pages currently allocated (PDPT, PD, PT pages below the PML4s). */
extern uint64_t pmap_user_pt_pages;
