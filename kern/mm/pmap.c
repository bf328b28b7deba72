/*
 * kern/mm/pmap.c: the kernel's x86-64 page tables and the generic table walker.
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
#include "kern/multiboot.h"
#include "kern/mm/frame.h"
#include "kern/mm/policy.h"
#include "kern/mm/pmap.h"

pte_t *kern_pml4;
uint64_t kern_pml4_pa;
bool cpu_has_1g_pages, cpu_has_smep, cpu_has_smap, cpu_has_nx;

extern char __text_start[], __rodata_start[], __data_start[], __kernel_end[];
extern char kstack_guard[];

uint64_t pmap_user_pt_pages;
static bool on_kernel_tables;		/* false while the bootstrap tables are loaded */
static uint64_t boot_alloc_start, boot_alloc_next;
static uint64_t (*page_allocator)(void);	/* NULL: use boot_alloc */

void *
pt_page_va(uint64_t pa)
{
	if (!on_kernel_tables) {
		assert(pa < PG1G);
		return (void *)(KERNBASE + pa);		/* bootstrap alias of the first 1 GiB */
	}
	return KADDR(pa);
}

/* True if [pa, pa+len) lies in one available region of the firmware memory map. */
static bool
phys_range_is_ram(uint64_t pa, uint64_t len)
{
	for (uint32_t i = 0; i < boot_info.mmap_count; i++) {
		const struct mb2_mmap_entry *e = multiboot_mmap_entry(i);
		if (e->type == MB2_MEM_AVAILABLE && e->base <= pa && pa + len <= e->base + e->length)
			return true;
	}
	return false;
}

uint64_t
boot_alloc(uint64_t npages)
{
	if (page_allocator)
		panic("boot_alloc after the physical allocator took over");
	if (boot_alloc_next == 0)
		boot_alloc_start = boot_alloc_next = PADDR(__kernel_end);
	uint64_t pa = boot_alloc_next;
	if (!phys_range_is_ram(pa, npages * PGSIZE))
		panic("boot_alloc: no RAM for %lu pages at 0x%lx", npages, pa);
	boot_alloc_next += npages * PGSIZE;
	for (uint64_t i = 0; i < npages; i++)
		memset(pt_page_va(pa + i * PGSIZE), 0, PGSIZE);
	return pa;
}

void
boot_alloc_range(uint64_t *start, uint64_t *end)
{
	*start = boot_alloc_start;
	*end = boot_alloc_next;
}

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
	if (!page_allocator)
		return boot_alloc(1);
	return page_allocator();
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

