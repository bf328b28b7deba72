/*
 * hugemap: /dev/hugemap and the file descriptors that reach it (issue 12), the seed's
 * run_tests redone.  Each scenario runs in a forked child, and the parent checks
 * that the free-page count and the kernel heap are exactly what they were before it:
 * whatever the scenario mapped, cut, forked or left open is gone when it exits.
 *   fd         open/close: bad paths, flags, descriptors; fork shares descriptors;
 *              exit closes them; /dev/zero maps zeros; MAP_ANON ignores fd and off
 *   sizes      4 KiB .. 64 MiB at 2 MiB-aligned addresses, just below and at the
 *              threshold: each block's page size, the 2 MiB and bloat counters, the
 *              contents, and munmap of the request returning every page (bloat too)
 *   unaligned  unaligned addresses and lengths: partial blocks at both ends, a
 *              block whose bloat has no room (MAP_FIXED beside a mapping) falling back
 *   cut        munmap of a page inside a 2 MiB page demotes it and keeps the rest;
 *              mprotect of part demotes too; both keep the contents
 *   fork       a 2 MiB block and a 4 KiB block written on both sides after fork:
 *              each process sees exactly its own bytes
 *   bad        bad fd, zero length, unaligned offset, more than memory, bad prot and
 *              flags, MAP_SHARED: errors, and nothing allocated
 *   fallback   no free 2 MiB block at first touch (injected): 4 KiB pages, counted
 * The kernel's invariant checker runs while the mappings are live (kcheck).
 * hugemap SCENARIO... runs each in a child of its own and checks that the free pages and
 * the kernel heap are back where they were after it.  Prints "hugemap: SCENARIO OK" and
 * "hugemap: SCENARIO: no leak"; a failed check prints "hugemap: FAIL ...".
 */
#include "user/utest.h"

#define RW		(PROT_READ | PROT_WRITE)
#define HUGEMAP		"/dev/hugemap"

static int hm_fd;

static void *
hm_map(uint64_t addr, uint64_t len, int flags)
{
	void *p = mmapfd((void *)addr, len, RW, MAP_PRIVATE | flags, hm_fd, 0);
	CHECK(!MMAP_FAILED(p), "mmap of %lu bytes at 0x%lx: %e", (unsigned long)len, (unsigned long)addr,
	      (int)(int64_t)p);
	return p;
}

/* A page-dependent byte pattern. */
static uint8_t
pat(uint64_t va, int tag)
{
	return (uint8_t)((va >> 12) * 13 + (va & 0xfff) + tag * 101);
}

/* Write tag's pattern over the first and last 8 bytes of each page of [p, p+len). */
static void
fill(uint64_t p, uint64_t len, int tag)
{
	for (uint64_t va = p; va < p + len; va += PGSIZE)
		for (int i = 0; i < 8; i++) {
			*(volatile uint8_t *)(va + i) = pat(va + i, tag);
			*(volatile uint8_t *)(va + PGSIZE - 8 + i) = pat(va + PGSIZE - 8 + i, tag);
		}
}

static void
check_fill(uint64_t p, uint64_t len, int tag, const char *when)
{
	for (uint64_t va = p; va < p + len; va += PGSIZE)
		for (int i = 0; i < 8; i++) {
			uint8_t a = *(volatile uint8_t *)(va + i), b = *(volatile uint8_t *)(va + PGSIZE - 8 + i);
			CHECK(a == pat(va + i, tag) && b == pat(va + PGSIZE - 8 + i, tag),
			      "%s: page 0x%lx holds 0x%x/0x%x, expected 0x%x/0x%x", when, (unsigned long)va, a, b,
			      pat(va + i, tag), pat(va + PGSIZE - 8 + i, tag));
		}
}

/* Every byte of the page at va is zero. */
static void
check_zero(uint64_t va)
{
	for (uint64_t i = 0; i < PGSIZE; i += 8)
		CHECK(*(volatile uint64_t *)(va + i) == 0, "byte %lu of fresh page 0x%lx not zero", (unsigned long)i,
		      (unsigned long)va);
}

