/*
 * tlbmovs PATTERN PAGES ACCESSES SEED STRIDE OFFSET DELTA: model-TLB validation of
 * instructions that touch up to four pages.  Like tlbstraddle (boot with
 * vm.policy=base), but each access is one movsq: 8 bytes loaded at OFFSET into the page
 * inc/tlbtrace.h gives for PATTERN and SEED and stored at OFFSET into the page DELTA
 * further (mod PAGES); OFFSET 4092 makes both straddle.  Prints the counts:
 *   tlbmovs: PATTERN pages P accesses A seed S stride T offset O delta D base B: traps ...
 *            misses 4k ... 2m ... 1g ... evictions ... walkrefs W
 * and with a shadow model on (tlb.shadow.*), its counts and the traps taken:
 *   tlbmovs: shadow traps ... misses 4k ... evictions ... walkrefs W taken F
 * The grader replays the same instructions in tests/tlbsim (the load's pages, then the
 * store's, each once) and requires equal counts.  Code and stack are outside the range.
 */
#include "user/utest.h"
#include "inc/tlbtrace.h"

#define FILL	0x0101010101010101ull

int
main(int argc, char **argv)
{
	CHECK(argc == 8, "usage: tlbmovs PATTERN PAGES ACCESSES SEED STRIDE OFFSET DELTA");
	int pattern = tlbtrace_lookup(argv[1]);
	uint64_t pages = strtoul(argv[2], NULL, 0), accesses = strtoul(argv[3], NULL, 0);
	uint64_t seed = strtoul(argv[4], NULL, 0), stride = strtoul(argv[5], NULL, 0);
	uint64_t offset = strtoul(argv[6], NULL, 0), delta = strtoul(argv[7], NULL, 0);
	CHECK(pattern >= 0 && pages >= 4 && offset < PGSIZE && delta >= 2 && delta <= pages - 2, "bad arguments");

	uint64_t len = (pages + 1) * PGSIZE;
	uint8_t *data = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_ANON | MAP_PRIVATE);
	CHECK(!MMAP_FAILED(data), "mmap: %e", (int)(int64_t)data);
	for (uint64_t off = 0; off < len; off += 8)
		*(uint64_t *)(data + off) = FILL;

	struct tlbtrace t;
	tlbtrace_init(&t, (enum tlbtrace_pattern)pattern, pages, stride, seed);
	EXPECT(tlbctl(TLBCTL_START, (uint64_t)data, (uint64_t)data + len), 0);
	for (uint64_t i = 0; i < accesses; i++) {
		uint64_t page = tlbtrace_next(&t);
		const uint8_t *src = data + page * PGSIZE + offset;
		uint8_t *dst = data + (page + delta) % pages * PGSIZE + offset;
		__asm__ volatile("movsq" : "+S"(src), "+D"(dst) : : "memory");
	}
	struct tlb_stats s;
	EXPECT(tlbctl(TLBCTL_READ, (uint64_t)&s, sizeof s), 0);
	EXPECT(tlbctl(TLBCTL_STOP, 0, 0), 0);
	for (uint64_t off = 0; off < len; off += 8)
		CHECK(*(uint64_t *)(data + off) == FILL, "byte 0x%lx changed", (unsigned long)off);
	char counts[160];
	printf("tlbmovs: %s pages %lu accesses %lu seed %lu stride %lu offset %lu delta %lu base 0x%lx: %s\n",
	       argv[1], (unsigned long)pages, (unsigned long)accesses, (unsigned long)seed, (unsigned long)stride,
	       (unsigned long)offset, (unsigned long)delta, (unsigned long)data, tlb_counts(counts, sizeof counts, &s));
	print_shadow_counts("tlbmovs", &s);
	CHECK(s.real_faults == 0, "%lu real faults while measuring a populated region", (unsigned long)s.real_faults);
	printf("tlbmovs: OK\n");
	return 0;
}
