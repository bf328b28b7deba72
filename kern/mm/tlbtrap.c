/*
 * kern/mm/tlbtrap.c: trap-driven simulation of the model TLB (BadgerTrap, Gandhi et al.
 * 2014; Tapeworm, Uhlig et al.).
 *
 * QEMU's own TLB says nothing about a real one, so spos measures translation with a
 * model (kern/mm/lib/vtlb.c) that sees every access missing in it.  For a measured address
 * space, every user translation in the measured range that is not resident in the model
 * is kept "fake-invalid" in the hardware tables; an access to it traps; the trap
 * inserts the translation in the model and makes the entry valid again; when the model
 * evicts an entry, that entry is made fake-invalid again and flushed from the real TLB
 * (invlpg), so the real TLB never holds what the model does not, and hits never trap.
 *
 * The encoding: bit 51 of the leaf entry (PTE, or PDE/PDPTE of a superpage) set, P still
 * set.  Bit 51 is reserved whenever the CPU's physical-address width is below 52 bits
 * (QEMU: 40), so the walk raises #PF with PFERR_RSVD: a fake fault cannot be mistaken
 * for any other fault, and the entry stays "present" for the rest of the kernel —
 * fork, munmap, mprotect, promotion and demotion see an ordinary mapping.  (Clearing P
 * plus a software bit, the other choice, would make every present-check in the kernel
 * think twice.)  Physical addresses never reach bit 51 (PTE_ADDR_MASK stops at 50).
 *
 * Whenever the kernel changes mappings of a measured space (a fault resolved, a
 * promotion or demotion, munmap, mprotect, fork, migration), tlbtrap_sync drops the
 * model's entries overlapping the range reported and re-arms every present leaf
 * overlapping it, exactly as a real TLB is invalidated: the callers report the pages
 * whose translation changed -- the one 4 KiB page of a fault, a copy-on-write copy or a
 * migration -- and a superpage whole when it was promoted, demoted or rewritten (every
 * translation inside it changed; pmap_promote and pmap_demote also leave bit 51 clear,
 * so the whole new leaf must be re-armed).  A 4 KiB change inside a superpage that
 * stays cannot happen: the superpage is split first.  So a leaf in the measured range
 * is valid (bit 51 clear) exactly when the model holds it, which the invariant checker
 * verifies (kern/mm/invariant.c, vm.check=1 and kcheck); the one exception is the
 * pages an instruction being single-stepped is let use until it retires (below).
 *
 * The accessed bits of the leaves in the measured range belong to the model: CLOCK
 * replacement (referenced) reads and clears them to learn which entries were used
 * since it last looked, and the page daemon neither reads nor clears them there (it
 * takes those leaves as referenced, kern/mm/daemon.c).  Every clear is followed by
 * invlpg, so the next use walks and sets the bit again.
 *
 * What is counted: the lookups a textbook TLB of the model's geometry makes for the
 * process's user-mode accesses inside the measured range -- data loads and stores,
 * stack accesses, and instruction fetches if the code lies in the range -- each page
 * an instruction touches looked up once, in the order the CPU reaches them (for one
 * access straddling two pages, the lower first), and the instruction completed even
 * when a later page's refill evicts an earlier one (single-stepping after a refill,
 * see tlbtrap_fault; tests/tlbsim.c's tlbsim_instruction is the reference).  An access
 * that faults follows the textbook TLB too (tests/tlbsim_main.c's replay_script is the
 * reference): a walk that finds no present translation fills nothing, so a first touch
 * counts the one lookup after the fault mapped the page; a store to a copy-on-write
 * page counts its lookup before the protection fault (a hit if the entry was held) and
 * the one after the fault's invalidation of that page.  Not counted: kernel accesses
 * to user memory (copyin/copyout go through the direct map and are not TLB accesses of
 * the process; a copyout resolving a fault invalidates only that page), accesses
 * outside the range, the page walks' own memory references.  What still differs from
 * a textbook TLB:
 *  - CLOCK with an instruction that refills two or more pages of one set: each retry
 *    touches the instruction's earlier pages again, setting accessed bits that a
 *    victim search had cleared (a second chance a textbook TLB, which looks each page
 *    up once, would not give), and a later refill's victim search can clear the
 *    evicting page's accessed bit that tells whether a victim was used first.  Seen
 *    with user/tlbmovs (four pages per instruction, 3000 copies): 1 to 20 misses off
 *    in 6000-11000 with 3 to 8 entries of 3 or 4 ways; exact with 1 or 2 ways, and
 *    under fifo and random in every geometry tried;
 *  - at most STEP_MAX evictions are remembered per instruction (none touches as many
 *    pages); hits never trap, so replacement cannot be LRU (lib/vtlb.c).  Counts go to the model (global) and to the space's
 * struct tlb_measure.  tlb.mode=tag keeps entries across switches, tlb.mode=flush
 * (default) empties the model when another measured space runs.
 *
 * Tags.  In tag mode every live measured space needs a tag of its own: two spaces
 * sharing one see each other's entries, so an eviction re-arms the wrong space's
 * entry and an armed entry the model holds "resident" traps (vtlb_miss panics).  Pids
 * do not fit the model's 16-bit tags, so tags come from a free set of tlb.tags tags
 * (default and at most 65536; fewer make recycling quick to test), taken next-fit so a
 * freed tag rests before it is reused, and given back when the space stops measuring
 * (exit included).  Stopping flushes the tag's entries, and a reused tag is flushed
 * again, so a new owner never inherits an entry.  With no tag free, measuring fails
 * with -E_NO_MEM.  Flush mode needs no tags: every measured space uses tag 0.
 *
 * A bad tlb.* word (malformed, or a geometry out of range) stops the boot: a
 * measurement under another geometry than the one asked for would be silently wrong.
 */