/* va is present with a leaf of size, and the device says size for its block. */
static void
expect_size(uint64_t va, uint64_t size, const char *when)
{
	struct vm_query q = query_va((void *)va);
	CHECK(q.present && q.page_size == size && q.device_page_size == size,
	      "%s: va 0x%lx present %u page %lu device %lu, expected %lu", when, (unsigned long)va, q.present,
	      (unsigned long)q.page_size, (unsigned long)q.device_page_size, (unsigned long)size);
}

static void
expect_unmapped(uint64_t va, const char *when)
{
	CHECK(!query_va((void *)va).mapped, "%s: va 0x%lx still mapped", when, (unsigned long)va);
}

/* The size the device must choose for the block at blk of the request [s, e). */
static uint64_t
want_size(uint64_t s, uint64_t e, uint64_t blk, uint64_t threshold)
{
	uint64_t req = MIN(e, blk + PG2M) - MAX(s, blk);
	return req * 100 >= threshold * PG2M ? PG2M : PGSIZE;
}

/*
 * Map [addr, addr+len) (addr 0: anywhere), touch and check every page, check each
 * block's size, the counters and the bloat, unmap the request and check that every
 * page of it came back.  Returns the address.
 */
static uint64_t
exercise(uint64_t addr, uint64_t len, int flags, int tag)
{
	struct kcounters c0 = stats_now();
	uint64_t t = c0.hugemap_threshold;
	uint64_t s = (uint64_t)hm_map(addr, len, flags), e = ROUNDUP(s + len, PGSIZE);
	CHECK(!addr || s == addr, "mapped at 0x%lx, asked for 0x%lx", (unsigned long)s, (unsigned long)addr);
	uint64_t nhuge = 0, bloat = 0;
	for (uint64_t blk = ROUNDDOWN(s, PG2M); blk < e; blk += PG2M)
		if (want_size(s, e, blk, t) == PG2M) {
			nhuge++;
			bloat += PG2M - (MIN(e, blk + PG2M) - MAX(s, blk));
		}
	check_zero(s);
	fill(s, e - s, tag);
	check_fill(s, e - s, tag, "after fill");
	for (uint64_t blk = ROUNDDOWN(s, PG2M); blk < e; blk += PG2M)
		expect_size(MAX(s, blk), want_size(s, e, blk, t), "touched");
	struct kcounters c1 = stats_now();
	CHECK(c1.hugemap_2m - c0.hugemap_2m == nhuge && c1.hugemap_bloat - c0.hugemap_bloat == bloat &&
	      c1.hugemap_fallbacks == c0.hugemap_fallbacks,
	      "%lu bytes at 0x%lx: %lu 2 MiB pages, bloat %lu, %lu fallbacks; expected %lu, %lu, 0",
	      (unsigned long)len, (unsigned long)s, (unsigned long)(c1.hugemap_2m - c0.hugemap_2m),
	      (unsigned long)(c1.hugemap_bloat - c0.hugemap_bloat),
	      (unsigned long)(c1.hugemap_fallbacks - c0.hugemap_fallbacks), (unsigned long)nhuge,
	      (unsigned long)bloat);
	EXPECT(munmap((void *)s, len), 0);
	struct kcounters c2 = stats_now();
	/* page tables a demotion took count as given back; those munmap freed go to wired blocks */
	int64_t tables = (int64_t)c2.pt_pages - (int64_t)c1.pt_pages;
	uint64_t back = c2.free_pages - c1.free_pages + (tables > 0 ? (uint64_t)tables : 0);
	uint64_t used = (e - s) / PGSIZE + bloat / PGSIZE;
	CHECK(back >= used, "munmap of %lu bytes at 0x%lx gave back %lu pages, %lu were in use",
	      (unsigned long)len, (unsigned long)s, (unsigned long)back, (unsigned long)used);
	expect_unmapped(ROUNDDOWN(s, PG2M), "after munmap");
	expect_unmapped(ROUNDUP(e, PG2M) - PGSIZE, "after munmap");
	return s;
}

