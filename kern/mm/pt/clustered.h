/*
 * A clustered page table (kern/mm/pt/clustered.c; Talluri, Hill and Khalidi, "A New
 * Page Table for 64-bit Address Spaces", SOSP'95): a hash table whose nodes each map a
 * block of F consecutive 4 KiB pages (F, the subblock factor, a power of two from 1 to
 * 64; F = 1 is exactly a hashed page table), with partial-subblock nodes (one frame and
 * a valid bit per page, for a block whose pages are physically contiguous and aligned)
 * and superpage PTEs.  A data structure with no kernel dependency: its memory comes
 * from the caller's allocator, so the host unit test (tests/test_clustered.c) runs it
 * unchanged against a reference map.  Issue 11 puts it behind the page-table interface.
 */
#ifndef SPOS_KERN_MM_PT_CLUSTERED_H
#define SPOS_KERN_MM_PT_CLUSTERED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kern/mm/lib/pagesize.h"

#define CPT_MAX_F	64		/* the valid bits of a partial-subblock node fill one word */

/* Where the table's memory comes from: alloc returns zeroed memory or NULL. */
struct cpt_alloc {
	void *(*alloc)(void *ctx, size_t bytes);
	void (*free)(void *ctx, void *p, size_t bytes);
	void *ctx;
};

struct cpt_node;

/* One hash table: nodes of one kind of block (F pages, or one superpage of a size). */
struct cpt_hash {
	struct cpt_node **heads;
	unsigned log2_buckets;
	uint64_t nodes;
};

/*
 * The table.  Base pages live in blocks of F pages in base; a superpage larger than a
 * block has a table of its own per size (the paper's "multiple page tables"; the other
 * choice, replicating its PTE in every block it covers, would take 32 nodes for a
 * 2 MiB page at F = 16 and 16,384 for a 1 GiB one).  A lookup probes the base table,
 * then the 2 MiB and 1 GiB tables if they hold anything.
 */
struct cpt {
	unsigned f, log2_f;		/* subblock factor */
	struct cpt_hash base, super[2];	/* super[0]: 2 MiB pages, super[1]: 1 GiB */
	struct cpt_alloc mem;
	uint64_t bytes;			/* memory held: bucket arrays and nodes */
	uint64_t pages;			/* 4 KiB pages mapped (a superpage counts all of its) */
};

struct cpt_stats {
	uint64_t bytes, pages;
	uint64_t nodes_full, nodes_partial, nodes_super;
	uint64_t buckets_used;		/* non-empty chains, all tables */
	unsigned longest_chain;
};

/* Flag bits a PTE may carry here: x86 leaf flags (bits 0-11, 63); the frame in 12-50. */
#define CPT_FLAGS_MASK	(0xFFFUL | (1UL << 63))
#define CPT_ADDR_MASK	0x0007FFFFFFFFF000UL

/*
 * An empty table with subblock factor f (a power of two, 1..CPT_MAX_F) and 2^log2_buckets
 * buckets in the base table (the superpage tables get a quarter as many, at least
 * one).  0, -E_INVAL (bad f or log2_buckets above 24) or -E_NO_MEM.
 */
int cpt_init(struct cpt *t, unsigned f, unsigned log2_buckets, const struct cpt_alloc *mem);

/* Free every node and bucket array; t can be initialised again. */
void cpt_destroy(struct cpt *t);

/*
 * Map the page of `size` at va (aligned) to the frame and flags in pte (the frame
 * aligned to size; PS is the caller's business).  0, -E_INVAL (misaligned), -E_EXISTS
 * (some page of it is mapped already: nothing changes) or -E_NO_MEM (nothing changes).
 */
int cpt_map(struct cpt *t, uint64_t va, uint64_t pte, enum page_size size);

/*
 * Unmap the page of `size` at va, which must be mapped with exactly that size.  0 or
 * -E_NOT_FOUND (nothing changes).  Cannot fail for lack of memory (a partial-subblock
 * node losing a page stays partial).
 */
int cpt_unmap(struct cpt *t, uint64_t va, enum page_size size);

/*
 * Replace the flags of the page of `size` at va (mapped with that size).  0,
 * -E_NOT_FOUND, or -E_NO_MEM when a partial-subblock node must become a full one (one
 * page's flags now differ from its neighbours') and no memory is left.
 */
int cpt_protect(struct cpt *t, uint64_t va, enum page_size size, uint64_t flags);

/*
 * The translation of va: true with the PTE of its page (the frame of va's own page for
 * a partial-subblock node, the superpage's frame for a superpage) and its size; false
 * if unmapped.  *refs (if not NULL) gets the memory references of the lookup: one per
 * bucket head and node read along each chain probed.
 */
bool cpt_lookup(const struct cpt *t, uint64_t va, uint64_t *pte, enum page_size *size, unsigned *refs);

void cpt_stats(const struct cpt *t, struct cpt_stats *s);

/*
 * Call fn(arg, va, pte, size) for every page mapped that intersects [start, end) (a
 * superpage whole, va its start), in no particular order; fn must not change t.
 */
typedef void cpt_leaf_fn(void *arg, uint64_t va, uint64_t pte, enum page_size size);
void cpt_foreach(const struct cpt *t, uint64_t start, uint64_t end, cpt_leaf_fn *fn, void *arg);

#endif
