/*
 * Population map: a radix tree over the page indexes of one memory object.
 *
 * Navarro et al. (OSDI'02, §4.3) keep, per memory object, a radix tree whose nodes
 * count the populated base pages below them, so that four questions cost one walk
 * from the root: which reservation (if any) covers this page, would a new reservation
 * overlap populated pages or another reservation, is this superpage-sized block fully
 * populated (promote it), and how much of it is used (preemption and demotion).
 *
 * spos uses a fixed tree of four levels, one per 9 bits of the 36-bit pindex, so that
 * its levels are exactly the x86-64 page sizes:
 *
 *   level 4  root        512 slots, each a 512 GiB block (pindex bits 35..27)
 *   level 3  node        512 slots, each a 1 GiB block   (bits 26..18)
 *   level 2  node        512 slots, each a 2 MiB block   (bits 17..9)   = one 1 GiB block
 *   level 1  leaf        512-bit bitmap of pages          (bits 8..0)    = one 2 MiB block
 *
 * Every node, leaf or interior, starts with the same header: the number of populated
 * pages in its block, the number of reservation pointers in its block (its own and its
 * descendants'), and its own reservation pointer (used in leaves, the 2 MiB blocks, and
 * in level-2 nodes, the 1 GiB blocks).  So PS_2M and PS_1G are
 * simply tree levels 1 and 2.
 *
 * Invariants (checked by tests/test_popmap.c):
 *  - A node exists iff its block holds a populated page or a reservation pointer,
 *    i.e. count + nreserv > 0.  Nodes are allocated on the way down by set operations
 *    and freed on the way up when a clear leaves them empty.
 *  - count and nreserv of a node are the sums over its children (plus, for nreserv,
 *    its own pointer); the root's count equals pm->populated.
 *  - A leaf's count is the number of bits set in its bitmap.
 *
 * A run of sets or clears inside one 2 MiB block (a fork copying a page table, an exit
 * releasing one) walks the tree once: the map keeps the last block's path as a hint,
 * forgotten whenever a node is freed.
 *
 * Memory: a leaf is 88 bytes; an interior node is a 32-byte header plus a separately
 * allocated 4096-byte slot array, so that an allocator that serves large requests as
 * whole pages wastes nothing (one 4112-byte node would take two pages).  A set that
 * needs new nodes allocates all of them before linking any, so that running out of
 * memory leaves the map unchanged.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kern/kassert.h"
#include "kern/mm/lib/popmap.h"

#define DEPTH		4			/* tree levels: 1 = leaf .. 4 = root */
#define FANOUT		512			/* slots per interior node, bits per leaf */
#define LEAF_WORDS	(FANOUT / 64)
#define SLOT_BYTES	(FANOUT * sizeof(void *))
#define SPAN(level)	PS_PAGES(level)	/* pages in a block of a tree level */

struct pm_hdr {
	uint64_t count;		/* populated pages in this block */
	uint64_t nreserv;	/* reservation pointers in this block, reserv included */
	void *reserv;		/* this block's reservation pointer (levels 1 and 2), or NULL */
};

struct pm_leaf {		/* level 1: one 2 MiB block */
	struct pm_hdr h;
	uint64_t bits[LEAF_WORDS];	/* bit i: page base+i is populated */
};

struct pm_node {		/* levels 2..4 */
	struct pm_hdr h;
	void **slot;		/* FANOUT children of the level below, NULL when absent */
};

/* Number of bits set in x (no libgcc in the kernel, so no __builtin_popcountll). */
static unsigned
popcount64(uint64_t x)
{
	x = x - ((x >> 1) & 0x5555555555555555ull);
	x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
	x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Full;
	return (unsigned)((x * 0x0101010101010101ull) >> 56);
}

/* Index of the slot for pindex in an interior node of that level. */
static unsigned
slot_index(uint64_t pindex, int level)
{
	return (unsigned)(pindex >> (9 * (level - 1))) & (FANOUT - 1);
}

/* Address of the slot for pindex in interior node n of that level. */
static struct pm_hdr **
slotp(struct pm_hdr *n, int level, uint64_t pindex)
{
	return (struct pm_hdr **)&((struct pm_node *)n)->slot[slot_index(pindex, level)];
}

/* The child of interior node n (of that level) whose block contains pindex, or NULL. */
static struct pm_hdr *
child(const struct pm_hdr *n, int level, uint64_t pindex)
{
	return ((const struct pm_node *)n)->slot[slot_index(pindex, level)];
}

