/*
 * kern/mm/pt/walk.c: page-table pages and the table walker.
 *
 * The kernel's own tables (kern/mm/kpmap.c) and the user tables (kern/mm/pt/radix.c)
 * both build x86-64 tables from these pieces.  They depend only on the frame layer's
 * frame_pt_page, frame_pt_page_free and pt_page_va, all in physical addresses, so the
 * host unit test (tests/test_radix.c) runs them unchanged over a fake physical memory.
 */
#include <stddef.h>
#include "inc/mmu.h"
#include "kern/mm/frame.h"
#include "kern/mm/pt/walk.h"

static pt_alloc_fn *page_allocator = frame_pt_page;
uint64_t pmap_user_pt_pages;
uint64_t pt_pages_freed;

pt_alloc_fn *
pmap_use_page_allocator(pt_alloc_fn *alloc)
{
	pt_alloc_fn *old = page_allocator;
	page_allocator = alloc;
	return old;
}

uint64_t
pt_page_alloc(void)
{
	return page_allocator();
}

void
pt_page_free(uint64_t pa)
{
	pt_pages_freed++;
	frame_pt_page_free(pa);
}

pte_t *
pmap_walk(pte_t *pml4, uint64_t va, int level, bool create, uint64_t inter_flags)
{
	pte_t *table = pml4;

	for (int l = 3; l > level; l--) {
		pte_t *e = &table[PTX(va, l)];
		if (!(*e & PTE_P)) {
			if (!create)
				return NULL;
			uint64_t pa = pt_page_alloc();
			if (!pa)
				return NULL;
			if (inter_flags & PTE_U)
				pmap_user_pt_pages++;
			*e = pa | PTE_P | PTE_W | inter_flags;
		} else if (*e & PTE_PS) {
			return NULL;		/* a 1 GiB / 2 MiB page maps va above level */
		} else {
			*e |= inter_flags;
		}
		table = pt_page_va(PTE_ADDR(*e));
	}
	return &table[PTX(va, level)];
}
