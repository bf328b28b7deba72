/*
 * kern/mm/pt/guarded.c: a guarded page table (Liedtke 1994; Wiggins's GPT for Linux).
 *
 * The paper: a multi-level table indexes the virtual page number a few bits per level,
 * and a sparse 64-bit space pays a mostly empty node on every level.  A guarded table
 * gives every entry a guard, the key bits that all keys below it share; a lookup
 * indexes a node with the next s bits, compares the entry's guard with the bits after
 * them and skips them (path compression), so a lone page anywhere is one entry of the
 * root.  Entries are invalid, leaves (guard, coverage = page size, PTE) or internal
 * (guard, next node and its size); nodes of any power-of-two size mix them.  Liedtke
 * sizes nodes to keep them about half full and restructures on insertion and deletion;
 * Wiggins keeps a valid and a full count per node to decide when to collapse a level
 * (one entry left) or to merge levels (level compression, when a node is full).
 *
 * spos: the key is va bits 47..12 (36 bits; canonical addresses only).  Nodes sit at
 * fixed level boundaries: the key bits are cut at 9 and 18 (so a 2 MiB leaf, covering
 * the low 9 bits, or a 1 GiB leaf, the low 18, never needs bits inside its coverage to
 * tell it from a neighbour) and each of the segments [0, 9), [9, 18), [18, 36) is cut
 * every `stride` bits from its bottom.  A map that diverges from an entry's guard at bit
 * d puts a new node at the level holding d, with the old entry and the new leaf in it
 * and the shared bits above it left in the parent entry's guard; stride 1 gives nodes
 * of 2 entries (a binary Patricia trie), stride 9 x86's levels of 512 with guards.  An
 * unmap that leaves a node with one valid entry collapses it into its parent entry (the
 * parent's guard, the entry's index bits and its own guard concatenate), so every node
 * holds at least two valid entries and a node never lingers empty.  Nodes on the bottom
 * level (index bits starting at 0) can hold only 4 KiB leaves without guards, so they
 * are plain arrays of 8-byte PTEs (P clear: invalid), like an x86 page-table page;
 * other nodes hold 16-byte entries.  Each node counts its valid entries and its full
 * ones (valid with no guard: what level compression would look at).  Which stride:
 * make bench-pt (tests/ptbench.c) finds 9 the smallest on a dense space (97% of x86's
 * bytes, 3 references a lookup against 4) and on one page per 2 MiB (0.4%): a split
 * there lands on the bottom level, whose 512-PTE node is as dense as x86's, where
 * strides 3 and 4 pay 16-byte entries on more levels (131%, 110% on dense) and stride
 * 1 a node per page (366%, 15 references); stride 3 wins only on a few scattered
 * superpages (64 MiB of 2 MiB pages: 5.5% against 67%).  Hence GPT_STRIDE_DEFAULT.
 *
 * What differs from the paper: the levels are fixed rather than chosen per node (a
 * node is sized by the stride, not by its population), there is no level compression
 * (the full count is kept and checked, but no node is ever merged with its children),
 * no shared subtrees (Wiggins's future work too), and the counts live in the node's
 * header instead of its parent entry.  Memory references per lookup count entries
 * read, the root entry (the table's register) included.
 */
#include "inc/error.h"
#include "kern/mm/pt/guarded.h"

struct gpt_node {
	uint16_t valid;			/* entries not invalid */
	uint16_t full;			/* valid entries with no guard */
	uint8_t width;			/* log2 of the entries */
	uint8_t bottom;			/* index bits start at 0: slot[] holds PTEs */
	uint64_t *slot;			/* 2^width PTEs (bottom) or struct gpt_entry, allocated apart
					   so that an array is a power of two (a bottom node of
					   stride 9 is one page, as an x86 table page is) */
};

#define PTE_PRESENT	1UL
#define KEY_MASK	((1ULL << GPT_KEY_BITS) - 1)
#define MAX_PATH	(GPT_KEY_BITS + 1)

static uint64_t
mask(unsigned bits)
{
	return bits >= 64 ? ~0ULL : (1ULL << bits) - 1;
}