#include "inc/error.h"
#include "inc/memlayout.h"
#include "inc/mmu.h"
#include "inc/string.h"
#include "inc/util.h"
#include "inc/x86.h"
#include "kern/cmdline.h"
#include "kern/console.h"
#include "kern/mm/kmalloc.h"
#include "kern/mm/pt/pt.h"
#include "kern/qemu.h"
#include "kern/mm/vm.h"
#include "kern/mm/tlbtrap.h"

#define TLB_TAGS_MAX	65536		/* every value of the model's 16-bit tag */

struct vtlb tlb_model;
bool tlbtrap_available;
struct vtlb tlb_shadow;
bool tlb_shadow_on;
static struct vmspace *last_measured;	/* flush mode: whose entries the model holds */
static uint64_t tag_used[TLB_TAGS_MAX / 64];	/* tag mode: bit t set while tag t is taken */
static uint32_t ntags = TLB_TAGS_MAX;	/* tags 0 .. ntags-1 are handed out */
static uint32_t tag_next;		/* where the next-fit search for a free tag starts */
static struct vmspace *space_of(uint16_t asid);

/* The instruction being single-stepped after a refill (see tlbtrap_fault). */
#define STEP_MAX	16		/* far more than the pages one instruction touches */
#define NMODELS		2		/* the primary model and the shadow (below) */

static struct {
	struct vmspace *vs;		/* the space whose instruction is stepped; NULL: none */
	uint64_t user_flags;		/* the user's own TF and IF, given back at the end */
	int nevicted, nkept;
	struct {
		uint64_t va, by;	/* page va (of vs) was evicted by the refill of page by */
		int model;		/* in models[model] */
	} evicted[STEP_MAX];
	uint64_t kept[STEP_MAX];	/* evicted pages it used first, valid until it retires */
	int nlooked[NMODELS];
	uint64_t looked[NMODELS][STEP_MAX];	/* pages each model looked up at its traps */
} step;

/*
 * The shadow model (issue 9: two TLB designs compared on one run of a workload).
 *
 * Boot words tlb.shadow.4k=, tlb.shadow.2m=, tlb.shadow.1g= (the syntax of tlb.4k; any
 * of them turns it on; a size not given copies the primary's geometry) give every
 * measured space a second model, tlb_shadow, with the same tags and flushes as
 * tlb_model.  A leaf in the measured range is valid only while it is resident in BOTH
 * models, so every access that misses in either traps.  On a trap each model that does
 * not hold the translation takes a vtlb_miss; one that holds it hit and counts nothing
 * (hits are not counted: they do not trap in a single model either).  So each model's
 * traps, misses and evictions are those of a run with that model alone, and
 * tlb_measure.fake_faults counts the traps themselves.  Victims of either model are
 * re-armed (none is resident in both); invalidation, switches, stops and tags act on
 * both.
 *
 * Single-stepping (below) keeps its bookkeeping per model: a victim is remembered with
 * the model that evicted it, and on the retry's trap each model decides alone whether
 * it hit, used the page before evicting it (no count) or misses -- a page kept valid
 * for one model's sake still counts a miss in the other.  Both read the same accessed
 * bit of the evicting page; that is exact for the same reason as with one model, and
 * carries the same CLOCK caveat (a victim search clears it; with two CLOCK models
 * there are two searches per refill to clear it).  One thing is new with two models:
 * a page kept valid for model A's sake can be evicted by model B and trap again later
 * in the same instruction, when the accessed bit A's record points at has long been
 * set by the retries.  So each model also lists the pages it looked up at this
 * instruction's traps (step.looked): a page it already looked up is never counted
 * again before the instruction retires -- a textbook TLB looks each page up once.
 * This matters with one model too: a movsq whose load and store both straddle (four
 * pages) evicts a page several times, and with one or two ways the oldest record of
 * it named a page the retries had reached since: the store's two pages evicted each
 * other forever.
 *
 * CLOCK.  Each model must see every use of a translation since its own last look, but
 * there is one hardware accessed bit.  With the shadow on, a model that reads and
 * clears PTE_A passes the use on to the other in a software bit of the leaf
 * (seen_by[other]); a refill that clears PTE_A passes it on to both.
 */
