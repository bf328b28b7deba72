/*
 * kern/mm/pt/clustered.c: a clustered page table (Talluri, Hill and Khalidi, SOSP'95).
 *
 * The paper: a hashed page table pays a tag and a next pointer for every 8-byte PTE
 * (24 bytes a page).  A clustered table hashes blocks of F pages instead: each node is
 * a tag (the virtual block number), a next pointer and F PTEs, a small linear table, so
 * a full block of 16 costs about 9 bytes a page, and one probe finds F neighbours.  F = 1
 * is a hashed page table; F = 2^52 would be a linear one.  It carries the TLB's
 * superpages and partial subblocks natively: a partial-subblock node holds one frame
 * and a valid bit per page (its pages are physically contiguous and aligned, as
 * reservations make them), a superpage node one PTE.
 *
 * spos: nodes come from the caller's allocator (struct cpt_alloc).  A block's first
 * page decides its node: a partial-subblock node if the frame sits where a block-aligned
 * physical run would put it (and F > 1), else a full node of F PTEs; a partial node
 * becomes full when a page arrives that does not fit (another frame or other flags).
 * Superpages (2 MiB, 1 GiB: larger than any block, F <= 64) live in a table of their
 * own per size (see clustered.h for why).  Memory references per lookup count the
 * nodes read along each chain probed (an empty chain still costs its bucket read), as
 * the paper counts them.  What differs from the paper: no replicated superpage PTEs
 * and no superpages smaller than a block (x86 has none); a full node keeps a page
 * count and a valid word it does not need (32 bytes of header where the paper has 16).
 */
#include "inc/error.h"
#include "kern/mm/pt/clustered.h"

enum { CPT_FULL, CPT_PARTIAL, CPT_SUPER };

struct cpt_node {
	uint64_t tag;			/* block number: va >> the table's block shift */
	struct cpt_node *next;		/* the chain */
	uint8_t kind;			/* CPT_FULL, CPT_PARTIAL or CPT_SUPER */
	uint8_t count;			/* FULL: PTEs in use */
	uint64_t valid;			/* PARTIAL: bit i = page i mapped */
	uint64_t pte[];			/* FULL: F entries; PARTIAL: the frame of page 0 and the
					   flags; SUPER: the superpage's PTE */
};

#define PTE_PRESENT	1UL
#define SHIFT_4K	12

static const unsigned super_shift[2] = { 21, 30 };

static size_t
node_bytes(const struct cpt *t, int kind)
{
	return sizeof(struct cpt_node) + sizeof(uint64_t) * (kind == CPT_FULL ? t->f : 1);
}

static void *
mem_alloc(struct cpt *t, size_t bytes)
{
	void *p = t->mem.alloc(t->mem.ctx, bytes);
	if (p)
		t->bytes += bytes;
	return p;
}

static void
mem_free(struct cpt *t, void *p, size_t bytes)
{
	t->mem.free(t->mem.ctx, p, bytes);
	t->bytes -= bytes;
}

static unsigned
bucket_of(const struct cpt_hash *h, uint64_t tag)
{
	if (h->log2_buckets == 0)
		return 0;
	return (unsigned)((tag * 0x9E3779B97F4A7C15ULL) >> (64 - h->log2_buckets));
}

static int
hash_init(struct cpt *t, struct cpt_hash *h, unsigned log2_buckets)
{
	h->log2_buckets = log2_buckets;
	h->nodes = 0;
	h->heads = mem_alloc(t, sizeof(struct cpt_node *) << log2_buckets);
	return h->heads ? 0 : -E_NO_MEM;
}

/* The node of tag in h and the link pointing to it, or NULL; *refs counts nodes read. */
static struct cpt_node *
find(const struct cpt_hash *h, uint64_t tag, struct cpt_node ***link, unsigned *refs)
{
	struct cpt_node **pp = &h->heads[bucket_of(h, tag)];
	unsigned n = 0;
	for (; *pp; pp = &(*pp)->next) {
		n++;
		if ((*pp)->tag == tag) {
			if (link)
				*link = pp;
			if (refs)
				*refs += n;
			return *pp;
		}
	}
	if (refs)
		*refs += n ? n : 1;	/* an empty chain: its bucket was read */
	return NULL;
}

static void
unlink_free(struct cpt *t, struct cpt_hash *h, struct cpt_node **link)
{
	struct cpt_node *n = *link;
	*link = n->next;
	h->nodes--;
	mem_free(t, n, node_bytes(t, n->kind));
}

