/*
 * inc/tlbtrace.h: the deterministic page-reference sequences used to validate the model
 * TLB.  The user workload (user/tlbtrace.c) touches them in a data region inside spos,
 * and the reference simulator's command-line driver (tests/tlbsim_main.c) replays the
 * same sequence on the host, so their miss counts can be compared exactly.
 *
 *   seq     0, 1, 2, ... pages-1, then again (a sequential sweep, repeated)
 *   stride  0, s, 2s, ... modulo pages
 *   cyclic  0 .. pages-1 over and over (meant for more pages than the TLB holds)
 *   random  uniform in [0, pages) from xorshift64* seeded with seed
 * seq and cyclic are the same sequence; both names are kept for the reports.
 */
#ifndef SPOS_INC_TLBTRACE_H
#define SPOS_INC_TLBTRACE_H

#include <stdint.h>
#include "inc/xorshift.h"

enum tlbtrace_pattern { TRACE_SEQ, TRACE_STRIDE, TRACE_CYCLIC, TRACE_RANDOM, TRACE_NPATTERNS };

struct tlbtrace {
	enum tlbtrace_pattern pattern;
	uint64_t pages;		/* the sequence ranges over [0, pages) */
	uint64_t stride;
	uint64_t state;		/* xorshift64* state (random) */
	uint64_t i;		/* accesses generated so far */
};

static const char *const tlbtrace_names[TRACE_NPATTERNS] = { "seq", "stride", "cyclic", "random" };

/* Pattern number of name, or -1. */
static inline int
tlbtrace_lookup(const char *name)
{
	for (int p = 0; p < TRACE_NPATTERNS; p++) {
		const char *a = name, *b = tlbtrace_names[p];
		while (*a && *a == *b)
			a++, b++;
		if (*a == '\0' && *b == '\0')
			return p;
	}
	return -1;
}

static inline void
tlbtrace_init(struct tlbtrace *t, enum tlbtrace_pattern pattern, uint64_t pages, uint64_t stride, uint64_t seed)
{
	t->pattern = pattern;
	t->pages = pages ? pages : 1;
	t->stride = stride ? stride : 1;
	t->state = xorshift64_seed(seed);
	t->i = 0;
}

/* The next page index of the sequence. */
static inline uint64_t
tlbtrace_next(struct tlbtrace *t)
{
	uint64_t i = t->i++;
	switch (t->pattern) {
	case TRACE_STRIDE:
		return (i * t->stride) % t->pages;
	case TRACE_RANDOM:
		return xorshift64_below(&t->state, t->pages);
	default:
		return i % t->pages;
	}
}

#endif
