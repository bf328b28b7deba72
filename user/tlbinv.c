/*
 * tlbinv SCENARIO PAGES: model-TLB validation of invalidation.  Maps PAGES pages of
 * 4 KiB (boot with vm.policy=base; reserve for promote, whose promotions and demotions
 * are checked to happen where the script says), populates those inc/tlbinv.h says, measures only
 * that region (tlbctl START) while it performs the scenario's script -- loads, stores,
 * fork, munmap and mmap of single pages, system calls writing into the region -- and
 * prints the model's counts:
 *   tlbinv: SCENARIO pages P base B: traps T misses 4k ... evictions ... walkrefs W
 * The grader replays the script in the host reference simulator (`tlbsim inv`), which
 * applies textbook TLB rules (a changed mapping invalidates that page, and only it),
 * and requires equal counts.  After every mapping change and at the end the kernel's
 * invariant checker (kcheck) must find nothing: in particular, a leaf in the measured
 * range is valid exactly when the model holds it.  Code, stack and other data are
 * outside the measured range.
 */
#include "user/utest.h"
#include "inc/tlbinv.h"

struct script {
	uint8_t *data;
	int child;		/* the forked child, or 0 */
	uint64_t sum;
};

static void
step(void *arg, enum tlbinv_op op, uint64_t page)
{
	struct script *s = arg;
	uint8_t *va = s->data + page * PGSIZE;
	switch (op) {
	case INV_READ:
		s->sum += *(volatile uint8_t *)va;
		break;
	case INV_WRITE:
		*(volatile uint8_t *)va = 1;
		break;
	case INV_FORK:
		s->child = fork();
		CHECK(s->child >= 0, "fork: %e", s->child);
		if (s->child == 0)
			exit(0);
		break;
	case INV_UNMAP:
		EXPECT(munmap(va, PGSIZE), 0);
		break;
	case INV_MAP:
		EXPECT(mmap(va, PGSIZE, PROT_READ | PROT_WRITE, MAP_ANON | MAP_PRIVATE | MAP_FIXED), va);
		break;
	case INV_COPYOUT:
		EXPECT(vmquery(s->data, (struct vm_query *)va), 0);
		break;
	case INV_WRITE_PROMOTE:
		*(volatile uint8_t *)va = 1;
		CHECK(query_va(va).page_size == PG2M, "page %lu: its block was not promoted", (unsigned long)page);
		break;
	case INV_PROTECT_DEMOTE:
		EXPECT(mprotect(va, PGSIZE, PROT_READ), 0);
		CHECK(query_va(va).page_size == PGSIZE, "page %lu: its block was not demoted", (unsigned long)page);
		break;
	case INV_UNPROTECT_PROMOTE:
		EXPECT(mprotect(va, PGSIZE, PROT_READ | PROT_WRITE), 0);
		CHECK(query_va(va).page_size == PG2M, "page %lu: its block was not promoted again", (unsigned long)page);
		break;
	}
	if (op != INV_READ && op != INV_WRITE)
		EXPECT(kcheck(KCHECK_RUN, 0), 0);	/* a leaf is valid iff the model holds it */
}

int
main(int argc, char **argv)
{
	CHECK(argc == 3, "usage: tlbinv SCENARIO PAGES");
	int scenario = tlbinv_lookup(argv[1]);
	uint64_t pages = strtoul(argv[2], NULL, 0);
	CHECK(scenario >= 0 && pages >= 4, "bad arguments");

	uint64_t len = pages * PGSIZE;
	struct script s = { mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_ANON | MAP_PRIVATE), 0, 0 };
	CHECK(!MMAP_FAILED(s.data), "mmap: %e", (int)(int64_t)s.data);
	for (uint64_t p = 0; p < pages; p++)
		if (tlbinv_prepopulated((enum tlbinv_scenario)scenario, pages, p))
			s.data[p * PGSIZE] = 1;
	EXPECT(tlbctl(TLBCTL_START, (uint64_t)s.data, (uint64_t)s.data + len), 0);
	tlbinv_run((enum tlbinv_scenario)scenario, pages, step, &s);
	EXPECT(kcheck(KCHECK_RUN, 0), 0);
	struct tlb_stats st;
	EXPECT(tlbctl(TLBCTL_READ, (uint64_t)&st, sizeof st), 0);
	EXPECT(tlbctl(TLBCTL_STOP, 0, 0), 0);
	char counts[160];
	printf("tlbinv: %s pages %lu base 0x%lx: %s\n", argv[1], (unsigned long)pages, (unsigned long)s.data,
	       tlb_counts(counts, sizeof counts, &st));
	if (s.child > 0) {
		int status;
		EXPECT(wait(s.child, &status), s.child);
		CHECK(status == 0, "child exited with status %d", status);
	}
	printf("tlbinv: OK\n");
	return 0;
}
