/*
 * tlbtrace PATTERN PAGES ACCESSES SEED STRIDE BACKING: a model-TLB validation workload.
 * Maps a data region of PAGES 4 KiB pages, backed by 4 KiB pages (BACKING=4k: boot with
 * vm.policy=base) or by 2 MiB pages (BACKING=2m: the region is 2 MiB aligned, fully
 * touched and checked to be promoted first), then measures only that region
 * (tlbctl START) while it reads ACCESSES pages in the order inc/tlbtrace.h gives for
 * PATTERN (seq, stride, cyclic, random) and SEED, and prints the model's counts:
 *   tlbtrace: random pages 300 accesses 20000 seed 7 stride 1 backing 4k: traps T
 *             misses 4k A 2m B 1g C evictions ... walkrefs W
 * and, when a shadow model is on (tlb.shadow.*), its counts on a line of their own:
 *   tlbtrace: shadow traps T misses 4k A 2m B 1g C evictions ... walkrefs W taken F
 * where F is the number of traps taken (accesses that missed in either model).
 * The grader replays the same sequence in the host reference simulator and requires
 * equal miss counts.  Code, stack and other data are outside the measured range.
 */
#include "user/utest.h"
#include "inc/tlbtrace.h"

int
main(int argc, char **argv)
{
	CHECK(argc == 7, "usage: tlbtrace PATTERN PAGES ACCESSES SEED STRIDE 4k|2m");
	int pattern = tlbtrace_lookup(argv[1]);
	uint64_t pages = strtoul(argv[2], NULL, 0), accesses = strtoul(argv[3], NULL, 0);
	uint64_t seed = strtoul(argv[4], NULL, 0), stride = strtoul(argv[5], NULL, 0);
	bool big = strcmp(argv[6], "2m") == 0;
	CHECK(pattern >= 0 && pages > 0 && (big || strcmp(argv[6], "4k") == 0), "bad arguments");

	uint64_t len = ROUNDUP(pages * PGSIZE, big ? PG2M : PGSIZE);
	uint8_t *data = mmap(NULL, len < PG2M && big ? PG2M : len, PROT_READ | PROT_WRITE, MAP_ANON | MAP_PRIVATE);
	CHECK(!MMAP_FAILED(data), "mmap: %e", (int)(int64_t)data);
	CHECK(!big || ((uint64_t)data & (PG2M - 1)) == 0, "region not 2 MiB aligned");
	for (uint64_t off = 0; off < len; off += PGSIZE)	/* populate (and promote) first */
		data[off] = 1;
	struct vm_query q;
	for (uint64_t off = 0; off < len; off += big ? PG2M : PGSIZE) {
		EXPECT(vmquery(data + off, &q), 0);
		CHECK(q.page_size == (big ? PG2M : PGSIZE), "page size %lu at +0x%lx", (unsigned long)q.page_size,
		      (unsigned long)off);
	}

	struct tlbtrace t;
	tlbtrace_init(&t, (enum tlbtrace_pattern)pattern, pages, stride, seed);
	uint64_t sum = 0;
	EXPECT(tlbctl(TLBCTL_START, (uint64_t)data, (uint64_t)data + len), 0);
	for (uint64_t i = 0; i < accesses; i++)
		sum += *(volatile uint8_t *)(data + tlbtrace_next(&t) * PGSIZE);
	struct tlb_stats s;
	EXPECT(tlbctl(TLBCTL_READ, (uint64_t)&s, sizeof s), 0);
	EXPECT(tlbctl(TLBCTL_STOP, 0, 0), 0);
	CHECK(sum == accesses, "read %lu ones in %lu accesses", (unsigned long)sum, (unsigned long)accesses);
	char counts[160];
	printf("tlbtrace: %s pages %lu accesses %lu seed %lu stride %lu backing %s base 0x%lx: %s\n", argv[1],
	       (unsigned long)pages, (unsigned long)accesses, (unsigned long)seed, (unsigned long)stride, argv[6],
	       (unsigned long)data, tlb_counts(counts, sizeof counts, &s));
	print_shadow_counts("tlbtrace", &s);
	CHECK(s.real_faults == 0, "%lu real faults while measuring a populated region", (unsigned long)s.real_faults);
	printf("tlbtrace: OK\n");
	return 0;
}
