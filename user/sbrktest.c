/*
 * sbrktest: the heap.  The break starts on a page boundary above bss; growing it by 3
 * pages gives a readable, writable region; shrinking by 2 unmaps those pages and
 * growing again by 2 gives zeros, not the old data; the break moves by single bytes
 * too; an impossible sbrk (past the end of user space, or below the heap's start)
 * fails with an error and leaves the break alone; malloc hands out 16-byte aligned,
 * distinct, usable blocks and NULL for an impossible size.  Prints "sbrktest: OK";
 * a failure prints "sbrktest: FAIL ...".
 */
#include "user/utest.h"

static char some_bss[64];

static void
expect_bytes(const char *p, size_t len, char c, const char *what)
{
	for (size_t i = 0; i < len; i++)
		CHECK(p[i] == c, "%s: byte %lu is %d, expected %d", what, (unsigned long)i, p[i], c);
}

int
main(void)
{
	struct vm_query q;

	some_bss[0] = 1;
	char *base = sbrk(0);
	CHECK(!MMAP_FAILED(base), "sbrk(0): %e", (int)(int64_t)base);
	CHECK((uint64_t)base % PGSIZE == 0, "initial break %p not page aligned", base);
	CHECK(base > some_bss, "break %p below bss %p", base, some_bss);
	EXPECT(vmquery(base, &q), 0);
	CHECK(!q.mapped, "the page at the initial break is mapped");

	CHECK(sbrk(3 * PGSIZE) == base, "sbrk(3 pages) did not return the old break");
	CHECK(sbrk(0) == base + 3 * PGSIZE, "break did not move by 3 pages");
	EXPECT(vmquery(base + 2 * PGSIZE, &q), 0);
	CHECK(q.mapped && q.prot == (PROT_READ | PROT_WRITE), "heap mapped %d prot %d", q.mapped, q.prot);
	expect_bytes(base, 3 * PGSIZE, 0, "new heap");
	memset(base, 'h', 3 * PGSIZE);
	expect_bytes(base, 3 * PGSIZE, 'h', "written heap");

	CHECK(sbrk(-2 * PGSIZE) == base + 3 * PGSIZE, "shrinking did not return the old break");
	CHECK(sbrk(0) == base + PGSIZE, "break did not shrink by 2 pages");
	EXPECT(vmquery(base + PGSIZE, &q), 0);
	CHECK(!q.mapped, "a page above the shrunk break is still mapped");
	expect_bytes(base, PGSIZE, 'h', "heap kept below the break");
	CHECK(sbrk(2 * PGSIZE) == base + PGSIZE, "regrowing did not return the old break");
	expect_bytes(base + PGSIZE, 2 * PGSIZE, 0, "regrown heap");
	expect_bytes(base, PGSIZE, 'h', "heap kept below the break");
	printf("sbrktest: grow, shrink, regrow OK\n");

	CHECK(sbrk(10) == base + 3 * PGSIZE, "sbrk(10)");
	CHECK(sbrk(-10) == base + 3 * PGSIZE + 10, "sbrk(-10)");
	CHECK(sbrk(0) == base + 3 * PGSIZE, "byte-sized moves did not cancel out");

	void *r = sbrk((intptr_t)1 << 47);		/* more than all of user space */
	CHECK(MMAP_FAILED(r), "sbrk(128 TiB) returned %p", r);
	r = sbrk(-((intptr_t)1 << 40));			/* far below the heap */
	CHECK(MMAP_FAILED(r), "sbrk(-1 TiB) returned %p", r);
	CHECK(sbrk(0) == base + 3 * PGSIZE, "failed sbrk calls moved the break");
	printf("sbrktest: impossible sbrk fails (%e)\n", (int)(int64_t)r);

	char *a = malloc(100), *b = malloc(5000), *c = malloc(1);
	CHECK(a && b && c, "malloc failed: %p %p %p", a, b, c);
	CHECK((uint64_t)a % 16 == 0 && (uint64_t)b % 16 == 0 && (uint64_t)c % 16 == 0,
	      "malloc alignment: %p %p %p", a, b, c);
	CHECK(a + 100 <= b || b + 5000 <= a, "blocks overlap");
	memset(a, 'a', 100);
	memset(b, 'b', 5000);
	*c = 'c';
	expect_bytes(a, 100, 'a', "malloc block a");
	expect_bytes(b, 5000, 'b', "malloc block b");
	free(b);
	char *d = malloc(4000);
	CHECK(d, "malloc after free failed");
	memset(d, 'd', 4000);
	expect_bytes(a, 100, 'a', "malloc block a after reuse");
	free(a);
	free(c);
	free(d);
	CHECK(malloc((size_t)1 << 50) == NULL, "malloc(1 PiB) succeeded");
	printf("sbrktest: malloc OK\n");
	printf("sbrktest: OK\n");
	return 0;
}
