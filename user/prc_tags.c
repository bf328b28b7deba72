/*
 * prc_tags: model-TLB tags stay unique among live measured processes, and a recycled
 * tag starts with no entry left over.  Run under tlb.mode=tag with few tags
 * (tlb.tags=2), so that tags are recycled at once (a run through 65536 pids would be
 * too slow for the suite) and a small model TLB (tlb.4k=8:8), so that entries are
 * evicted all the time.
 *
 The parent measures its whole address space; then, eight times, it fills an array
 * and forks a child that measures itself and reads the same virtual pages backwards
 * while the parent reads them forwards.  If the child shared the parent's tag, the child's refills
 * would make the parent's entries look resident while the parent's pages are still
 * armed to trap (the fork re-armed them): the kernel panics in vtlb_miss ("is
 * resident, it cannot trap").  Each child then starts measuring again, which frees
 * its tag and takes it again at once: an entry left under the tag would panic the
 * same way.  The last child checks that a grandchild cannot measure too: both tags
 * are taken (-E_NO_MEM).  Every value read
 * is checked.  Prints "prc_tags: OK".
 */
#include "user/utest.h"

#define NPAGES		24
#define NCHILDREN	8

static uint8_t pages[NPAGES][PGSIZE] __attribute__((aligned(PGSIZE)));

/* Write v + page number into every page. */
static void
fill(uint8_t v)
{
	for (int i = 0; i < NPAGES; i++)
		pages[i][i * 8] = (uint8_t)(v + i);
}

/*
 * Read every page back, from the last if backwards.  Only reads: a write would take a
 * copy-on-write fault, whose invalidation of the range would hide a shared tag.
 */
static void
check(uint8_t v, bool backwards)
{
	for (int n = 0; n < NPAGES; n++) {
		int i = backwards ? NPAGES - 1 - n : n;

		CHECK(pages[i][i * 8] == (uint8_t)(v + i), "page %d holds %u, expected %u", i,
		      pages[i][i * 8], (uint8_t)(v + i));
	}
}

int
main(void)
{
	int status;

	EXPECT(tlbctl(TLBCTL_START, 0, 0), 0);
	for (int k = 0; k < NCHILDREN; k++) {
		fill((uint8_t)k);
		int c = fork();
		CHECK(c >= 0, "fork: %e", c);
		if (c == 0) {
			EXPECT(tlbctl(TLBCTL_START, 0, 0), 0);
			for (int i = 0; i < 20; i++) {
				check((uint8_t)k, true);
				yield();
			}
			EXPECT(tlbctl(TLBCTL_START, 0, 0), 0);	/* the same tag again */
			check((uint8_t)k, false);
			if (k == NCHILDREN - 1) {
				int g = fork();
				CHECK(g >= 0, "fork: %e", g);
				if (g == 0) {
					EXPECT(tlbctl(TLBCTL_START, 0, 0), -E_NO_MEM);
					exit(0);
				}
				EXPECT(wait(g, &status), g);
				EXPECT(status, 0);
			}
			exit(0);
		}
		for (int i = 0; i < 20; i++) {
			check((uint8_t)k, false);
			yield();
		}
		EXPECT(wait(c, &status), c);
		EXPECT(status, 0);
	}
	struct tlb_stats s;
	EXPECT(tlbctl(TLBCTL_READ, (uint64_t)&s, sizeof s), 0);
	CHECK(s.traps > 0, "the parent took no model trap");
	printf("prc_tags: %d children measured beside the parent\n", NCHILDREN);
	printf("prc_tags: OK\n");
	return 0;
}
