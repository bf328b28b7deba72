/*
 * A guarded page table (kern/mm/pt/guarded.c; Liedtke, "Page Table Structures for
 * Fine-Grain Virtual Memory", 1994, and Wiggins's GPT for Linux): a trie over the
 * 36-bit virtual page number (va bits 47..12) whose levels are skipped by guards (path
 * compression), so a sparse space needs few nodes.  A data structure with no kernel
 * dependency: its memory comes from the caller's allocator, so the host unit test
 * (tests/test_guarded.c) runs it unchanged against a reference map.  Issue 11 puts it
 * behind the page-table interface.
 */
#ifndef SPOS_KERN_MM_PT_GUARDED_H
#define SPOS_KERN_MM_PT_GUARDED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kern/mm/lib/pagesize.h"

#define GPT_KEY_BITS	36		/* the virtual page number: va bits 47..12 */
#define GPT_MAX_STRIDE	9		/* widest node: 512 entries, like an x86 table page */
#define GPT_STRIDE_DEFAULT 9		/* smallest on dense and sparse spaces (guarded.c) */

/* Where the table's memory comes from: alloc returns zeroed memory or NULL. */
struct gpt_alloc {
	void *(*alloc)(void *ctx, size_t bytes);
	void (*free)(void *ctx, void *p, size_t bytes);
	void *ctx;
};

struct gpt_node;

/*
 * One entry: invalid, a leaf (guard, page size, PTE) or internal (guard, the next
 * node).  The guard is the `glen` key bits the entry skips, below its node's index
 * bits; the next node's size is in the node itself.
 */
struct gpt_entry {
	uint64_t guard : GPT_KEY_BITS;
	uint64_t glen : 6;
	uint64_t type : 2;		/* GPT_INVALID, GPT_LEAF, GPT_INTERNAL */
	uint64_t size : 2;		/* leaf: enum page_size */
	union {
		uint64_t pte;		/* leaf */
		struct gpt_node *next;	/* internal */
	};
};

enum { GPT_INVALID, GPT_LEAF, GPT_INTERNAL };

/* The table: one root entry (its guard may skip every level) and its allocator. */
struct gpt {
	struct gpt_entry root;
	unsigned stride;		/* node index width: levels at multiples of it (see guarded.c) */
	struct gpt_alloc mem;
	uint64_t bytes;			/* memory held: nodes */
	uint64_t pages;			/* 4 KiB pages mapped (a superpage counts all of its) */
};

struct gpt_stats {
	uint64_t bytes, pages;
	uint64_t nodes, bottom_nodes;	/* nodes, and of them PTE arrays (see guarded.c) */
	uint64_t leaves, entries;	/* leaves, and entries held in nodes (valid or not) */
	unsigned depth_max;		/* most entries read by a lookup that hits */
	uint64_t depth_sum;		/* entries read by a hitting lookup, summed over leaves */
};

/* Flag bits a PTE may carry here: x86 leaf flags (bits 0-11, 63); the frame in 12-50. */
#define GPT_FLAGS_MASK	(0xFFFUL | (1UL << 63))
#define GPT_ADDR_MASK	0x0007FFFFFFFFF000UL

/*
 * An empty table whose nodes index `stride` key bits (1..GPT_MAX_STRIDE; 1 makes a
 * binary trie, 9 the x86 levels).  0 or -E_INVAL.  Allocates nothing.
 */
int gpt_init(struct gpt *t, unsigned stride, const struct gpt_alloc *mem);

/* Free every node; t can be initialised again. */
void gpt_destroy(struct gpt *t);

/*
 * Map the page of `size` at va (canonical, aligned) to the frame and flags in pte (the
 * frame aligned to size, P set).  0, -E_INVAL (misaligned, non-canonical or not
 * present), -E_EXISTS (some page of it is mapped already: nothing changes) or -E_NO_MEM
 * (nothing changes).
 */
int gpt_map(struct gpt *t, uint64_t va, uint64_t pte, enum page_size size);

/*
 * Unmap the page of `size` at va, which must be mapped with exactly that size.  0 or
 * -E_NOT_FOUND (nothing changes).  Never allocates.
 */
int gpt_unmap(struct gpt *t, uint64_t va, enum page_size size);

/*
 * Replace the flags of the page of `size` at va (mapped with that size; flags with P).
 * 0, -E_INVAL (flags without P) or -E_NOT_FOUND.
 */
int gpt_protect(struct gpt *t, uint64_t va, enum page_size size, uint64_t flags);

/*
 * The translation of va: true with the PTE of its page and its size; false if
 * unmapped.  *refs (if not NULL) gets the memory references of the lookup: one per
 * entry read, the root entry included.
 */
bool gpt_lookup(const struct gpt *t, uint64_t va, uint64_t *pte, enum page_size *size, unsigned *refs);

void gpt_stats(const struct gpt *t, struct gpt_stats *s);

/*
 * Call fn(arg, va, pte, size) for every page mapped that intersects [start, end) (a
 * superpage whole, va its start), in address order; fn must not change t.
 */
typedef void gpt_leaf_fn(void *arg, uint64_t va, uint64_t pte, enum page_size size);
void gpt_foreach(const struct gpt *t, uint64_t start, uint64_t end, gpt_leaf_fn *fn, void *arg);

/*
 * Whether the table keeps its invariants (every node's counts, at least two valid
 * entries per node, nodes at level boundaries, leaves ending at their coverage).
 */
bool gpt_check(const struct gpt *t);

#endif
