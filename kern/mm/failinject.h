/* Fault injection: make chosen allocations fail (kern/mm/failinject.c). */
#ifndef SPOS_KERN_FAILINJECT_H
#define SPOS_KERN_FAILINJECT_H

#include <stdbool.h>
#include <stdint.h>
#include "inc/syscall.h"

/* Read fail.frame=K[:N] and fail.kmalloc=K[:N]; counting starts here (end of boot). */
void failinject_init(void);

/*
 * Whether this allocation of kind (FAIL_FRAME: page_alloc; FAIL_KMALLOC: kmalloc)
 * must fail.  Counts the allocation.
 */
bool failinject_now(int kind);

/*
 * While paused, no allocation fails by injection, nor is counted (the page-table
 * designs' own nodes, kern/mm/pt/design.c).
 */
void failinject_pause(bool pause);

/*
 * Arm kind: allocations k .. k+n-1 counted from now fail; k == 0 or n == 0 disarms.  Returns the failures injected for kind since it was last armed (before
 * this call), or -E_INVAL for a bad kind.
 */
int64_t failinject_arm(int kind, uint64_t k, uint64_t n);

#endif
