/*
 * ovlbench: the fork-checkpoint benchmark of page overlays (issue 10; `make bench`
 * runs it through tools/bench_overlay.py).
 *
 *   ovlbench PERMILLE [nofork]
 *
 * A process populates 64 MiB of 2 MiB pages (boot with vm.policy=eager), forks a child
 * that holds the snapshot (it checks its checksum between yields until the parent kills
 * it at the end), then
 * writes one byte into PERMILLE/1000 of its 4 KiB pages (chosen by a fixed generator),
 * timing each write with rdtsc (= guest instructions under -icount shift=0), and sweeps
 * its memory once (one load per 4 KiB page) under the model TLB.  With nofork there is
 * no child: the baseline sweep.  Prints one line of key/value pairs:
 *   ovlbench: permille P fork F writes N firstwrite_insns I copied_bytes B used_kib U
 *             sweep_misses4k M4 sweep_misses2m M2 sweep_omt_walks O sweep_walkrefs W
 *             omt_pages T pt_pages P
 * used_kib is the memory the writes took (free pages before the writes minus after);
 * firstwrite_insns / firstwrite_p50 the mean / median guest instructions of a first
 * write to a page, copy included
 * (copied_bytes / writes says how much each copied); omt_pages and pt_pages the OMT's and
 * the MMU's user table pages after the writes (all processes).
 */
#include "user/utest.h"

#define REGION	(64UL << 20)

static uint64_t
rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static uint32_t
checksum(const uint8_t *m)
{
	uint32_t h = 2166136261u;
	for (uint64_t off = 0; off < REGION; off += 512)
		h = (h ^ m[off]) * 16777619u;
	return h;
}

int
main(int argc, char **argv)
{
	CHECK(argc >= 2, "usage: ovlbench PERMILLE [nofork]");
	uint64_t permille = strtoul(argv[1], NULL, 10);
	bool nofork = argc > 2 && strcmp(argv[2], "nofork") == 0;
	uint8_t *m = mmap(NULL, REGION, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON);
	CHECK((int64_t)m > 0, "mmap: %e", (int)(int64_t)m);
	for (uint64_t off = 0; off < REGION; off += PGSIZE)
		m[off] = (uint8_t)(off >> 12);
	CHECK(query_va(m).page_size == 2UL << 20, "no 2 MiB pages (boot with vm.policy=eager)");
	uint32_t sum = checksum(m);
	int pid = 0;
	if (!nofork) {
		pid = fork();
		CHECK(pid >= 0, "fork: %e", pid);
		if (pid == 0) {		/* the snapshot: checked until the parent kills it */
			for (;;) {
				CHECK(checksum(m) == sum, "the snapshot changed");
				yield();
			}
		}
	}
	/* the parent writes PERMILLE of its pages */
	static uint64_t cost[REGION / PGSIZE];
	uint64_t pages = REGION / PGSIZE, writes = 0, insns = 0, seed = 12345;
	struct kcounters before = stats_now();
	for (uint64_t p = 0; p < pages; p++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		if ((seed >> 33) % 1000 >= permille)
			continue;
		volatile uint8_t *at = m + p * PGSIZE + 8;
		uint64_t t0 = rdtsc();
		*at = 0x5A;
		cost[writes] = rdtsc() - t0;
		insns += cost[writes++];
	}
	struct kcounters after = stats_now();
	/* the sweep, measured */
	EXPECT(tlbctl(TLBCTL_START, (uint64_t)m, (uint64_t)m + REGION), 0);
	uint64_t acc = 0;
	for (uint64_t off = 0; off < REGION; off += PGSIZE)
		acc += ((volatile uint8_t *)m)[off];
	struct tlb_stats s;
	EXPECT(tlbctl(TLBCTL_READ, (uint64_t)&s, sizeof s), 0);
	EXPECT(tlbctl(TLBCTL_STOP, 0, 0), 0);
	CHECK(acc > 0, "the sweep read nothing");
	if (pid > 0) {
		int status;
		EXPECT(kill(pid), 0);
		CHECK(wait(pid, &status) == pid && status == WSTATUS_KILLED, "the snapshot child failed (%d)", status);
	}
	for (uint64_t i = 1; i < writes; i++)	/* insertion sort: the median */
		for (uint64_t j = i; j > 0 && cost[j - 1] > cost[j]; j--) {
			uint64_t t = cost[j];
			cost[j] = cost[j - 1];
			cost[j - 1] = t;
		}
	printf("ovlbench: permille %lu fork %d writes %lu firstwrite_insns %lu firstwrite_p50 %lu copied_bytes %lu used_kib %lu "
	       "sweep_misses4k %lu sweep_misses2m %lu sweep_omt_walks %lu sweep_walkrefs %lu omt_pages %lu pt_pages %lu\n",
	       permille, !nofork, writes, writes ? insns / writes : 0, writes ? cost[writes / 2] : 0, after.cow_bytes_copied - before.cow_bytes_copied,
	       (before.free_pages - after.free_pages) * 4, s.misses[0], s.misses[1], s.omt_walks, s.walk_refs,
	       after.ovl_omt_pages, after.pt_pages);
	EXPECT(munmap(m, REGION), 0);
	return 0;
}
