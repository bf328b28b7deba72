/*
 * user/utest.h: small helpers shared by the test programs in user/.
 *
 * A test that detects a failure prints "NAME: FAIL reason" (NAME is argv[0], the
 * program's name) and exits 1; the grader rejects any line containing "FAIL".
 */
#ifndef SPOS_USER_UTEST_H
#define SPOS_USER_UTEST_H

#include "inc/lib.h"

/* Fail unless cond holds: "NAME: FAIL message". */
#define CHECK(cond, fmt, ...)                                   \
	do {                                                    \
		if (!(cond))                                    \
			fail("FAIL " fmt, ##__VA_ARGS__);       \
	} while (0)

/* Fail unless the call returns exactly want (a value or a -E_* code). */
#define EXPECT(call, want) expect_result((int64_t)(call), (int64_t)(want), #call)

/* "-2 (invalid argument)" for an error code, plain "N" otherwise. */
static inline const char *
describe(int64_t v, char *buf, size_t size)
{
	if (v < 0 && v > -MAXERROR)
		snprintf(buf, size, "%ld (%e)", (long)v, (int)v);
	else
		snprintf(buf, size, "%ld", (long)v);
	return buf;
}

static inline void
expect_result(int64_t got, int64_t want, const char *what)
{
	char g[48], w[48];

	if (got != want)
		fail("FAIL %s returned %s, expected %s", what, describe(got, g, sizeof g),
		     describe(want, w, sizeof w));
}

#define NPG	512		/* 4 KiB pages in a 2 MiB block */

/* The kernel's counters now (fails the test if the call does). */
static inline struct kcounters
stats_now(void)
{
	struct kcounters c;
	EXPECT(counters(&c, sizeof c), sizeof c);
	return c;
}

/* What is mapped at va (fails the test if vmquery does). */
static inline struct vm_query
query_va(const void *va)
{
	struct vm_query q;
	EXPECT(vmquery(va, &q), 0);
	return q;
}

/*
 * The model-TLB counts of s as the grader reads them, into buf: "traps T misses 4k A 2m
 * B 1g C evictions 4k D 2m E 1g F walkrefs W".  Returns buf.
 */
static inline const char *
tlb_counts(char *buf, size_t size, const struct tlb_stats *s)
{
	snprintf(buf, size, "traps %lu misses 4k %lu 2m %lu 1g %lu evictions 4k %lu 2m %lu 1g %lu walkrefs %lu",
		 (unsigned long)s->traps, (unsigned long)s->misses[0], (unsigned long)s->misses[1],
		 (unsigned long)s->misses[2], (unsigned long)s->evictions[0], (unsigned long)s->evictions[1],
		 (unsigned long)s->evictions[2], (unsigned long)s->walk_refs);
	return buf;
}

/* With the shadow model on (tlb.shadow.*), its counts: "PROG: shadow traps ... taken N". */
static inline void
print_shadow_counts(const char *prog, const struct tlb_stats *s)
{
	if (!s->shadow)
		return;
	printf("%s: shadow traps %lu misses 4k %lu 2m %lu 1g %lu evictions 4k %lu 2m %lu 1g %lu walkrefs %lu "
	       "taken %lu\n", prog, (unsigned long)s->shadow_traps, (unsigned long)s->shadow_misses[0],
	       (unsigned long)s->shadow_misses[1], (unsigned long)s->shadow_misses[2],
	       (unsigned long)s->shadow_evictions[0], (unsigned long)s->shadow_evictions[1],
	       (unsigned long)s->shadow_evictions[2], (unsigned long)s->shadow_walk_refs, (unsigned long)s->fake_faults);
}

/* A test program's scenarios, chosen by name on the command line. */
struct scenario {
	const char *name;
	void (*fn)(void);
};

/* Run the scenario named argv[1] and print "PROG: NAME OK"; fail on a bad name. */
static inline void
run_scenario(const struct scenario *scenarios, size_t n, int argc, char **argv)
{
	CHECK(argc == 2, "usage: %s SCENARIO", argv[0]);
	size_t i;
	for (i = 0; i < n && strcmp(argv[1], scenarios[i].name) != 0; i++)
		;
	CHECK(i < n, "no scenario '%s'", argv[1]);
	scenarios[i].fn();
	printf("%s: %s OK\n", argv[0], argv[1]);
}

/* The kernel's count of free physical pages. */
static inline uint64_t
free_pages(void)
{
	struct kcounters c;
	int r = counters(&c, sizeof c);

	CHECK(r == (int)sizeof c, "counters returned %d", r);
	return c.free_pages;
}

/*
 * addr as a pointer the compiler knows nothing about, so that a deliberately bad
 * access (address 0, a kernel address) is compiled as the plain load or store it is
 * instead of being "optimised" into a trap instruction.
 */
static inline void *
opaque_ptr(uint64_t addr)
{
	__asm__ volatile("" : "+r"(addr));
	return (void *)addr;
}

#endif