static struct vtlb *const models[NMODELS] = { &tlb_model, &tlb_shadow };
/* Bits 52, 53: ignored by the MMU in a leaf, and clear of the address and PTE_AVAIL. */
static const uint64_t seen_by[NMODELS] = { 1ull << 52, 1ull << 53 };

/* How many models measure: the primary, and the shadow when it is on. */
static int
nmodels(void)
{
	return tlb_shadow_on ? 2 : 1;
}

/* Whether every model holds the translation of va (size, tag asid): its leaf is valid. */
static bool
resident_all(uint64_t va, enum page_size size, uint16_t asid)
{
	for (int m = 0; m < nmodels(); m++)
		if (!vtlb_resident(models[m], va, size, asid))
			return false;
	return true;
}

static const char *const repl_names[] = { "fifo", "random", "clock" };
static const char *const size_names[] = { "4k", "2m", "1g" };
static const uint16_t max_entries[PS_NSIZES] = { VTLB_MAX_4K, VTLB_MAX_2M, VTLB_MAX_1G };

/*
 * The address space an entry tagged asid belongs to, or NULL.  Untagged (flush mode),
 * every entry belongs to the one space whose entries the model holds.
 */
static struct vmspace *
space_of(uint16_t asid)
{
	if (!tlb_model.cfg.tag_by_asid)
		return last_measured;
	for (struct vmspace *vs = vm_first_space(); vs; vs = vs->next_live)
		if (vs->tlb && vs->tlb->asid == asid)
			return vs;
	return NULL;
}

/* The leaf entry mapping va in vs and its size, or NULL. */
static pte_t *
leaf(struct vmspace *vs, uint64_t va, enum page_size *size)
{
	int level;
	pte_t *pte = pmap_lookup(&vs->pmap, va, &level);
	if (!pte || !(*pte & PTE_P))
		return NULL;
	*size = (enum page_size)level;
	return pte;
}

/* The hardware leaf behind a model entry (asid, va), with its space in *owner; or NULL. */
static pte_t *
entry_leaf(uint16_t asid, uint64_t va, struct vmspace **owner)
{
	enum page_size size;
	*owner = space_of(asid);
	return *owner ? leaf(*owner, va, &size) : NULL;
}

/*
 * CLOCK: was e's translation used since model ctx (models[i]) last looked?  Read and
 * clear the A bit, which the model owns on the measured range (the daemon leaves it
 * alone there), and with the shadow on, pass a use on to the other model (see above).
 * take_accessed does it for one leaf pte (mapping va of vs) for models[m]; referenced
 * asks every PTE of an overlaid page for its 2 MiB entry.
 */
static bool
take_accessed(struct vmspace *vs, pte_t *pte, uint64_t va, int m)
{
	if (tlb_shadow_on && !(*pte & PTE_A)) {
		bool seen = *pte & seen_by[m];
		*pte &= ~seen_by[m];
		return seen;
	}
	if (!(*pte & PTE_A))
		return false;
	*pte &= ~(PTE_A | seen_by[m]);
	if (tlb_shadow_on)
		*pte |= seen_by[!m];
	pmap_invalidate(&vs->pmap, va);		/* the next use walks and sets A again */
	return true;
}

static bool
referenced(void *ctx, const struct vtlb_entry *e)
{
	struct vmspace *vs;
	uint64_t va = vtlb_entry_va(e);
	pte_t *pte = entry_leaf(e->asid, va, &vs);
	int m = ctx == &tlb_shadow;
	if (!pte)
		return false;
	if (e->size != PS_2M || !(*pte & PTE_OVL))
		return take_accessed(vs, pte, va, m);
	bool used = false;	/* an overlaid page: any of its 512 PTEs (pte is the first) */
	for (unsigned j = 0; j < NPTENTRIES; j++)
		used |= take_accessed(vs, &pte[j], va + j * PGSIZE, m);
	return used;
}

/* Stop the boot over the tlb.* word key=v, saying why (see the top of the file). */
static void __attribute__((noreturn))
bad_word(const char *key, const char *v, const char *why, unsigned long n, unsigned long max)
{
	cprintf("tlb: bad %s=%s: ", key, v);
	cprintf(why, n, max);
	cprintf("; not booting\n");
	qemu_exit(QEMU_EXIT_FAILURE);
}