int
cpt_init(struct cpt *t, unsigned f, unsigned log2_buckets, const struct cpt_alloc *mem)
{
	if (f == 0 || f > CPT_MAX_F || (f & (f - 1)) || log2_buckets > 24)
		return -E_INVAL;
	t->f = f;
	for (t->log2_f = 0; (1U << t->log2_f) < f; t->log2_f++)
		;
	t->mem = *mem;
	t->bytes = t->pages = 0;
	unsigned small = log2_buckets > 2 ? log2_buckets - 2 : 0;
	t->base.heads = t->super[0].heads = t->super[1].heads = NULL;
	if (hash_init(t, &t->base, log2_buckets) < 0 || hash_init(t, &t->super[0], small) < 0 ||
	    hash_init(t, &t->super[1], small) < 0) {
		cpt_destroy(t);
		return -E_NO_MEM;
	}
	return 0;
}

static void
hash_destroy(struct cpt *t, struct cpt_hash *h)
{
	if (!h->heads)
		return;
	for (unsigned b = 0; b < (1U << h->log2_buckets); b++)
		while (h->heads[b])
			unlink_free(t, h, &h->heads[b]);
	mem_free(t, h->heads, sizeof(struct cpt_node *) << h->log2_buckets);
	h->heads = NULL;
}

void
cpt_destroy(struct cpt *t)
{
	hash_destroy(t, &t->base);
	hash_destroy(t, &t->super[0]);
	hash_destroy(t, &t->super[1]);
	t->pages = 0;
}

/* ---- base pages ---- */

static uint64_t
block_tag(const struct cpt *t, uint64_t va)
{
	return va >> (SHIFT_4K + t->log2_f);
}

static unsigned
block_index(const struct cpt *t, uint64_t va)
{
	return (unsigned)((va >> SHIFT_4K) & (t->f - 1));
}

/* The PTE of page i of a partial node. */
static uint64_t
partial_pte(const struct cpt_node *n, unsigned i)
{
	return n->pte[0] + ((uint64_t)i << SHIFT_4K);
}

/* Replace the partial node at *link by a full one with the same pages. */
static struct cpt_node *
make_full(struct cpt *t, struct cpt_node **link)
{
	struct cpt_node *old = *link, *n = mem_alloc(t, node_bytes(t, CPT_FULL));
	if (!n)
		return NULL;
	n->tag = old->tag;
	n->next = old->next;
	n->kind = CPT_FULL;
	n->count = 0;
	n->valid = 0;
	for (unsigned i = 0; i < t->f; i++)
		if ((old->valid >> i) & 1) {
			n->pte[i] = partial_pte(old, i);
			n->count++;
		}
	*link = n;
	mem_free(t, old, node_bytes(t, CPT_PARTIAL));
	return n;
}

/* Whether any base page of [va, va + len) is mapped. */
static bool
base_mapped(const struct cpt *t, uint64_t va, uint64_t len)
{
	uint64_t span = (uint64_t)t->f << SHIFT_4K;
	for (uint64_t b = va; b < va + len; b += span)
		if (find(&t->base, block_tag(t, b), NULL, NULL))
			return true;	/* a node holds at least one page */
	return false;
}

/* The superpage node covering va (size k: 0 = 2 MiB, 1 = 1 GiB), or NULL. */
static struct cpt_node *
super_find(const struct cpt *t, int k, uint64_t va, struct cpt_node ***link, unsigned *refs)
{
	if (!t->super[k].nodes)
		return NULL;		/* an empty table is not probed */
	return find(&t->super[k], va >> super_shift[k], link, refs);
}

static int
map_base(struct cpt *t, uint64_t va, uint64_t pte)
{
	if (super_find(t, 0, va, NULL, NULL) || super_find(t, 1, va, NULL, NULL))
		return -E_EXISTS;
	uint64_t tag = block_tag(t, va);
	unsigned i = block_index(t, va);
	uint64_t frame0 = (pte & CPT_ADDR_MASK) - ((uint64_t)i << SHIFT_4K), flags = pte & CPT_FLAGS_MASK;
	bool aligned = (pte & CPT_ADDR_MASK) >= ((uint64_t)i << SHIFT_4K) &&
		       (frame0 & (((uint64_t)t->f << SHIFT_4K) - 1)) == 0;
	struct cpt_node **link, *n = find(&t->base, tag, &link, NULL);
	if (!n) {
		int kind = t->f > 1 && aligned ? CPT_PARTIAL : CPT_FULL;
		n = mem_alloc(t, node_bytes(t, kind));
		if (!n)
			return -E_NO_MEM;
		struct cpt_node **head = &t->base.heads[bucket_of(&t->base, tag)];
		n->tag = tag;
		n->next = *head;
		n->kind = (uint8_t)kind;
		n->count = 0;
		n->valid = 0;
		*head = n;
		t->base.nodes++;
		if (kind == CPT_PARTIAL) {
			n->pte[0] = frame0 | flags;
			n->valid = 1UL << i;
		} else {
			n->pte[i] = pte;
			n->count = 1;
		}
		t->pages++;
		return 0;
	}
	if (n->kind == CPT_PARTIAL) {
		if ((n->valid >> i) & 1)
			return -E_EXISTS;
		if (aligned && n->pte[0] == (frame0 | flags)) {
			n->valid |= 1UL << i;
			t->pages++;
			return 0;
		}
		if (!(n = make_full(t, link)))
			return -E_NO_MEM;
	}
	if (n->pte[i] & PTE_PRESENT)
		return -E_EXISTS;
	n->pte[i] = pte;
	n->count++;
	t->pages++;
	return 0;
}

