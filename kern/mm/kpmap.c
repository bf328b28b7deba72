/*
 * kern/mm/kpmap.c: the kernel's x86-64 page tables and CPU paging features (the
 * table walker they are built with is kern/mm/pt/walk.c).
 *
 * boot/boot.S left bootstrap tables mapping the first 1 GiB (identity and at
 * KERNBASE) with 2 MiB pages, all writable and executable.  pmap_init_kernel replaces
 * them with the kernel's own tables:
 *   - KDIRECT + p -> p for all physical memory: RW, NX, global, 1 GiB pages when the
 *     CPU has PDPE1GB, else 2 MiB pages;
 *   - the kernel image at KERNBASE + p with 4 KiB pages: text RX, rodata R+NX,
 *     data/bss RW+NX, so a stray write to text or a jump into data faults; the page
 *     below the boot stack stays unmapped so a stack overflow faults too.
 * The upper half of kern_pml4 is shared by every address space.
 *
 * Before the physical allocator exists, page-table pages come from a bump allocator
 * (boot_alloc) placed after the kernel image; kern/mm/frame.c reserves what it used.
 */
#include "inc/error.h"
#include "inc/memlayout.h"
#include "inc/mmu.h"
#include "inc/string.h"
#include "inc/util.h"
#include "inc/x86.h"
#include "kern/console.h"
#include "kern/kassert.h"
#include "kern/multiboot.h"
#include "kern/mm/frame.h"
#include "kern/mm/kpmap.h"

pte_t *kern_pml4;
uint64_t kern_pml4_pa;
bool cpu_has_1g_pages, cpu_has_smep, cpu_has_smap, cpu_has_nx;

extern char __text_start[], __rodata_start[], __data_start[], __kernel_end[];
extern char kstack_guard[];

/* Map [va, va+len) to [pa, ...) with 4 KiB pages and the given flags. */
static void
kmap_4k(uint64_t va, uint64_t pa, uint64_t len, uint64_t flags)
{
	for (uint64_t off = 0; off < len; off += PGSIZE) {
		pte_t *pte = pmap_walk(kern_pml4, va + off, PS_4K, true, 0);
		KASSERT(pte && !(*pte & PTE_P), "kmap_4k: kernel va 0x%lx has no table or is mapped twice", va + off);
		*pte = (pa + off) | flags | PTE_P;
	}
}

static void
detect_cpu_features(void)
{
	uint32_t b, c, d;

	cpuid(0x80000001, 0, NULL, NULL, NULL, &d);
	cpu_has_1g_pages = d & (1u << 26);
	cpu_has_nx = d & (1u << 20);
	cpuid(0, 0, &b, NULL, NULL, NULL);	/* b = highest standard leaf */
	if (b >= 7) {
		cpuid(7, 0, NULL, &b, &c, NULL);
		cpu_has_smep = b & (1u << 7);
		cpu_has_smap = b & (1u << 20);
	}
}

/* Direct map of [0, limit): 1 GiB pages if possible, else 2 MiB pages. */
static void
map_direct(uint64_t limit)
{
	uint64_t flags = PTE_P | PTE_W | PTE_NX | PTE_G | PTE_PS;
	uint64_t step = cpu_has_1g_pages ? PG1G : PG2M;
	int level = cpu_has_1g_pages ? PS_1G : PS_2M;

	if (limit > KDIRECT_SIZE)
		panic("%lu GiB of physical memory; the direct map holds 512", limit >> 30);
	for (uint64_t pa = 0; pa < limit; pa += step) {
		pte_t *e = pmap_walk(kern_pml4, KDIRECT + pa, level, true, 0);
		KASSERT(e, "map_direct: no boot page for the direct map at 0x%lx", pa);
		*e = pa | flags;
	}
}

void
pmap_init_kernel(uint64_t phys_limit)
{
	uint64_t text = (uint64_t)__text_start, rodata = (uint64_t)__rodata_start;
	uint64_t data = (uint64_t)__data_start, end = (uint64_t)__kernel_end;

	detect_cpu_features();
	if (!cpu_has_nx)
		panic("this CPU has no NX bit; spos needs it");
	kern_pml4_pa = pt_page_alloc();
	kern_pml4 = pt_page_va(kern_pml4_pa);

	map_direct(ROUNDUP(phys_limit, PG1G));
	kmap_4k(text, PADDR(text), rodata - text, PTE_G);			/* RX */
	kmap_4k(rodata, PADDR(rodata), data - rodata, PTE_G | PTE_NX);		/* R */
	/* RW, except the guard page below the boot stack */
	uint64_t guard = (uint64_t)kstack_guard;
	kmap_4k(data, PADDR(data), guard - data, PTE_G | PTE_W | PTE_NX);
	kmap_4k(guard + PGSIZE, PADDR(guard + PGSIZE), end - guard - PGSIZE, PTE_G | PTE_W | PTE_NX);

	lcr4(rcr4() | CR4_PGE);
	lcr3(kern_pml4_pa);
	frame_boot_alias_done();
	kern_pml4 = KADDR(kern_pml4_pa);

	uint64_t cr4 = rcr4();
	if (cpu_has_smep)
		cr4 |= CR4_SMEP;
	if (cpu_has_smap)
		cr4 |= CR4_SMAP;
	lcr4(cr4);
}

