/*
 * tlbmovs PAGES COPIES SEED: model-TLB validation of instructions touching four pages.
 * Maps PAGES pages of 4 KiB (boot with vm.policy=base), populates them, measures only
 * that region (tlbctl START) and makes COPIES movsq copies, each from offset 4092 of
 * one page to offset 4092 of another (inc/tlbinv.h's tlbinv_movs_pages): one
 * instruction loading across two pages and storing across two others, in that order.
 * Prints the model's counts:
 *   tlbmovs: pages P copies C seed S base B: traps T misses 4k ... walkrefs W
 * The grader replays the copies in the host reference simulator (`tlbsim movs`: each
 * instruction's four pages once, in program order) and requires equal counts.
 */
#include "user/utest.h"
#include "inc/tlbinv.h"

int
main(int argc, char **argv)
{
	CHECK(argc == 4, "usage: tlbmovs PAGES COPIES SEED");
	uint64_t pages = strtoul(argv[1], NULL, 0), copies = strtoul(argv[2], NULL, 0);
	uint64_t seed = strtoul(argv[3], NULL, 0);
	CHECK(pages >= 4, "bad arguments");

	uint64_t len = pages * PGSIZE;
	uint8_t *data = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_ANON | MAP_PRIVATE);
	CHECK(!MMAP_FAILED(data), "mmap: %e", (int)(int64_t)data);
	for (uint64_t off = 0; off < len; off += 8)
		*(uint64_t *)(data + off) = 0x0101010101010101ull;
	uint64_t state = xorshift64_seed(seed);
	EXPECT(tlbctl(TLBCTL_START, (uint64_t)data, (uint64_t)data + len), 0);
	for (uint64_t i = 0; i < copies; i++) {
		uint64_t s, d;
		tlbinv_movs_pages(&state, pages, &s, &d);
		const uint8_t *from = data + s * PGSIZE + 4092;
		uint8_t *to = data + d * PGSIZE + 4092;
		asm volatile("movsq" : "+S"(from), "+D"(to) : : "memory");
	}
	struct tlb_stats st;
	EXPECT(tlbctl(TLBCTL_READ, (uint64_t)&st, sizeof st), 0);
	EXPECT(tlbctl(TLBCTL_STOP, 0, 0), 0);
	for (uint64_t off = 0; off < len; off += 8)
		CHECK(*(uint64_t *)(data + off) == 0x0101010101010101ull, "byte 0x%lx changed", (unsigned long)off);
	printf("tlbmovs: pages %lu copies %lu seed %lu base 0x%lx: traps %lu misses 4k %lu 2m %lu 1g %lu "
	       "evictions 4k %lu 2m %lu 1g %lu walkrefs %lu\n", (unsigned long)pages, (unsigned long)copies,
	       (unsigned long)seed, (unsigned long)data, (unsigned long)st.traps, (unsigned long)st.misses[0],
	       (unsigned long)st.misses[1], (unsigned long)st.misses[2], (unsigned long)st.evictions[0],
	       (unsigned long)st.evictions[1], (unsigned long)st.evictions[2], (unsigned long)st.walk_refs);
	CHECK(st.real_faults == 0, "%lu real faults while measuring a populated region", (unsigned long)st.real_faults);
	printf("tlbmovs: OK\n");
	return 0;
}
