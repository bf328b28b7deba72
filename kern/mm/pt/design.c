/*
 * kern/mm/pt/design.c: which page-table design user address spaces use (boot word
 * pt=radix|clustered|guarded), and the kernel's side of the two data-structure designs:
 * their memory and their parameters.
 *
 * pt=radix (the default): the x86 tables are the page table, as before.  pt=clustered
 * (Talluri, Hill and Khalidi, kern/mm/pt/clustered.c) and pt=guarded (Liedtke, Wiggins,
 * kern/mm/pt/guarded.c): each address space has a table of that design holding all of its
 * mappings, and its x86 tables are a software-refilled cache of it (kern/mm/pt/cache.c).
 * Parameters: pt.f=F, the clustered table's subblock factor (default 16; 1 makes it a
 * hashed page table), pt.buckets=B (log2 of its base hash table's buckets; default: sized
 * to memory, one bucket per F pages of RAM over 16, so a process using a sixteenth of
 * the machine has chains of about one node), pt.stride=S for the guarded table (default
 * GPT_STRIDE_DEFAULT), pt.cache=N (drop the cache of every space but the ones the model
 * TLB measures at a context switch when the x86 tables hold more than N pages; default
 * 0, no bound) and pt.drop=switch (drop them at every context switch: the test that the
 * cache really is one).  Memory: objects up to KMALLOC_MAX come from kmalloc, a page (a
 * guarded bottom node's 512 PTEs) from the wired blocks x86 table pages come from, so
 * that the design does not break up the free 2 MiB blocks reservations need, larger
 * ones (hash arrays, internal guarded nodes) are whole buddy blocks.  All are counted
 * (pt_mem_held); a design reports its own byte count, the papers' measure, apart.
 */
#include "inc/error.h"
#include "inc/string.h"
#include "kern/cmdline.h"
#include "kern/console.h"
#include "kern/kassert.h"
#include "kern/mm/failinject.h"
#include "kern/mm/frame.h"
#include "kern/mm/kmalloc.h"
#include "kern/mm/pt/clustered.h"
#include "kern/mm/pt/design.h"
#include "kern/mm/pt/guarded.h"
#include "kern/mm/pt/pt.h"

uint64_t pt_cache_limit;
bool pt_drop_on_switch;
static unsigned cpt_f = 16, cpt_log2_buckets, gpt_stride = GPT_STRIDE_DEFAULT;
static uint64_t mem_held;

uint64_t
pt_mem_held(void)
{
	return mem_held;
}

/*
 * The fault injector (fail.frame=, fail.kmalloc=) does not fail the designs' nodes: a
 * design that cannot record a change the x86 tables already show is a state spos does
 * not recover from (kern/mm/pt/radix.c), and the fuzzers that inject failures are there
 * to test the rest of the kernel.  Memory really running out still can fail them.
 */
static void *
mem_alloc(void *ctx, size_t bytes)
{
	(void)ctx;
	failinject_pause(true);
	if (bytes <= KMALLOC_MAX) {
		void *p = kmalloc(bytes);
		failinject_pause(false);
		mem_held += p ? bytes : 0;
		return p;
	}
	if (bytes == PGSIZE) {		/* a page of PTEs: from wired blocks, as x86 table pages */
		uint64_t pa = frame_pt_page();
		failinject_pause(false);
		mem_held += pa ? PGSIZE : 0;
		return pa ? KADDR(pa) : NULL;
	}
	unsigned order = frame_order_for(bytes);
	struct page *pg = page_alloc(order);
	failinject_pause(false);
	if (!pg)
		return NULL;
	memset(page2kva(pg), 0, PGSIZE << order);
	mem_held += PGSIZE << order;
	return page2kva(pg);
}

static void
mem_free(void *ctx, void *p, size_t bytes)
{
	(void)ctx;
	if (bytes <= KMALLOC_MAX) {
		kfree(p);
		mem_held -= bytes;
		return;
	}
	if (bytes == PGSIZE) {
		frame_pt_page_free(PADDR(p));
		mem_held -= PGSIZE;
		return;
	}
	unsigned order = frame_order_for(bytes);
	page_free(pa2page(PADDR(p)), order);
	mem_held -= PGSIZE << order;
}

/* ---- clustered ---- */

static int
c_create(void **table)
{
	static const struct cpt_alloc mem = { mem_alloc, mem_free, NULL };
	struct cpt *t = kmalloc(sizeof *t);
	if (!t)
		return -E_NO_MEM;
	int r = cpt_init(t, cpt_f, cpt_log2_buckets, &mem);
	if (r < 0) {
		kfree(t);
		return r;
	}
	*table = t;
	return 0;
}

static void
c_destroy(void *table)
{
	cpt_destroy(table);
	kfree(table);
}

static int
c_map(void *t, uint64_t va, uint64_t pte, enum page_size size)
{
	return cpt_map(t, va, pte, size);
}

static int
c_unmap(void *t, uint64_t va, enum page_size size)
{
	return cpt_unmap(t, va, size);
}

static int
c_protect(void *t, uint64_t va, enum page_size size, uint64_t flags)
{
	return cpt_protect(t, va, size, flags);
}

static bool
c_lookup(const void *t, uint64_t va, uint64_t *pte, enum page_size *size, unsigned *refs)
{
	return cpt_lookup(t, va, pte, size, refs);
}

static void
c_foreach(const void *t, uint64_t start, uint64_t end, pt_leaf_fn *fn, void *arg)
{
	cpt_foreach(t, start, end, fn, arg);
}

