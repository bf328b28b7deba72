/*
 * xorshift64* (Marsaglia's xorshift with Vigna's multiplicative output scrambling): the
 * one pseudo-random generator that must give the same numbers everywhere -- the model
 * TLB's random replacement (kern/mm/lib/vtlb.c), its reference simulator (tests/tlbsim.c) and
 * user workloads that generate page sequences -- so that a run can be repeated exactly
 * from its seed.  Header-only, no state of its own: the caller keeps a uint64_t.
 * Not for anything that needs unpredictability.
 */
#ifndef SPOS_INC_XORSHIFT_H
#define SPOS_INC_XORSHIFT_H

#include <stdint.h>

/* The state used for seed 0, which xorshift cannot leave (0 maps to 0 forever). */
#define XORSHIFT64_ZERO_SEED	0x9E3779B97F4A7C15ull

/* The initial state for a seed: the seed itself, or XORSHIFT64_ZERO_SEED for 0. */
static inline uint64_t
xorshift64_seed(uint64_t seed)
{
	return seed != 0 ? seed : XORSHIFT64_ZERO_SEED;
}

/* Advance *state (nonzero) and return the next 64-bit value. */
static inline uint64_t
xorshift64star(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1Dull;
}

/*
 * Advance *state and return a value in [0, n), n > 0, taken from the high bits (the
 * best ones of xorshift64*) by a 64x64->128 multiply; no division.  Bias below n/2^64.
 */
static inline uint64_t
xorshift64_below(uint64_t *state, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)xorshift64star(state) * n) >> 64);
}

#endif