static struct gpt_entry *
ents(struct gpt_node *n)
{
	return (struct gpt_entry *)n->slot;
}

static size_t
node_bytes(unsigned width, bool bottom)
{
	return sizeof(struct gpt_node) + (bottom ? sizeof(uint64_t) : sizeof(struct gpt_entry)) * ((size_t)1 << width);
}

static void
node_free(struct gpt *t, struct gpt_node *n)
{
	size_t bytes = node_bytes(n->width, n->bottom);
	t->mem.free(t->mem.ctx, n->slot, bytes - sizeof *n);
	t->mem.free(t->mem.ctx, n, sizeof *n);
	t->bytes -= bytes;
}

/* The key bits a page of size covers: 0, 9 or 18. */
static unsigned
coverage(enum page_size size)
{
	return PS_ORDER(size);
}

/* The level holding key bit d: its index bits are [*b, *top). */
static void
level_of(const struct gpt *t, unsigned d, unsigned *b, unsigned *top)
{
	unsigned seg = d < 9 ? 0 : d < 18 ? 9 : 18, end = d < 9 ? 9 : d < 18 ? 18 : GPT_KEY_BITS;
	*b = seg + (d - seg) / t->stride * t->stride;
	*top = *b + t->stride < end ? *b + t->stride : end;
}

int
gpt_init(struct gpt *t, unsigned stride, const struct gpt_alloc *mem)
{
	if (stride == 0 || stride > GPT_MAX_STRIDE)
		return -E_INVAL;
	t->root = (struct gpt_entry){ .type = GPT_INVALID };
	t->stride = stride;
	t->mem = *mem;
	t->bytes = t->pages = 0;
	return 0;
}

static void
subtree_free(struct gpt *t, struct gpt_node *n)
{
	if (!n->bottom)
		for (uint64_t i = 0; i < (1ULL << n->width); i++)
			if (ents(n)[i].type == GPT_INTERNAL)
				subtree_free(t, ents(n)[i].next);
	node_free(t, n);
}

void
gpt_destroy(struct gpt *t)
{
	if (t->root.type == GPT_INTERNAL)
		subtree_free(t, t->root.next);
	t->root = (struct gpt_entry){ .type = GPT_INVALID };
	t->pages = 0;
}

static bool
canonical(uint64_t va)
{
	return (uint64_t)((int64_t)(va << 16) >> 16) == va;
}

/*
 * Split entry e, whose guard spans key bits [low, r) and differs from key at bit d, by
 * a new node at d's level holding e's old content and a new leaf for key (coverage c,
 * pte).  holder is the node holding e (NULL: the root).  0 or -E_NO_MEM (nothing
 * changes).
 */
static int
split(struct gpt *t, struct gpt_node *holder, struct gpt_entry *e, unsigned r, uint64_t key, unsigned c,
      uint64_t pte, enum page_size size, unsigned d)
{
	unsigned b, top, low = r - e->glen;
	level_of(t, d, &b, &top);
	unsigned w = top - b;
	struct gpt_node *n = t->mem.alloc(t->mem.ctx, sizeof *n);
	if (!n)
		return -E_NO_MEM;
	if (!(n->slot = t->mem.alloc(t->mem.ctx, node_bytes(w, b == 0) - sizeof *n))) {
		t->mem.free(t->mem.ctx, n, sizeof *n);
		return -E_NO_MEM;
	}
	t->bytes += node_bytes(w, b == 0);
	n->width = (uint8_t)w;
	n->bottom = b == 0;
	n->valid = 2;
	uint64_t io = ((uint64_t)e->guard >> (b - low)) & mask(w), in = (key >> b) & mask(w);
	if (n->bottom) {
		n->slot[io] = e->pte;		/* low == 0: e is a 4 KiB leaf */
		n->slot[in] = pte;
		n->full = 2;
	} else {
		struct gpt_entry *x = &ents(n)[io], *y = &ents(n)[in];
		*x = *e;
		x->guard = (uint64_t)e->guard & mask(b - low);
		x->glen = b - low;
		*y = (struct gpt_entry){ .guard = (key >> c) & mask(b - c), .glen = b - c, .type = GPT_LEAF,
					 .size = size, .pte = pte };
		n->full = (x->glen == 0) + (y->glen == 0);
	}
	e->guard = ((uint64_t)e->guard >> (top - low)) & mask(r - top);
	e->glen = r - top;
	e->type = GPT_INTERNAL;
	e->next = n;
	if (holder && e->glen == 0)
		holder->full++;		/* its guard was not empty: d lay in it */
	return 0;
}

