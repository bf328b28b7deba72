/*
 * bench WORKLOAD [MEASURE [FRAGMENT [WAIT]]]: one benchmark run for `make bench`
 * (tools/bench.py, tools/exp/).
 * A 32 MiB data region is first populated by touching every page in order (the page
 * faults, promotions and memory used are those of this phase, under the boot's
 * vm.policy), then WORKLOAD runs over it: seq (every page once, in order), stride
 * (8-page stride, 4 passes), gups (200,000 random 8-byte updates, xorshift64*) or
 * transpose (1024x1024 matrix of 64-bit words into another), chase (200,000 steps of a
 * pointer chase around one random cycle through 32,768 nodes 1 KiB apart), hashjoin
 * (build an open-addressing table of 100,000 keys in the first 16 MiB, probe it with
 * 200,000 keys, half of them present) or fragalloc (an allocator's churn: 4 rounds that
 * free 1,024 random 4 KiB pages with madvise(MADV_DONTNEED), which breaks 2 MiB pages,
 * and allocate each again by touching it (it must read zero), each followed by a pass over every page).  With MEASURE=1 (default)
 * the workload phase is measured by the model TLB.  Prints one line of figures:
 *   bench: WORKLOAD measured M: tsc T ticks K traps N misses4k A misses2m B misses1g C
 *          walkrefs W faults F promotions2m P promotions1g Q eager2m E usedkib U
 *          taken X shadowtraps S wfaults G wpromotions2m R wdemotions D
 * where tsc is the guest's rdtsc delta (guest instructions under -icount shift=0),
 * ticks the 100 Hz timer ticks, traps the model's misses, taken the traps taken (with a
 * shadow model, tlb.shadow.*, accesses that missed in either) and shadowtraps the
 * shadow's misses; wfaults, wpromotions2m and wdemotions (every cause) are those of the
 * workload phase (fragalloc's).  With FRAGMENT=1, physical memory is fragmented first:
 * nearly all free 2 MiB blocks are filled and then freed but for one page each, so free
 * memory is plenty and free 2 MiB blocks are not; then the run yields for up to WAIT timer
 * ticks until the page daemon has emptied enough blocks for the region, and the line ends
 * with "free2m N migrated M": the free 2 MiB blocks when populating starts and the pages
 * the daemon migrated meanwhile.  A benchmark reports; it checks only its own results.
 */
#include "user/utest.h"
#include "inc/xorshift.h"

#define REGION	(32UL << 20)
#define N	1024		/* transpose: N x N words per matrix */
#define NODES	(REGION / 1024)	/* chase: nodes, 1 KiB apart */
#define SLOTS	(REGION / 2 / 8)	/* hashjoin: table slots (16 MiB of keys) */

static uint32_t perm[NODES];

