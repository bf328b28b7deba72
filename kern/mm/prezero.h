/* Pools of pre-zeroed free frames, filled while the CPU idles (kern/mm/prezero.c). */
#ifndef SPOS_KERN_PREZERO_H
#define SPOS_KERN_PREZERO_H

#include <stdbool.h>
#include <stdint.h>
#include "kern/mm/lib/buddy.h"
#include "kern/mm/lib/pagesize.h"

struct prezero_stats {
	uint64_t hits[2];		/* zeroed frames taken from a pool: [0] 4 KiB, [1] 2 MiB */
	uint64_t misses[2];		/* ... wanted while that pool was empty */
	uint64_t reserv_hits;		/* reservation frames found zero at population (PG_ZERO) */
	uint64_t pages_zeroed;		/* 4 KiB pages zeroed ahead (a 2 MiB block counts 512) */
	uint64_t given_back;		/* pool pages handed back to the allocator: memory was short */
};

extern struct prezero_stats prezero_stats;
extern bool prezero_on;			/* boot word prezero=on|off */

/* Read prezero=, prezero.4k= and prezero.2m= from the command line; the pools take frames from b. */
void prezero_init(struct buddy *b);

/*
 * A zeroed frame of size ps (PS_4K or PS_2M) from its pool, counted as a hit, or NULL
 * (a miss when pre-zeroing is on).  The caller owns it as if from buddy_alloc.
 */
struct page *prezero_take(enum page_size ps);

/* Pages held in the pools (free memory for every count the kernel reports). */
uint64_t prezero_pages(void);
/* Blocks held in the pool of size ps. */
uint64_t prezero_blocks(enum page_size ps);

/*
 * Memory is short: hand pool frames back to the allocator so that a block of 2^order
 * frames may be found there.  False if the pools are empty (nothing was done).
 */
bool prezero_give_back(unsigned order);

/*
 * The CPU would idle: zero one frame (4 KiB) or one block (2 MiB) into a pool that is
 * below its target.  False if there was nothing to do (pools full, off, or memory short).
 */
bool prezero_idle(void);

/*
 * PG_ZERO marks the free frames of a reservation made from a pre-zeroed block: the
 * reservation hands each out without zeroing it (prezero_claim) until it leaves the
 * reservation unpopulated (prezero_forget, before it goes back to the allocator).
 */
void prezero_mark(struct page *head, unsigned order);
/* Whether pg was known zero; clears the mark either way (pg is being handed out). */
bool prezero_claim(struct page *pg);
/* A free extent leaves its reservation: its frames are no longer known zero. */
void prezero_forget(struct page *head, unsigned order);

/* Print the pools and counters (monitor `vmstat`). */
void prezero_print(void);

#endif
