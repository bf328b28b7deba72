/*
 * prc_orphan: a parent exits before its child while a partially populated reservation
 * of its still holds frames the child shares (run under vm.policy=reserve).
 *
 * The test process T forks P.  P maps 4 MiB, fills TOUCHED pages at the start of an
 * aligned 2 MiB block inside (one partial 2 MiB reservation, not promoted), forks C and
 * exits at once.  P's exit must break the reservation: the shared frames stay with C,
 * the never-used ones go back to the allocator.  C waits until P is gone (kill(P) says
 * -E_NOT_FOUND), reads every shared byte, writes the pages (copy-on-write, now only
 * C's) and the rest of the block, reads them back, and exits.  T waits for P, then for
 * every other process to go, and requires the free-page count it started with.
 * Prints "prc_orphan: OK".
 */
#include "user/utest.h"

#define TOUCHED	100
#define BLOCKPG	(PG2M / PGSIZE)

/* The byte at offset off of page i, in generation gen. */
static uint8_t
pattern(int gen, uint64_t i, uint64_t off)
{
	return (uint8_t)(gen * 73 + i * 13 + off * 7 + (off >> 8));
}

static void
fill(uint8_t *blk, uint64_t from, uint64_t to, int gen)
{
	for (uint64_t i = from; i < to; i++)
		for (uint64_t off = 0; off < PGSIZE; off++)
			blk[i * PGSIZE + off] = pattern(gen, i, off);
}

static void
check(const uint8_t *blk, uint64_t from, uint64_t to, int gen, const char *when)
{
	for (uint64_t i = from; i < to; i++)
		for (uint64_t off = 0; off < PGSIZE; off++)
			CHECK(blk[i * PGSIZE + off] == pattern(gen, i, off),
			      "%s: page %lu byte %lu is %u, expected %u", when, (unsigned long)i,
			      (unsigned long)off, blk[i * PGSIZE + off], pattern(gen, i, off));
}

/* The child: outlive the parent, then use the pages it shared. */
static void
child(uint8_t *blk, int parent)
{
	struct vm_query q;

	while (kill(parent) != -E_NOT_FOUND)
		yield();
	check(blk, 0, TOUCHED, 1, "after the parent's exit");
	EXPECT(vmquery(blk, &q), 0);
	CHECK(q.reservation_size == 0, "the dead parent's reservation is still there");
	fill(blk, 0, BLOCKPG, 2);
	check(blk, 0, BLOCKPG, 2, "after writing");
	exit(0);
}

/* The parent: a partial reservation, a child sharing it, and an early exit. */
static void
parent(void)
{
	struct vm_query q;

	uint8_t *p = mmap(NULL, 2 * PG2M, PROT_READ | PROT_WRITE, MAP_ANON | MAP_PRIVATE);
	CHECK(!MMAP_FAILED(p), "mmap: %e", (int)(int64_t)p);
	uint8_t *blk = (uint8_t *)ROUNDUP((uint64_t)p, PG2M);
	fill(blk, 0, TOUCHED, 1);
	EXPECT(vmquery(blk, &q), 0);
	CHECK(q.reservation_size == PG2M && q.page_size == PGSIZE,
	      "no partial 2 MiB reservation (reservation %lu, page %lu)",
	      (unsigned long)q.reservation_size, (unsigned long)q.page_size);
	int me = getpid();
	int k = fork();
	CHECK(k >= 0, "fork: %e", k);
	if (k == 0)
		child(blk, me);
	printf("prc_orphan: parent exits with a partial reservation shared with its child\n");
	exit(0);
}

int
main(void)
{
	struct kcounters c;
	int status;
	uint64_t before = free_pages();
	uint64_t broken;

	EXPECT(counters(&c, sizeof c), sizeof c);
	broken = c.reserv_broken[0];
	int p = fork();
	CHECK(p >= 0, "fork: %e", p);
	if (p == 0)
		parent();
	EXPECT(wait(p, &status), p);
	EXPECT(status, 0);
	do {
		yield();
		EXPECT(counters(&c, sizeof c), sizeof c);
	} while (c.procs_live > 1);
	CHECK(c.reserv_broken[0] > broken, "no reservation was broken");
	uint64_t after = free_pages();
	CHECK(after == before, "free pages %lu before, %lu after", (unsigned long)before,
	      (unsigned long)after);
	printf("prc_orphan: child used the shared pages; free pages %lu before and after\n",
	       (unsigned long)before);
	printf("prc_orphan: OK\n");
	return 0;
}