static inline uint64_t
rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* One cycle through every node (Sattolo's shuffle), then 200,000 steps along it. */
static uint64_t
chase(uint64_t *m)
{
	uint64_t s = xorshift64_seed(42), node = 0;
	for (uint32_t i = 0; i < NODES; i++)
		perm[i] = i;
	for (uint32_t i = NODES - 1; i > 0; i--) {
		uint32_t j = (uint32_t)(xorshift64star(&s) % i), t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
	for (uint32_t i = 0; i < NODES; i++)
		m[(uint64_t)perm[i] * 128] = (uint64_t)perm[(i + 1) % NODES] * 128;
	uint32_t at = 0;
	while (perm[at] != 0)
		at++;
	for (uint64_t i = 0; i < 200000; i++)
		node = m[node];
	return node == (uint64_t)perm[(at + 200000) % NODES] * 128;
}

/* Slot of key in the table (linear probing; 0 marks an empty slot). */
static uint64_t *
slot(uint64_t *table, uint64_t key)
{
	uint64_t i = (key * 0x9e3779b97f4a7c15ULL) >> 43;	/* 21 bits: SLOTS = 2^21 */
	while (table[i] != 0 && table[i] != key)
		i = (i + 1) % SLOTS;
	return &table[i];
}

static uint64_t
hashjoin(uint64_t *m)
{
	uint64_t s = xorshift64_seed(7), hits = 0;
	for (uint64_t i = 0; i < 100000; i++) {
		uint64_t key = xorshift64star(&s) | 1;
		*slot(m, key) = key;
	}
	s = xorshift64_seed(7);
	for (uint64_t i = 0; i < 200000; i++) {
		uint64_t key = i % 2 == 0 ? xorshift64star(&s) | 1 : (i << 1) | 1;
		hits += *slot(m, key) == key;
	}
	return hits >= 100000;
}

static uint64_t
fragalloc(uint64_t *m)
{
	uint64_t s = xorshift64_seed(3), sum = 0;
	for (int round = 0; round < 4; round++) {
		for (int i = 0; i < 1024; i++) {
			uint64_t pg = xorshift64star(&s) % (REGION / PGSIZE);
			if (madvise((uint8_t *)m + pg * PGSIZE, PGSIZE, MADV_DONTNEED) != 0 || m[pg * (PGSIZE / 8)] != 0)
				return 0;
		}
		for (uint64_t off = 0; off < REGION; off += PGSIZE)
			sum += m[off / 8]++;
	}
	return sum > 0;
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
	if (strcmp(w, "chase") == 0)
		return chase(m);
	if (strcmp(w, "hashjoin") == 0)
		return hashjoin(m);
	if (strcmp(w, "fragalloc") == 0)
		return fragalloc(m);
	fail("unknown workload %s (seq stride gups transpose chase hashjoin fragalloc)", w);
}

/* Pin nearly every free 2 MiB block with one page of a mapping that stays. */
static void
fragment(void)
{
	struct kcounters c;
	EXPECT(counters(&c, sizeof c), sizeof c);
	uint64_t blocks = c.free_2m_blocks - 1;
	uint8_t *p = mmap(NULL, blocks * PG2M, PROT_READ | PROT_WRITE, MAP_ANON | MAP_PRIVATE);
	CHECK(!MMAP_FAILED(p), "mmap: %e", (int)(int64_t)p);
	for (uint64_t off = 0; off < blocks * PG2M; off += PGSIZE)
		p[off] = 1;
	for (uint64_t b = 0; b < blocks; b++)
		EXPECT(munmap(p + b * PG2M + PGSIZE, PG2M - PGSIZE), 0);
}

/* Yield until the region's 2 MiB blocks are free or `ticks` timer ticks passed. */
static void
wait_for_blocks(uint64_t ticks)
{
	struct kcounters c;
	EXPECT(counters(&c, sizeof c), sizeof c);
	uint64_t start = c.timer_ticks;
	while (c.free_2m_blocks < REGION / PG2M + 1 && c.timer_ticks - start < ticks) {
		yield();
		EXPECT(counters(&c, sizeof c), sizeof c);
	}
}

int
main(int argc, char **argv)
{
	CHECK(argc >= 2, "usage: bench WORKLOAD [MEASURE [FRAGMENT [WAIT]]]");
	int measure = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 1;
	int frag = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 0;
	struct kcounters f;
	EXPECT(counters(&f, sizeof f), sizeof f);
	if (frag) {
		fragment();
		wait_for_blocks(argc > 4 ? strtoul(argv[4], NULL, 10) : 0);
	}
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
	uint64_t demotions = 0;
	for (int i = 0; i < (int)ARRAY_SIZE(e.demotions); i++)
		demotions += e.demotions[i] - b.demotions[i];
	printf("bench: %s measured %d: tsc %lu ticks %lu traps %lu misses4k %lu misses2m %lu misses1g %lu "
	       "walkrefs %lu faults %lu promotions2m %lu promotions1g %lu eager2m %lu usedkib %lu taken %lu shadowtraps %lu "
	       "wfaults %lu wpromotions2m %lu wdemotions %lu ptrefs %lu ptbytes %lu x86ptpages %lu\n",
	       argv[1], measure, (unsigned long)(t1 - t0), (unsigned long)(e.timer_ticks - b.timer_ticks),
	       (unsigned long)s.traps, (unsigned long)s.misses[0], (unsigned long)s.misses[1],
	       (unsigned long)s.misses[2], (unsigned long)s.walk_refs,
	       (unsigned long)(b.page_faults - a.page_faults), (unsigned long)(b.promotions[0] - a.promotions[0]),
	       (unsigned long)(b.promotions[1] - a.promotions[1]), (unsigned long)(b.eager_2m - a.eager_2m),
	       (unsigned long)((a.free_pages - b.free_pages) * 4), (unsigned long)s.fake_faults,
	       (unsigned long)s.shadow_traps, (unsigned long)(e.page_faults - b.page_faults),
	       (unsigned long)(e.promotions[0] - b.promotions[0]), (unsigned long)demotions, (unsigned long)s.pt_refs,
	       (unsigned long)e.pt_design_bytes, (unsigned long)e.pt_pages);
	if (frag)
		printf("bench: fragmented: free2m %lu migrated %lu\n", (unsigned long)a.free_2m_blocks,
		       (unsigned long)(a.migrations - f.migrations));
	return 0;
}
