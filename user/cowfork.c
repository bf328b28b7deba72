/*
 * cowfork: copy-on-write fork keeps parent and child apart and frees what it copied.
 * The parent fills NPAGES pages of bss; after fork both processes first see that
 * data, the pages are marked copy-on-write, then each writes its own pattern over
 * all of them, yields, and must read back only its own data.  Each page must have
 * been copied or reused (the kernel's COW counters grow by 2 * NPAGES), and once the
 * child is reaped the free-page count must be exactly what it was before the fork.
 * Prints "cowfork: OK"; a failure prints "cowfork: FAIL ...".
 */
#include "user/utest.h"

#define NPAGES 8

static uint8_t pages[NPAGES][PGSIZE] __attribute__((aligned(PGSIZE)));

static uint8_t
pattern(int who, int page, int i)
{
	return (uint8_t)(who * 31 + page * 7 + i);
}

static void
fill(int who)
{
	for (int p = 0; p < NPAGES; p++)
		for (int i = 0; i < (int)PGSIZE; i++)
			pages[p][i] = pattern(who, p, i);
}

static void
verify(int who, const char *when)
{
	for (int p = 0; p < NPAGES; p++)
		for (int i = 0; i < (int)PGSIZE; i++)
			CHECK(pages[p][i] == pattern(who, p, i),
			      "%s: page %d byte %d is 0x%x, expected 0x%x", when, p, i, pages[p][i],
			      pattern(who, p, i));
}

static int
is_cow(const void *va)
{
	struct vm_query q;
	EXPECT(vmquery(va, &q), 0);
	CHECK(q.mapped && q.present, "page %p not present", va);
	return q.cow;
}

int
main(void)
{
	struct kcounters before, after;
	int status;

	fill(1);
	EXPECT(counters(&before, sizeof before), sizeof before);
	int child = fork();
	CHECK(child >= 0, "fork: %e", child);
	if (child == 0) {
		verify(1, "child before writing");
		fill(2);
		for (int i = 0; i < 3; i++)
			yield();
		verify(2, "child after writing");
		exit(0);
	}
	CHECK(is_cow(pages[0]), "parent's page not copy-on-write after fork");
	verify(1, "parent before writing");
	fill(3);
	for (int i = 0; i < 3; i++)
		yield();
	verify(3, "parent after writing");
	CHECK(!is_cow(pages[0]), "parent's page still copy-on-write after writing");
	EXPECT(wait(child, &status), child);
	CHECK(status == 0, "child status %d", status);
	verify(3, "parent after the child exited");
	EXPECT(counters(&after, sizeof after), sizeof after);
	uint64_t cow = (after.faults_cow_copy + after.faults_cow_reuse) -
		       (before.faults_cow_copy + before.faults_cow_reuse);
	CHECK(cow >= 2 * NPAGES, "only %lu copy-on-write faults for %d pages written twice",
	      (unsigned long)cow, NPAGES);
	CHECK(after.free_pages == before.free_pages, "free pages %lu before fork, %lu after",
	      (unsigned long)before.free_pages, (unsigned long)after.free_pages);
	printf("cowfork: %lu COW faults, free pages %lu before and after\n", (unsigned long)cow,
	       (unsigned long)after.free_pages);
	printf("cowfork: OK\n");
	return 0;
}