/* The node mapping base page va, with its link and va's index in it; NULL if none does. */
static struct cpt_node *
base_page(const struct cpt *t, uint64_t va, struct cpt_node ***link, unsigned *i)
{
	struct cpt_node *n = find(&t->base, block_tag(t, va), link, NULL);
	*i = block_index(t, va);
	if (!n)
		return NULL;
	bool mapped = n->kind == CPT_PARTIAL ? (n->valid >> *i) & 1 : (n->pte[*i] & PTE_PRESENT) != 0;
	return mapped ? n : NULL;
}

/* ---- the interface ---- */

int
cpt_map(struct cpt *t, uint64_t va, uint64_t pte, enum page_size size)
{
	uint64_t len = PS_SIZE(size);
	if ((va & (len - 1)) || ((pte & CPT_ADDR_MASK) & (len - 1)) || !(pte & PTE_PRESENT))
		return -E_INVAL;
	if (size == PS_4K)
		return map_base(t, va, pte);
	int k = size == PS_2M ? 0 : 1;
	if (super_find(t, 0, va, NULL, NULL) || super_find(t, 1, va, NULL, NULL))
		return -E_EXISTS;
	if (k == 1)
		for (uint64_t b = va; b < va + len; b += PS_SIZE(PS_2M))
			if (super_find(t, 0, b, NULL, NULL))
				return -E_EXISTS;
	if (base_mapped(t, va, len))
		return -E_EXISTS;
	struct cpt_node *n = mem_alloc(t, node_bytes(t, CPT_SUPER));
	if (!n)
		return -E_NO_MEM;
	uint64_t tag = va >> super_shift[k];
	struct cpt_node **head = &t->super[k].heads[bucket_of(&t->super[k], tag)];
	n->tag = tag;
	n->next = *head;
	n->kind = CPT_SUPER;
	n->count = 1;
	n->valid = 0;
	n->pte[0] = pte;
	*head = n;
	t->super[k].nodes++;
	t->pages += PS_PAGES(size);
	return 0;
}

int
cpt_unmap(struct cpt *t, uint64_t va, enum page_size size)
{
	struct cpt_node **link, *n;
	if (size != PS_4K) {
		int k = size == PS_2M ? 0 : 1;
		if ((va & (PS_SIZE(size) - 1)) || !(n = super_find(t, k, va, &link, NULL)))
			return -E_NOT_FOUND;
		unlink_free(t, &t->super[k], link);
		t->pages -= PS_PAGES(size);
		return 0;
	}
	unsigned i;
	if (!(n = base_page(t, va, &link, &i)))
		return -E_NOT_FOUND;
	if (n->kind == CPT_PARTIAL) {
		n->valid &= ~(1UL << i);
		if (!n->valid)
			unlink_free(t, &t->base, link);
	} else {
		n->pte[i] = 0;
		if (--n->count == 0)
			unlink_free(t, &t->base, link);
	}
	t->pages--;
	return 0;
}

int
cpt_protect(struct cpt *t, uint64_t va, enum page_size size, uint64_t flags)
{
	struct cpt_node **link, *n;
	flags &= CPT_FLAGS_MASK;
	if (!(flags & PTE_PRESENT))
		return -E_INVAL;
	if (size != PS_4K) {
		if ((va & (PS_SIZE(size) - 1)) || !(n = super_find(t, size == PS_2M ? 0 : 1, va, &link, NULL)))
			return -E_NOT_FOUND;
		n->pte[0] = (n->pte[0] & CPT_ADDR_MASK) | flags;
		return 0;
	}
	unsigned i;
	if (!(n = base_page(t, va, &link, &i)))
		return -E_NOT_FOUND;
	if (n->kind == CPT_PARTIAL) {
		if (n->valid == (1UL << i)) {		/* its only page: the node's flags */
			n->pte[0] = (n->pte[0] & CPT_ADDR_MASK) | flags;
			return 0;
		}
		if ((n->pte[0] & CPT_FLAGS_MASK) == flags)
			return 0;
		if (!(n = make_full(t, link)))
			return -E_NO_MEM;
	}
	n->pte[i] = (n->pte[i] & CPT_ADDR_MASK) | flags;
	return 0;
}