/*
 * Parse key=ENTRIES[:WAYS[:REPL[:SEED]]] into g, the geometry of TLB size k; what is
 * left out keeps g's value.  Stops the boot on a malformed word, entries outside
 * 1..VTLB_MAX_* of that size, or ways that do not divide the entries.
 */
static void
parse_geometry(const char *key, enum page_size k, struct vtlb_geometry *g)
{
	const char *v = cmdline_get(key);
	unsigned long entries, ways = g->ways;
	char *end;
	if (!v)
		return;
	struct vtlb_geometry n = *g;
	entries = strtoul(v, &end, 10);
	if (end == v)
		bad_word(key, v, "no number of entries", 0, 0);
	if (*end == ':')
		ways = strtoul(end + 1, &end, 10);
	if (*end == ':') {
		const char *r = end + 1;
		for (int i = 0; i < 3; i++)
			if (strncmp(r, repl_names[i], strlen(repl_names[i])) == 0) {
				n.repl = (enum vtlb_repl)i;
				end = (char *)r + strlen(repl_names[i]);
			}
	}
	if (*end == ':')
		n.seed = strtoul(end + 1, &end, 0);
	if (*end != '\0')
		bad_word(key, v, "malformed (ENTRIES:WAYS:fifo|random|clock:SEED)", 0, 0);
	if (entries < 1 || entries > max_entries[k])
		bad_word(key, v, "%lu entries, at most %lu", entries, max_entries[k]);
	if (ways < 1 || entries % ways != 0)
		bad_word(key, v, "%lu ways do not divide %lu entries", ways, entries);
	n.entries = (uint16_t)entries;
	n.ways = (uint16_t)ways;
	*g = n;
}

/* Mapping changes and departures of address spaces reach the model through vm. */
static const struct vm_observer tlbtrap_observer = { tlbtrap_sync, tlbtrap_stop };

void
tlbtrap_init(void)
{
	vm_observe(&tlbtrap_observer);
	uint32_t a;
	cpuid(0x80000000, 0, &a, NULL, NULL, NULL);
	uint32_t phys_bits = 36;
	if (a >= 0x80000008) {
		cpuid(0x80000008, 0, &a, NULL, NULL, NULL);
		phys_bits = a & 0xFF;
	}
	tlbtrap_available = phys_bits < 52;
	struct vtlb_config c;
	vtlb_default_config(&c);
	parse_geometry("tlb.4k", PS_4K, &c.tlb[PS_4K]);
	parse_geometry("tlb.2m", PS_2M, &c.tlb[PS_2M]);
	parse_geometry("tlb.1g", PS_1G, &c.tlb[PS_1G]);
	const char *mode = cmdline_get("tlb.mode");
	c.tag_by_asid = mode && strcmp(mode, "tag") == 0;
	const char *tags = cmdline_get("tlb.tags");
	if (tags) {
		char *end;
		unsigned long n = strtoul(tags, &end, 10);
		if (end == tags || *end != '\0' || n < 1 || n > TLB_TAGS_MAX)
			bad_word("tlb.tags", tags, "%lu tags, at least 1 and at most %lu", n, TLB_TAGS_MAX);
		ntags = (uint32_t)n;
	}
	vtlb_init(&tlb_model, &c, referenced, &tlb_model);
	const char *shadow_words[PS_NSIZES] = { "tlb.shadow.4k", "tlb.shadow.2m", "tlb.shadow.1g" };
	for (int k = 0; k < PS_NSIZES; k++) {
		tlb_shadow_on |= cmdline_get(shadow_words[k]) != NULL;
		parse_geometry(shadow_words[k], (enum page_size)k, &c.tlb[k]);
	}
	if (tlb_shadow_on)
		vtlb_init(&tlb_shadow, &c, referenced, &tlb_shadow);
	if (!tlbtrap_available)
		cprintf("tlb: %u physical address bits: no reserved bit for traps, measuring off\n", phys_bits);
}

/* ---- tags ---- */

/* Take a free tag (next-fit) and flush whatever the model holds under it; -E_NO_MEM if none. */
static int
tag_alloc(void)
{
	for (uint32_t i = 0; i < ntags; i++) {
		uint32_t t = (tag_next + i) % ntags;
		if (tag_used[t / 64] & (1ull << (t % 64)))
			continue;
		tag_used[t / 64] |= 1ull << (t % 64);
		tag_next = (t + 1) % ntags;
		for (int m = 0; m < nmodels(); m++)
			vtlb_flush_asid(models[m], (uint16_t)t);
		return (int)t;
	}
	return -E_NO_MEM;
}

/* Give tag t back; its entries were flushed. */
static void
tag_free(uint16_t t)
{
	if (!(tag_used[t / 64] & (1ull << (t % 64))))
		panic("tlbtrap: tag %u freed but not taken", t);
	tag_used[t / 64] &= ~(1ull << (t % 64));
}

