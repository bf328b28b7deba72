/*
 * Host unit test for the x86-64 radix page tables (kern/mm/pt/radix.c with the walker
 * kern/mm/pt/walk.c), built with -DHOSTTEST and sanitizers.
 *
 * The tables live in a fake physical memory: an arena of pages handed out by
 * frame_pt_page (zeroed; the n-th allocation can be made to fail) and poisoned when
 * frame_pt_page_free takes them back; pt_va (radix.c's) and pt_page_va (walk.c's)
 * refuse an address that is not a live table page.  Leaves map frames in a separate
 * physical range that is never touched.
 * The fake CPU (tests/radix_host.h) keeps a CR3 and counts invlpg and CR3 reloads.
 *
 * The reference is a sorted array of leaves (va, entry, level) in a 4 GiB window that
 * crosses a PML4 slot.  Directed tests cover each page size and each reason promotion
 * must refuse (at the first and last entry); then random operation sequences from a
 * fixed-seed xorshift64* generator (map, unmap, protect, touch A/D, fill a block,
 * promote, demote, split a range, with allocation failures injected) run against the
 * reference, which predicts each result, counter and flush.  After each operation the
 * tables are read directly, not through radix.c, and must hold exactly the reference's
 * leaves, with as many table pages as pmap_user_pt_pages and the arena say; walks over
 * random ranges must visit exactly the leaves intersecting them; tearing down must
 * give every table page back.  Misuse must panic (death tests in fork()ed children).
 *
 * Prints one line per test group, then "radix: N checks passed"; exits 0.  On the first
 * failure prints "radix: FAIL <what>" and exits 1.
 */
#define HARNESS_NAME "radix"
#include "tests/harness.h"

#include "inc/error.h"
#include "inc/memlayout.h"
#include "inc/mmu.h"
#include "inc/util.h"
#include "kern/mm/pt/pt.h"
#include "tests/radix_host.h"

/* ---- fake physical memory for table pages ---- */

#define ARENA_PAGES	4096
#define ARENA_BASE	0x40000000UL		/* "physical" address of the arena's first page */
#define FRAMES_BASE	(16 * PG1G)		/* leaves map frames in [16 GiB, 80 GiB) */
#define FRAMES_SIZE	(64 * PG1G)

static uint8_t (*arena)[PGSIZE];
static bool arena_live[ARENA_PAGES];
static uint64_t arena_used, arena_allocs;
static int fail_in;		/* > 0: the fail_in-th next allocation fails */

uint64_t
frame_pt_page(void)
{
	arena_allocs++;
	if (fail_in > 0 && --fail_in == 0)
		return 0;
	for (uint64_t i = 0; i < ARENA_PAGES; i++)
		if (!arena_live[i]) {
			arena_live[i] = true;
			arena_used++;
			memset(arena[i], 0, PGSIZE);
			return ARENA_BASE + i * PGSIZE;
		}
	return 0;
}

static uint64_t
arena_index(uint64_t pa)
{
	uint64_t i = (pa - ARENA_BASE) / PGSIZE;
	CHECK(pa >= ARENA_BASE && i < ARENA_PAGES && pa % PGSIZE == 0, "pa 0x%lx is no table page", pa);
	return i;
}

void
frame_pt_page_free(uint64_t pa)
{
	uint64_t i = arena_index(pa);
	CHECK(arena_live[i], "table page 0x%lx freed but not allocated", pa);
	arena_live[i] = false;
	arena_used--;
	memset(arena[i], 0xA5, PGSIZE);		/* a table read after its free shows garbage */
}

void *
pt_va(uint64_t pa)
{
	uint64_t i = arena_index(pa);
	CHECK(arena_live[i], "table page 0x%lx used after its free", pa);
	return arena[i];
}

void *
pt_page_va(uint64_t pa)
{
	return pt_va(pa);
}

/* ---- the fake CPU (tests/radix_host.h) and the kernel's upper half ---- */

static uint64_t cr3, invlpgs, last_invlpg, reloads;

uint64_t
rcr3(void)
{
	return cr3;
}

void
lcr3(uint64_t pa)
{
	cr3 = pa;
	reloads++;
}

void
invlpg(uint64_t va)
{
	invlpgs++;
	last_invlpg = va;
}

/* The frames' 2 MiB block counts: the last block merged or split, and how many. */
static uint64_t merges, splits, last_block;

void
pt_block_merged(uint64_t pa)
{
	merges++;
	last_block = pa;
}

void
pt_block_split(uint64_t pa)
{
	splits++;
	last_block = pa;
}

static pte_t kern_table[NPTENTRIES];
pte_t *kern_pml4 = kern_table;