/* ---- scenarios ---- */

static void
fd_scenario(void)
{
	static const char toolong[] = "/dev/hugemap/and/a/path/longer/than/the/limit";
	EXPECT(open("/dev/nothing", O_RDWR), -E_NOT_FOUND);
	EXPECT(open("", O_RDWR), -E_NOT_FOUND);
	EXPECT(open(toolong, O_RDWR), -E_NOT_FOUND);
	EXPECT(open(opaque_ptr(0), O_RDWR), -E_FAULT);
	EXPECT(open(opaque_ptr(KERNBASE), O_RDWR), -E_FAULT);
	EXPECT(open(HUGEMAP, O_ACCMODE), -E_INVAL);
	EXPECT(open(HUGEMAP, O_RDWR | 0x40), -E_INVAL);
	EXPECT(open(HUGEMAP, O_RDWR), 1);		/* 0 is hm_fd: the lowest free one */
	EXPECT(open("/dev/zero", O_RDONLY), 2);
	EXPECT(close(1), 0);
	EXPECT(close(1), -E_BAD_FD);
	EXPECT(close(-1), -E_BAD_FD);
	EXPECT(close(OPEN_MAX), -E_BAD_FD);
	EXPECT(syscall6(SYS_close, 1UL << 32, 0, 0, 0, 0, 0), -E_BAD_FD);
	EXPECT(open(HUGEMAP, O_RDONLY), 1);	/* the freed slot again */
	int n = 3;
	while (open("/dev/zero", O_RDWR) == n)
		n++;
	EXPECT(open("/dev/zero", O_RDWR), -E_RANGE);
	EXPECT(close(n - 1), 0);
	EXPECT(open(HUGEMAP, O_WRONLY), n - 1);
	EXPECT(mmapfd(NULL, PGSIZE, PROT_READ, MAP_PRIVATE, n - 1, 0), -E_PERM);
	EXPECT(mmapfd(NULL, PGSIZE, PROT_READ, MAP_PRIVATE, n, 0), -E_BAD_FD);
	/* /dev/zero: demand-zero, private, writable */
	uint8_t *z = mmapfd(NULL, 3 * PGSIZE, RW, MAP_PRIVATE, 2, 0);
	CHECK(!MMAP_FAILED(z), "mmap of /dev/zero: %e", (int)(int64_t)z);
	check_zero((uint64_t)z + PGSIZE);
	z[5] = 7;
	CHECK(z[5] == 7 && query_va(z).device_page_size == 0, "/dev/zero mapping");
	EXPECT(munmap(z, 3 * PGSIZE), 0);
	/* MAP_ANON ignores fd and off: as before descriptors existed */
	uint8_t *a = (uint8_t *)syscall6(SYS_mmap, 0, PGSIZE, RW, MAP_ANON | MAP_PRIVATE, 12345, 77);
	CHECK(!MMAP_FAILED(a), "anonymous mmap with a garbage fd: %e", (int)(int64_t)a);
	a[0] = 1;
	EXPECT(munmap(a, PGSIZE), 0);
	/* fork: the child has the parent's descriptors; its close leaves the parent's */
	int pid = fork();
	CHECK(pid >= 0, "fork: %e", pid);
	if (pid == 0) {
		uint8_t *c = hm_map(0, PGSIZE, 0);
		c[0] = 1;
		EXPECT(close(1), 0);
		EXPECT(close(hm_fd), 0);
		EXPECT(mmapfd(NULL, PGSIZE, RW, MAP_PRIVATE, hm_fd, 0), -E_BAD_FD);
		EXPECT(open("/dev/zero", O_RDWR), 0);
		EXPECT(open("/dev/zero", O_RDWR), 1);
		exit(0);		/* with descriptors open: exit closes them */
	}
	int status;
	EXPECT(wait(pid, &status), pid);
	EXPECT(status, 0);
	uint8_t *p = hm_map(0, PGSIZE, 0);	/* hm_fd still open here */
	p[0] = 1;
	EXPECT(close(1), 0);
}

