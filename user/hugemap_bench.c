/*
 * hugemap_bench DIST SEED COUNT [ACCESSES]: one run of the /dev/hugemap threshold
 * sweep (tools/bench_hugemap.py, make bench-hugemap) under the boot's threshold
 * (hugemap.threshold=, else HUGEMAP_THRESHOLD).
 *
 * COUNT requests, their sizes drawn from DIST with xorshift64* seeded by SEED, are
 * mapped from /dev/hugemap and stay mapped together (the working set); every requested
 * page is touched once (population); then the workload -- ACCESSES (default 100000)
 * 8-byte loads, each at a requested byte chosen uniformly at random over all the
 * requests -- runs measured by the model TLB over the range the mappings span.
 * DIST is one of
 *   uniform    4 KiB .. 8 MiB, uniform
 *   lognormal  log-normal around 1 MiB (median 1 MiB, sigma 1 in e-folds), cut to
 *              4 KiB .. 16 MiB
 *   trace      the sizes user/hugemap.c's sizes scenario maps, recorded under the
 *              threshold of 55% (the default then: its sizes around the threshold are
 *              the ones around 55%, fixed here whatever the boot says), without its 64 MiB
 *              request (more than half the bytes of the list, 2 MiB pages at any
 *              threshold); each request picks one of the list at random
 * Sizes are rounded up to pages.  The program computes from the placed requests which
 * blocks the device must give 2 MiB pages and their bloat, and fails unless the
 * kernel's counters say exactly that, with no fallback, and unless munmap of the
 * requests gives every mapped page back, bloat included.  Prints one line:
 *   hugemap_bench: dist D seed S count N threshold T accesses A requested R mapped M
 *       bloat B huge2m H fallbacks F misses4k X misses2m Y walkrefs W traps P tsc I
 *       usedkib U
 * in bytes: R requested, B bloat, M = R + B; H the 2 MiB pages granted, F fallbacks;
 * X, Y, W, P the model TLB's counts of the workload; I its guest instructions (rdtsc
 * under -icount shift=0); U the memory population took, page tables included.
 */
#include "user/utest.h"
#include "inc/xorshift.h"

#define MAXREQ		256
#define MIB		(1UL << 20)
#define AT55		1155072UL	/* the least request of 2 MiB pages at 55%: 282 pages */

static const uint64_t trace_sizes[] = {
	PGSIZE, 16 * PGSIZE, AT55 - PGSIZE, AT55, AT55 + PGSIZE, PG2M - PGSIZE, PG2M, PG2M + PGSIZE,
	PG2M + AT55 - PGSIZE, PG2M + AT55, 3 * PG2M + 12345, 8 * PG2M, PG2M - 10 * PGSIZE,
};

static uint64_t req_at[MAXREQ], req_len[MAXREQ];
static uint64_t prefix[MAXREQ + 1];	/* prefix[i]: requested bytes before request i */

/*
 * e^z * 1 MiB for z a standard normal: z is the Irwin-Hall sum of 12 uniforms (in
 * 16.16 fixed point; no floating point in user space), e^z = 2^(z log2 e), and 2^f
 * for the fraction f is a cubic within 0.02%.
 */
static uint64_t
lognormal_size(uint64_t *s)
{
	int64_t z = -6 * 65536;
	for (int i = 0; i < 12; i++)
		z += (int64_t)xorshift64_below(s, 65536);
	int64_t y = z * 94548 / 65536;		/* log2 e = 1.442695 */
	int64_t k = y >> 16;			/* floor, also below zero */
	uint64_t f = (uint64_t)(y - k * 65536);
	uint64_t p = 65536 + ((f * (45554 + ((f * (14824 + ((f * 5164) >> 16))) >> 16))) >> 16);
	uint64_t size = (MIB * p) >> 16;
	size = k >= 0 ? size << k : size >> -k;
	return MAX(PGSIZE, MIN(size, 16 * MIB));
}

static uint64_t
draw_size(const char *dist, uint64_t *s)
{
	uint64_t size;
	if (strcmp(dist, "uniform") == 0)
		size = PGSIZE + xorshift64_below(s, 8 * MIB - PGSIZE + 1);
	else if (strcmp(dist, "lognormal") == 0)
		size = lognormal_size(s);
	else if (strcmp(dist, "trace") == 0)
		size = trace_sizes[xorshift64_below(s, ARRAY_SIZE(trace_sizes))];
	else
		fail("unknown distribution %s (uniform lognormal trace)", dist);
	return ROUNDUP(size, PGSIZE);
}

/* The bloat the device must give the request [s, e) at threshold t; *nhuge += its 2 MiB pages. */
static uint64_t
expected_bloat(uint64_t s, uint64_t e, uint64_t t, uint64_t *nhuge)
{
	uint64_t bloat = 0;
	for (uint64_t blk = ROUNDDOWN(s, PG2M); blk < e; blk += PG2M) {
		uint64_t req = MIN(e, blk + PG2M) - MAX(s, blk);
		if (req * 100 >= t * PG2M) {
			(*nhuge)++;
			bloat += PG2M - req;
		}
	}
	return bloat;
}

/* The address of requested byte off (0 <= off < prefix[n]) of the n requests. */
static uint64_t
requested_va(uint64_t off, int n)
{
	int lo = 0, hi = n;	/* prefix[lo] <= off < prefix[hi] */
	while (hi - lo > 1) {
		int mid = (lo + hi) / 2;
		if (prefix[mid] <= off)
			lo = mid;
		else
			hi = mid;
	}
	return req_at[lo] + off - prefix[lo];
}