/* ---- arming and disarming ---- */

struct arm_ctx {
	uint64_t lo, hi;
	bool set;
	struct pmap *pmap;
};

static void
arm_leaf(pte_t *pte, uint64_t va, int level, void *arg)
{
	(void)level;
	struct arm_ctx *ctx = arg;
	if (ctx->set)
		*pte |= PTE_TRAP;
	else
		*pte &= ~PTE_TRAP;
	pmap_invalidate(ctx->pmap, va);
}

/* Set or clear the trap bit on every present leaf overlapping [lo, hi) ∩ the measured range. */
static void
arm_range(struct vmspace *vs, uint64_t lo, uint64_t hi, bool set)
{
	struct arm_ctx ctx = { MAX(lo, vs->tlb->lo), MIN(hi, vs->tlb->hi), set, &vs->pmap };
	if (ctx.lo >= ctx.hi)
		return;
	pmap_foreach(&vs->pmap, ctx.lo, ctx.hi, arm_leaf, &ctx);	/* superpages whole, none demoted */
}

int
tlbtrap_start(struct vmspace *vs, uint64_t lo, uint64_t hi)
{
	if (!tlbtrap_available)
		return -E_NO_SYS;
	if (lo == 0 && hi == 0)
		hi = UTOP;
	if (lo >= hi || hi > UTOP)
		return -E_INVAL;
	if (vs->tlb)
		tlbtrap_stop(vs);
	struct tlb_measure *tm = kmalloc(sizeof *tm);
	if (!tm)
		return -E_NO_MEM;
	memset(tm, 0, sizeof *tm);
	tm->lo = ROUNDDOWN(lo, PGSIZE);
	tm->hi = ROUNDUP(hi, PGSIZE);
	if (tlb_model.cfg.tag_by_asid) {
		int tag = tag_alloc();
		if (tag < 0) {
			kfree(tm);
			return tag;
		}
		tm->asid = (uint16_t)tag;
	}
	vs->tlb = tm;
	if (!tlb_model.cfg.tag_by_asid)
		tlbtrap_switch(vs);			/* the model now holds only vs's entries */
	arm_range(vs, 0, UTOP, true);
	return 0;
}

void
tlbtrap_stop(struct vmspace *vs)
{
	if (!vs->tlb)
		return;
	if (step.vs == vs)
		step.vs = NULL;		/* its deferred victims are disarmed below anyway */
	arm_range(vs, 0, UTOP, false);
	for (int m = 0; m < nmodels(); m++)
		vtlb_flush_asid(models[m], vs->tlb->asid);
	if (tlb_model.cfg.tag_by_asid)
		tag_free(vs->tlb->asid);
	if (last_measured == vs)
		last_measured = NULL;
	kfree(vs->tlb);
	vs->tlb = NULL;
}

/* ---- the trap ---- */

/*
 * An instruction that touches several pages (a load straddling two, or a fetch from one
 * and a load from another) traps once per page it misses, and each trap's retry
 * re-executes the whole instruction.  A textbook TLB looks its pages up once each, in
 * program order, and completes it: a page it used before a later page's refill evicted
 * it is not looked up again.  Re-arming such a victim at once would make the retry miss
 * on it again -- counted twice, and, when the instruction needs more pages than the set
 * has ways, never completing.
 *
 * So after every refill the process returns to user mode for one instruction with TF
 * set (single-step) and IF clear, until the debug trap after it retires
 * (tlbtrap_retire).  A victim of its own space is re-armed at once, but remembered with
 * the page whose refill evicted it, whose accessed bit the refill clears.  When the
 * retry traps on that victim: if the evicting page's accessed bit is still clear, the
 * instruction reached the victim before it (program order, which is the CPU's access
 * order), so the textbook TLB used the victim before evicting it: it is made valid
 * without a count and kept so until the instruction retires.  If the bit is set, the
 * instruction came to the victim after the evicting page: a real miss.  With IF clear
 * nothing else runs in between -- no timer, so no other measured space can flush or
 * evict what the refill put in before the access completes.  Victims of other spaces
 * are re-armed at once: this instruction does not use them.  Beyond STEP_MAX evictions
 * in one instruction (none touches that many pages) victims are simply re-armed.
 */

/* Whether va is one of the n pages of list. */
static bool
listed(const uint64_t *list, int n, uint64_t va)
{
	for (int i = 0; i < n; i++)
		if (list[i] == va)
			return true;
	return false;
}