#define KERN_ENTRY(i)	(0x7000000000UL + (uint64_t)(i) * PGSIZE + PTE_P + PTE_W)

void
_panic(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: KASSERT (panic): ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/* ---- the reference: leaves in the window, sorted by va ---- */

#define WIN_BASE	(512 * PG1G - 2 * PG1G)	/* crosses PML4 slots 0 and 1 */
#define WIN_SIZE	(4 * PG1G)
#define WIN_END		(WIN_BASE + WIN_SIZE)
#define MAXLEAVES	20000
#define GROW_LIMIT	6000		/* random steps that add leaves (up to 4 * 511) start below it */
#define SIZE(level)	PS_SIZE(level)

struct leaf {
	uint64_t va;
	pte_t pte;
	int level;
};

static struct leaf model[MAXLEAVES];
static int nmodel;
static struct pmap space;	/* the address space under test */
static uint64_t pml4;		/* its root: space.root */

/* Index of the first leaf ending after va (nmodel if none). */
static int
m_after(uint64_t va)
{
	int lo = 0, hi = nmodel;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (model[mid].va + SIZE(model[mid].level) <= va)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Index of the leaf covering va, or -1. */
static int
m_find(uint64_t va)
{
	int i = m_after(va);
	return i < nmodel && model[i].va <= va ? i : -1;
}

/* Whether no leaf intersects [va, va+len). */
static bool
m_empty(uint64_t va, uint64_t len)
{
	int i = m_after(va);
	return i == nmodel || model[i].va >= va + len;
}

static void
m_insert(uint64_t va, pte_t pte, int level)
{
	CHECK(nmodel < MAXLEAVES, "reference full");
	int i = m_after(va);
	memmove(&model[i + 1], &model[i], (size_t)(nmodel - i) * sizeof model[0]);
	model[i] = (struct leaf){ va, pte, level };
	nmodel++;
}

static void
m_remove(int i)
{
	memmove(&model[i], &model[i + 1], (size_t)(nmodel - i - 1) * sizeof model[0]);
	nmodel--;
}

/* Demote leaf i in the reference: 512 leaves of the next size, same frames and flags. */
static void
m_demote(int i)
{
	struct leaf l = model[i];
	pte_t flags = l.pte & ~PTE_ADDR_MASK;
	if (l.level == 1)
		flags &= ~PTE_PS;
	CHECK(nmodel + NPTENTRIES <= MAXLEAVES, "reference full");
	memmove(&model[i + NPTENTRIES], &model[i + 1], (size_t)(nmodel - i - 1) * sizeof model[0]);
	nmodel += NPTENTRIES - 1;
	for (uint64_t k = 0; k < NPTENTRIES; k++)
		model[i + k] = (struct leaf){ l.va + k * SIZE(l.level - 1),
					      (LEAF_ADDR(l.pte, l.level) + k * SIZE(l.level - 1)) | flags, l.level - 1 };
}

/* ---- reading the tables directly ---- */

struct scan {
	struct leaf leaves[MAXLEAVES];
	int nleaves;
	uint64_t tables;
};

static struct scan scan;

static const pte_t *
raw(uint64_t pa)
{
	uint64_t i = arena_index(pa);
	CHECK(arena_live[i], "entry points at free page 0x%lx", pa);
	return (const pte_t *)arena[i];
}

static void
raw_scan(uint64_t pa, int level, uint64_t base)
{
	const pte_t *t = raw(pa);
	scan.tables++;
	for (uint64_t i = 0; i < NPTENTRIES; i++) {
		uint64_t va = base + i * SIZE(level);
		if (!(t[i] & PTE_P))
			continue;
		if (level == 0 || (t[i] & PTE_PS)) {
			CHECK(level < 3, "PS in the PML4");
			CHECK(scan.nleaves < MAXLEAVES, "too many leaves");
			scan.leaves[scan.nleaves++] = (struct leaf){ va, t[i], level };
		} else {
			CHECK((t[i] & (PTE_U | PTE_W)) == (PTE_U | PTE_W), "table entry 0x%lx at va 0x%lx level %d lacks U|W",
			      t[i], va, level);
			raw_scan(PTE_ADDR(t[i]), level - 1, va);
		}
	}
}

/*
 * What the tables hold at va for level: 1 an entry (table or leaf) is present there,
 * 0 none (missing tables are counted in *missing), -1 a superpage above covers va.
 */
static int
raw_slot(uint64_t va, int level, int *missing)
{
	const pte_t *t = raw(pml4);
	*missing = 0;
	for (int l = 3; l > level; l--) {
		pte_t e = t[PTX(va, l)];
		if (!(e & PTE_P)) {
			*missing = l - level;
			return 0;
		}
		if (e & PTE_PS)
			return -1;
		t = raw(PTE_ADDR(e));
	}
	return (t[PTX(va, level)] & PTE_P) ? 1 : 0;
}

/* The tables hold exactly the reference's leaves; table pages agree with both counters. */
static void
check_tables(void)
{
	const pte_t *top = raw(pml4);
	scan.nleaves = 0;
	scan.tables = 0;
	for (int i = 0; i < NPTENTRIES / 2; i++)
		if (top[i] & PTE_P)
			raw_scan(PTE_ADDR(top[i]), 2, (uint64_t)i << PTX_SHIFT(3));
	for (int i = NPTENTRIES / 2; i < NPTENTRIES; i++)
		CHECK(top[i] == KERN_ENTRY(i), "PML4 kernel slot %d is 0x%lx", i, top[i]);
	CHECK(scan.nleaves == nmodel, "tables hold %d leaves, the reference %d", scan.nleaves, nmodel);
	for (int i = 0; i < nmodel; i++)
		CHECK(scan.leaves[i].va == model[i].va && scan.leaves[i].level == model[i].level &&
		      scan.leaves[i].pte == model[i].pte,
		      "leaf %d: tables va 0x%lx level %d entry 0x%lx, reference va 0x%lx level %d entry 0x%lx", i,
		      scan.leaves[i].va, scan.leaves[i].level, scan.leaves[i].pte, model[i].va, model[i].level,
		      model[i].pte);
	CHECK(scan.tables == pmap_user_pt_pages, "%lu table pages reachable, pmap_user_pt_pages %lu", scan.tables,
	      pmap_user_pt_pages);
	CHECK(scan.tables + 1 == arena_used, "%lu table pages reachable + the PML4, %lu allocated", scan.tables,
	      arena_used);
}

/* The entry at level for va, or 0 if a table above it is missing or a superpage covers va. */
static pte_t
raw_entry(uint64_t va, int level)
{
	const pte_t *t = raw(pml4);
	for (int l = 3; l > level; l--) {
		pte_t e = t[PTX(va, l)];
		if (!(e & PTE_P) || (e & PTE_PS))
			return 0;
		t = raw(PTE_ADDR(e));
	}
	return t[PTX(va, level)];
}

/* pmap_next_table from start agrees with a test of every aligned slot of [start, end). */
static void
check_next_table(uint64_t start, uint64_t end)
{
	for (int level = 1; level <= 2; level++) {
		uint64_t expect = end;
		for (uint64_t a = start & ~(SIZE(level) - 1); a < end; a += SIZE(level)) {
			pte_t e = raw_entry(a, level);
			if ((e & PTE_P) && !(e & PTE_PS)) {
				expect = a;
				break;
			}
		}
		uint64_t got = pmap_next_table(&space, start, end, level);
		CHECK(got == expect, "pmap_next_table(0x%lx, 0x%lx, %d) = 0x%lx, expected 0x%lx", start, end, level,
		      got, expect);
	}
}

/* ---- walks ---- */

struct visit {
	struct leaf seen[MAXLEAVES];
	int n;
};

static struct visit visit;

static void
record(pte_t *pte, uint64_t va, int level, void *arg)
{
	(void)arg;
	CHECK(visit.n < MAXLEAVES, "walk visits too many leaves");
	visit.seen[visit.n++] = (struct leaf){ va, *pte, level };
}

/* pmap_foreach over [start, end) visits exactly the leaves intersecting it, whole, and changes nothing. */
static void
check_walk(uint64_t start, uint64_t end)
{
	uint64_t allocs = arena_allocs, tables = pmap_user_pt_pages;
	struct pmap_stats before = pmap_stats;
	visit.n = 0;
	pmap_foreach(&space, start, end, record, NULL);
	int i = m_after(start), k = 0;
	for (; i < nmodel && model[i].va < end; i++, k++) {
		CHECK(k < visit.n, "walk [0x%lx, 0x%lx) missed the leaf at 0x%lx level %d", start, end, model[i].va,
		      model[i].level);
		CHECK(visit.seen[k].va == model[i].va && visit.seen[k].level == model[i].level &&
		      visit.seen[k].pte == model[i].pte,
		      "walk [0x%lx, 0x%lx) visit %d: va 0x%lx level %d, expected va 0x%lx level %d", start, end, k,
		      visit.seen[k].va, visit.seen[k].level, model[i].va, model[i].level);
	}
	CHECK(k == visit.n, "walk [0x%lx, 0x%lx) visited %d leaves, %d intersect it", start, end, visit.n, k);
	CHECK(arena_allocs == allocs && pmap_user_pt_pages == tables &&
	      memcmp(&before, &pmap_stats, sizeof before) == 0, "walk [0x%lx, 0x%lx) changed the tables", start, end);
	check_next_table(start, end);
}

/*
 * Whether a table below the one at pa (at level, mapping from base) that intersects
 * [start, end) holds no present entry.
 */
static bool
raw_empty_below(uint64_t pa, int level, uint64_t base, uint64_t start, uint64_t end)
{
	const pte_t *t = raw(pa);
	for (uint64_t i = 0; i < NPTENTRIES && level > 0; i++) {
		uint64_t va = base + i * SIZE(level);
		if (!(t[i] & PTE_P) || (t[i] & PTE_PS) || va >= end || va + SIZE(level) <= start)
			continue;
		const pte_t *c = raw(PTE_ADDR(t[i]));
		bool any = false;
		for (int k = 0; k < NPTENTRIES; k++)
			any |= (c[k] & PTE_P) != 0;
		if (!any || raw_empty_below(PTE_ADDR(t[i]), level - 1, va, start, end))
			return true;
	}
	return false;
}

/*
 * After an unmap of [start, end), pmap_prune frees exactly the tables left empty: none
 * intersecting the range is left below the PML4, and check_tables (after every step)
 * sees the leaves and the page counts unchanged.
 */
static void
check_prune(uint64_t start, uint64_t end)
{
	uint64_t before = pmap_user_pt_pages;
	uint64_t freed = pmap_prune(&space, start, end);
	CHECK(before - pmap_user_pt_pages == freed, "pmap_prune returned %lu, freed %lu", freed,
	      before - pmap_user_pt_pages);
	CHECK(!raw_empty_below(pml4, 3, 0, start, end), "an empty table is left in [0x%lx, 0x%lx) after pmap_prune",
	      start, end);
}

/* ---- operations, each checked against the reference's prediction ---- */

static uint64_t
rand_below(uint64_t n)
{
	return rnd() % n;
}

static const pte_t flag_choices[] = {
	PTE_U, PTE_U | PTE_W, PTE_U | PTE_NX, PTE_U | PTE_W | PTE_NX, PTE_U | PTE_COW | PTE_NX, PTE_NX,
};

static pte_t
rand_flags(void)
{
	return flag_choices[rand_below(sizeof flag_choices / sizeof flag_choices[0])];
}

static pte_t
rand_ad(void)
{
	return rnd() & PTE_AD;
}

/* A frame address aligned for level. */
static uint64_t
rand_frame(int level)
{
	return FRAMES_BASE + rand_below(FRAMES_SIZE / SIZE(level)) * SIZE(level);
}

/* Map one leaf at va (aligned, free) to pa with flags; fail_in as set.  Returns pmap_enter_level's result. */
static int
map_leaf(uint64_t va, uint64_t pa, pte_t flags, int level)
{
	int missing, slot = raw_slot(va, level, &missing);
	CHECK(slot == 0, "map_leaf on a taken slot");
	uint64_t inv = invlpgs;
	bool fails = fail_in > 0 && fail_in <= missing;
	pte_t pte = pa | flags | (level ? PTE_PS : 0) | PTE_P;
	int r = pmap_enter_level(&space, va, pa, flags | (level ? PTE_PS : 0), level);
	fail_in = 0;
	CHECK(r == (fails ? -E_NO_MEM : 0), "pmap_enter_level(0x%lx, level %d) = %d, expected %d", va, level, r,
	      fails ? -E_NO_MEM : 0);
	if (r == 0) {
		m_insert(va, pte, level);
		if (cr3 == pml4)
			CHECK(invlpgs == inv + 1 && last_invlpg == va, "mapping 0x%lx in the loaded space: no invlpg", va);
	}
	return r;
}

/* Whether a leaf of level fits at va: nothing maps there, no table hangs at that level. */
static bool
slot_free(uint64_t va, int level)
{
	int missing;
	return m_empty(va, SIZE(level)) && raw_slot(va, level, &missing) == 0;
}

/* Whether fill_block may fill the block at va, level: nothing mapped, no table in the way. */
static bool
fillable(uint64_t va, int level)
{
	int missing;
	if (!m_empty(va, SIZE(level)) || raw_slot(va, level, &missing) < 0)
		return false;
	for (int k = 0; k < NPTENTRIES && level == 2; k++)
		if (raw_slot(va + k * PG2M, 1, &missing) != 0)
			return false;
	return true;
}

/* What pmap_promote must do with the block at va, level: -1 no table there, 0 refuse, 1 promote. */
static int
predict_promote(uint64_t va, int level, pte_t *merged)
{
	int missing;
	int covering = m_find(va);
	if (raw_slot(va, level, &missing) != 1 || (covering >= 0 && model[covering].level >= level))
		return -1;
	int i = m_after(va);
	uint64_t step = SIZE(level - 1);
	pte_t first = i < nmodel ? model[i].pte : 0, ad = 0;
	uint64_t base = LEAF_ADDR(first, level - 1);
	pte_t flags = first & ~PTE_ADDR_MASK & ~PTE_AD;
	if (base % SIZE(level) || (flags & PTE_COW))
		return 0;
	for (uint64_t k = 0; k < NPTENTRIES; k++, i++) {
		if (i >= nmodel || model[i].va != va + k * step || model[i].level != level - 1 ||
		    LEAF_ADDR(model[i].pte, level - 1) != base + k * step ||
		    (model[i].pte & ~PTE_ADDR_MASK & ~PTE_AD) != flags)
			return 0;
		ad |= model[i].pte & PTE_AD;
	}
	*merged = base | (flags & ~PTE_PS) | ad | PTE_PS;
	return 1;
}

static void
do_promote(uint64_t va, int level)
{
	va = ROUNDDOWN(va, SIZE(level));
	pte_t merged = 0;
	int want = predict_promote(va, level, &merged);
	struct pmap_stats before = pmap_stats;
	uint64_t tables = pmap_user_pt_pages, rl = reloads, m = merges;
	bool r = pmap_promote(&space, va, level);
	CHECK(merges == m + (want == 1 && level == 1) && (merges == m || last_block == LEAF_ADDR(merged, 1)),
	      "pmap_promote(0x%lx, level %d): the frames' block count was not merged once", va, level);
	CHECK(r == (want == 1), "pmap_promote(0x%lx, level %d) = %d, expected %d", va, level, r, want == 1);
	CHECK(pmap_stats.promotions[level - 1] == before.promotions[level - 1] + (want == 1) &&
	      pmap_stats.promotion_failures[level - 1] == before.promotion_failures[level - 1] + (want == 0),
	      "pmap_promote(0x%lx, level %d): counters", va, level);
	if (want == 1) {
		int i = m_after(va);
		model[i] = (struct leaf){ va, merged, level };
		memmove(&model[i + 1], &model[i + NPTENTRIES], (size_t)(nmodel - i - NPTENTRIES) * sizeof model[0]);
		nmodel -= NPTENTRIES - 1;
		CHECK(pmap_user_pt_pages == tables - 1, "promotion freed no table page");
		if (cr3 == pml4)
			CHECK(reloads > rl, "promotion in the loaded space flushed nothing");
	}
}

static void
do_demote(int i, bool no_page)
{
	struct leaf l = model[i];
	struct pmap_stats before = pmap_stats;
	uint64_t rl = reloads, sp = splits;
	fail_in = no_page ? 1 : 0;
	int r = pmap_demote(&space, l.va + rand_below(SIZE(l.level)), l.level, DEMOTE_MADVISE);
	fail_in = 0;
	CHECK(splits == sp + (!no_page && l.level == 1) && (splits == sp || last_block == LEAF_ADDR(l.pte, 1)),
	      "pmap_demote(0x%lx, level %d): the frames' block count was not split once", l.va, l.level);
	CHECK(r == (no_page ? -E_NO_MEM : 0), "pmap_demote(0x%lx, level %d) = %d", l.va, l.level, r);
	if (no_page) {
		CHECK(memcmp(&before, &pmap_stats, sizeof before) == 0, "a failed demotion counted");
		return;
	}
	m_demote(i);
	CHECK(pmap_stats.demotions[DEMOTE_MADVISE] == before.demotions[DEMOTE_MADVISE] + 1 &&
	      pmap_stats.demotions_1g == before.demotions_1g + (l.level == 2), "demotion counters");
	if (cr3 == pml4)
		CHECK(reloads > rl, "demotion in the loaded space flushed nothing");
}

/* pmap_split_range with the nth allocation failing (0: none), against the reference. */
static void
do_split(uint64_t start, uint64_t end, int nth)
{
	struct pmap_stats before = pmap_stats;
	int budget = nth ? nth - 1 : MAXLEAVES, demotions = 0, want = 0;
	uint64_t at[2] = { start, end };
	for (int b = 0; b < 2 && want == 0; b++) {
		int i;
		while ((i = m_find(at[b])) >= 0 && model[i].level > 0 && at[b] % SIZE(model[i].level)) {
			if (budget-- == 0) {
				want = -E_NO_MEM;
				break;
			}
			m_demote(i);
			demotions++;
		}
	}
	fail_in = nth;
	int r = pmap_split_range(&space, start, end, DEMOTE_MPROTECT);
	fail_in = 0;
	CHECK(r == want, "pmap_split_range(0x%lx, 0x%lx) = %d, expected %d", start, end, r, want);
	CHECK(pmap_stats.demotions[DEMOTE_MPROTECT] == before.demotions[DEMOTE_MPROTECT] + (uint64_t)demotions,
	      "pmap_split_range(0x%lx, 0x%lx): %lu demotions, expected %d", start, end,
	      pmap_stats.demotions[DEMOTE_MPROTECT] - before.demotions[DEMOTE_MPROTECT], demotions);
}

struct range_op {
	uint64_t start, end;
	pte_t flags;		/* new flags, or 0: unmap */
	struct pmap *pm;
};

/* As vm does: after a split, rewrite or clear each leaf (all lie wholly inside). */
static void
range_leaf(pte_t *pte, uint64_t va, int level, void *arg)
{
	struct range_op *op = arg;
	CHECK(va >= op->start && va + SIZE(level) <= op->end, "leaf 0x%lx level %d straddles [0x%lx, 0x%lx) after a split",
	      va, level, op->start, op->end);
	if (op->flags)
		*pte = LEAF_ADDR(*pte, level) | op->flags | (*pte & PTE_AD) | (level ? PTE_PS : 0) | PTE_P;
	else
		*pte = 0;
	pmap_invalidate(op->pm, va);
}

/* Unmap (flags 0) or protect [start, end), page aligned. */
static void
do_range(uint64_t start, uint64_t end, pte_t flags)
{
	do_split(start, end, 0);
	struct range_op op = { start, end, flags, &space };
	pmap_foreach(&space, start, end, range_leaf, &op);
	int i = m_after(start), j = i;
	for (; j < nmodel && model[j].va < end; j++) {
		struct leaf *l = &model[j];
		l->pte = LEAF_ADDR(l->pte, l->level) | flags | (l->pte & PTE_AD) | (l->level ? PTE_PS : 0) | PTE_P;
	}
	if (!flags) {
		memmove(&model[i], &model[j], (size_t)(nmodel - j) * sizeof model[0]);
		nmodel -= j - i;
		check_prune(start, end);
	}
}

static void
do_lookup(uint64_t va)
{
	int level = -1, i = m_find(va);
	pte_t *pte = pmap_lookup(&space, va, &level);
	if (i >= 0) {
		CHECK(pte && level == model[i].level && *pte == model[i].pte,
		      "pmap_lookup(0x%lx): level %d entry 0x%lx, expected level %d entry 0x%lx", va, level,
		      pte ? *pte : 0, model[i].level, model[i].pte);
	} else {
		CHECK(!pte || (level == 0 && *pte == 0), "pmap_lookup(0x%lx) found an entry where none is", va);
	}
}

enum defect { D_NONE, D_MISSING, D_FRAME, D_FLAGS, D_COW, D_UNALIGNED, NDEFECTS };

static const char *const defect_name[] = { "none", "missing", "frame", "flags", "cow", "unaligned" };

/*
 * Fill the free block at va (level 1 or 2) with 512 leaves of the next size down,
 * contiguous frames and equal flags, random A/D, then spoil entry `at` by `defect`.
 */
static void
fill_block(uint64_t va, int level, enum defect defect, int at)
{
	uint64_t step = SIZE(level - 1);
	uint64_t base = rand_frame(level) + (defect == D_UNALIGNED ? step : 0);
	pte_t flags = defect == D_COW ? (PTE_U | PTE_COW) : (rand_flags() & ~PTE_COW);
	for (int k = 0; k < NPTENTRIES; k++) {
		if (defect == D_MISSING && k == at)
			continue;
		uint64_t pa = base + k * step;
		pte_t fl = flags | rand_ad();
		if (defect == D_FRAME && k == at)
			pa += step;
		if (defect == D_FLAGS && k == at)
			fl ^= PTE_W;
		CHECK(map_leaf(va + k * step, pa, fl, level - 1) == 0, "fill 0x%lx level %d", va, level);
	}
}

/* Clear A and D in the block's leaves but make the last one dirty: promotion must keep that D. */
static void
only_last_dirty(uint64_t va)
{
	int first = m_after(va), l;
	for (int j = 0; j < NPTENTRIES; j++) {
		struct leaf *lf = &model[first + j];
		lf->pte &= ~PTE_AD;
		if (j == NPTENTRIES - 1)
			lf->pte |= PTE_D;
		*pmap_lookup(&space, lf->va, &l) = lf->pte;
	}
}

/* ---- directed tests ---- */

static void
fresh_space(void)
{
	CHECK(pmap_create(&space) == 0, "pmap_create");
	pml4 = pmap_root(&space);
	nmodel = 0;
	check_tables();
}

/* Unmap everything, destroy the space: every table page must come back. */
static void
teardown(void)
{
	cr3 = 0;
	do_range(WIN_BASE, WIN_END, 0);
	check_tables();
	pmap_destroy(&space);
	CHECK(arena_used == 0 && pmap_user_pt_pages == 0, "%lu table pages left after pmap_destroy (counter %lu)",
	      arena_used, pmap_user_pt_pages);
}

static void
test_sizes(void)
{
	fresh_space();
	for (int level = 0; level <= 2; level++) {
		uint64_t va = WIN_BASE + PG1G + (uint64_t)level * SIZE(level) * 3;
		if (level == 2)
			va = WIN_BASE + 3 * PG1G;
		uint64_t pa = rand_frame(level);
		CHECK(map_leaf(va, pa, PTE_U | PTE_W | PTE_NX, level) == 0, "map level %d", level);
		check_tables();
		do_lookup(va);
		do_lookup(va + SIZE(level) - 1);
		do_lookup(va + SIZE(level));
		check_walk(va, va + 1);
		check_walk(va + SIZE(level) - 1, va + SIZE(level));
		do_range(va, va + SIZE(level), PTE_U | PTE_NX);		/* read-only */
		check_tables();
		do_lookup(va);
		do_range(va, va + SIZE(level), 0);
		check_tables();
		do_lookup(va);
	}
	teardown();
	printf("radix: map, lookup, protect, unmap at 4 KiB, 2 MiB, 1 GiB OK\n");
}

static void
test_promote_demote(void)
{
	fresh_space();
	cr3 = pml4;
	for (int level = 1; level <= 2; level++) {
		uint64_t va = level == 1 ? WIN_BASE + PG1G : WIN_BASE + 2 * PG1G;
		static const int spots[] = { 0, 1, NPTENTRIES - 1 };
		for (int d = D_NONE; d < NDEFECTS; d++)
			for (int s = 0; s < 3; s++) {
				if (d == D_NONE && s > 0)
					continue;
				fill_block(va, level, (enum defect)d, spots[s]);
				if (d == D_NONE)
					only_last_dirty(va);
				check_tables();
				do_promote(va, level);
				check_tables();
				int i = m_find(va);
				CHECK((d == D_NONE) == (i >= 0 && model[i].level == level),
				      "level %d defect %s at %d: promoted %d", level, defect_name[d], spots[s],
				      i >= 0 && model[i].level == level);
				if (d == D_NONE) {
					CHECK((model[i].pte & PTE_AD) == PTE_D, "promotion merged A/D to 0x%lx",
					      model[i].pte & PTE_AD);
					do_demote(i, true);		/* no table page: nothing changes */
					check_tables();
					do_demote(i, false);		/* same frames, flags, A/D */
					check_tables();
					do_promote(va, level);		/* and back */
					check_tables();
				}
				do_range(va, va + SIZE(level), 0);
				check_tables();
			}
	}
	teardown();
	printf("radix: promotion refused for each defect at entries 0, 1, 511; A/D merged; demotion OK\n");
}

/* ---- random sequences ---- */

static uint64_t
rand_boundary(void)
{
	static const uint64_t grain[] = { PGSIZE, PG2M, PG1G };
	uint64_t g = grain[rand_below(3)];
	return WIN_BASE + rand_below(WIN_SIZE / g + 1) * g;
}

static void
random_step(void)
{
	int level = (int)rand_below(3);
	uint64_t va = WIN_BASE + rand_below(WIN_SIZE / SIZE(level)) * SIZE(level);
	switch (rand_below(16)) {
	case 0:
	case 1:		/* map one leaf, maybe running out of table pages */
		if (nmodel < GROW_LIMIT && slot_free(va, level)) {
			fail_in = rand_below(4) == 0 ? (int)rand_below(3) + 1 : 0;
			map_leaf(va, rand_frame(level), rand_flags() | rand_ad(), level);
		}
		break;
	case 2:
	case 15:	/* fill a block, maybe spoilt, and try to promote it */
		if (level > 0 && nmodel < GROW_LIMIT && fillable(va, level)) {
			int d = rand_below(2) ? D_NONE : (int)rand_below(NDEFECTS);
			fill_block(va, level, (enum defect)d, (int)rand_below(NPTENTRIES));
			do_promote(va, level);
		}
		break;
	case 3:
		if (level > 0)
			do_promote(va, level);
		break;
	case 4:
	case 5: {	/* demote a superpage, sometimes without a page for the table */
		int start = (int)rand_below((uint64_t)nmodel + 1);
		for (int k = 0; k < nmodel && nmodel < GROW_LIMIT; k++) {
			int i = (start + k) % nmodel;
			if (model[i].level > 0) {
				do_demote(i, rand_below(4) == 0);
				break;
			}
		}
		break;
	}
	case 6: {	/* split a range, sometimes failing part way */
		uint64_t a = rand_boundary(), b = rand_boundary();
		if (a != b && nmodel < GROW_LIMIT)
			do_split(MIN(a, b), MAX(a, b), rand_below(3) == 0 ? (int)rand_below(3) + 1 : 0);
		break;
	}
	case 7: {	/* unmap or protect a range */
		uint64_t a = rand_boundary(), b = a + (rand_below(4) + 1) * (rnd() & 1 ? PGSIZE : PG2M);
		if (b <= WIN_END && nmodel < MAXLEAVES - 4 * NPTENTRIES)
			do_range(a, b, rand_below(3) == 0 ? 0 : rand_flags());
		break;
	}
	case 8:		/* the hardware sets A and D */
		if (nmodel > 0) {
			int i = (int)rand_below((uint64_t)nmodel), l;
			pte_t ad = rand_ad();
			*pmap_lookup(&space, model[i].va, &l) |= ad;
			model[i].pte |= ad;
		}
		break;
	case 9:
	case 10:
		do_lookup(WIN_BASE + rand_below(WIN_SIZE));
		break;
	case 11:
	case 12: {	/* walk any range, bounds aligned or not */
		uint64_t a = rand_below(2) ? rand_boundary() : WIN_BASE + rand_below(WIN_SIZE);
		uint64_t b = rand_below(2) ? rand_boundary() : WIN_BASE + rand_below(WIN_SIZE);
		check_walk(MIN(a, b), MAX(a, b) + (a == b));
		break;
	}
	case 13:	/* load or unload the space */
		cr3 = rand_below(2) ? pml4 : 0;
		break;
	case 14:	/* unmap one leaf as the fault path does: through its entry */
		if (nmodel > 0) {
			int i = (int)rand_below((uint64_t)nmodel), l;
			uint64_t inv = invlpgs;
			pte_t *pte = pmap_lookup(&space, model[i].va, &l);
			CHECK(pte && l == model[i].level, "lookup of a mapped leaf");
			*pte = 0;
			pmap_invalidate(&space, model[i].va);
			CHECK(invlpgs == inv + (cr3 == pml4), "pmap_invalidate flushed %lu pages", invlpgs - inv);
			m_remove(i);
		}
		break;
	}
}

static void
test_random(void)
{
	for (int round = 0; round < 6; round++) {
		fresh_space();
		for (int step = 0; step < 1500; step++) {
			random_step();
			check_tables();
		}
		check_walk(WIN_BASE, WIN_END);
		teardown();
	}
	printf("radix: random sequences OK (%lu + %lu promotions, %lu refused, %lu demotions)\n",
	       pmap_stats.promotions[0], pmap_stats.promotions[1],
	       pmap_stats.promotion_failures[0] + pmap_stats.promotion_failures[1],
	       pmap_stats.demotions[DEMOTE_MADVISE] + pmap_stats.demotions[DEMOTE_MPROTECT]);
}

/* ---- misuse ---- */

#define NMISUSE 3

static void
misuse(int which)
{
	fresh_space();
	switch (which) {
	case 0:		/* mapping over a present page */
		map_leaf(WIN_BASE, FRAMES_BASE, PTE_U, 0);
		pmap_enter(&space, WIN_BASE, FRAMES_BASE, PTE_U);
		break;
	case 1:		/* demoting a 4 KiB page */
		map_leaf(WIN_BASE, FRAMES_BASE, PTE_U, 0);
		pmap_demote(&space, WIN_BASE, 1, DEMOTE_MUNMAP);
		break;
	case 2:		/* destroying the loaded space */
		cr3 = pml4;
		pmap_destroy(&space);
		break;
	}
}

static const char *const misuse_expect[NMISUSE] = {
	"!(*pte & PTE_P)",
	"entry && l == level",
	"rcr3() != pml4_pa",
};

int
main(void)
{
	harness_start();
	rng_seed(0x5ad1c0de);
	arena = aligned_alloc(PGSIZE, (size_t)ARENA_PAGES * PGSIZE);
	CHECK(arena != NULL, "no arena");
	for (int i = NPTENTRIES / 2; i < NPTENTRIES; i++)
		kern_table[i] = KERN_ENTRY(i);
	test_sizes();
	test_promote_demote();
	test_random();
	harness_kassert(NMISUSE, misuse, misuse_expect);
	free(arena);
	return harness_done();
}