static void
sizes_scenario(void)
{
	uint64_t t = stats_now().hugemap_threshold;
	uint64_t at = ROUNDUP(t * PG2M / 100, PGSIZE);	/* the least request that gets 2 MiB */
	const uint64_t sizes[] = {
		PGSIZE, 16 * PGSIZE, at - PGSIZE, at, at + PGSIZE, PG2M - PGSIZE, PG2M, PG2M + PGSIZE,
		PG2M + at - PGSIZE, PG2M + at, 3 * PG2M + 12345, 8 * PG2M, 32 * PG2M,
	};
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		uint64_t s = exercise(0, sizes[i], 0, (int)i);
		if (sizes[i] >= PG2M)
			CHECK((s & (PG2M - 1)) == 0, "%lu bytes placed at 0x%lx", (unsigned long)sizes[i],
			      (unsigned long)s);
	}
	/* a hint keeps the request where it asked, bloat around it */
	exercise(0x40000000UL + 5 * PGSIZE, PG2M - 10 * PGSIZE, 0, 20);
}

/* A free 2 MiB-aligned range of n blocks (mapped and unmapped again). */
static uint64_t
free_blocks(int n)
{
	void *p = mmap(NULL, (uint64_t)n * PG2M, PROT_READ, MAP_ANON | MAP_PRIVATE);
	CHECK(!MMAP_FAILED(p) && ((uint64_t)p & (PG2M - 1)) == 0, "anonymous mmap: %e", (int)(int64_t)p);
	EXPECT(munmap(p, (uint64_t)n * PG2M), 0);
	return (uint64_t)p;
}

static void
unaligned_scenario(void)
{
	uint64_t t = stats_now().hugemap_threshold;
	uint64_t base = free_blocks(8), q = PG2M / 4;
	/* live bloat on both sides of a lone block, checked by the invariant checker */
	uint64_t lone = (uint64_t)hm_map(base + PG2M + q / 2, PG2M - q, MAP_FIXED);
	fill(lone, PG2M - q, 9);
	EXPECT(kcheck(KCHECK_RUN, 0), 0);
	EXPECT(munmap((void *)lone, PG2M - q), 0);
	/* partial blocks at both ends: the first one large, the last one small */
	exercise(base + q, 4 * PG2M, MAP_FIXED, 1);
	/* the first one small, the last one large, unaligned length */
	exercise(base + 3 * q, 3 * PG2M - 4 * q + 100, MAP_FIXED, 2);
	/* one block, partial at both ends */
	exercise(base + PG2M + q / 2, PG2M - q, MAP_FIXED, 3);
	expect_unmapped(base + PG2M, "a lone block's bloat below");
	expect_unmapped(base + 2 * PG2M - PGSIZE, "a lone block's bloat above");
	exercise(base + PG2M + q, 2 * q, MAP_FIXED, 4);
	/* the bloat's room taken: the block falls back to 4 KiB pages, counted */
	uint64_t big = ROUNDUP(t * PG2M / 100, PGSIZE) + q / 2;	/* above the threshold */
	void *nb = mmap((void *)(base + 2 * PG2M), PGSIZE, PROT_READ, MAP_ANON | MAP_PRIVATE | MAP_FIXED);
	CHECK(!MMAP_FAILED(nb), "neighbour: %e", (int)(int64_t)nb);
	struct kcounters c0 = stats_now();
	uint64_t s = (uint64_t)hm_map(base + 3 * PG2M - big, big, MAP_FIXED);
	struct vm_query qq = query_va((void *)s);
	CHECK(qq.device_page_size == PGSIZE && qq.device_fallback && qq.region_start == s,
	      "no room for the bloat: device %lu fallback %u region start 0x%lx",
	      (unsigned long)qq.device_page_size, qq.device_fallback, (unsigned long)qq.region_start);
	fill(s, big, 5);
	check_fill(s, big, 5, "fallen back");
	expect_size(s, PGSIZE, "fallen back");
	EXPECT(kcheck(KCHECK_RUN, 0), 0);
	struct kcounters c1 = stats_now();
	CHECK(c1.hugemap_fallbacks == c0.hugemap_fallbacks + 1 && c1.hugemap_2m == c0.hugemap_2m,
	      "fallbacks +%lu, 2 MiB pages +%lu", (unsigned long)(c1.hugemap_fallbacks - c0.hugemap_fallbacks),
	      (unsigned long)(c1.hugemap_2m - c0.hugemap_2m));
	EXPECT(munmap((void *)s, big), 0);
	EXPECT(munmap(nb, PGSIZE), 0);
}

