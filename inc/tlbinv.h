/*
 * inc/tlbinv.h: the scripts of mapping changes used to check the model TLB's
 * invalidation.  The user workload (user/tlbinv.c) performs them on a measured region
 * of PAGES 4 KiB pages, and the reference simulator's driver (tests/tlbsim_main.c,
 * `tlbsim inv`) replays them with textbook TLB rules, so their counts can be compared.
 *
 *   cow      all pages populated; read all, fork, read all, then copy-on-write writes
 *            to single pages between reads of all
 *   grow     nothing populated; first touches of page after page, each followed by
 *            re-accesses of pages touched before (a growing working set)
 *   unmap    all pages populated; rounds of: read all, unmap one page, read the others,
 *            map it again, touch it (demand zero), read all
 *   copyout  the lower half populated; the kernel writes (a system call's output) into
 *            the upper half's pages one by one, the lower half read in between
 *   promote  (vm.policy=reserve, PAGES a multiple of 512, 2 MiB aligned) grow as above;
 *            the first touch completing a 2 MiB block promotes it; then one page's
 *            mprotect demotes its block, and mprotect back promotes it again
 *   hot      (vm.policy=reserve, as promote) the blocks filled and promoted as in
 *            promote, then 20000 reads of pages chosen at random (xorshift64*, seed 1):
 *            meant to run beside a page daemon sampling accessed bits
 * Every script only reads or writes pages that are mapped at that point.
 */
#ifndef SPOS_INC_TLBINV_H
#define SPOS_INC_TLBINV_H

#include <stdbool.h>
#include <stdint.h>
#include "inc/xorshift.h"

enum tlbinv_scenario { INVS_COW, INVS_GROW, INVS_UNMAP, INVS_COPYOUT, INVS_PROMOTE, INVS_HOT, INVS_NSCENARIOS };

#define INV_BLOCK	512		/* 4 KiB pages of a 2 MiB page */

enum tlbinv_op {
	INV_READ,	/* a user load from the page */
	INV_WRITE,	/* a user store to the page */
	INV_FORK,	/* fork: every page becomes copy-on-write */
	INV_UNMAP,	/* munmap of the page */
	INV_MAP,	/* mmap MAP_FIXED of the page again (not populated) */
	INV_COPYOUT,	/* a system call writes its output into the page */
	INV_WRITE_PROMOTE,	/* a first-touch store completing its 2 MiB block: promoted */
	INV_PROTECT_DEMOTE,	/* mprotect of the page read-only: its 2 MiB page is split */
	INV_UNPROTECT_PROMOTE,	/* mprotect of the page read-write again: promoted again */
};

static const char *const tlbinv_names[INVS_NSCENARIOS] = { "cow", "grow", "unmap", "copyout", "promote", "hot" };

/* Scenario number of name, or -1. */
static inline int
tlbinv_lookup(const char *name)
{
	for (int s = 0; s < INVS_NSCENARIOS; s++) {
		const char *a = name, *b = tlbinv_names[s];
		while (*a && *a == *b)
			a++, b++;
		if (*a == '\0' && *b == '\0')
			return s;
	}
	return -1;
}

/* Whether page p is populated before measuring starts. */
static inline bool
tlbinv_prepopulated(enum tlbinv_scenario s, uint64_t pages, uint64_t p)
{
	switch (s) {
	case INVS_GROW:
	case INVS_PROMOTE:
	case INVS_HOT:
		return false;
	case INVS_COPYOUT:
		return p < pages / 2;
	default:
		return true;
	}
}

/* Read pages [lo, hi) except skip (pass hi to skip none). */
static inline void
tlbinv_read_all(uint64_t lo, uint64_t hi, uint64_t skip, void (*op)(void *arg, enum tlbinv_op, uint64_t), void *arg)
{
	for (uint64_t p = lo; p < hi; p++)
		if (p != skip)
			op(arg, INV_READ, p);
}

/* Call op on every step of scenario s over pages (at least 4), in order. */
static inline void
tlbinv_run(enum tlbinv_scenario s, uint64_t pages, void (*op)(void *arg, enum tlbinv_op, uint64_t), void *arg)
{
	switch (s) {
	case INVS_COW:
		tlbinv_read_all(0, pages, pages, op, arg);
		op(arg, INV_FORK, 0);
		tlbinv_read_all(0, pages, pages, op, arg);
		for (uint64_t w = 0; w < 4; w++) {
			op(arg, INV_WRITE, (w * 5 + 1) % pages);
			tlbinv_read_all(0, pages, pages, op, arg);
		}
		break;
	case INVS_GROW:
		for (uint64_t p = 0; p < pages; p++) {
			op(arg, INV_WRITE, p);
			if (p > 0)
				op(arg, INV_READ, p - 1);
			op(arg, INV_READ, p / 2);
			op(arg, INV_READ, 0);
		}
		break;
	case INVS_UNMAP:
		for (uint64_t r = 0; r < 4; r++) {
			uint64_t k = (r * 7 + 3) % pages;
			tlbinv_read_all(0, pages, pages, op, arg);
			op(arg, INV_UNMAP, k);
			tlbinv_read_all(0, pages, k, op, arg);
			op(arg, INV_MAP, k);
			op(arg, INV_READ, k);
			tlbinv_read_all(0, pages, pages, op, arg);
		}
		break;
	case INVS_PROMOTE:
	case INVS_HOT:
		for (uint64_t p = 0; p < pages; p++) {
			op(arg, p % INV_BLOCK == INV_BLOCK - 1 ? INV_WRITE_PROMOTE : INV_WRITE, p);
			op(arg, INV_READ, p / 2);
			op(arg, INV_READ, 0);
		}
		if (s == INVS_HOT) {
			uint64_t state = xorshift64_seed(1);
			for (int i = 0; i < 20000; i++)
				op(arg, INV_READ, xorshift64_below(&state, pages));
			break;
		}
		for (uint64_t p = 0; p < pages; p += INV_BLOCK) {
			op(arg, INV_PROTECT_DEMOTE, p + 100);
			for (uint64_t q = 0; q < pages; q += 37)
				op(arg, INV_READ, q);
			op(arg, INV_UNPROTECT_PROMOTE, p + 100);
			for (uint64_t q = 0; q < pages; q += 37)
				op(arg, INV_READ, q);
		}
		break;
	default:
		for (uint64_t p = pages / 2; p < pages; p++) {
			tlbinv_read_all(0, p, pages, op, arg);
			op(arg, INV_COPYOUT, p);
		}
		tlbinv_read_all(0, pages, pages, op, arg);
		break;
	}
}

#endif
