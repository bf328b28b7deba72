/*
 * kern/mm/daemon.c: the page daemon — keeps superpages obtainable and memory usable.
 *
 * Navarro et al. (OSDI'02 §4.6-4.7) pair reservations with a page daemon that
 * restores contiguity and demotes superpages speculatively under memory pressure.
 * spos runs one pass every vm.daemon.period timer ticks (at least 2, so that a whole
 * time slice goes to processes between two passes however long a pass takes), on the
 * kernel thread between time slices (kern/sched.c), and each pass does a bounded
 * amount of work: at most PREEMPTIONS_PER_PASS reservations broken and
 * MIGRATIONS_PER_PASS pages moved.
 *
 *   1. Free 2 MiB blocks below vm.daemon.target: preempt partially populated
 *      reservations whose break gives back a whole free 2 MiB block (a 1 GiB one with
 *      an empty 2 MiB part), least recently grown first, until the target is met.
 *      Breaking a reservation that has a page in use in every 2 MiB block gains no
 *      block, so those are left alone here.
 *   2. Still below target: restore contiguity by migration.  Choose the 2 MiB physical
 *      block that needs the fewest moves (fewest allocated pages, all of them movable:
 *      user pages mapped by exactly one 4 KiB PTE, either outside any reservation or
 *      in a partial 2 MiB reservation that has not grown since the last pass, which is
 *      broken first), take its free pieces off the free lists (buddy_claim_within) so
 *      nothing new lands there, copy each page to a frame elsewhere, repoint its PTE,
 *      and free the whole block.  Destination frames come only from free pieces
 *      smaller than 2 MiB: taking one from a free 2 MiB block would split it and gain
 *      nothing.  If those pieces are too few, the least recently grown partial
 *      reservation is broken to provide them, within the pass's bound; otherwise the
 *      block is given up.
 *      The address spaces moved from are not loaded (the daemon runs with the kernel's
 *      tables), and loading them later flushes their TLB entries, so no shootdown.
 *   3. Free memory below vm.daemon.low pages: speculative demotion.  A 2 MiB mapping
 *      whose accessed bit was clear for a whole period is demoted (its base pages can
 *      then be reclaimed one by one — spos has no swap, so this only prepares that);
 *      accessed bits of superpages are cleared to sample the next period.  A demoted
 *      block whose 512 pages are all referenced again is promoted back.
 * The accessed bits belong to the model TLB (kern/mm/tlbtrap.c) on the measured range of
 * a measured space: its CLOCK replacement reads and clears them to learn which of its
 * entries were used.  Clearing one there would make the model evict what a real TLB
 * keeps, so the daemon does not read or clear them: a leaf overlapping a measured range
 * counts as referenced (never demoted as idle, and its block may be promoted back).
 * Every accessed bit the daemon clears elsewhere is followed by invlpg (pmap_invalidate),
 * so the next use walks and sets it again.
 * Kernel pages, page tables and shared copy-on-write pages are never moved.  Wired
 * clustering (kern/mm/policy.c) keeps page tables and kernel heap pages together in
 * their own 2 MiB blocks, so they pin few blocks.
 */
#include "inc/error.h"
#include "inc/string.h"
#include "inc/util.h"
#include "kern/cmdline.h"
#include "kern/console.h"
#include "kern/kassert.h"
#include "kern/mm/frame.h"
#include "kern/mm/pt/pt.h"
#include "kern/mm/policy.h"
#include "kern/mm/prezero.h"
#include "kern/mm/lib/reserv.h"
#include "kern/mm/vm.h"
#include "kern/mm/tlbtrap.h"
#include "kern/mm/daemon.h"

#define BLOCK_PAGES		((int)PS_PAGES(PS_2M))
#define MAX_CANDIDATE_USED	128	/* migrate blocks with at most this many pages in use */
#define COMPACTIONS_PER_PASS	4
#define MIGRATIONS_PER_PASS	256	/* pages moved by one pass, at most */
#define PREEMPTIONS_PER_PASS	8	/* reservations broken by one pass, at most */
#define MIN_PERIOD		2	/* a pass, then at least one whole time slice */
#define DEMOTED_MAX		64	/* pressure-demoted blocks watched for re-promotion */