/* An empty node for that tree level, or NULL when the allocator is out of memory. */
static struct pm_hdr *
node_alloc(const struct popmap *pm, int level)
{
	struct pm_node *n;

	if (level == 1)
		return pm->a->alloc(sizeof(struct pm_leaf));
	if ((n = pm->a->alloc(sizeof(*n))) == NULL)
		return NULL;
	if ((n->slot = pm->a->alloc(SLOT_BYTES)) == NULL) {
		pm->a->free(n, sizeof(*n));
		return NULL;
	}
	return &n->h;
}

/* Give node n of that tree level back to the allocator. */
static void
node_free(const struct popmap *pm, struct pm_hdr *n, int level)
{
	if (level == 1) {
		pm->a->free(n, sizeof(struct pm_leaf));
		return;
	}
	pm->a->free(((struct pm_node *)n)->slot, SLOT_BYTES);
	pm->a->free(n, sizeof(struct pm_node));
}

/* The node of tree level (1..DEPTH) whose block contains pindex, or NULL if absent (the hint first). */
static struct pm_hdr *
lookup(const struct popmap *pm, uint64_t pindex, int level)
{
	if (pindex / FANOUT == pm->hint_block)
		return pm->hint[level - 1];
	struct pm_hdr *n = pm->root;

	for (int l = DEPTH; l > level && n != NULL; l--)
		n = child(n, l, pindex);
	return n;
}

/*
 * Fill path[level..DEPTH] with the nodes containing pindex, creating the missing ones
 * (empty).  Returns 0, or -1 with the map unchanged when an allocation fails.
 */
static int
grow(struct popmap *pm, uint64_t pindex, int level, struct pm_hdr *path[DEPTH + 1])
{
	struct pm_hdr *fresh[DEPTH + 1];
	int l, top;

	path[DEPTH] = pm->root;
	for (l = DEPTH; l > level && path[l] != NULL; l--)
		path[l - 1] = child(path[l], l, pindex);
	if (path[l] != NULL)
		return 0;
	top = l;		/* levels top down to level are missing */
	for (l = top; l >= level; l--) {
		if ((fresh[l] = node_alloc(pm, l)) == NULL) {
			while (++l <= top)
				node_free(pm, fresh[l], l);
			return -1;
		}
	}
	for (l = top; l >= level; l--) {
		path[l] = fresh[l];
		if (l == DEPTH)
			pm->root = fresh[l];
		else
			*slotp(path[l + 1], l + 1, pindex) = fresh[l];
	}
	return 0;
}

/* Fill path[level..DEPTH] with the existing nodes containing pindex (NULL below a gap). */
static void
walk(const struct popmap *pm, uint64_t pindex, int level, struct pm_hdr *path[DEPTH + 1])
{
	path[DEPTH] = pm->root;
	for (int l = DEPTH; l > level; l--)
		path[l - 1] = path[l] != NULL ? child(path[l], l, pindex) : NULL;
}

/* Free the empty nodes of path from level upwards, unlinking each from its parent. */
static void
prune(struct popmap *pm, uint64_t pindex, int level, struct pm_hdr *path[DEPTH + 1])
{
	for (int l = level; l <= DEPTH; l++) {
		if (path[l]->count != 0 || path[l]->nreserv != 0)
			return;
		pm->hint_block = POPMAP_NO_HINT;
		node_free(pm, path[l], l);
		if (l == DEPTH)
			pm->root = NULL;
		else
			*slotp(path[l + 1], l + 1, pindex) = NULL;
	}
}

/* Make pm an empty map over allocator a. */
void
popmap_init(struct popmap *pm, const struct popmap_allocator *a)
{
	KASSERT(a != NULL && a->alloc != NULL && a->free != NULL, "popmap_init: no allocator");
	pm->root = NULL;
	pm->populated = 0;
	pm->a = a;
	pm->hint_block = POPMAP_NO_HINT;
}

/* leaf_path when pindex is not in the hinted block: grow or walk, then hint this block. */
static int
leaf_path_walk(struct popmap *pm, uint64_t pindex, bool create, struct pm_hdr *path[DEPTH + 1])
{
	if (create) {
		if (grow(pm, pindex, 1, path) != 0)
			return -1;
	} else {
		walk(pm, pindex, 1, path);
		if (path[1] == NULL)
			return 0;
	}
	pm->hint_block = pindex / FANOUT;
	for (int l = 1; l <= DEPTH; l++)
		pm->hint[l - 1] = path[l];
	return 0;
}

