/*
 * tlbstraddle PATTERN PAGES ACCESSES SEED STRIDE OFFSET PROCS: model-TLB validation of
 * instructions that touch several pages.  Maps PAGES + 1 pages of 4 KiB (boot with
 * vm.policy=base), populates them, measures only that region (tlbctl START) and makes
 * ACCESSES 8-byte loads, each at OFFSET bytes into the page inc/tlbtrace.h gives for
 * PATTERN and SEED: OFFSET 4092 makes every load straddle that page and the next, one
 * instruction touching two pages.  PROCS 2 forks first, so two measured processes run
 * the same loads side by side (under a fast timer: sched.hz=); each prints its counts:
 *   tlbstraddle: PATTERN pages P accesses A seed S stride T offset O base B: traps ...
 *             misses 4k ... 2m ... 1g ... evictions ... walkrefs W
 * and with a shadow model on (tlb.shadow.*), its counts and the traps taken:
 *   tlbstraddle: shadow traps ... misses 4k ... evictions ... walkrefs W taken F
 * The grader replays the same loads in the host reference simulator (tests/tlbsim,
 * each load's pages once, in address order) and requires equal miss counts.  Code,
 * stack and other data are outside the measured range.
 */
#include "user/utest.h"
#include "inc/tlbtrace.h"

int
main(int argc, char **argv)
{
	CHECK(argc == 8, "usage: tlbstraddle PATTERN PAGES ACCESSES SEED STRIDE OFFSET PROCS");
	int pattern = tlbtrace_lookup(argv[1]);
	uint64_t pages = strtoul(argv[2], NULL, 0), accesses = strtoul(argv[3], NULL, 0);
	uint64_t seed = strtoul(argv[4], NULL, 0), stride = strtoul(argv[5], NULL, 0);
	uint64_t offset = strtoul(argv[6], NULL, 0), procs = strtoul(argv[7], NULL, 0);
	CHECK(pattern >= 0 && pages > 0 && offset < PGSIZE && (procs == 1 || procs == 2), "bad arguments");

	uint64_t len = (pages + 1) * PGSIZE;
	uint8_t *data = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_ANON | MAP_PRIVATE);
	CHECK(!MMAP_FAILED(data), "mmap: %e", (int)(int64_t)data);
	for (uint64_t off = 0; off < len; off += 8)
		*(uint64_t *)(data + off) = 0x0101010101010101ull;
	int child = procs == 2 ? fork() : 0;
	CHECK(child >= 0, "fork: %e", child);

	struct tlbtrace t;
	tlbtrace_init(&t, (enum tlbtrace_pattern)pattern, pages, stride, seed);
	uint64_t sum = 0;
	EXPECT(tlbctl(TLBCTL_START, (uint64_t)data, (uint64_t)data + len), 0);
	for (uint64_t i = 0; i < accesses; i++)
		sum += *(volatile uint64_t *)(data + tlbtrace_next(&t) * PGSIZE + offset);
	struct tlb_stats s;
	EXPECT(tlbctl(TLBCTL_READ, (uint64_t)&s, sizeof s), 0);
	EXPECT(tlbctl(TLBCTL_STOP, 0, 0), 0);
	CHECK(sum == accesses * 0x0101010101010101ull, "wrong sum %lx", (unsigned long)sum);
	char counts[160];
	printf("tlbstraddle: %s pages %lu accesses %lu seed %lu stride %lu offset %lu base 0x%lx: %s\n", argv[1],
	       (unsigned long)pages, (unsigned long)accesses, (unsigned long)seed, (unsigned long)stride,
	       (unsigned long)offset, (unsigned long)data, tlb_counts(counts, sizeof counts, &s));
	print_shadow_counts("tlbstraddle", &s);
	CHECK(s.real_faults == 0, "%lu real faults while measuring a populated region", (unsigned long)s.real_faults);
	if (child > 0) {
		int status;
		EXPECT(wait(child, &status), child);
		CHECK(status == 0, "child exited with status %d", status);
	}
	printf("tlbstraddle: OK\n");
	return 0;
}
