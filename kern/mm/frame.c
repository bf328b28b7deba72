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
#include "kern/kassert.h"
#include "kern/mm/failinject.h"
#include "kern/multiboot.h"
#include "kern/mm/frame.h"
#include "kern/mm/prezero.h"
#include "kern/mm/lib/reserv.h"

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

/*
 * ---- Boot allocation ----
 * Before the buddy allocator exists, pages (the kernel's page tables, the struct page
 * array) come from a bump allocator placed after the kernel image; phys_init reserves
 * what it handed out.  Until kern/mm/kpmap.c loads the kernel's tables, only the
 * bootstrap alias of the first 1 GiB at KERNBASE reaches physical memory.
 */
static bool on_kernel_tables;		/* false while the bootstrap tables are loaded */
static bool buddy_ready;		/* phys_init done: boot_alloc is over */
static uint64_t boot_alloc_start, boot_alloc_next;

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
	if (buddy_ready)
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

void
frame_boot_alias_done(void)
{
	on_kernel_tables = true;
}

uint64_t
frame_pt_page(void)
{
	if (!buddy_ready)
		return boot_alloc(1);
	struct page *pg = wired_page_alloc();
	if (!pg)
		return 0;
	memset(page2kva(pg), 0, PGSIZE);
	return page2pa(pg);
}