/*
 * Fill path[1..DEPTH] with the nodes containing pindex, from the hint when pindex lies
 * in the hinted block, else by grow (create) or walk; the hint then names this block.
 * Returns 0, or -1 (map unchanged) when create and an allocation fails.
 */
static inline int
leaf_path(struct popmap *pm, uint64_t pindex, bool create, struct pm_hdr *path[DEPTH + 1])
{
	if (pindex / FANOUT != pm->hint_block)
		return leaf_path_walk(pm, pindex, create, path);
	for (int l = 1; l <= DEPTH; l++)
		path[l] = pm->hint[l - 1];
	return 0;
}

/* Mark pindex populated; 0, or -1 (map unchanged) when out of memory. */
int
popmap_set(struct popmap *pm, uint64_t pindex)
{
	struct pm_hdr *path[DEPTH + 1];
	struct pm_leaf *leaf;
	uint64_t bit = (uint64_t)1 << (pindex % 64);

	KASSERT(pindex < POPMAP_PINDEX_LIMIT, "popmap_set: pindex %lx out of range", pindex);
	if (leaf_path(pm, pindex, true, path) != 0)
		return -1;
	leaf = (struct pm_leaf *)path[1];
	KASSERT(!(leaf->bits[(pindex % FANOUT) / 64] & bit),
	    "popmap_set: pindex %lx already populated", pindex);
	leaf->bits[(pindex % FANOUT) / 64] |= bit;
	for (int l = 1; l <= DEPTH; l++)
		path[l]->count++;
	pm->populated++;
	return 0;
}

/* Mark pindex unpopulated and free the nodes this empties. */
void
popmap_clear(struct popmap *pm, uint64_t pindex)
{
	struct pm_hdr *path[DEPTH + 1];
	struct pm_leaf *leaf;
	uint64_t bit = (uint64_t)1 << (pindex % 64);

	KASSERT(pindex < POPMAP_PINDEX_LIMIT, "popmap_clear: pindex %lx out of range", pindex);
	leaf_path(pm, pindex, false, path);
	leaf = (struct pm_leaf *)path[1];
	KASSERT(leaf != NULL && (leaf->bits[(pindex % FANOUT) / 64] & bit),
	    "popmap_clear: pindex %lx not populated", pindex);
	leaf->bits[(pindex % FANOUT) / 64] &= ~bit;
	for (int l = 1; l <= DEPTH; l++) {
		KASSERT(path[l]->count > 0, "popmap_clear: level %d count corrupted", l);
		path[l]->count--;
	}
	pm->populated--;
	prune(pm, pindex, 1, path);
}

/*
 * Mark the 512 pages of the 2 MiB block at pindex populated in one walk (a 2 MiB page
 * mapped whole); 0, or -1 (map unchanged) when out of memory.
 */
int
popmap_set_block(struct popmap *pm, uint64_t pindex)
{
	struct pm_hdr *path[DEPTH + 1];
	struct pm_leaf *leaf;

	KASSERT(pindex < POPMAP_PINDEX_LIMIT && pindex % FANOUT == 0,
	    "popmap_set_block: pindex %lx out of range or not a 2 MiB block", pindex);
	if (grow(pm, pindex, 1, path) != 0)
		return -1;
	leaf = (struct pm_leaf *)path[1];
	KASSERT(leaf->h.count == 0, "popmap_set_block: block %lx has %lu pages populated already", pindex,
	    leaf->h.count);
	for (int w = 0; w < LEAF_WORDS; w++)
		leaf->bits[w] = ~(uint64_t)0;
	for (int l = 1; l <= DEPTH; l++)
		path[l]->count += FANOUT;
	pm->populated += FANOUT;
	return 0;
}

/* Mark the 512 pages of the 2 MiB block at pindex, all populated, unpopulated in one walk. */
void
popmap_clear_block(struct popmap *pm, uint64_t pindex)
{
	struct pm_hdr *path[DEPTH + 1];
	struct pm_leaf *leaf;

	KASSERT(pindex < POPMAP_PINDEX_LIMIT && pindex % FANOUT == 0,
	    "popmap_clear_block: pindex %lx out of range or not a 2 MiB block", pindex);
	walk(pm, pindex, 1, path);
	leaf = (struct pm_leaf *)path[1];
	KASSERT(leaf != NULL && leaf->h.count == FANOUT, "popmap_clear_block: block %lx is not fully populated",
	    pindex);
	for (int w = 0; w < LEAF_WORDS; w++)
		leaf->bits[w] = 0;
	for (int l = 1; l <= DEPTH; l++) {
		KASSERT(path[l]->count >= FANOUT, "popmap_clear_block: level %d count corrupted", l);
		path[l]->count -= FANOUT;
	}
	pm->populated -= FANOUT;
	prune(pm, pindex, 1, path);
}