struct daemon_stats daemon_stats;
static uint64_t period = 25;		/* ticks between passes (vm.daemon.period) */
static uint64_t target_2m = 4;		/* free 2 MiB blocks wanted (vm.daemon.target) */
static uint64_t low_pages;		/* pressure below this many free pages (vm.daemon.low) */
static uint64_t last_pass;
static uint64_t clock_at_last_pass;	/* reserv_clock() when the previous pass ran */
static uint64_t pass_preempted, pass_migrated;	/* work done by the pass under way */

static struct {
	struct vmspace *vs;
	uint64_t va;
} demoted[DEMOTED_MAX];

static void daemon_forget(struct vmspace *vs);
static const struct vm_observer daemon_observer = { NULL, daemon_forget };

void
daemon_init(void)
{
	vm_observe(&daemon_observer);
	period = MAX(cmdline_get_u64("vm.daemon.period", period), MIN_PERIOD);
	target_2m = cmdline_get_u64("vm.daemon.target", target_2m);
	low_pages = cmdline_get_u64("vm.daemon.low", phys_buddy.managed_pages / 16);
}

uint64_t
free_2m_blocks(void)
{
	uint64_t n = prezero_blocks(PS_2M);	/* pre-zeroed blocks are free memory */
	for (int k = 9; k < BUDDY_ORDERS; k++)
		n += phys_buddy.nfree[k] << (k - 9);
	return n;
}

/* Free pages in free blocks smaller than 2 MiB: where migrated pages may go. */
static uint64_t
small_free_pages(void)
{
	uint64_t n = 0;
	for (int k = 0; k < 9; k++)
		n += phys_buddy.nfree[k] << k;
	return n;
}

/* Break one reservation for a request of 2^order frames, within the pass's bound. */
static bool
preempt(unsigned order)
{
	if (pass_preempted == PREEMPTIONS_PER_PASS || !reserv_preempt_for(order))
		return false;
	pass_preempted++;
	daemon_stats.preempted++;
	return true;
}

/* ---- 1. preemption ---- */

static void
preempt_for_target(void)
{
	while (free_2m_blocks() < target_2m && preempt(PS_ORDER(PS_2M)))
		;
}

/* ---- 2. contiguity restoration ---- */

/* Pages in use in the 2 MiB block at pfn, counted up to limit; BLOCK_PAGES + 1 if it can never be freed. */
static uint64_t
block_used(uint64_t pfn, uint64_t limit)
{
	uint64_t used = 0;
	for (uint64_t p = pfn; p < pfn + BLOCK_PAGES && used < limit;) {
		struct page *pg = &phys_buddy.pages[p];
		if (pg->flags & PG_RESERVED)
			return BLOCK_PAGES + 1;
		if (pg->flags & PG_FREE) {
			p += 1UL << pg->order;
		} else {
			used++;
			p++;
		}
	}
	return used;
}

struct mover {
	uint64_t pfn;			/* the block being emptied */
	int count;
	struct {
		struct vmspace *vs;
		uint64_t va;
		struct page *from;
	} maps[BLOCK_PAGES];
	bool unmovable;
};

/* Collect the PTEs of one address space that map frames of the block. */
static void
find_mappings(pte_t *pte, uint64_t va, int level, void *arg)
{
	struct mover *m = arg;
	uint64_t pfn = LEAF_ADDR(*pte, level) >> PGSHIFT;
	uint64_t npages = PS_SIZE(level) / PGSIZE;
	if (pfn + npages <= m->pfn || pfn >= m->pfn + BLOCK_PAGES)
		return;
	if (level > PS_4K || pa2page(pfn << PGSHIFT)->refcount != 1 || m->count == BLOCK_PAGES) {
		m->unmovable = true;		/* a superpage, or a shared frame */
		return;
	}
	m->maps[m->count].va = va;
	m->count++;
}