/*
 * Overlaid 2 MiB pages (kern/mm/pt/overlay.c).  To the models an overlaid page is what
 * the seed's hardware sees: one 2 MiB translation of the shared frame whose entry
 * carries a copy of the OBV (taken at the refill), and 4 KiB overlay entries, filled by
 * OMT walks, for the overlaid segments (lib/vtlb.c does the lookups and counts OMT
 * walks).  The MMU walks the block's 512 PTEs instead, so their trap bits follow the
 * models: a segment's PTE is valid exactly when an access to it hits in every model --
 * the 2 MiB entry resident and, for an overlaid segment, its overlay entry too
 * (vtlb_resident).  Whenever the models' entries for the block may have changed (a
 * refill, a victim, a sync), sync_overlaid derives all 512 again; a page the stepped
 * instruction keeps is left valid until it retires.  A write that overlays a segment
 * (or changes its overlay) keeps the 2 MiB entry: as the seed's OS does, the OBV of the
 * resident entry is updated in place and the segment's overlay entry dropped
 * (tlbtrap_sync).  CLOCK reads the accessed bits of all 512 PTEs for the 2 MiB entry.
 */

/* The overlay record when pte (mapping va of vs) lies in an overlaid page, else NULL. */
static struct overlay *
overlay_of(struct vmspace *vs, const pte_t *pte, uint64_t va)
{
	return (*pte & PTE_OVL) ? pmap_overlay_at(&vs->pmap, va) : NULL;
}

/* Derive the trap bits of ov's 512 PTEs in vs from the models (see above). */
static void
sync_overlaid(struct vmspace *vs, const struct overlay *ov)
{
	int level;
	pte_t *table = pmap_lookup(&vs->pmap, ov->va, &level);	/* segment 0, the table's first entry */
	bool stepped = step.vs == vs;
	for (unsigned j = 0; j < NPTENTRIES; j++) {
		uint64_t seg = ov->va + j * PGSIZE;
		if (seg < vs->tlb->lo || seg >= vs->tlb->hi)
			continue;
		if (resident_all(seg, PS_2M, vs->tlb->asid)) {
			table[j] &= ~PTE_TRAP;
		} else if (!(table[j] & PTE_TRAP) &&
			   !(stepped && (listed(step.kept, step.nkept, seg) || listed(step.kept, step.nkept, ov->va)))) {
			table[j] |= PTE_TRAP;
			pmap_invalidate(&vs->pmap, seg);
		}
	}
}

/* Make (asid, va) fake-invalid again and flush it from the real TLB, unless resident in all models. */
static void
rearm_victim(uint16_t asid, uint64_t va)
{
	struct vmspace *owner = space_of(asid);
	enum page_size size;
	pte_t *pte = owner ? leaf(owner, va, &size) : NULL;
	if (!pte)
		return;
	struct overlay *ov = overlay_of(owner, pte, va);
	if (ov) {
		sync_overlaid(owner, ov);
		return;
	}
	if (resident_all(va, size, asid))
		return;
	*pte |= PTE_TRAP;
	pmap_invalidate(&owner->pmap, va);	/* invlpg: it must trap again */
}

/*
 * Whether the stepped instruction of vs used page va (trapping now, for the first time
 * in this instruction: see step.looked) before the refill that last evicted it from
 * models[m]: that refill's page was not accessed since.  A page can be evicted twice in
 * one instruction (refilled after its first eviction as a real miss, then evicted again
 * by a later page): only the latest eviction says whether the retry reached it first.
 * Judging by the first made an instruction touching more pages than its set has ways
 * miss on such a page forever.
 */
static bool
used_before_eviction(struct vmspace *vs, int m, uint64_t va)
{
	enum page_size size;
	for (int i = step.nevicted; i-- > 0;) {		/* its latest eviction decides */
		if (step.evicted[i].va != va || step.evicted[i].model != m)
			continue;
		pte_t *by = leaf(vs, step.evicted[i].by, &size);
		return by && !(*by & PTE_A);
	}
	return false;
}

/*
 * A miss of page (va in it, mapped with size; obv: an overlaid page's, or NULL) of vs
 * in models[m]: refill, re-arm the victims, and remember those of vs for the stepped
 * instruction.
 */
static void
model_miss(struct vmspace *vs, int m, uint64_t va, enum page_size size, const uint64_t *obv, uint64_t page)
{
	struct vtlb_victim victims[VTLB_MAX_VICTIMS];
	struct vtlb_access a = { .va = va, .size = size, .obv = obv, .asid = vs->tlb->asid,
				 .acct = m == 0 ? &vs->tlb->stats : &vs->tlb->shadow_stats };
	uint64_t missed = a.acct->misses[0] + a.acct->misses[1] + a.acct->misses[2];
	int n = vtlb_miss(models[m], &a, victims);
	missed = a.acct->misses[0] + a.acct->misses[1] + a.acct->misses[2] - missed;
	if (m == 0 && missed)	/* what the active design's walk reads (pt=; 0 under radix) */
		vs->tlb->pt_refs += missed * pmap_lookup_refs(&vs->pmap, va);
	for (int i = 0; i < n; i++) {
		rearm_victim(victims[i].asid, victims[i].va);
		if (space_of(victims[i].asid) == vs && step.nevicted < STEP_MAX) {
			step.evicted[step.nevicted].va = victims[i].va;
			step.evicted[step.nevicted].model = m;
			step.evicted[step.nevicted++].by = page;
		}
	}
}