static void
cut_scenario(void)
{
	uint64_t s = (uint64_t)hm_map(0, 3 * PG2M, 0);
	fill(s, 3 * PG2M, 1);
	expect_size(s, PG2M, "filled");
	struct kcounters c0 = stats_now();
	EXPECT(munmap((void *)(s + 100 * PGSIZE), PGSIZE), 0);
	struct kcounters c1 = stats_now();
	CHECK(c1.demotions[DEMOTE_BY_MUNMAP] == c0.demotions[DEMOTE_BY_MUNMAP] + 1, "munmap of one page: no demotion");
	expect_unmapped(s + 100 * PGSIZE, "cut page");
	expect_size(s, PGSIZE, "cut block");
	expect_size(s + 101 * PGSIZE, PGSIZE, "cut block");
	check_fill(s, 100 * PGSIZE, 1, "below the cut");
	check_fill(s + 101 * PGSIZE, 3 * PG2M - 101 * PGSIZE, 1, "above the cut");
	expect_size(s + PG2M, PG2M, "the next block");
	EXPECT(kcheck(KCHECK_RUN, 0), 0);
	/* mapped again, the hole is a new 4 KiB mapping; the block stays 4 KiB */
	uint64_t h = (uint64_t)hm_map(s + 100 * PGSIZE, PGSIZE, MAP_FIXED);
	check_zero(h);
	EXPECT(munmap((void *)h, PGSIZE), 0);
	/* mprotect of part of a 2 MiB page demotes it; the contents stay */
	EXPECT(mprotect((void *)(s + PG2M), PGSIZE, PROT_READ), 0);
	expect_size(s + PG2M + PGSIZE, PGSIZE, "mprotected block");
	check_fill(s + PG2M, PG2M, 1, "mprotected block");
	EXPECT(mprotect((void *)(s + PG2M), PGSIZE, RW), 0);
	fill(s + PG2M, PGSIZE, 2);
	check_fill(s + PG2M, PGSIZE, 2, "writable again");
	/* unmapping the last whole block gives its 512 pages back at once */
	struct kcounters c2 = stats_now();
	EXPECT(munmap((void *)(s + 2 * PG2M), PG2M), 0);
	CHECK(stats_now().free_pages >= c2.free_pages + NPG, "a whole 2 MiB page unmapped: pages not freed");
	EXPECT(munmap((void *)s, 2 * PG2M), 0);
}