bool
cpt_lookup(const struct cpt *t, uint64_t va, uint64_t *pte, enum page_size *size, unsigned *refs)
{
	unsigned r = 0;
	bool found = false;
	struct cpt_node *n = find(&t->base, block_tag(t, va), NULL, &r);
	unsigned i = block_index(t, va);
	if (n && n->kind == CPT_PARTIAL && ((n->valid >> i) & 1)) {
		*pte = partial_pte(n, i);
		*size = PS_4K;
		found = true;
	} else if (n && n->kind == CPT_FULL && (n->pte[i] & PTE_PRESENT)) {
		*pte = n->pte[i];
		*size = PS_4K;
		found = true;
	}
	for (int k = 0; k < 2 && !found; k++)
		if ((n = super_find(t, k, va, NULL, &r)) != NULL) {
			*pte = n->pte[0];
			*size = k == 0 ? PS_2M : PS_1G;
			found = true;
		}
	if (refs)
		*refs = r;
	return found;
}

static void
hash_stats(const struct cpt_hash *h, struct cpt_stats *s)
{
	for (unsigned b = 0; b < (1U << h->log2_buckets); b++) {
		unsigned len = 0;
		for (struct cpt_node *n = h->heads[b]; n; n = n->next) {
			len++;
			if (n->kind == CPT_FULL)
				s->nodes_full++;
			else if (n->kind == CPT_PARTIAL)
				s->nodes_partial++;
			else
				s->nodes_super++;
		}
		s->buckets_used += len > 0;
		if (len > s->longest_chain)
			s->longest_chain = len;
	}
}

void
cpt_stats(const struct cpt *t, struct cpt_stats *s)
{
	*s = (struct cpt_stats){ .bytes = t->bytes, .pages = t->pages };
	hash_stats(&t->base, s);
	hash_stats(&t->super[0], s);
	hash_stats(&t->super[1], s);
}

/* Visit node n of hash h (block tag's va at its table's shift) if it intersects [start, end). */
static void
visit_node(const struct cpt *t, const struct cpt_node *n, unsigned shift, uint64_t start, uint64_t end,
	   cpt_leaf_fn *fn, void *arg)
{
	uint64_t va = n->tag << shift;
	if (va >= end || va + (1ULL << shift) <= start)
		return;
	if (n->kind == CPT_SUPER) {
		fn(arg, va, n->pte[0], shift == super_shift[0] ? PS_2M : PS_1G);
		return;
	}
	for (unsigned i = 0; i < t->f; i++) {
		uint64_t pva = va + ((uint64_t)i << SHIFT_4K);
		if (pva < start || pva >= end)
			continue;
		if (n->kind == CPT_PARTIAL && ((n->valid >> i) & 1))
			fn(arg, pva, partial_pte(n, i), PS_4K);
		else if (n->kind == CPT_FULL && (n->pte[i] & PTE_PRESENT))
			fn(arg, pva, n->pte[i], PS_4K);
	}
}

/*
 * Two ways to find a range's nodes: probe each block of the range (a short range), or
 * read every chain of every table (a long one); whichever reads fewer words.
 */
void
cpt_foreach(const struct cpt *t, uint64_t start, uint64_t end, cpt_leaf_fn *fn, void *arg)
{
	const struct cpt_hash *h[3] = { &t->base, &t->super[0], &t->super[1] };
	unsigned shift[3] = { SHIFT_4K + t->log2_f, super_shift[0], super_shift[1] };
	if (start >= end)
		return;
	uint64_t probes = 0, scan = 0;
	for (int k = 0; k < 3; k++) {
		if (!h[k]->nodes)
			continue;
		uint64_t first = start >> shift[k], last = (end - 1) >> shift[k];
		probes += last - first + 1 > (1ULL << 40) ? (1ULL << 40) : last - first + 1;
		scan += (1ULL << h[k]->log2_buckets) + h[k]->nodes;
	}
	for (int k = 0; k < 3; k++) {
		if (!h[k]->nodes)
			continue;
		if (probes <= scan) {
			for (uint64_t tag = start >> shift[k]; tag <= (end - 1) >> shift[k]; tag++) {
				const struct cpt_node *n = find(h[k], tag, NULL, NULL);
				if (n)
					visit_node(t, n, shift[k], start, end, fn, arg);
			}
		} else {
			for (unsigned b = 0; b < (1U << h[k]->log2_buckets); b++)
				for (const struct cpt_node *n = h[k]->heads[b]; n; n = n->next)
					visit_node(t, n, shift[k], start, end, fn, arg);
		}
	}
}