/* Blocks found unmovable lately (kernel pages in them): not chosen again for a while. */
#define UNMOVABLE_MEMORY 32
static uint64_t unmovable[UNMOVABLE_MEMORY];
static int unmovable_next;

static bool
known_unmovable(uint64_t pfn)
{
	for (int i = 0; i < UNMOVABLE_MEMORY; i++)
		if (unmovable[i] == pfn + 1)
			return true;
	return false;
}

/*
 * The partial 2 MiB reservation holding the block at pfn that the daemon may break to
 * compact it (one that has not grown since the previous pass), or NULL.
 */
static struct reserv *
idle_reservation(uint64_t pfn)
{
	struct reserv *rv = reserv_of_frame(pfn);
	if (rv && rv->order == PS_ORDER(PS_2M) && rv->on_queue && rv->stamp <= clock_at_last_pass)
		return rv;
	return NULL;
}

/*
 * The block with the fewest pages in use (> 0, at most limit) not known to be
 * unmovable, or -1.  Reserved frames stay where their offset says, so a block in a
 * reservation is a candidate only if idle_reservation allows breaking it.
 */
static int64_t
choose_block(uint64_t limit, uint64_t *used_out)
{
	int64_t best = -1;
	uint64_t best_used = limit + 1;
	for (uint64_t pfn = 0; pfn + BLOCK_PAGES <= phys_buddy.npages; pfn += BLOCK_PAGES) {
		if (known_unmovable(pfn))
			continue;
		uint64_t used;
		if (reserv_of_frame(pfn)) {
			struct reserv *rv = idle_reservation(pfn);
			if (!rv)
				continue;
			used = rv->popcnt;
		} else {
			used = block_used(pfn, best_used);
		}
		if (used > 0 && used < best_used) {
			best = (int64_t)pfn;
			best_used = used;
		}
	}
	*used_out = best_used;
	return best;
}

/*
 * Make sure free pieces smaller than 2 MiB outside the block at pfn can take its used
 * pages, breaking partial reservations (whose unused frames come back as such pieces)
 * if needed.  The block's own free pieces do not count: they are claimed.
 */
static bool
make_room(uint64_t pfn, uint64_t used)
{
	for (;;) {
		uint64_t own = reserv_of_frame(pfn) ? 0 : BLOCK_PAGES - used;
		if (small_free_pages() >= own + used)
			return true;
		if (!preempt(0))
			return false;
	}
}

/* A frame for a migrated page, never split off a free 2 MiB-or-larger block; NULL if none. */
static struct page *
destination_frame(void)
{
	return small_free_pages() > 0 ? page_alloc(0) : NULL;
}

static struct mover mover;		/* 12 KiB: too big for a kernel stack */

/*
 * Move every page out of the block at pfn (used pages in use) and free it.  1 on
 * success, 0 if the block cannot be emptied (kernel pages, page tables, shared
 * frames), -1 if there is no room for its pages now.
 */