static void
fork_scenario(void)
{
	uint64_t t = stats_now().hugemap_threshold;
	uint64_t small = ROUNDUP(t * PG2M / 100, PGSIZE) - PGSIZE;	/* below: 4 KiB pages */
	uint64_t len = PG2M + small;
	uint64_t s = (uint64_t)hm_map(0, len, 0);
	fill(s, len - PGSIZE, 1);		/* the last page stays untouched */
	expect_size(s, PG2M, "before fork");
	expect_size(s + PG2M, PGSIZE, "before fork");
	int pid = fork();
	CHECK(pid >= 0, "fork: %e", pid);
	/* both copies still know the device's choices; the untouched page comes zeroed */
	CHECK(query_va((void *)s).device_page_size == PG2M && query_va((void *)(s + PG2M)).device_page_size == PGSIZE,
	      "%s: the device's choices lost", pid == 0 ? "child" : "parent");
	check_zero(s + len - PGSIZE);
	fill(s + len - PGSIZE, PGSIZE, 1);
	/* each side writes its own pages in both blocks: every 3rd from 0 (child), from 1 (parent) */
	int me = pid == 0 ? 0 : 1;
	for (uint64_t va = s + me * PGSIZE; va < s + len; va += 3 * PGSIZE)
		fill(va, PGSIZE, 2 + me);
	yield();
	for (uint64_t va = s; va < s + len; va += PGSIZE) {
		int k = (int)((va - s) / PGSIZE % 3);
		check_fill(va, PGSIZE, k == me ? 2 + me : 1, pid == 0 ? "child" : "parent");
	}
	EXPECT(kcheck(KCHECK_RUN, 0), 0);
	if (pid == 0)
		exit(0);
	int status;
	EXPECT(wait(pid, &status), pid);
	EXPECT(status, 0);
	for (uint64_t va = s; va < s + len; va += PGSIZE) {
		int k = (int)((va - s) / PGSIZE % 3);
		check_fill(va, PGSIZE, k == 1 ? 3 : 1, "parent after the child");
	}
	EXPECT(munmap((void *)s, len), 0);
}

static void
bad_scenario(void)
{
	struct kcounters c0 = stats_now();
	EXPECT(mmapfd(NULL, PGSIZE, RW, MAP_PRIVATE, -1, 0), -E_BAD_FD);
	EXPECT(mmapfd(NULL, PGSIZE, RW, MAP_PRIVATE, 5, 0), -E_BAD_FD);
	EXPECT(mmapfd(NULL, PGSIZE, RW, MAP_PRIVATE, 1000000, 0), -E_BAD_FD);
	EXPECT(mmapfd(NULL, 0, RW, MAP_PRIVATE, hm_fd, 0), -E_INVAL);
	EXPECT(mmapfd(NULL, PGSIZE, RW, MAP_PRIVATE, hm_fd, 100), -E_INVAL);
	EXPECT(mmapfd(NULL, PGSIZE, RW, MAP_SHARED, hm_fd, 0), -E_INVAL);
	EXPECT(mmapfd(NULL, PGSIZE, RW, MAP_SHARED | MAP_PRIVATE, hm_fd, 0), -E_INVAL);
	EXPECT(mmapfd(NULL, PGSIZE, RW, 0, hm_fd, 0), -E_INVAL);
	EXPECT(mmapfd(NULL, PGSIZE, RW, MAP_PRIVATE | 0x1000, hm_fd, 0), -E_INVAL);
	EXPECT(mmapfd(NULL, PGSIZE, PROT_WRITE | PROT_EXEC, MAP_PRIVATE, hm_fd, 0), -E_PERM);
	EXPECT(mmapfd(NULL, PGSIZE, 0x10, MAP_PRIVATE, hm_fd, 0), -E_INVAL);
	EXPECT(mmapfd((void *)(0x40000000UL + 1), PGSIZE, RW, MAP_PRIVATE | MAP_FIXED, hm_fd, 0), -E_INVAL);
	EXPECT(mmapfd((void *)UTOP, PGSIZE, RW, MAP_PRIVATE | MAP_FIXED, hm_fd, 0), -E_INVAL);
	EXPECT(mmapfd((void *)UTEXT, PGSIZE, RW, MAP_PRIVATE | MAP_FIXED, hm_fd, 0), -E_EXISTS);
	EXPECT(mmapfd(NULL, (c0.total_pages + 1) * PGSIZE, RW, MAP_PRIVATE, hm_fd, 0), -E_NO_MEM);
	EXPECT(mmapfd(NULL, ~0UL, RW, MAP_PRIVATE, hm_fd, 0), -E_NO_MEM);
	struct kcounters c1 = stats_now();
	CHECK(c1.free_pages == c0.free_pages && c1.kmalloc_bytes == c0.kmalloc_bytes,
	      "failed calls leaked: free pages %lu -> %lu, kernel heap %lu -> %lu", (unsigned long)c0.free_pages,
	      (unsigned long)c1.free_pages, (unsigned long)c0.kmalloc_bytes, (unsigned long)c1.kmalloc_bytes);
	/* as much as memory is accepted: demand paging commits nothing yet */
	void *p = mmapfd(NULL, c0.total_pages * PGSIZE / 2, RW, MAP_PRIVATE, hm_fd, 0);
	CHECK(!MMAP_FAILED(p), "mmap of half of memory: %e", (int)(int64_t)p);
	EXPECT(munmap(p, c0.total_pages * PGSIZE / 2), 0);
}

