/*
 * kern/tlbtrap.c: trap-driven simulation of the model TLB (BadgerTrap, Gandhi et al.
 * 2014; Tapeworm, Uhlig et al.).
 *
 * QEMU's own TLB says nothing about a real one, so spos measures translation with a
 * model (kern/vtlb.c) that sees every access missing in it.  For a measured address
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
 * model's entries for the range and re-arms its traps, as a real TLB is invalidated.
 * Kernel accesses to user memory (copyin/copyout) go through the direct map and are
 * not TLB accesses of the process.  Counts go to the model (global) and to the space's
 * struct tlb_measure.  ASIDs are pids; tlb.mode=tag keeps entries across switches,
 * tlb.mode=flush (default) empties the model when another measured space runs.
 */
#include "inc/error.h"
#include "inc/memlayout.h"
#include "inc/mmu.h"
#include "inc/string.h"
#include "inc/util.h"
#include "inc/x86.h"
#include "kern/cmdline.h"
#include "kern/console.h"
#include "kern/kmalloc.h"
#include "kern/pmap.h"
#include "kern/proc.h"
#include "kern/vm.h"
#include "kern/tlbtrap.h"

struct vtlb tlb_model;
bool tlbtrap_available;
static struct vmspace *last_measured;	/* flush mode: whose entries the model holds */
static struct vmspace *space_of(uint16_t asid);

static const char *const repl_names[] = { "fifo", "random", "clock" };
static const char *const size_names[] = { "4k", "2m", "1g" };

/*
 * The address space an entry tagged asid belongs to, or NULL.  Untagged (flush mode),
 * every entry belongs to the one space whose entries the model holds.
 */
static struct vmspace *
space_of(uint16_t asid)
{
	if (!tlb_model.cfg.tag_by_asid)
		return last_measured;
	for (int i = 0; i < NPROC; i++)
		if (procs[i].state != P_FREE && procs[i].vm && procs[i].vm->tlb && procs[i].vm->tlb->asid == asid)
			return procs[i].vm;
	return NULL;
}

/* The leaf entry mapping va in vs and its size, or NULL. */
static pte_t *
leaf(struct vmspace *vs, uint64_t va, enum vtlb_size *size)
{
	int level;
	pte_t *pte = pmap_lookup(vs->pml4_pa, va, &level);
	if (!pte || !(*pte & PTE_P))
		return NULL;
	*size = (enum vtlb_size)level;
	return pte;
}

/* The hardware leaf behind a model entry (asid, va), with its space in *owner; or NULL. */
static pte_t *
entry_leaf(uint16_t asid, uint64_t va, struct vmspace **owner)
{
	enum vtlb_size size;
	*owner = space_of(asid);
	return *owner ? leaf(*owner, va, &size) : NULL;
}

/* CLOCK: was e's translation used since we last looked?  Read and clear the A bit. */
static bool
referenced(void *ctx, const struct vtlb_entry *e)
{
	(void)ctx;
	struct vmspace *vs;
	pte_t *pte = entry_leaf(e->asid, vtlb_entry_va(e), &vs);
	if (!pte || !(*pte & PTE_A))
		return false;
	*pte &= ~PTE_A;
	pmap_invalidate(vs->pml4_pa, vtlb_entry_va(e));	/* the next use walks and sets A again */
	return true;
}

/* Parse "ENTRIES:WAYS:REPL[:SEED]" into g; keep g on a malformed value. */
static void
parse_geometry(const char *key, struct vtlb_geometry *g)
{
	const char *v = cmdline_get(key);
	char *end;
	if (!v)
		return;
	struct vtlb_geometry n = *g;
	n.entries = (uint16_t)strtoul(v, &end, 10);
	if (*end == ':')
		n.ways = (uint16_t)strtoul(end + 1, &end, 10);
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
	if (n.entries == 0 || n.ways == 0 || n.entries % n.ways != 0 || *end != '\0') {
		cprintf("tlb: ignoring malformed %s=%s\n", key, v);
		return;
	}
	*g = n;
}