/* Whether pindex is populated. */
bool
popmap_test(const struct popmap *pm, uint64_t pindex)
{
	const struct pm_leaf *leaf;

	if (pindex >= POPMAP_PINDEX_LIMIT)
		return false;
	leaf = (const struct pm_leaf *)lookup(pm, pindex, 1);
	return leaf != NULL && (leaf->bits[(pindex % FANOUT) / 64] >> (pindex % 64) & 1);
}

/* Populated pages in the aligned block of that level containing pindex. */
uint64_t
popmap_count(const struct popmap *pm, uint64_t pindex, int level)
{
	const struct pm_hdr *n;

	KASSERT(level >= PS_4K && level <= PS_1G,
	    "popmap_count: bad level %d", level);
	KASSERT(pindex < POPMAP_PINDEX_LIMIT, "popmap_count: pindex %lx out of range", pindex);
	if (level == PS_4K)
		return popmap_test(pm, pindex);
	n = lookup(pm, pindex, level);
	return n != NULL ? n->count : 0;
}

/* Bits set in leaf l among bits [lo, hi), 0 <= lo < hi <= FANOUT. */
static uint64_t
leaf_count(const struct pm_leaf *l, uint64_t lo, uint64_t hi)
{
	uint64_t n = 0;

	for (uint64_t w = lo / 64; w * 64 < hi; w++) {
		uint64_t mask = ~(uint64_t)0;

		if (w == lo / 64)
			mask &= ~(uint64_t)0 << (lo % 64);
		if ((w + 1) * 64 > hi)
			mask &= ~(uint64_t)0 >> (64 - hi % 64);
		n += popcount64(l->bits[w] & mask);
	}
	return n;
}

/*
 * Populated pages in [lo, hi) inside the block [base, base + SPAN(level)) of node n
 * (base <= lo < hi <= the block's end).  Whole children are counted from their headers.
 */
static uint64_t
range_count(const struct pm_hdr *n, int level, uint64_t base, uint64_t lo, uint64_t hi)
{
	uint64_t cs, sum = 0;

	if (lo == base && hi == base + SPAN(level))
		return n->count;
	if (level == 1)
		return leaf_count((const struct pm_leaf *)n, lo - base, hi - base);
	cs = SPAN(level - 1);
	for (uint64_t i = (lo - base) / cs; i <= (hi - 1 - base) / cs; i++) {
		const struct pm_hdr *c = ((const struct pm_node *)n)->slot[i];
		uint64_t cb = base + i * cs, ce = cb + cs;

		if (c != NULL && c->count != 0)
			sum += range_count(c, level - 1, cb, lo > cb ? lo : cb, hi < ce ? hi : ce);
	}
	return sum;
}

/* Populated pages in [start, start+npages), clipped to the pindex range. */
uint64_t
popmap_count_range(const struct popmap *pm, uint64_t start, uint64_t npages)
{
	uint64_t end;

	if (npages == 0 || start >= POPMAP_PINDEX_LIMIT || pm->root == NULL)
		return 0;
	end = npages > POPMAP_PINDEX_LIMIT - start ? POPMAP_PINDEX_LIMIT : start + npages;
	return range_count(pm->root, DEPTH, 0, start, end);
}

/* Reservation pointer of the 2 MiB or 1 GiB block containing pindex, or NULL. */
void *
popmap_reserv(const struct popmap *pm, uint64_t pindex, int level)
{
	const struct pm_hdr *n;

	KASSERT(level == PS_2M || level == PS_1G,
	    "popmap_reserv: bad level %d", level);
	KASSERT(pindex < POPMAP_PINDEX_LIMIT, "popmap_reserv: pindex %lx out of range", pindex);
	n = lookup(pm, pindex, level);
	return n != NULL ? n->reserv : NULL;
}