static inline uint64_t
rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

int
main(int argc, char **argv)
{
	CHECK(argc == 4 || argc == 5, "usage: hugemap_bench uniform|lognormal|trace SEED COUNT [ACCESSES]");
	const char *dist = argv[1];
	uint64_t seed = strtoul(argv[2], NULL, 0);
	long n = strtol(argv[3], NULL, 10);
	long accesses = argc == 5 ? strtol(argv[4], NULL, 10) : 100000;
	CHECK(n >= 1 && n <= MAXREQ && accesses >= 1, "count %ld (1..%d), accesses %ld", n, MAXREQ, accesses);
	int fd = open("/dev/hugemap", O_RDWR);
	CHECK(fd >= 0, "open /dev/hugemap: %e", fd);

	struct kcounters c0 = stats_now();
	uint64_t s = xorshift64_seed(seed), t = c0.hugemap_threshold, nhuge = 0, bloat = 0;
	uint64_t lo = ~0UL, hi = 0;
	for (long i = 0; i < n; i++) {
		req_len[i] = draw_size(dist, &s);
		void *p = mmapfd(NULL, req_len[i], PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
		CHECK(!MMAP_FAILED(p), "mmap of request %ld, %lu bytes: %e", i, (unsigned long)req_len[i],
		      (int)(int64_t)p);
		req_at[i] = (uint64_t)p;
		prefix[i + 1] = prefix[i] + req_len[i];
		bloat += expected_bloat(req_at[i], req_at[i] + req_len[i], t, &nhuge);
		lo = MIN(lo, ROUNDDOWN(req_at[i], PG2M));
		hi = MAX(hi, ROUNDUP(req_at[i] + req_len[i], PG2M));
	}
	for (long i = 0; i < n; i++)		/* population: each page holds its address */
		for (uint64_t va = req_at[i]; va < req_at[i] + req_len[i]; va += PGSIZE)
			*(volatile uint64_t *)va = va;
	struct kcounters c1 = stats_now();
	CHECK(c1.hugemap_2m - c0.hugemap_2m == nhuge && c1.hugemap_bloat - c0.hugemap_bloat == bloat &&
	      c1.hugemap_fallbacks == c0.hugemap_fallbacks,
	      "%s: %lu 2 MiB pages, bloat %lu, %lu fallbacks; the requests imply %lu, %lu, 0", dist,
	      (unsigned long)(c1.hugemap_2m - c0.hugemap_2m), (unsigned long)(c1.hugemap_bloat - c0.hugemap_bloat),
	      (unsigned long)(c1.hugemap_fallbacks - c0.hugemap_fallbacks), (unsigned long)nhuge,
	      (unsigned long)bloat);

	struct tlb_stats st = { 0 };
	uint64_t wrong = 0, total = prefix[n];
	EXPECT(tlbctl(TLBCTL_START, lo, hi), 0);
	uint64_t t0 = rdtsc();
	for (long i = 0; i < accesses; i++) {
		uint64_t va = requested_va(xorshift64_below(&s, total) & ~7UL, (int)n);
		uint64_t v = *(volatile uint64_t *)va;
		wrong += v != ((va & (PGSIZE - 1)) == 0 ? va : 0);
	}
	uint64_t t1 = rdtsc();
	EXPECT(tlbctl(TLBCTL_READ, (uint64_t)&st, sizeof st), 0);
	EXPECT(tlbctl(TLBCTL_STOP, 0, 0), 0);
	CHECK(wrong == 0, "%lu loads read a wrong value", (unsigned long)wrong);

	struct kcounters c2 = stats_now();
	for (long i = 0; i < n; i++)
		EXPECT(munmap((void *)req_at[i], req_len[i]), 0);
	EXPECT(close(fd), 0);
	/* every page came back, bloat too (page tables munmap frees go to wired blocks: not counted) */
	uint64_t back = stats_now().free_pages - c2.free_pages;
	CHECK(back >= (total + bloat) / PGSIZE, "munmap gave back %lu pages, %lu were mapped", (unsigned long)back,
	      (unsigned long)((total + bloat) / PGSIZE));
	printf("hugemap_bench: dist %s seed %lu count %ld threshold %lu accesses %ld requested %lu mapped %lu "
	       "bloat %lu huge2m %lu fallbacks %lu misses4k %lu misses2m %lu walkrefs %lu traps %lu tsc %lu "
	       "usedkib %lu\n",
	       dist, (unsigned long)seed, n, (unsigned long)t, accesses, (unsigned long)total,
	       (unsigned long)(total + c1.hugemap_bloat - c0.hugemap_bloat),
	       (unsigned long)(c1.hugemap_bloat - c0.hugemap_bloat), (unsigned long)(c1.hugemap_2m - c0.hugemap_2m),
	       (unsigned long)(c1.hugemap_fallbacks - c0.hugemap_fallbacks), (unsigned long)st.misses[0],
	       (unsigned long)st.misses[1], (unsigned long)st.walk_refs, (unsigned long)st.traps,
	       (unsigned long)(t1 - t0), (unsigned long)((c0.free_pages - c1.free_pages) * 4));
	return 0;
}