void
tlbtrap_init(void)
{
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
	parse_geometry("tlb.4k", &c.tlb[VTLB_4K]);
	parse_geometry("tlb.2m", &c.tlb[VTLB_2M]);
	parse_geometry("tlb.1g", &c.tlb[VTLB_1G]);
	const char *mode = cmdline_get("tlb.mode");
	c.tag_by_asid = mode && strcmp(mode, "tag") == 0;
	if (c.tlb[VTLB_4K].entries > VTLB_MAX_4K || c.tlb[VTLB_2M].entries > VTLB_MAX_2M ||
	    c.tlb[VTLB_1G].entries > VTLB_MAX_1G) {
		cprintf("tlb: geometry too large; using the default\n");
		vtlb_default_config(&c);
	}
	vtlb_init(&tlb_model, &c, referenced, NULL);
	if (!tlbtrap_available)
		cprintf("tlb: %u physical address bits: no reserved bit for traps, measuring off\n", phys_bits);
}

/* ---- arming and disarming ---- */

struct arm_ctx {
	uint64_t lo, hi;
	bool set;
	uint64_t pml4_pa;
};

static void
arm_leaf(pte_t *pte, uint64_t va, int level, void *arg)
{
	struct arm_ctx *ctx = arg;
	if (va + LEVEL_SIZE(level) <= ctx->lo || va >= ctx->hi)
		return;
	if (ctx->set)
		*pte |= PTE_TRAP;
	else
		*pte &= ~PTE_TRAP;
	pmap_invalidate(ctx->pml4_pa, va);
}

/* Set or clear the trap bit on every present leaf overlapping [lo, hi) ∩ the measured range. */
static void
arm_range(struct vmspace *vs, uint64_t lo, uint64_t hi, bool set)
{
	struct arm_ctx ctx = { MAX(lo, vs->tlb->lo), MIN(hi, vs->tlb->hi), set, vs->pml4_pa };
	if (ctx.lo >= ctx.hi)
		return;
	/* whole superpages: widen to their bounds so none straddles (no demotion) */
	pmap_foreach(vs->pml4_pa, ROUNDDOWN(ctx.lo, PG1G), ROUNDUP(ctx.hi, PG1G), arm_leaf, &ctx, DEMOTE_MUNMAP);
}

int
tlbtrap_start(struct vmspace *vs, uint16_t asid, uint64_t lo, uint64_t hi)
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
	tm->lo = ROUNDDOWN(lo, PGSIZE);
	tm->hi = ROUNDUP(hi, PGSIZE);
	tm->asid = asid;
	vs->tlb = tm;
	if (tlb_model.cfg.tag_by_asid)
		vtlb_flush_asid(&tlb_model, asid);	/* nothing stale under this tag */
	else
		tlbtrap_switch(vs);			/* the model now holds only vs's entries */
	arm_range(vs, 0, UTOP, true);
	return 0;
}

void
tlbtrap_stop(struct vmspace *vs)
{
	if (!vs->tlb)
		return;
	arm_range(vs, 0, UTOP, false);
	vtlb_flush_asid(&tlb_model, vs->tlb->asid);
	if (last_measured == vs)
		last_measured = NULL;
	kfree(vs->tlb);
	vs->tlb = NULL;
}

/* ---- the trap ---- */

bool
tlbtrap_fault(struct vmspace *vs, uint64_t va)
{
	enum vtlb_size size;
	pte_t *pte = vs->tlb ? leaf(vs, va, &size) : NULL;
	if (!pte || !(*pte & PTE_TRAP))
		return false;
	struct vtlb_victim victims[VTLB_MAX_VICTIMS];
	struct vtlb_access a = { .va = va, .size = size, .obv = NULL, .asid = vs->tlb->asid,
				 .acct = &vs->tlb->stats };
	int n = vtlb_miss(&tlb_model, &a, victims);
	for (int i = 0; i < n; i++) {
		struct vmspace *owner;
		pte_t *v = entry_leaf(victims[i].asid, victims[i].va, &owner);
		if (v) {
			*v |= PTE_TRAP;
			pmap_invalidate(owner->pml4_pa, victims[i].va);	/* invlpg: it must trap again */
		}
	}
	*pte &= ~PTE_TRAP;
	return true;
}

