/* Small helpers shared by the kernel, user programs and host tests. */
#ifndef SPOS_INC_UTIL_H
#define SPOS_INC_UTIL_H

#include <stdint.h>

/* Round down / up to a multiple of n, a power of two. */
#define ROUNDDOWN(a, n)	((__typeof__(a))((uint64_t)(a) & ~((uint64_t)(n) - 1)))
#define ROUNDUP(a, n)	ROUNDDOWN((uint64_t)(a) + (uint64_t)(n) - 1, n)
#define MIN(a, b)	((a) < (b) ? (a) : (b))
#define MAX(a, b)	((a) > (b) ? (a) : (b))
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#endif