static int
compact_block(uint64_t pfn, uint64_t used)
{
	struct buddy_claim claimed[BLOCK_PAGES];
	struct mover *m = &mover;

	memset(m, 0, sizeof *m);
	m->pfn = pfn;
	for (struct vmspace *vs = vm_first_space(); vs && !m->unmovable; vs = vs->next_live) {
		int before = m->count;
		pmap_foreach(&vs->pmap, 0, UTOP, find_mappings, m);
		for (int k = before; k < m->count; k++)
			m->maps[k].vs = vs;
	}
	if (m->unmovable || (uint64_t)m->count != used)
		return 0;			/* kernel pages, page tables or shared frames */
	if (!make_room(pfn, used))
		return -1;
	struct reserv *rv = reserv_of_frame(pfn);
	if (rv) {				/* idle, as choose_block checked: break it */
		if (pass_preempted == PREEMPTIONS_PER_PASS)
			return -1;
		reserv_break(rv);
		pass_preempted++;
		daemon_stats.preempted++;
	}
	int nclaimed = buddy_claim_within(&phys_buddy, pfn, 9, claimed, BLOCK_PAGES);
	if (nclaimed < 0)
		return 0;
	for (int k = 0; k < m->count; k++) {
		struct page *to = destination_frame();	/* cannot land in the claimed block */
		if (!to) {
			for (int i = 0; i < nclaimed; i++)	/* keep what moved; give the rest back */
				page_free(&phys_buddy.pages[claimed[i].pfn], claimed[i].order);
			for (int j = 0; j < k; j++)
				page_free(m->maps[j].from, 0);
			return -1;
		}
		/*
		 * The address space is not loaded: its TLB entries go at its next CR3 load.  The
		 * leaf is looked up again: a page-table design's write-through of an earlier move
		 * may have dropped other spaces' x86 caches for memory (kern/mm/pt/radix.c).
		 */
		int level;
		pte_t *pte = pmap_lookup(&m->maps[k].vs->pmap, m->maps[k].va, &level);
		KASSERT(pte && level == PS_4K, "compact_block: va 0x%lx is no longer mapped", m->maps[k].va);
		struct page *from = pa2page(PTE_ADDR(*pte));
		KASSERT(from->refcount == 1 && (*pte & PTE_P) && !(*pte & PTE_PS),
			"compact_block: va 0x%lx is not a private 4 KiB page (refcount %u)", m->maps[k].va,
			from->refcount);
		memcpy(page2kva(to), page2kva(from), PGSIZE);
		page_move_ref(from, to);
		m->maps[k].from = from;
		*pte = page2pa(to) | (*pte & ~PTE_ADDR_MASK);
		pmap_update(&m->maps[k].vs->pmap, m->maps[k].va, PS_4K);
		if (*pte & PTE_OVL)		/* an overlay page: its OMT entry too */
			pmap_overlay_moved(&m->maps[k].vs->pmap, m->maps[k].va, page2pa(to));
		daemon_stats.migrations++;
		pass_migrated++;
		vm_changed(m->maps[k].vs, m->maps[k].va, m->maps[k].va + PGSIZE);
	}
	page_free(pa2page(pfn << PGSHIFT), 9);	/* every page of the block is ours: free it whole */
	daemon_stats.compactions++;
	return 1;
}

static void
restore_contiguity(void)
{
	for (int n = 0; n < COMPACTIONS_PER_PASS && free_2m_blocks() < target_2m; n++) {
		uint64_t used, budget = MIGRATIONS_PER_PASS - pass_migrated;
		int64_t pfn = choose_block(MIN(MAX_CANDIDATE_USED, budget), &used);
		if (pfn < 0)
			return;
		int r = compact_block((uint64_t)pfn, used);
		if (r < 0) {
			daemon_stats.no_room++;	/* the fewest pages to move did not fit: none will */
			return;
		}
		if (r == 0) {
			daemon_stats.compaction_aborts++;
			unmovable[unmovable_next] = (uint64_t)pfn + 1;
			unmovable_next = (unmovable_next + 1) % UNMOVABLE_MEMORY;
		}
	}
}

/* ---- 3. speculative demotion and re-promotion ---- */

static void
remember_demoted(struct vmspace *vs, uint64_t va)
{
	for (int i = 0; i < DEMOTED_MAX; i++)
		if (!demoted[i].vs) {
			demoted[i].vs = vs;
			demoted[i].va = va;
			return;
		}
}

/* Whether the model TLB owns the accessed bit of the leaf of `size` bytes at va in vs. */
static bool
model_owns_accessed(struct vmspace *vs, uint64_t va, uint64_t size)
{
	return vs->tlb && va < vs->tlb->hi && va + size > vs->tlb->lo;
}

struct sample_ctx {
	struct vmspace *vs;
	uint64_t demote[BLOCK_PAGES];	/* 2 MiB pages to demote after the walk */
	int ndemote;
};