/* Map [va, va+len) to [pa, ...) with 4 KiB pages and the given flags. */
static void
kmap_4k(uint64_t va, uint64_t pa, uint64_t len, uint64_t flags)
{
	for (uint64_t off = 0; off < len; off += PGSIZE) {
		pte_t *pte = pmap_walk(kern_pml4, va + off, 0, true, 0);
		assert(pte && !(*pte & PTE_P));
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
	int level = cpu_has_1g_pages ? 2 : 1;

	if (limit > KDIRECT_SIZE)
		panic("%lu GiB of physical memory; the direct map holds 512", limit >> 30);
	for (uint64_t pa = 0; pa < limit; pa += step) {
		pte_t *e = pmap_walk(kern_pml4, KDIRECT + pa, level, true, 0);
		assert(e);
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
	on_kernel_tables = true;
	kern_pml4 = KADDR(kern_pml4_pa);

	uint64_t cr4 = rcr4();
	if (cpu_has_smep)
		cr4 |= CR4_SMEP;
	if (cpu_has_smap)
		cr4 |= CR4_SMAP;
	lcr4(cr4);
}

/*
 * ---- User address spaces ----
 * Each process has its own PML4: entries 0..255 (the lower half) are its own tables,
 * entries 256..511 are copied from kern_pml4 and point at the kernel's shared PDPTs.
 * User page-table pages come from the buddy allocator and are freed by pmap_destroy;
 * intermediate entries carry PTE_U|PTE_W so that the leaf alone decides access.
 */

#define PML4_USER_SLOTS 256

uint64_t
pmap_create(void)
{
	uint64_t pa = pt_page_alloc();
	if (!pa)
		return 0;
	pte_t *pml4 = KADDR(pa);
	for (int i = PML4_USER_SLOTS; i < NPTENTRIES; i++)
		pml4[i] = kern_pml4[i];
	return pa;
}

/* Free the table at pa, at `level` (2 = PDPT, 1 = PD, 0 = PT), and every table below it. */
static void
free_table(uint64_t pa, int level)
{
	pte_t *table = KADDR(pa);
	for (int i = 0; i < NPTENTRIES; i++) {
		if (!(table[i] & PTE_P))
			continue;
		assert(level > 0 && !(table[i] & PTE_PS));	/* leaves were unmapped by vm */
		free_table(PTE_ADDR(table[i]), level - 1);
	}
	frame_free(pa2page(pa));
	pmap_user_pt_pages--;
}

void
pmap_destroy(uint64_t pml4_pa)
{
	pte_t *pml4 = KADDR(pml4_pa);
	assert(rcr3() != pml4_pa);
	for (int i = 0; i < PML4_USER_SLOTS; i++)
		if (pml4[i] & PTE_P)
			free_table(PTE_ADDR(pml4[i]), 2);
	frame_free(pa2page(pml4_pa));
}

int
pmap_enter_level(uint64_t pml4_pa, uint64_t va, uint64_t pa, uint64_t flags, int level)
{
	pte_t *pte = pmap_walk(KADDR(pml4_pa), va, level, true, PTE_U);
	if (!pte)
		return -E_NO_MEM;
	assert(!(*pte & PTE_P));	/* a table or page already there: the caller's bug */
	*pte = pa | flags | PTE_P;
	pmap_invalidate(pml4_pa, va);
	return 0;
}

int
pmap_enter(uint64_t pml4_pa, uint64_t va, uint64_t pa, uint64_t flags)
{
	return pmap_enter_level(pml4_pa, va, pa, flags, 0);
}

pte_t *
pmap_lookup(uint64_t pml4_pa, uint64_t va, int *level)
{
	pte_t *table = KADDR(pml4_pa);
	for (int l = 3; l > 0; l--) {
		pte_t e = table[PTX(va, l)];
		if (!(e & PTE_P))
			return NULL;
		if (e & PTE_PS) {
			*level = l;
			return &table[PTX(va, l)];
		}
		table = KADDR(PTE_ADDR(e));
	}
	*level = 0;
	return &table[PTX(va, 0)];
}

void
pmap_invalidate(uint64_t pml4_pa, uint64_t va)
{
	if (rcr3() == pml4_pa)
		invlpg(va);
}

/* Visit the present leaves of `table` (at level) that lie in [start, end). */
static int
foreach_in_table(uint64_t pml4_pa, pte_t *table, int level, uint64_t base, uint64_t start, uint64_t end,
		 void (*fn)(pte_t *, uint64_t, int, void *), void *arg, int cause)
{
	uint64_t span = LEVEL_SIZE(level);
	for (int i = 0; i < NPTENTRIES; i++) {
		uint64_t va = base + (uint64_t)i * span;
		if (va + span <= start || va >= end || !(table[i] & PTE_P))
			continue;
		if (level > 0 && (table[i] & PTE_PS)) {
			if (va >= start && va + span <= end) {
				fn(&table[i], va, level, arg);		/* a superpage wholly inside */
				continue;
			}
			int r = pmap_demote(pml4_pa, va, level, cause);	/* straddles a bound */
			if (r < 0)
				return r;
		}
		if (level == 0) {
			fn(&table[i], va, 0, arg);
		} else {
			int r = foreach_in_table(pml4_pa, KADDR(PTE_ADDR(table[i])), level - 1, va, start, end, fn, arg, cause);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

int
pmap_foreach(uint64_t pml4_pa, uint64_t start, uint64_t end,
	     void (*fn)(pte_t *pte, uint64_t va, int level, void *arg), void *arg, int cause)
{
	return foreach_in_table(pml4_pa, KADDR(pml4_pa), 3, 0, start, MIN(end, UTOP), fn, arg, cause);
}

/* pmap_next_table within `table` at level l, which maps from base. */
static uint64_t
next_table_in(pte_t *table, int l, uint64_t base, uint64_t va, uint64_t end, int level)
{
	uint64_t span = LEVEL_SIZE(l);
	for (uint64_t i = (va - base) / span; i < NPTENTRIES && base + i * span < end; i++) {
		uint64_t a = base + i * span;
		if (!(table[i] & PTE_P) || (table[i] & PTE_PS))
			continue;
		if (l == level)
			return a;
		uint64_t found = next_table_in(KADDR(PTE_ADDR(table[i])), l - 1, a, MAX(a, va), end, level);
		if (found < end)
			return found;
	}
	return end;
}

uint64_t
pmap_next_table(uint64_t pml4_pa, uint64_t va, uint64_t end, int level)
{
	end = MIN(end, UTOP);
	return va < end ? next_table_in(KADDR(pml4_pa), 3, 0, va, end, level) : end;
}

/*
 * ---- Superpages ----
 * A 2 MiB page is a PD entry with PTE_PS, a 1 GiB page a PDPT entry with PTE_PS; the
 * flag bits sit where a PTE has them (PAT, bit 12 in a superpage entry, is never used
 * here, so LEAF_ADDR clears it with the offset bits).  Promotion and demotion rewrite
 * one entry and free or allocate one table page; the frames do not move.
 */
struct pmap_stats pmap_stats;

#define LEAF_FLAGS	(0xFFFUL | PTE_NX)		/* flag bits of a leaf entry */

/* Flush every user translation of the address space if it is the loaded one. */
static void
flush_user_tlb(uint64_t pml4_pa)
{
	if (rcr3() == pml4_pa)
		lcr3(pml4_pa);		/* user entries are not global */
}

bool
pmap_promote(uint64_t pml4_pa, uint64_t va, int level)
{
	va = ROUNDDOWN(va, LEVEL_SIZE(level));
	pte_t *entry = pmap_walk(KADDR(pml4_pa), va, level, false, 0);
	if (!entry || !(*entry & PTE_P) || (*entry & PTE_PS))
		return false;		/* no table below, or already a superpage */
	pte_t *table = KADDR(PTE_ADDR(*entry));
	uint64_t step = LEVEL_SIZE(level - 1);
	bool child_is_super = level - 1 > 0;
	uint64_t base = LEAF_ADDR(table[0], level - 1);
	uint64_t flags = table[0] & LEAF_FLAGS & ~PTE_AD;
	uint64_t ad = 0;
	bool uniform = (table[0] & PTE_P) && (base & (LEVEL_SIZE(level) - 1)) == 0 && !(flags & PTE_COW);
	for (int i = 0; i < NPTENTRIES && uniform; i++) {
		pte_t e = table[i];
		uniform = (e & PTE_P) && LEAF_ADDR(e, level - 1) == base + i * step &&
			  (e & LEAF_FLAGS & ~PTE_AD) == flags && (!child_is_super || (e & PTE_PS));
		ad |= e & PTE_AD;
	}
	if (!uniform) {
		pmap_stats.promotion_failures[level - 1]++;
		return false;
	}
	uint64_t table_pa = PTE_ADDR(*entry);
	*entry = base | flags | ad | PTE_PS;
	flush_user_tlb(pml4_pa);
	frame_free(pa2page(table_pa));
	pmap_user_pt_pages--;
	pmap_stats.promotions[level - 1]++;
	return true;
}

int
pmap_demote(uint64_t pml4_pa, uint64_t va, int level, int cause)
{
	int l;
	va = ROUNDDOWN(va, LEVEL_SIZE(level));
	pte_t *entry = pmap_lookup(pml4_pa, va, &l);
	assert(entry && l == level && (*entry & PTE_P) && (*entry & PTE_PS));
	uint64_t table_pa = pt_page_alloc();
	if (!table_pa)
		return -E_NO_MEM;
	pmap_user_pt_pages++;
	pte_t *table = KADDR(table_pa);
	uint64_t base = LEAF_ADDR(*entry, level);
	uint64_t flags = *entry & LEAF_FLAGS;
	if (level == 1)
		flags &= ~PTE_PS;	/* 4 KiB entries have no PS (bit 7 is PAT there) */
	for (int i = 0; i < NPTENTRIES; i++)
		table[i] = (base + i * LEVEL_SIZE(level - 1)) | flags;
	*entry = table_pa | PTE_P | PTE_W | PTE_U;
	flush_user_tlb(pml4_pa);
	pmap_stats.demotions[cause]++;
	if (level == 2)
		pmap_stats.demotions_1g++;
	return 0;
}