static void
fallback_scenario(void)
{
	struct kcounters c0 = stats_now();
	uint64_t s = (uint64_t)hm_map(0, 2 * PG2M, 0);
	EXPECT(failnth(FAIL_FRAME, 1, 1), 0);	/* the 2 MiB frame of the first touch */
	fill(s, 2 * PG2M, 1);
	check_fill(s, 2 * PG2M, 1, "after a fallback");
	expect_size(s, PGSIZE, "fallen back");
	expect_size(s + PG2M - PGSIZE, PGSIZE, "fallen back");
	CHECK(query_va((void *)s).device_fallback, "fallback not reported");
	expect_size(s + PG2M, PG2M, "the next block");
	struct kcounters c1 = stats_now();
	CHECK(c1.hugemap_fallbacks == c0.hugemap_fallbacks + 1 && c1.hugemap_2m == c0.hugemap_2m + 1,
	      "fallbacks +%lu, 2 MiB pages +%lu; expected 1, 1",
	      (unsigned long)(c1.hugemap_fallbacks - c0.hugemap_fallbacks),
	      (unsigned long)(c1.hugemap_2m - c0.hugemap_2m));
	EXPECT(munmap((void *)s, 2 * PG2M), 0);
}

static const struct scenario scenarios[] = {
	{ "fd", fd_scenario },
	{ "sizes", sizes_scenario },
	{ "unaligned", unaligned_scenario },
	{ "cut", cut_scenario },
	{ "fork", fork_scenario },
	{ "bad", bad_scenario },
	{ "fallback", fallback_scenario },
};

int
main(int argc, char **argv)
{
	CHECK(argc >= 2, "usage: hugemap SCENARIO...");
	for (int i = 1; i < argc; i++) {	/* each in a child of its own, with a leak check */
		EXPECT(hm_fd = open(HUGEMAP, O_RDWR), 0);
		struct kcounters c0 = stats_now();
		int pid = fork();
		CHECK(pid >= 0, "fork: %e", pid);
		if (pid == 0) {
			char *one[] = { argv[0], argv[i], NULL };
			run_scenario(scenarios, ARRAY_SIZE(scenarios), 2, one);
			exit(0);
		}
		int status;
		EXPECT(wait(pid, &status), pid);
		EXPECT(status, 0);
		struct kcounters c1 = stats_now();
		EXPECT(close(hm_fd), 0);
		CHECK(c1.free_pages == c0.free_pages && c1.kmalloc_bytes == c0.kmalloc_bytes,
		      "%s leaked: free pages %lu -> %lu, kernel heap %lu -> %lu bytes", argv[i],
		      (unsigned long)c0.free_pages, (unsigned long)c1.free_pages, (unsigned long)c0.kmalloc_bytes,
		      (unsigned long)c1.kmalloc_bytes);
		printf("hugemap: %s: no leak\n", argv[i]);
	}
	return 0;
}