static uint64_t
c_bytes(const void *t)
{
	return ((const struct cpt *)t)->bytes;
}

static uint64_t
c_pages(const void *t)
{
	return ((const struct cpt *)t)->pages;
}

static void
c_print(const void *t)
{
	struct cpt_stats s;
	cpt_stats(t, &s);
	cprintf("nodes %lu full, %lu partial-subblock, %lu superpage; buckets used %lu of %u; longest chain %u",
		s.nodes_full, s.nodes_partial, s.nodes_super, s.buckets_used,
		(1U << ((const struct cpt *)t)->base.log2_buckets) + 2 * (1U << ((const struct cpt *)t)->super[0].log2_buckets),
		s.longest_chain);
}

static const struct pt_ops clustered_ops = {
	"clustered", c_create, c_destroy, c_map, c_unmap, c_protect, c_lookup, c_foreach, c_bytes, c_pages, c_print,
};

/* ---- guarded ---- */

static int
g_create(void **table)
{
	static const struct gpt_alloc mem = { mem_alloc, mem_free, NULL };
	struct gpt *t = kmalloc(sizeof *t);
	if (!t)
		return -E_NO_MEM;
	int r = gpt_init(t, gpt_stride, &mem);
	if (r < 0) {
		kfree(t);
		return r;
	}
	*table = t;
	return 0;
}

static void
g_destroy(void *table)
{
	gpt_destroy(table);
	kfree(table);
}

static int
g_map(void *t, uint64_t va, uint64_t pte, enum page_size size)
{
	return gpt_map(t, va, pte, size);
}

static int
g_unmap(void *t, uint64_t va, enum page_size size)
{
	return gpt_unmap(t, va, size);
}

static int
g_protect(void *t, uint64_t va, enum page_size size, uint64_t flags)
{
	return gpt_protect(t, va, size, flags);
}

static bool
g_lookup(const void *t, uint64_t va, uint64_t *pte, enum page_size *size, unsigned *refs)
{
	return gpt_lookup(t, va, pte, size, refs);
}

static void
g_foreach(const void *t, uint64_t start, uint64_t end, pt_leaf_fn *fn, void *arg)
{
	gpt_foreach(t, start, end, fn, arg);
}

static uint64_t
g_bytes(const void *t)
{
	return ((const struct gpt *)t)->bytes;
}

static uint64_t
g_pages(const void *t)
{
	return ((const struct gpt *)t)->pages;
}

static void
g_print(const void *t)
{
	struct gpt_stats s;
	gpt_stats(t, &s);
	uint64_t hundredths = s.leaves ? s.depth_sum * 100 / s.leaves : 0;
	cprintf("nodes %lu (%lu bottom), leaves %lu, entries %lu; depth max %u, mean %lu.%02lu", s.nodes,
		s.bottom_nodes, s.leaves, s.entries, s.depth_max, hundredths / 100, hundredths % 100);
}

static const struct pt_ops guarded_ops = {
	"guarded", g_create, g_destroy, g_map, g_unmap, g_protect, g_lookup, g_foreach, g_bytes, g_pages, g_print,
};

void
pmap_design_print(struct pmap *pm)
{
	if (!pm->ops) {
		cprintf("radix: the x86 tables alone");
		return;
	}
	cprintf("%s: %lu bytes for %lu pages; ", pm->ops->name, pm->ops->bytes(pm->table), pm->ops->pages(pm->table));
	pm->ops->print(pm->table);
	cprintf("; refilled %lu%s", pm->cache_refills, pm->cache_partial ? ", cache dropped" : "");
}

/* ---- the boot words ---- */

const char *
pmap_design_name(void)
{
	return pt_design ? pt_design->name : "radix";
}

void
pmap_design_init(void)
{
	const char *v = cmdline_get("pt");
	if (v && strcmp(v, "clustered") == 0)
		pt_design = &clustered_ops;
	else if (v && strcmp(v, "guarded") == 0)
		pt_design = &guarded_ops;
	else if (v && strcmp(v, "radix") != 0)
		cprintf("pt: unknown pt=%s, using pt=radix\n", v);
	uint64_t f = cmdline_get_u64("pt.f", 16);
	if (f == 0 || f > CPT_MAX_F || (f & (f - 1))) {
		cprintf("pt: pt.f=%lu is not a power of two from 1 to %d, using 16\n", f, CPT_MAX_F);
		f = 16;
	}
	cpt_f = (unsigned)f;
	unsigned sized = 0;
	while (sized < 20 && (1ULL << (sized + 1)) <= (phys_usable_bytes >> PGSHIFT) / cpt_f / 16)
		sized++;
	uint64_t b = cmdline_get_u64("pt.buckets", sized);
	cpt_log2_buckets = b > 20 ? 20 : (unsigned)b;
	uint64_t s = cmdline_get_u64("pt.stride", GPT_STRIDE_DEFAULT);
	gpt_stride = s >= 1 && s <= GPT_MAX_STRIDE ? (unsigned)s : GPT_STRIDE_DEFAULT;
	pt_cache_limit = cmdline_get_u64("pt.cache", 0);
	const char *d = cmdline_get("pt.drop");
	pt_drop_on_switch = d && strcmp(d, "switch") == 0;
	if (pt_design == &clustered_ops)
		cprintf("pt: clustered, F %u, 2^%u buckets\n", cpt_f, cpt_log2_buckets);
	else if (pt_design == &guarded_ops)
		cprintf("pt: guarded, stride %u\n", gpt_stride);
}