void
tlbtrap_sync(struct vmspace *vs, uint64_t start, uint64_t end)
{
	if (!vs->tlb)
		return;
	start = ROUNDDOWN(start, PG2M);
	end = ROUNDUP(end, PG2M);
	vtlb_invalidate_range(&tlb_model, start, end - start, vs->tlb->asid);
	arm_range(vs, start, end, true);
}

/* Flush mode: re-arm the traps of the entries the model drops for another space. */
static void
rearm_entry(void *arg, const struct vtlb_entry *e)
{
	(void)arg;
	struct vmspace *owner;
	pte_t *pte = entry_leaf(e->asid, vtlb_entry_va(e), &owner);
	if (pte)
		*pte |= PTE_TRAP;	/* not loaded: the CR3 load flushes its real TLB */
}

void
tlbtrap_switch(struct vmspace *vs)
{
	if (!vs->tlb || tlb_model.cfg.tag_by_asid || vs == last_measured)
		return;
	if (last_measured) {
		vtlb_foreach(&tlb_model, rearm_entry, NULL);
		vtlb_flush(&tlb_model);
	}
	last_measured = vs;
}

struct vmspace *
tlbtrap_owner(void)
{
	return tlb_model.cfg.tag_by_asid ? NULL : last_measured;
}

void
tlbtrap_read(struct vmspace *vs, struct tlb_stats *out)
{
	memset(out, 0, sizeof *out);
	if (!vs->tlb)
		return;
	const struct vtlb_stats *s = &vs->tlb->stats;
	out->traps = s->traps;
	for (int k = 0; k < VTLB_NSIZES; k++) {
		out->misses[k] = s->misses[k];
		out->evictions[k] = s->evictions[k];
	}
	out->walk_refs = s->walk_refs;
	out->omt_walks = s->omt_walks;
	out->real_faults = vs->tlb->real_faults;
}

void
tlbtrap_print(bool reset)
{
	const struct vtlb_config *c = &tlb_model.cfg;
	cprintf("model TLB (%s, %s):", tlbtrap_available ? "available" : "unavailable",
		c->tag_by_asid ? "tagged by pid" : "flushed on switch");
	for (int k = 0; k < VTLB_NSIZES; k++)
		cprintf(" %s %u entries %u-way %s;", size_names[k], c->tlb[k].entries, c->tlb[k].ways,
			repl_names[c->tlb[k].repl]);
	const struct vtlb_stats *s = &tlb_model.stats;
	cprintf("\ntraps %lu; misses 4k %lu 2m %lu 1g %lu; evictions 4k %lu 2m %lu 1g %lu; walk refs %lu; "
		"OMT walks %lu; flushes %lu\n", s->traps, s->misses[0], s->misses[1], s->misses[2],
		s->evictions[0], s->evictions[1], s->evictions[2], s->walk_refs, s->omt_walks, s->flushes);
	for (int i = 0; i < NPROC; i++) {
		struct vmspace *vs = procs[i].vm;
		if (procs[i].state != P_FREE && vs && vs->tlb)
			cprintf("  pid %d measured %lx-%lx: traps %lu, misses 4k %lu 2m %lu 1g %lu, real faults %lu\n",
				procs[i].pid, vs->tlb->lo, vs->tlb->hi, vs->tlb->stats.traps, vs->tlb->stats.misses[0],
				vs->tlb->stats.misses[1], vs->tlb->stats.misses[2], vs->tlb->real_faults);
	}
	if (reset)
		memset(&tlb_model.stats, 0, sizeof tlb_model.stats);
}