bool
tlbtrap_fault(struct vmspace *vs, uint64_t va, uint64_t *rflags)
{
	enum page_size size;
	pte_t *pte = vs->tlb ? leaf(vs, va, &size) : NULL;
	if (!pte || !(*pte & PTE_TRAP))
		return false;
	/*
	 * page names the model entry the access needs: the leaf's; in an overlaid page the
	 * 2 MiB entry, or the segment's overlay entry for an overlaid segment.  probe is
	 * what vtlb_resident looks up (in an overlaid page, the segment itself).
	 */
	struct overlay *ov = overlay_of(vs, pte, va);
	size = pmap_leaf_size(*pte, size);
	uint64_t probe = ov ? ROUNDDOWN(va, PGSIZE) : ROUNDDOWN(va, PS_SIZE(size));
	uint64_t page = ov && !pmap_overlay_has(ov, va) ? ov->va : probe;
	if (step.vs != vs) {
		tlbtrap_retire(step.vs, NULL);
		step.vs = vs;
		step.user_flags = *rflags & (FL_TF | FL_IF);
		step.nevicted = step.nkept = 0;
		for (int m = 0; m < NMODELS; m++)
			step.nlooked[m] = 0;
	}
	vs->tlb->fake_faults++;
	bool refilled = false, kept = false;
	for (int m = 0; m < nmodels(); m++) {
		bool looked = listed(step.looked[m], step.nlooked[m], page);
		if (!looked && step.nlooked[m] < STEP_MAX)
			step.looked[m][step.nlooked[m]++] = page;
		if (vtlb_resident(models[m], probe, size, vs->tlb->asid))
			continue;			/* a hit in this model */
		if (step.nkept < STEP_MAX && (looked || used_before_eviction(vs, m, page))) {
			kept = true;
			continue;
		}
		model_miss(vs, m, va, size, ov ? ov->obv : NULL, page);
		refilled = true;
	}
	if (!refilled && !kept)
		panic("tlbtrap: va 0x%lx (size %d, tag %u) is resident in every model, it cannot trap", va,
		      (int)size, vs->tlb->asid);
	if (kept && !listed(step.kept, step.nkept, page))
		step.kept[step.nkept++] = page;
	if (ov)
		sync_overlaid(vs, ov);		/* a 2 MiB refill validates the other segments too */
	*pte &= ~PTE_TRAP;
	if (refilled) {
		if (tlb_shadow_on && (*pte & PTE_A))
			*pte |= seen_by[0] | seen_by[1];
		*pte &= ~PTE_A;			/* set again when the retry reaches it */
	}
	*rflags = (*rflags | FL_TF) & ~FL_IF;
	return true;
}

bool
tlbtrap_retire(struct vmspace *vs, uint64_t *rflags)
{
	if (!vs || step.vs != vs)
		return false;
	step.vs = NULL;
	for (int i = 0; i < step.nkept; i++)
		rearm_victim(vs->tlb->asid, step.kept[i]);
	if (!rflags)
		return false;
	*rflags = (*rflags & ~(FL_TF | FL_IF)) | step.user_flags;
	return !(step.user_flags & FL_TF);
}

void
tlbtrap_sync(struct vmspace *vs, uint64_t start, uint64_t end)
{
	if (!vs->tlb)
		return;
	start = ROUNDDOWN(start, PGSIZE);
	end = ROUNDUP(end, PGSIZE);
	enum page_size size;
	pte_t *pte = leaf(vs, start, &size);
	struct overlay *ov = pte ? overlay_of(vs, pte, start) : NULL;
	if (ov && end - start == PGSIZE) {
		/* a segment overlaid or its overlay changed: the OBV updated in place (above) */
		for (int m = 0; m < nmodels(); m++) {
			vtlb_set_obv(models[m], ov->va, vs->tlb->asid, ov->obv);
			vtlb_invalidate_size(models[m], start, PS_4K, vs->tlb->asid);
		}
		sync_overlaid(vs, ov);
		return;
	}
	if (ov)				/* an overlaid page is one translation: all of it goes */
		start = ov->va;
	if ((pte = leaf(vs, end - 1, &size)) && (*pte & PTE_OVL))
		end = ROUNDUP(end, PG2M);
	for (int m = 0; m < nmodels(); m++)
		vtlb_invalidate_range(models[m], start, end - start, vs->tlb->asid);
	arm_range(vs, start, end, true);
}