void
frame_pt_page_free(uint64_t pa)
{
	frame_free(pa2page(pa));
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
	buddy_ready = true;

	phys_usable_bytes = 0;
	for (uint32_t i = 0; i < boot_info.mmap_count; i++) {
		const struct mb2_mmap_entry *e = multiboot_mmap_entry(i);
		if (e->type != MB2_MEM_AVAILABLE)
			continue;
		phys_usable_bytes += e->length;
		free_ram_range(e->base, e->base + e->length, KERNLOAD, boot_end);
	}
	prezero_init(&phys_buddy);
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

/* The pre-zeroed pools are free memory too (kern/mm/prezero.c). */
uint64_t
phys_free_pages(void)
{
	return phys_buddy.free_pages + prezero_pages();
}

void
phys_print_meminfo(void)
{
	static const char *const size_names[] = { "4K", "8K", "16K", "32K", "64K", "128K",
		"256K", "512K", "1M", "2M", "4M", "8M", "16M", "32M", "64M", "128M", "256M",
		"512M", "1G" };

	cprintf("physical memory: %lu KiB usable, highest address 0x%lx\n",
		phys_usable_bytes >> 10, phys_limit);
	cprintf("pages: %lu total, %lu managed, %lu free (%lu KiB), %lu of them pre-zeroed\n",
		phys_buddy.npages, phys_buddy.managed_pages, phys_free_pages(), phys_free_pages() * 4,
		prezero_pages());
	cprintf("free blocks per order:\n");
	for (int k = 0; k < BUDDY_ORDERS; k++)
		cprintf("  order %2d (%4s): %lu\n", k, size_names[k], phys_buddy.nfree[k]);
}

void
page_unref(struct page *pg)
{
	struct page *head = page_block2m(pg);
	assert(pg->refcount > 0 && head->maps4k > 0);
	head->maps4k--;
	if (--pg->refcount == 0 && head->maps2m == 0)
		frame_free(pg);		/* to its reservation, if it has one (kern/mm/policy.c) */
}

/*
 * The 512 frames of the 2 MiB block head have no mapping left: give them back in one
 * step, to the reservation they were all handed out by, or to the buddy allocator as
 * one order-9 block (so a superpage's munmap costs one free, not 512).  False, having
 * done nothing, if the block lies in a reservation that did not hand out all of it:
 * then each frame goes its own way (frame_free).
 */
static bool
frame_free_block2m(struct page *head)
{
	uint64_t pfn = buddy_pfn(&phys_buddy, head);
	struct reserv *rv = reserv_of_frame(pfn);
	if (!rv) {
		page_free(head, PS_ORDER(PS_2M));
		return true;
	}
	if (!reserv_block_inuse(rv, pfn, PS_ORDER(PS_2M)))
		return false;
	reserv_free_block(rv, pfn, PS_ORDER(PS_2M));
	return true;
}

void
frame_unref2m(struct page *head)
{
	KASSERT(head->maps2m > 0 && (page2pa(head) & (PG2M - 1)) == 0,
		"frame_unref2m: pa 0x%lx: no block mapping to drop (%u)", page2pa(head), head->maps2m);
	if (--head->maps2m > 0)
		return;
	if (head->maps4k == 0 && frame_free_block2m(head))
		return;			/* no 4 KiB mapping either: the whole block goes */
	for (uint64_t i = 0; i < PS_PAGES(PS_2M); i++)
		if (head[i].refcount == 0)
			frame_free(&head[i]);
}

void
frame_merge2m(struct page *head)
{
	head->maps2m++;			/* first, so no frame is freed on the way */
	for (uint64_t i = 0; i < PS_PAGES(PS_2M); i++) {
		KASSERT(head[i].refcount > 0, "frame_merge2m: pa 0x%lx is not mapped", page2pa(&head[i]));
		head[i].refcount--;
	}
	head->maps4k -= PS_PAGES(PS_2M);
}

void
frame_split2m(struct page *head)
{
	for (uint64_t i = 0; i < PS_PAGES(PS_2M); i++)
		head[i].refcount++;
	head->maps4k += PS_PAGES(PS_2M);
	KASSERT(head->maps2m > 0, "frame_split2m: pa 0x%lx has no block mapping", page2pa(head));
	head->maps2m--;
}

bool
frame_sole2m(struct page *head)
{
	return head->maps2m == 1 && head->maps4k == 0;
}

/*
 * The clock of reservation stamps: it advances at every population (kern/mm/policy.c)
 * and every wired page, so stamps never go back (kern/mm/lib/reserv.c checks).
 */
uint64_t frame_clock;

void
frame_clock_tick(void)
{
	frame_clock++;
}

/* ---- frames: the buddy allocator with reservation preemption inside ---- */

/*
 * When the buddy allocator has no block of the order asked for, the pre-zeroed pools
 * give their frames back first (only zeroing done ahead is lost), then reservations
 * are preempted.  Preemption takes the least recently grown partial reservation, of
 * either size, among those whose break returns a free block of the size asked for:
 * breaking one whose every such block holds a page in use would return frames that
 * cannot serve the request (a 2 MiB request is never served by breaking a 2 MiB
 * reservation in use).
 */
struct page *
frame_alloc(unsigned order)
{
	struct page *pg;
	while (!(pg = page_alloc(order)))
		if (!prezero_give_back(order) && !reserv_preempt_for(order))
			return NULL;
	return pg;
}

void
frame_free(struct page *pg)
{
	uint64_t pfn = buddy_pfn(&phys_buddy, pg);
	struct reserv *rv = reserv_of_frame(pfn);
	if (rv && reserv_page_inuse(rv, rv->pindex + (pfn - rv->pfn)))
		reserv_free_page(rv, pfn);
	else
		page_free(pg, 0);
}

/*
 * reserv_ops.free_frames: a free extent of a reservation goes back to the allocator,
 * no longer known zero.
 */
void
frame_free_extent(uint64_t pfn, unsigned order)
{
	prezero_forget(&phys_buddy.pages[pfn], order);
	page_free(&phys_buddy.pages[pfn], order);
}

/*
 * Wired clustering.  Pages the kernel keeps for itself (page-table pages, kernel heap
 * slabs, population-map nodes) are never moved by the page daemon, so scattered
 * they would pin many 2 MiB blocks.  They come instead from "wired" 2 MiB blocks: a
 * pinned reservation owned by the sentinel object below, whose frames are handed out
 * in any order (pindex = pfn).  A small pool of such blocks is kept, and a page comes
 * from the fullest one that has room, so the emptiest drain; a block whose last wired
 * page is freed goes back to the buddy allocator whole and leaves the pool.  Only
 * when every block of a full pool is full, or no 2 MiB block is free, is a plain
 * frame used.  (A single current block would strand the free frames of every block
 * it replaced until their last page went.)
 */
#define WIRED_POOL	8		/* wired blocks at most: 16 MiB of kernel pages */
static char wired_object;		/* the owner of wired blocks: no population map */
static struct reserv *wired_pool[WIRED_POOL];	/* live wired blocks; NULL: free slot */
static bool reservations_ready;		/* reserv_system_init done (it needs kmalloc first) */
uint64_t wired_pages;

/* The fullest wired block with a free frame, or NULL. */
static struct reserv *
wired_block_with_room(void)
{
	struct reserv *best = NULL;
	for (int i = 0; i < WIRED_POOL; i++)
		if (wired_pool[i] && wired_pool[i]->popcnt < PS_PAGES(PS_2M) && (!best || wired_pool[i]->popcnt > best->popcnt))
			best = wired_pool[i];
	return best;
}

/* Put a new wired block into a free slot of the pool; false if the pool is full or memory short. */
static bool
wired_block_add(void)
{
	static bool busy;		/* reserv_create's kmalloc comes back here: plain frame */
	int slot = 0;
	while (slot < WIRED_POOL && wired_pool[slot])
		slot++;
	if (slot == WIRED_POOL || busy)
		return false;
	struct page *blk = page_alloc(PS_ORDER(PS_2M));
	if (!blk)
		return false;
	uint64_t pfn = buddy_pfn(&phys_buddy, blk);
	busy = true;
	struct reserv *rv = reserv_create(PS_ORDER(PS_2M), pfn, &wired_object, pfn, frame_clock);
	busy = false;
	if (!rv) {
		page_free(blk, PS_ORDER(PS_2M));
		return false;
	}
	reserv_pin(rv);			/* kernel memory: never preempted */
	wired_pool[slot] = rv;
	return true;
}

struct page *
wired_page_alloc(void)
{
	struct reserv *rv = NULL;
	if (reservations_ready && !(rv = wired_block_with_room()) && wired_block_add())
		rv = wired_block_with_room();
	if (!rv)
		return frame_alloc(0);
	frame_clock_tick();
	uint64_t pfn = reserv_alloc_page(rv, reserv_first_free(rv), frame_clock);
	wired_pages++;
	return &phys_buddy.pages[pfn];
}

void
wired_usage(uint64_t *blocks, uint64_t *in_use)
{
	*blocks = *in_use = 0;
	for (int i = 0; i < WIRED_POOL; i++)
		if (wired_pool[i]) {
			(*blocks)++;
			*in_use += wired_pool[i]->popcnt;
		}
}

void
frame_reservations_ready(void)
{
	reservations_ready = true;
}

bool
frame_is_wired(const struct reserv *rv)
{
	return rv->object == &wired_object;
}

bool
frame_wired_detach(struct reserv *rv)
{
	if (!frame_is_wired(rv))
		return false;
	for (int i = 0; i < WIRED_POOL; i++)
		if (wired_pool[i] == rv)
			wired_pool[i] = NULL;
	return true;
}