int
gpt_map(struct gpt *t, uint64_t va, uint64_t pte, enum page_size size)
{
	uint64_t len = PS_SIZE(size);
	if ((va & (len - 1)) || ((pte & GPT_ADDR_MASK) & (len - 1)) || !(pte & PTE_PRESENT) || !canonical(va))
		return -E_INVAL;
	uint64_t key = (va >> 12) & KEY_MASK;
	unsigned c = coverage(size), r = GPT_KEY_BITS;
	struct gpt_node *holder = NULL;
	struct gpt_entry *e = &t->root;
	for (;;) {
		if (e->type == GPT_INVALID) {
			*e = (struct gpt_entry){ .guard = (key >> c) & mask(r - c), .glen = r - c, .type = GPT_LEAF,
						 .size = size, .pte = pte };
			if (holder) {
				holder->valid++;
				holder->full += e->glen == 0;
			}
			break;
		}
		unsigned low = r - e->glen, lo = low > c ? low : c;
		uint64_t diff = ((key >> lo) ^ ((uint64_t)e->guard >> (lo - low))) & mask(r - lo);
		if (diff) {
			int err = split(t, holder, e, r, key, c, pte, size, lo + 63 - (unsigned)__builtin_clzll(diff));
			if (err)
				return err;
			break;
		}
		if (e->type == GPT_LEAF || c >= low)
			return -E_EXISTS;	/* e's pages and the new ones overlap */
		struct gpt_node *n = e->next;
		unsigned b = low - n->width;
		uint64_t i = (key >> b) & mask(n->width);
		if (n->bottom) {		/* c == 0 here: a superpage would have overlapped n */
			if (n->slot[i] & PTE_PRESENT)
				return -E_EXISTS;
			n->slot[i] = pte;
			n->valid++;
			n->full++;
			break;
		}
		holder = n;
		e = &ents(n)[i];
		r = b;
	}
	t->pages += PS_PAGES(size);
	return 0;
}

/* The path of a lookup: the entries read and the node holding each (NULL: the root). */
struct path {
	struct gpt_entry *e[MAX_PATH];
	struct gpt_node *holder[MAX_PATH];
	unsigned n;			/* entries on it */
	struct gpt_node *bottom;	/* the leaf is a PTE in this bottom node, or NULL */
	uint64_t *slot;
};

/*
 * The leaf translating key: its PTE's address, its size, and (if path) the path to it.
 * NULL if key is unmapped.  *refs counts the entries read.
 */
static uint64_t *
find(const struct gpt *t, uint64_t key, enum page_size *size, struct path *p, unsigned *refs)
{
	struct gpt_entry *e = (struct gpt_entry *)&t->root;	/* written only by unmap and protect */
	struct gpt_node *holder = NULL;
	unsigned r = GPT_KEY_BITS, n = 0;
	uint64_t *found = NULL;
	for (;;) {
		n++;
		if (p) {
			p->e[p->n] = e;
			p->holder[p->n++] = holder;
			p->bottom = NULL;
		}
		unsigned low = r - e->glen;
		if (e->type == GPT_INVALID || ((key >> low) & mask(e->glen)) != (uint64_t)e->guard)
			break;
		if (e->type == GPT_LEAF) {
			*size = (enum page_size)e->size;
			found = &e->pte;
			break;
		}
		struct gpt_node *nd = e->next;
		unsigned b = low - nd->width;
		uint64_t i = (key >> b) & mask(nd->width);
		if (nd->bottom) {
			n++;
			if (nd->slot[i] & PTE_PRESENT) {
				*size = PS_4K;
				found = &nd->slot[i];
				if (p) {
					p->bottom = nd;
					p->slot = found;
				}
			}
			break;
		}
		holder = nd;
		e = &ents(nd)[i];
		r = b;
	}
	if (refs)
		*refs = n;
	return found;
}