/* Flush mode: re-arm the traps of the entries the model drops for another space. */
static void
rearm_entry(void *arg, const struct vtlb_entry *e)
{
	(void)arg;
	struct vmspace *owner;
	uint64_t va = vtlb_entry_va(e);
	pte_t *pte = entry_leaf(e->asid, va, &owner);
	if (pte && (*pte & PTE_OVL))	/* an overlaid page: every segment in the range */
		arm_range(owner, ROUNDDOWN(va, PG2M), ROUNDDOWN(va, PG2M) + PG2M, true);
	else if (pte)
		*pte |= PTE_TRAP;	/* not loaded: the CR3 load flushes its real TLB */
}

void
tlbtrap_switch(struct vmspace *vs)
{
	if (!vs->tlb || tlb_model.cfg.tag_by_asid || vs == last_measured)
		return;
	if (last_measured) {
		vtlb_foreach(&tlb_model, rearm_entry, NULL);	/* every valid leaf is held by it */
		for (int m = 0; m < nmodels(); m++)
			vtlb_flush(models[m]);
	}
	last_measured = vs;
}

struct vmspace *
tlbtrap_owner(void)
{
	return tlb_model.cfg.tag_by_asid ? NULL : last_measured;
}

bool
tlbtrap_resident(struct vmspace *vs, uint64_t va, enum page_size size)
{
	return resident_all(va, size, vs->tlb->asid);
}

void
tlbtrap_read(struct vmspace *vs, struct tlb_stats *out)
{
	memset(out, 0, sizeof *out);
	if (!vs->tlb)
		return;
	const struct vtlb_stats *s = &vs->tlb->stats, *sh = &vs->tlb->shadow_stats;
	out->traps = s->traps;
	for (int k = 0; k < PS_NSIZES; k++) {
		out->misses[k] = s->misses[k];
		out->evictions[k] = s->evictions[k];
		out->shadow_misses[k] = sh->misses[k];
		out->shadow_evictions[k] = sh->evictions[k];
	}
	out->walk_refs = s->walk_refs;
	out->omt_walks = s->omt_walks;
	out->real_faults = vs->tlb->real_faults;
	out->fake_faults = vs->tlb->fake_faults;
	out->shadow = tlb_shadow_on;
	out->shadow_traps = sh->traps;
	out->shadow_walk_refs = sh->walk_refs;
	out->pt_refs = vs->tlb->pt_refs;
}

/* The geometry and global counts of model t, called name (monitor `tlb`). */
static void
print_model(const char *name, const struct vtlb *t)
{
	const struct vtlb_config *c = &t->cfg;
	cprintf("%s (%s, %s):", name, tlbtrap_available ? "available" : "unavailable",
		c->tag_by_asid ? "tagged" : "flushed on switch");
	for (int k = 0; k < PS_NSIZES; k++)
		cprintf(" %s %u entries %u-way %s;", size_names[k], c->tlb[k].entries, c->tlb[k].ways,
			repl_names[c->tlb[k].repl]);
	const struct vtlb_stats *s = &t->stats;
	cprintf("\ntraps %lu; misses 4k %lu 2m %lu 1g %lu; evictions 4k %lu 2m %lu 1g %lu; walk refs %lu; "
		"OMT walks %lu; flushes %lu\n", s->traps, s->misses[0], s->misses[1], s->misses[2],
		s->evictions[0], s->evictions[1], s->evictions[2], s->walk_refs, s->omt_walks, s->flushes);
}

void
tlbtrap_print(bool reset)
{
	print_model("model TLB", &tlb_model);
	if (tlb_shadow_on)
		print_model("shadow model TLB", &tlb_shadow);
	for (struct vmspace *vs = vm_first_space(); vs; vs = vs->next_live) {
		if (!vs->tlb)
			continue;
		cprintf("  pid %ld measured %lx-%lx: traps %lu, misses 4k %lu 2m %lu 1g %lu, real faults %lu\n",
			(long)vs->pid, vs->tlb->lo, vs->tlb->hi, vs->tlb->stats.traps, vs->tlb->stats.misses[0],
			vs->tlb->stats.misses[1], vs->tlb->stats.misses[2], vs->tlb->real_faults);
		if (tlb_shadow_on)
			cprintf("  pid %ld shadow: traps %lu, misses 4k %lu 2m %lu 1g %lu; traps taken %lu\n",
				(long)vs->pid, vs->tlb->shadow_stats.traps, vs->tlb->shadow_stats.misses[0],
				vs->tlb->shadow_stats.misses[1], vs->tlb->shadow_stats.misses[2], vs->tlb->fake_faults);
	}
	if (reset) {
		for (int m = 0; m < nmodels(); m++)
			memset(&models[m]->stats, 0, sizeof models[m]->stats);
	}
}