/* A 2 MiB mapping not referenced since the last pass is demoted; others are resampled. */
static void
sample_superpage(pte_t *pte, uint64_t va, int level, void *arg)
{
	struct sample_ctx *ctx = arg;
	if (level != PS_2M || model_owns_accessed(ctx->vs, va, PG2M))
		return;
	if (*pte & PTE_A) {
		*pte &= ~PTE_A;
		pmap_invalidate(&ctx->vs->pmap, va);
		daemon_stats.referenced_cleared++;
	} else if (ctx->ndemote < BLOCK_PAGES) {
		ctx->demote[ctx->ndemote++] = va;
	}
}

/* Clear the accessed bits the model TLB does not own (arg: the space). */
static void
clear_accessed(pte_t *pte, uint64_t va, int level, void *arg)
{
	struct vmspace *vs = arg;
	if (model_owns_accessed(vs, va, PS_SIZE(level)))
		return;
	*pte &= ~PTE_A;
	pmap_invalidate(&vs->pmap, va);
}

static struct sample_ctx sample;

static void
demote_unreferenced(void)
{
	for (struct vmspace *vs = vm_first_space(); vs; vs = vs->next_live) {
		sample.vs = vs;
		sample.ndemote = 0;
		pmap_foreach(&vs->pmap, 0, UTOP, sample_superpage, &sample);
		for (int k = 0; k < sample.ndemote; k++) {
			if (pmap_demote(&vs->pmap, sample.demote[k], PS_2M, DEMOTE_PRESSURE) < 0)
				return;
			pmap_foreach(&vs->pmap, sample.demote[k], sample.demote[k] + PG2M, clear_accessed, vs);
			remember_demoted(vs, sample.demote[k]);
			vm_changed(vs, sample.demote[k], sample.demote[k] + PG2M);
		}
	}
}

struct refcheck {
	struct vmspace *vs;
	int referenced;
};

static void
count_referenced(pte_t *pte, uint64_t va, int level, void *arg)
{
	struct refcheck *rc = arg;
	if (level == 0 && ((*pte & PTE_A) || model_owns_accessed(rc->vs, va, PGSIZE)))
		rc->referenced++;
}

/* Promote the pressure-demoted blocks whose pages were all referenced again. */
static void
repromote_referenced(void)
{
	for (int i = 0; i < DEMOTED_MAX; i++) {
		if (!demoted[i].vs)
			continue;
		struct refcheck rc = { demoted[i].vs, 0 };
		uint64_t va = demoted[i].va;
		pmap_foreach(&demoted[i].vs->pmap, va, va + PG2M, count_referenced, &rc);
		if (rc.referenced == BLOCK_PAGES && policy_promote(demoted[i].vs, va, PS_2M, false)) {
			daemon_stats.repromotions++;
			vm_changed(demoted[i].vs, va, va + PG2M);
			demoted[i].vs = NULL;
		}
	}
}

/* vs is going away: stop watching its blocks. */
static void
daemon_forget(struct vmspace *vs)
{
	for (int i = 0; i < DEMOTED_MAX; i++)
		if (demoted[i].vs == vs)
			demoted[i].vs = NULL;
}

void
daemon_pass(void)
{
	daemon_stats.passes++;
	pass_preempted = pass_migrated = 0;
	preempt_for_target();
	restore_contiguity();
	repromote_referenced();
	if (phys_free_pages() < low_pages)
		demote_unreferenced();
	clock_at_last_pass = reserv_clock();
	daemon_stats.last_preempted = pass_preempted;
	daemon_stats.last_migrated = pass_migrated;
	daemon_stats.max_pass_migrated = MAX(daemon_stats.max_pass_migrated, pass_migrated);
	daemon_stats.max_pass_preempted = MAX(daemon_stats.max_pass_preempted, pass_preempted);
}

void
daemon_tick(uint64_t now_ticks)
{
	if (now_ticks - last_pass < period)
		return;
	last_pass = now_ticks;
	daemon_pass();
}