/* Set or clear the reservation pointer of a block; 0, or -1 (unchanged) when out of memory. */
int
popmap_set_reserv(struct popmap *pm, uint64_t pindex, int level, void *rv)
{
	struct pm_hdr *path[DEPTH + 1];

	KASSERT(level == PS_2M || level == PS_1G,
	    "popmap_set_reserv: bad level %d", level);
	KASSERT(pindex < POPMAP_PINDEX_LIMIT, "popmap_set_reserv: pindex %lx out of range",
	    pindex);
	if (rv == NULL) {
		walk(pm, pindex, level, path);
		if (path[level] == NULL || path[level]->reserv == NULL)
			return 0;
		path[level]->reserv = NULL;
		for (int l = level; l <= DEPTH; l++)
			path[l]->nreserv--;
		prune(pm, pindex, level, path);
		return 0;
	}
	if (grow(pm, pindex, level, path) != 0)
		return -1;
	if (path[level]->reserv == rv)
		return 0;
	KASSERT(path[level]->reserv == NULL,
	    "popmap_set_reserv: block of pindex %lx at level %d already has reservation %p",
	    pindex, level, path[level]->reserv);
	path[level]->reserv = rv;
	for (int l = level; l <= DEPTH; l++)
		path[l]->nreserv++;
	return 0;
}

/* Reservation pointers in the 2 MiB or 1 GiB block containing pindex, its own included. */
uint64_t
popmap_reserv_count(const struct popmap *pm, uint64_t pindex, int level)
{
	const struct pm_hdr *n;

	KASSERT(level == PS_2M || level == PS_1G,
	    "popmap_reserv_count: bad level %d", level);
	KASSERT(pindex < POPMAP_PINDEX_LIMIT, "popmap_reserv_count: pindex %lx out of range",
	    pindex);
	n = lookup(pm, pindex, level);
	return n != NULL ? n->nreserv : 0;
}

uint64_t
popmap_reserv_total(const struct popmap *pm)
{
	const struct pm_hdr *root = pm->root;
	return root != NULL ? root->nreserv : 0;
}

uint64_t
popmap_root_count(const struct popmap *pm)
{
	const struct pm_hdr *root = pm->root;
	return root != NULL ? root->count : 0;
}

/*
 * The first populated page >= from in the block [base, base + SPAN(level)) of node n
 * (base <= from < its end), in *out; false if none.  Children without pages are skipped.
 */
static bool
find_next(const struct pm_hdr *n, int level, uint64_t base, uint64_t from, uint64_t *out)
{
	uint64_t cs;

	if (level == 1) {
		const struct pm_leaf *leaf = (const struct pm_leaf *)n;
		uint64_t off = from - base;

		for (uint64_t w = off / 64; w < LEAF_WORDS; w++) {
			uint64_t word = leaf->bits[w];

			if (w == off / 64)
				word &= ~(uint64_t)0 << (off % 64);
			if (word != 0) {
				*out = base + w * 64 + (uint64_t)__builtin_ctzll(word);
				return true;
			}
		}
		return false;
	}
	cs = SPAN(level - 1);
	for (uint64_t i = (from - base) / cs; i < FANOUT; i++) {
		const struct pm_hdr *c = ((const struct pm_node *)n)->slot[i];
		uint64_t cb = base + i * cs;

		if (c != NULL && c->count != 0 &&
		    find_next(c, level - 1, cb, from > cb ? from : cb, out))
			return true;
	}
	return false;
}

/* The first populated pindex >= from, in *pindex; false if none. */
bool
popmap_next(const struct popmap *pm, uint64_t from, uint64_t *pindex)
{
	if (from >= POPMAP_PINDEX_LIMIT || pm->root == NULL || pm->populated == 0)
		return false;
	return find_next(pm->root, DEPTH, 0, from, pindex);
}

/* Free node n of that level and everything below it; panics on a reservation pointer. */
static void
destroy(const struct popmap *pm, struct pm_hdr *n, int level)
{
	KASSERT(n->nreserv == 0 && n->reserv == NULL,
	    "popmap_destroy: reservation pointer left at level %d", level);
	if (level > 1)
		for (unsigned i = 0; i < FANOUT; i++)
			if (((struct pm_node *)n)->slot[i] != NULL)
				destroy(pm, ((struct pm_node *)n)->slot[i], level - 1);
	node_free(pm, n, level);
}

/* Free every node of pm, which is empty afterwards. */
void
popmap_destroy(struct popmap *pm)
{
	if (pm->root != NULL)
		destroy(pm, pm->root, DEPTH);
	pm->root = NULL;
	pm->populated = 0;
	pm->hint_block = POPMAP_NO_HINT;
}
