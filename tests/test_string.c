/*
 * Host unit test for lib/string.c's memset, memcpy and memmove (string instructions),
 * against byte loops: every length 0..300 at every source and destination alignment
 * modulo 8 (and 8..15, to cross quadword boundaries both ways), and memmove with every
 * overlap near the ends in both directions.  Each run checks the whole buffer, so a
 * byte written outside [dst, dst + n) is caught, and that the direction flag is clear
 * after each call.  lib/string.c is compiled with its names prefixed spos_ (Makefrag)
 * so that it does not replace the host's libc.
 */
#define HARNESS_NAME "string"
#include "tests/harness.h"

void *spos_memset(void *dst, int c, size_t n);
void *spos_memcpy(void *dst, const void *src, size_t n);
void *spos_memmove(void *dst, const void *src, size_t n);

#define MAXLEN	300
#define ALIGNS	16
#define BUF	(4 * MAXLEN + 8 * ALIGNS)

static unsigned char buf[BUF] __attribute__((aligned(64)));
static unsigned char want[BUF], pattern[BUF];
static unsigned char src[BUF] __attribute__((aligned(64)));

/* Whether the direction flag was set; clears it, so that a failure can still be printed. */
static int
df_set(void)
{
	uint64_t fl;

	__asm__ volatile("pushfq; popq %0; cld" : "=r"(fl));
	return (fl >> 10) & 1;
}

/* buf and want both hold the same pseudo-random bytes. */
static void
fill(void)
{
	memcpy(buf, pattern, BUF);
	memcpy(want, pattern, BUF);
}

static void
same(const char *what, size_t n, size_t a, size_t b)
{
	size_t i = 0;

	while (i < BUF && buf[i] == want[i])
		i++;
	CHECK(i == BUF, "%s n=%zu at %zu,%zu: byte %zu is %#x, expected %#x", what, n, a, b, i,
	      buf[i % BUF], want[i % BUF]);
	CHECK(!df_set(), "%s n=%zu at %zu,%zu left the direction flag set", what, n, a, b);
}

static void
test_memset(void)
{
	static const int values[] = { 0, 0xa5, 0x1ff, -1 };

	for (size_t n = 0; n <= MAXLEN; n++)
		for (size_t a = 0; a < ALIGNS; a++)
			for (size_t k = 0; k < sizeof values / sizeof values[0]; k++) {
				fill();
				for (size_t i = 0; i < n; i++)
					want[ALIGNS + a + i] = (unsigned char)values[k];
				CHECK(spos_memset(buf + ALIGNS + a, values[k], n) == buf + ALIGNS + a,
				      "memset's return value");
				same("memset", n, a, (size_t)values[k]);
			}
}

static void
test_memcpy(void)
{
	for (size_t i = 0; i < BUF; i++)
		src[i] = (unsigned char)rnd();
	for (size_t n = 0; n <= MAXLEN; n++)
		for (size_t a = 0; a < ALIGNS; a++)
			for (size_t b = 0; b < ALIGNS; b++) {
				fill();
				for (size_t i = 0; i < n; i++)
					want[ALIGNS + a + i] = src[b + i];
				CHECK(spos_memcpy(buf + ALIGNS + a, src + b, n) == buf + ALIGNS + a,
				      "memcpy's return value");
				same("memcpy", n, a, b);
			}
}

/* memmove of n bytes from s to d inside buf, d - s = delta; the reference goes through tmp. */
static void
move(size_t n, size_t s, long delta)
{
	unsigned char tmp[MAXLEN];
	size_t d = (size_t)((long)s + delta);

	fill();
	for (size_t i = 0; i < n; i++)
		tmp[i] = want[s + i];
	for (size_t i = 0; i < n; i++)
		want[d + i] = tmp[i];
	CHECK(spos_memmove(buf + d, buf + s, n) == buf + d, "memmove's return value");
	same("memmove", n, s, d);
}

static void
test_memmove(void)
{
	for (size_t n = 0; n <= MAXLEN; n++)
		for (size_t a = 0; a < 8; a++) {
			size_t s = MAXLEN + 2 * ALIGNS + a;	/* room for a delta of +-(n + 16) */
			for (long delta = -24; delta <= 24; delta++)
				move(n, s, delta);
			for (long k = -16; k <= 16; k++) {
				move(n, s, (long)n + k);
				move(n, s, -(long)n + k);
			}
		}
}

int
main(void)
{
	harness_start();
	rng_seed(13);
	for (size_t i = 0; i < BUF; i++)
		pattern[i] = (unsigned char)rnd();
	test_memset();
	test_memcpy();
	test_memmove();
	return harness_done();
}
