/*
 * bench WORKLOAD [MEASURE]: one benchmark run for `make bench` (tools/bench.py).
 * A 32 MiB data region is first populated by touching every page in order (the page
 * faults, promotions and memory used are those of this phase, under the boot's
 * vm.policy), then WORKLOAD runs over it: seq (every page once, in order), stride
 * (8-page stride, 4 passes), gups (200,000 random 8-byte updates, xorshift64*) or
 * transpose (1024x1024 matrix of 64-bit words into another).  With MEASURE=1 (default)
 * the workload phase is measured by the model TLB.  Prints one line of figures:
 *   bench: WORKLOAD measured M: tsc T ticks K traps N misses4k A misses2m B misses1g C
 *          walkrefs W faults F promotions2m P promotions1g Q eager2m E usedkib U
 *          taken X shadowtraps S
 * where tsc is the guest's rdtsc delta (guest instructions under -icount shift=0),
 * ticks the 100 Hz timer ticks, traps the model's misses, taken the traps taken (with a
 * shadow model, tlb.shadow.*, accesses that missed in either) and shadowtraps the
 * shadow's misses.  A benchmark reports; it checks only its own results.
 */
#include "user/utest.h"
#include "inc/xorshift.h"

#define REGION	(32UL << 20)
#define N	1024		/* transpose: N x N words per matrix */

static inline uint64_t
rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static uint64_t
run(const char *w, uint64_t *m)
{
	uint64_t words = REGION / 8, check = 0;
	if (strcmp(w, "seq") == 0) {
		for (uint64_t off = 0; off < REGION; off += PGSIZE)
			m[off / 8] = off;
		for (uint64_t off = 0; off < REGION; off += PGSIZE * 64)
			check += m[off / 8] == off;
		return check == REGION / PGSIZE / 64;
	}
	if (strcmp(w, "stride") == 0) {
		for (int pass = 0; pass < 4; pass++)
			for (uint64_t start = 0; start < 8; start++)
				for (uint64_t pg = start; pg < REGION / PGSIZE; pg += 8)
					m[pg * (PGSIZE / 8)] += 1;
		return m[0] == 4;
	}
	if (strcmp(w, "gups") == 0) {
		uint64_t s = xorshift64_seed(42);
		for (uint64_t i = 0; i < 200000; i++) {
			uint64_t r = xorshift64star(&s);
			m[r % words] ^= r;
		}
		return 1;
	}
	if (strcmp(w, "transpose") == 0) {
		uint64_t *a = m, *b = m + N * N;
		for (uint64_t i = 0; i < N; i++)
			for (uint64_t j = 0; j < N; j++)
				a[i * N + j] = i * N + j;
		for (uint64_t i = 0; i < N; i++)
			for (uint64_t j = 0; j < N; j++)
				b[j * N + i] = a[i * N + j];
		for (uint64_t i = 0; i < N; i += 17)
			check += b[((i * 7) % N) * N + i] == i * N + (i * 7) % N;
		return check == (N + 16) / 17;
	}
	fail("unknown workload %s (seq stride gups transpose)", w);
}

int
main(int argc, char **argv)
{
	CHECK(argc >= 2, "usage: bench WORKLOAD [MEASURE]");
	int measure = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 1;
	uint64_t *m = mmap(NULL, REGION, PROT_READ | PROT_WRITE, MAP_ANON | MAP_PRIVATE);
	CHECK(!MMAP_FAILED(m), "mmap: %e", (int)(int64_t)m);
	struct kcounters a, b;
	struct tlb_stats s = { 0 };
	EXPECT(counters(&a, sizeof a), sizeof a);
	for (uint64_t off = 0; off < REGION; off += PGSIZE)	/* populate */
		((volatile uint8_t *)m)[off] = 0;
	EXPECT(counters(&b, sizeof b), sizeof b);
	if (measure)
		EXPECT(tlbctl(TLBCTL_START, (uint64_t)m, (uint64_t)m + REGION), 0);
	uint64_t t0 = rdtsc();
	int ok = (int)run(argv[1], m);
	uint64_t t1 = rdtsc();
	if (measure) {
		EXPECT(tlbctl(TLBCTL_READ, (uint64_t)&s, sizeof s), 0);
		EXPECT(tlbctl(TLBCTL_STOP, 0, 0), 0);
	}
	struct kcounters e;
	EXPECT(counters(&e, sizeof e), sizeof e);
	CHECK(ok, "%s computed a wrong result", argv[1]);
	printf("bench: %s measured %d: tsc %lu ticks %lu traps %lu misses4k %lu misses2m %lu misses1g %lu "
	       "walkrefs %lu faults %lu promotions2m %lu promotions1g %lu eager2m %lu usedkib %lu taken %lu shadowtraps %lu ptrefs %lu ptbytes %lu x86ptpages %lu\n",
	       argv[1], measure, (unsigned long)(t1 - t0), (unsigned long)(e.timer_ticks - b.timer_ticks),
	       (unsigned long)s.traps, (unsigned long)s.misses[0], (unsigned long)s.misses[1],
	       (unsigned long)s.misses[2], (unsigned long)s.walk_refs,
	       (unsigned long)(b.page_faults - a.page_faults), (unsigned long)(b.promotions[0] - a.promotions[0]),
	       (unsigned long)(b.promotions[1] - a.promotions[1]), (unsigned long)(b.eager_2m - a.eager_2m),
	       (unsigned long)((a.free_pages - b.free_pages) * 4), (unsigned long)s.fake_faults,
	       (unsigned long)s.shadow_traps, (unsigned long)s.pt_refs, (unsigned long)e.pt_design_bytes,
	       (unsigned long)e.pt_pages);
	return 0;
}
