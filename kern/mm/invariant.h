/* The kernel invariant checker (kern/mm/invariant.c). */
#ifndef SPOS_KERN_INVARIANT_H
#define SPOS_KERN_INVARIANT_H

#include <stdbool.h>
#include <stdint.h>
#include "kern/mm/lib/buddy.h"

struct vmspace;

/* vm.check=1: check after every run= program, monitor run and ktest (kern/run.c, ktest.c). */
extern bool invariant_at_exit;

/* Read vm.check from the command line. */
void invariant_init(void);

/*
 * Check every invariant of the memory system (the list is at the top of
 * kern/mm/invariant.c), print one "invariant: ..." line per violation (the first few) and,
 * if verbose or something is wrong, a summary line.  Returns the number of violations.
 * Must run outside any half-done kernel operation (between system calls, from the
 * monitor, or at the end of a test).  Allocates a scratch map of 2 bytes per frame
 * straight from the buddy allocator and frees it again.
 */
int invariant_check(bool verbose);

/*
 * Only the buddy allocator's invariants on b (free lists vs page states, orders, counts,
 * coalescing).  Returns the number of violations, printing each.
 */
int invariant_check_buddy(const struct buddy *b);

/*
 * Prove the checker on the live kernel: plant, one at a time, a realistic corruption
 * around the caller's page at va (a present, private, writable 4 KiB page of vs), run
 * invariant_check, expect it to report something, and undo the corruption exactly.
 * Returns the number of plantings the checker missed (0: all caught), or -E_INVAL
 * when va is not such a page or the system was not clean to begin with.
 */
int invariant_selftest(struct vmspace *vs, uint64_t va);

#endif
