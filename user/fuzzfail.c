/*
 * user/fuzzfail.c: every allocation failure is survived cleanly.
 *
 *     run=fuzzfail[,KMAX]
 *
 * For each kind of allocation (frames, kmalloc) and each k = 1, 2, ... KMAX (400),
 * spawn a child that arms the kernel's fault injector (failnth) so that its k-th
 * allocation from then on fails -- in a second sweep, the k-th and every one after it
 * -- and runs a workload: fork, mmap, touch, mprotect, munmap, madvise, sbrk, a
 * superpage-sized mapping.  (A spawned child, not a forked one: the parent must share
 * no copy-on-write page whose copy could be the allocation that fails.)  Every system call must return a result or a -E_* code; the child may be
 * killed for lack of memory; nothing may panic.  After each child, disarmed: the free
 * pages and kernel heap bytes must be back to where they were (no leak) and kcheck
 * must find no violation.  k steps by 1 up to 64, then by an eighth; a sweep ends at
 * the first k the workload never reaches.  Prints "fuzzfail: KIND once|always: R runs,
 * k up to N, M children killed" per sweep and "fuzzfail: OK".
 */
#include "user/utest.h"

#define KMAX_DEFAULT	400
#define WEIRD		2	/* the child's exit status for a result that is no result */

/* A call returned something that is neither a success nor an error code. */
static void
expect_sane(int64_t r, const char *what)
{
	if (r < 0 && r <= -MAXERROR) {
		printf("fuzzfail: FAIL %s returned %ld\n", what, (long)r);
		exit(WEIRD);
	}
}

static void
touch_range(uint8_t *p, uint64_t len)
{
	for (uint64_t off = 0; off < len; off += PGSIZE)
		p[off] = (uint8_t)off;
}

/* The workload: each step tolerates an error, since any allocation may fail. */
static void
workload(void)
{
	int pid = fork();
	expect_sane(pid, "fork");
	if (pid == 0) {
		uint8_t *q = mmap(NULL, 8 * PGSIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON);
		if (!MMAP_FAILED(q))
			touch_range(q, 8 * PGSIZE);
		exit(0);
	}
	uint8_t *p = mmap(NULL, 64 * PGSIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON);
	expect_sane((int64_t)p, "mmap");
	if (!MMAP_FAILED(p)) {
		touch_range(p, 64 * PGSIZE);
		expect_sane(mprotect(p + 8 * PGSIZE, 8 * PGSIZE, PROT_READ), "mprotect");
		expect_sane(munmap(p + 20 * PGSIZE, 3 * PGSIZE), "munmap");
		expect_sane(madvise(p + 30 * PGSIZE, 4 * PGSIZE, MADV_DONTNEED), "madvise");
		expect_sane(mprotect(p, 64 * PGSIZE, PROT_READ | PROT_WRITE), "mprotect");
		touch_range(p + 30 * PGSIZE, 4 * PGSIZE);
	}
	uint8_t *big = mmap(NULL, 2 * PG2M, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON);
	expect_sane((int64_t)big, "mmap");
	if (!MMAP_FAILED(big)) {
		uint8_t *blk = (uint8_t *)ROUNDUP((uint64_t)big, PG2M);
		if (blk + PG2M <= big + 2 * PG2M)
			touch_range(blk, PG2M);		/* a promotion under reserve, one page under eager */
		expect_sane(mprotect(blk, PGSIZE, PROT_READ), "mprotect");	/* a demotion */
	}
	uint8_t *h = sbrk(8 * PGSIZE);
	expect_sane((int64_t)h, "sbrk");
	if (!MMAP_FAILED(h)) {
		touch_range(h, 8 * PGSIZE);
		expect_sane((int64_t)sbrk(-4 * (intptr_t)PGSIZE), "sbrk");
	}
	int status;
	if (pid > 0)
		expect_sane(wait(pid, &status), "wait");
	exit(0);
}

/* Free pages and kernel heap bytes once every orphaned grandchild is gone too. */
static void
snapshot(uint64_t *pages, uint64_t *heap)
{
	struct kcounters c;
	for (;;) {
		CHECK(counters(&c, sizeof c) == (int)sizeof c, "counters");
		if (c.procs_live == 1)
			break;
		yield();		/* the kernel thread reaps orphans */
	}
	*pages = c.free_pages;
	*heap = c.kmalloc_bytes;
}

/* Run the workload once with kind armed at k (n failures); false once k is out of reach. */
static bool
one_run(int kind, uint64_t k, uint64_t n, uint64_t *free_base, uint64_t *heap_base, int *killed)
{
	char karg[24], narg[24], kindarg[8];
	snprintf(kindarg, sizeof kindarg, "%d", kind);
	snprintf(karg, sizeof karg, "%lu", k);
	snprintf(narg, sizeof narg, "%lu", n);
	const char *const args[] = { "fuzzfail", "child", kindarg, karg, narg, NULL };
	int pid = spawn("fuzzfail", args);
	int status = 0;
	if (pid > 0)
		CHECK(wait(pid, &status) == pid, "wait");
	else
		CHECK(pid > -MAXERROR, "fork returned %d", pid);
	int64_t injected = failnth(kind, 0, 0);
	CHECK(injected >= 0, "failnth disarm");
	CHECK(!(pid > 0 && !(status & WSTATUS_KILLED) && status != 0), "k %lu: the child exited with %d", k,
	      status);
	if (pid > 0 && (status & WSTATUS_KILLED))
		(*killed)++;
	uint64_t pages, heap;
	snapshot(&pages, &heap);
	/* more free memory is fine: an injected failure may preempt our own reservations */
	CHECK(pages >= *free_base, "kind %d k %lu: %lu pages leaked", kind, k, *free_base - pages);
	CHECK(heap <= *heap_base, "kind %d k %lu: %lu kernel heap bytes leaked", kind, k, heap - *heap_base);
	*free_base = pages;
	*heap_base = heap;
	int v = kcheck(KCHECK_RUN, 0);
	CHECK(v == 0, "kind %d k %lu: %d invariant violations", kind, k, v);
	return injected > 0;
}

int
main(int argc, char **argv)
{
	static const char *const kinds[] = { "frame", "kmalloc" };
	uint64_t free_base, heap_base;
	int killed = 0;

	if (argc == 5 && strcmp(argv[1], "child") == 0) {
		CHECK(failnth((int)strtoul(argv[2], NULL, 0), strtoul(argv[3], NULL, 0), strtoul(argv[4], NULL, 0)) >= 0,
		      "failnth arm");
		workload();
	}
	uint64_t kmax = argc > 1 ? strtoul(argv[1], NULL, 0) : KMAX_DEFAULT;
	const char *const args[] = { "fuzzfail", "child", "0", "0", "0", NULL };
	int pid = spawn("fuzzfail", args), status;	/* warm up, nothing failing */
	CHECK(pid > 0 && wait(pid, &status) == pid && status == 0, "the workload fails without injection");
	snapshot(&free_base, &heap_base);
	for (int kind = 0; kind < FAIL_NKINDS; kind++) {
		for (int always = 0; always < 2; always++) {
			killed = 0;
			uint64_t k, last = 0, runs = 0;
			for (k = 1; k <= kmax; k += k < 64 ? 1 : k / 8, runs++) {
				if (!one_run(kind, k, always ? UINT64_MAX : 1, &free_base, &heap_base, &killed))
					break;
				last = k;
			}
			printf("fuzzfail: %s %s: %lu runs, k up to %lu, %d children killed\n", kinds[kind],
			       always ? "always" : "once", runs, last, killed);
		}
	}
	printf("fuzzfail: OK\n");
	return 0;
}