/*
 * Node n, held by entry pe (in node holder, NULL: the root), has one valid entry left:
 * move it up into pe, concatenating pe's guard, its index and its own guard, and free n.
 */
static void
collapse(struct gpt *t, struct gpt_node *holder, struct gpt_entry *pe, struct gpt_node *n)
{
	uint64_t i = 0;
	struct gpt_entry x;
	if (n->bottom) {
		while (!(n->slot[i] & PTE_PRESENT))
			i++;
		x = (struct gpt_entry){ .glen = 0, .type = GPT_LEAF, .size = PS_4K, .pte = n->slot[i] };
	} else {
		while (ents(n)[i].type == GPT_INVALID)
			i++;
		x = ents(n)[i];
	}
	if (holder && pe->glen == 0)
		holder->full--;
	x.guard = ((((uint64_t)pe->guard << n->width) | i) << x.glen) | (uint64_t)x.guard;
	x.glen = pe->glen + n->width + x.glen;
	*pe = x;
	node_free(t, n);
}

int
gpt_unmap(struct gpt *t, uint64_t va, enum page_size size)
{
	struct path p = { .n = 0 };
	enum page_size got;
	if ((va & (PS_SIZE(size) - 1)) || !canonical(va))
		return -E_NOT_FOUND;
	if (!find(t, (va >> 12) & KEY_MASK, &got, &p, NULL) || got != size)
		return -E_NOT_FOUND;
	struct gpt_node *n;
	struct gpt_entry *pe;		/* the entry holding n */
	struct gpt_node *pholder;
	if (p.bottom) {
		n = p.bottom;
		*p.slot = 0;
		pe = p.e[p.n - 1];
		pholder = p.holder[p.n - 1];
	} else {
		struct gpt_entry *e = p.e[p.n - 1];
		n = p.holder[p.n - 1];
		if (n && e->glen == 0)
			n->full--;
		*e = (struct gpt_entry){ .type = GPT_INVALID };
		pe = p.n >= 2 ? p.e[p.n - 2] : NULL;
		pholder = p.n >= 2 ? p.holder[p.n - 2] : NULL;
	}
	if (n) {
		n->valid--;
		if (p.bottom)
			n->full--;
		if (n->valid == 1)
			collapse(t, pholder, pe, n);
	}
	t->pages -= PS_PAGES(size);
	return 0;
}

int
gpt_protect(struct gpt *t, uint64_t va, enum page_size size, uint64_t flags)
{
	enum page_size got;
	uint64_t *pte;
	flags &= GPT_FLAGS_MASK;
	if (!(flags & PTE_PRESENT))
		return -E_INVAL;
	if ((va & (PS_SIZE(size) - 1)) || !canonical(va))
		return -E_NOT_FOUND;
	if (!(pte = find(t, (va >> 12) & KEY_MASK, &got, NULL, NULL)) || got != size)
		return -E_NOT_FOUND;
	*pte = (*pte & GPT_ADDR_MASK) | flags;
	return 0;
}

bool
gpt_lookup(const struct gpt *t, uint64_t va, uint64_t *pte, enum page_size *size, unsigned *refs)
{
	uint64_t *p;
	if (!canonical(va)) {
		if (refs)
			*refs = 0;
		return false;
	}
	if (!(p = find(t, (va >> 12) & KEY_MASK, size, NULL, refs)))
		return false;
	*pte = *p;
	return true;
}

