/*
 * kern/mm/frame.c: who owns each physical page.
 *
 * The firmware memory map (multiboot2) says which ranges are RAM.  phys_init builds a
 * struct page for every frame below the highest RAM address, marks everything
 * PG_RESERVED, then frees to the buddy allocator exactly the RAM nobody else owns:
 *   - not below 1 MiB (real-mode IVT, BIOS data, EBDA, option ROMs live there);
 *   - not the kernel image [KERNLOAD, end of bss);
 *   - not what the boot allocator used (kernel page tables, this struct page array).
 * The multiboot information needs no reservation: kern/multiboot.c copied it.
 * Partial pages at region edges are never handed out.
 */
#include "inc/string.h"
#include "inc/util.h"
#include "kern/console.h"
#include "kern/mm/failinject.h"
#include "kern/multiboot.h"
#include "kern/mm/pmap.h"
#include "kern/mm/frame.h"
#include "kern/mm/policy.h"

struct buddy phys_buddy;
uint64_t phys_usable_bytes;
uint64_t phys_limit;

#define LOW_MEMORY_END	0x100000UL

extern char __kernel_end[];

uint64_t
phys_scan_limit(void)
{
	uint64_t limit = 0;

	for (uint32_t i = 0; i < boot_info.mmap_count; i++) {
		const struct mb2_mmap_entry *e = multiboot_mmap_entry(i);
		if (e->type == MB2_MEM_AVAILABLE && e->length > 0)
			limit = MAX(limit, e->base + e->length);
	}
	return limit;
}

/* Page-table pages once the buddy allocator runs: one zeroed page, 0 when out of memory. */
static uint64_t
pt_page_from_buddy(void)
{
	struct page *pg = wired_page_alloc();
	if (!pg)
		return 0;
	memset(page2kva(pg), 0, PGSIZE);
	return page2pa(pg);
}

/* Hand the frames of [start, end) that nobody owns to the buddy allocator. */
static void
free_ram_range(uint64_t start, uint64_t end, uint64_t kernel_start, uint64_t kernel_end)
{
	start = MAX(ROUNDUP(start, PGSIZE), LOW_MEMORY_END);
	end = ROUNDDOWN(end, PGSIZE);
	if (start < kernel_end && end > kernel_start) {		/* split around the kernel */
		free_ram_range(start, kernel_start, kernel_start, kernel_end);
		free_ram_range(kernel_end, end, kernel_start, kernel_end);
		return;
	}
	if (start >= end)
		return;
	for (uint64_t pa = start; pa < end; pa += PGSIZE)
		pa2page(pa)->flags &= ~PG_RESERVED;
	buddy_add_range(&phys_buddy, start >> PGSHIFT, (end - start) >> PGSHIFT);
}

void
phys_init(void)
{
	uint64_t npages = phys_limit >> PGSHIFT;
	uint64_t array_pages = ROUNDUP(npages * sizeof(struct page), PGSIZE) >> PGSHIFT;
	struct page *pages = KADDR(boot_alloc(array_pages));

	buddy_init(&phys_buddy, pages, npages);
	for (uint64_t i = 0; i < npages; i++)
		pages[i].flags = PG_RESERVED;

	/* The boot allocator's range starts at the kernel's end: reserve both as one. */
	uint64_t boot_start, boot_end;
	boot_alloc_range(&boot_start, &boot_end);
	assert(boot_start == PADDR(__kernel_end));
	pmap_use_page_allocator(pt_page_from_buddy);

	phys_usable_bytes = 0;
	for (uint32_t i = 0; i < boot_info.mmap_count; i++) {
		const struct mb2_mmap_entry *e = multiboot_mmap_entry(i);
		if (e->type != MB2_MEM_AVAILABLE)
			continue;
		phys_usable_bytes += e->length;
		free_ram_range(e->base, e->base + e->length, KERNLOAD, boot_end);
	}
}

struct page *
page_alloc(unsigned order)
{
	if (failinject_now(FAIL_FRAME))
		return NULL;
	return buddy_alloc(&phys_buddy, order);
}

struct page *
page_alloc_zeroed(unsigned order)
{
	struct page *pg = frame_alloc(order);		/* may preempt a reservation */
	if (pg)
		memset(page2kva(pg), 0, PGSIZE << order);
	return pg;
}

void
page_free(struct page *pg, unsigned order)
{
	buddy_free(&phys_buddy, pg, order);
}

uint64_t
phys_free_pages(void)
{
	return phys_buddy.free_pages;
}

void
phys_print_meminfo(void)
{
	static const char *const size_names[] = { "4K", "8K", "16K", "32K", "64K", "128K",
		"256K", "512K", "1M", "2M", "4M", "8M", "16M", "32M", "64M", "128M", "256M",
		"512M", "1G" };

	cprintf("physical memory: %lu KiB usable, highest address 0x%lx\n",
		phys_usable_bytes >> 10, phys_limit);
	cprintf("pages: %lu total, %lu managed, %lu free (%lu KiB)\n", phys_buddy.npages,
		phys_buddy.managed_pages, phys_buddy.free_pages, phys_buddy.free_pages * 4);
	cprintf("free blocks per order:\n");
	for (int k = 0; k < BUDDY_ORDERS; k++)
		cprintf("  order %2d (%4s): %lu\n", k, size_names[k], phys_buddy.nfree[k]);
}

void
page_unref(struct page *pg)
{
	assert(pg->refcount > 0);
	if (--pg->refcount == 0)
		frame_free(pg);		/* to its reservation, if it has one (kern/mm/policy.c) */
}