/* Stats of the subtree of entry e (depth: entries read to reach it); false if broken. */
static bool
walk(const struct gpt *t, const struct gpt_entry *e, unsigned r, unsigned depth, struct gpt_stats *s,
     uint64_t *depth_sum)
{
	if (e->glen > r)
		return false;
	unsigned low = r - e->glen;
	if (e->type == GPT_LEAF) {
		s->leaves++;
		*depth_sum += depth;
		if (depth > s->depth_max)
			s->depth_max = depth;
		return low == coverage((enum page_size)e->size);
	}
	if (e->type != GPT_INTERNAL)
		return e->type == GPT_INVALID;
	struct gpt_node *n = e->next;
	unsigned b, top;
	if (n->width > low)
		return false;
	b = low - n->width;
	level_of(t, b, &b, &top);
	if (b != low - n->width || top != low || (bool)n->bottom != (b == 0))
		return false;
	for (unsigned c = PS_ORDER(PS_2M); c <= PS_ORDER(PS_1G); c += PS_ORDER(PS_2M))
		if (b < c && c < top)
			return false;	/* a superpage leaf would need the node's index bits */
	s->nodes++;
	s->entries += 1ULL << n->width;
	unsigned valid = 0, full = 0;
	bool ok = true;
	if (n->bottom) {
		s->bottom_nodes++;
		for (uint64_t i = 0; i < (1ULL << n->width); i++)
			if (n->slot[i] & PTE_PRESENT) {
				valid++;
				full++;
				s->leaves++;
				*depth_sum += depth + 1;
				if (depth + 1 > s->depth_max)
					s->depth_max = depth + 1;
			}
	} else {
		for (uint64_t i = 0; i < (1ULL << n->width); i++) {
			const struct gpt_entry *x = &ents(n)[i];
			if (x->type == GPT_INVALID)
				continue;
			valid++;
			full += x->glen == 0;
			ok = walk(t, x, b, depth + 1, s, depth_sum) && ok;
		}
	}
	return ok && valid >= 2 && valid == n->valid && full == n->full;
}

static bool
stats_check(const struct gpt *t, struct gpt_stats *s)
{
	uint64_t depth_sum = 0;
	*s = (struct gpt_stats){ .bytes = t->bytes, .pages = t->pages };
	bool ok = walk(t, &t->root, GPT_KEY_BITS, 1, s, &depth_sum);
	s->depth_sum = depth_sum;
	return ok;
}

void
gpt_stats(const struct gpt *t, struct gpt_stats *s)
{
	stats_check(t, s);
}

bool
gpt_check(const struct gpt *t)
{
	struct gpt_stats s;
	return stats_check(t, &s);
}

/* The va of key (canonical: bit 47 extends). */
static uint64_t
key_va(uint64_t key)
{
	uint64_t va = key << 12;
	return (va & (1ULL << 47)) ? va | 0xFFFF000000000000ULL : va;
}

/*
 * Visit the leaves under entry e, whose key bits [r, 36) are those of hi (the bits
 * below r clear), that intersect keys [lo_key, hi_key].
 */
static void
foreach_entry(const struct gpt_entry *e, unsigned r, uint64_t hi, uint64_t lo_key, uint64_t hi_key,
	      gpt_leaf_fn *fn, void *arg)
{
	if (e->type == GPT_INVALID)
		return;
	unsigned low = r - e->glen;
	uint64_t first = hi | ((uint64_t)e->guard << low), last = first | mask(low);
	if (last < lo_key || first > hi_key)
		return;
	if (e->type == GPT_LEAF) {
		fn(arg, key_va(first), e->pte, (enum page_size)e->size);
		return;
	}
	const struct gpt_node *n = e->next;
	unsigned b = low - n->width;
	for (uint64_t i = 0; i < (1ULL << n->width); i++) {
		uint64_t k = first | (i << b);
		if (n->bottom) {
			if ((n->slot[i] & PTE_PRESENT) && k >= lo_key && k <= hi_key)
				fn(arg, key_va(k), n->slot[i], PS_4K);
		} else if ((k | mask(b)) >= lo_key && k <= hi_key) {
			foreach_entry(&ents((struct gpt_node *)n)[i], b, k, lo_key, hi_key, fn, arg);
		}
	}
}

void
gpt_foreach(const struct gpt *t, uint64_t start, uint64_t end, gpt_leaf_fn *fn, void *arg)
{
	if (start >= end)
		return;
	uint64_t lo_key = (start >> 12) & KEY_MASK, hi_key = ((end - 1) >> 12) & KEY_MASK;
	if (lo_key > hi_key)
		return;		/* a range across the canonical hole: callers pass user ranges */
	foreach_entry(&t->root, GPT_KEY_BITS, 0, lo_key, hi_key, fn, arg);
}
