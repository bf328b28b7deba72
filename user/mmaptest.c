/*
 * mmaptest: anonymous mmap, munmap, mprotect and madvise, checked through the data
 * and through vmquery.  Groups: anonymous mappings (demand zero, readable and
 * writable, 4 KiB pages, lengths rounded up); a free hint is honoured and an occupied
 * one is not an error; MAP_FIXED places exactly and refuses to overlap (-E_EXISTS);
 * munmap removes a range and unmapping the middle splits a region; mprotect changes
 * protection without losing data (also PROT_NONE and back) and splits/merges
 * regions; madvise(DONTNEED) drops pages (zeros afterwards); an RW page made R+X can
 * be executed; bad arguments give -E_INVAL, -E_PERM (W^X), -E_EXISTS or
 * -E_NOT_FOUND.  Prints "mmaptest: <group> OK" per group and "mmaptest: OK"; a
 * failure prints "mmaptest: FAIL ...".  (Touching an unmapped page would kill the
 * process, so unmapped ranges are checked with vmquery only.)
 */
#include "user/utest.h"

#define RW		(PROT_READ | PROT_WRITE)
#define ANON		(MAP_PRIVATE | MAP_ANON)
#define FIXED_BASE	((char *)0x100000000000UL)	/* 16 TiB: far from heap and mmap area */

static void
query(const void *va, struct vm_query *q)
{
	EXPECT(vmquery(va, q), 0);
	CHECK(q->va == (uint64_t)va, "vmquery va 0x%lx, asked 0x%lx", (unsigned long)q->va,
	      (unsigned long)va);
}

/* va lies in a region [start, end) with protection prot. */
static void
expect_region(const void *va, const void *start, const void *end, int prot)
{
	struct vm_query q;
	query(va, &q);
	CHECK(q.mapped, "%p not mapped", va);
	CHECK(q.region_start == (uint64_t)start && q.region_end == (uint64_t)end,
	      "%p in region 0x%lx-0x%lx, expected %p-%p", va, (unsigned long)q.region_start,
	      (unsigned long)q.region_end, start, end);
	CHECK(q.prot == (uint32_t)prot, "%p prot %d, expected %d", va, q.prot, prot);
}

static void
expect_unmapped(const void *va)
{
	struct vm_query q;
	query(va, &q);
	CHECK(!q.mapped && !q.present, "%p still mapped (present %d)", va, q.present);
}

static void
fill(char *p, size_t len, int seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (char)(seed + i * 13);
}

static void
verify(const char *p, size_t len, int seed, const char *what)
{
	for (size_t i = 0; i < len; i++)
		CHECK(p[i] == (char)(seed + i * 13), "%s: byte %lu of %p changed", what,
		      (unsigned long)i, p);
}

static void
verify_zero(const char *p, size_t len, const char *what)
{
	for (size_t i = 0; i < len; i++)
		CHECK(p[i] == 0, "%s: byte %lu of %p is %d, not 0", what, (unsigned long)i, p, p[i]);
}

static char *
map(void *addr, size_t len, int prot, int flags)
{
	char *p = mmap(addr, len, prot, flags);
	CHECK(!MMAP_FAILED(p), "mmap(%p, %lu, %d, 0x%x): %e", addr, (unsigned long)len, prot, flags,
	      (int)(int64_t)p);
	CHECK((uint64_t)p % PGSIZE == 0 && (uint64_t)p >= UTEXT && (uint64_t)p + len <= USTACKTOP,
	      "mmap returned %p", p);
	return p;
}

int
main(void)
{
	struct vm_query q;

	/* anonymous: demand zero, data reads back, 4 KiB pages */
	char *p = map(NULL, 3 * PGSIZE, RW, ANON);
	expect_region(p, p, p + 3 * PGSIZE, RW);
	query(p, &q);
	CHECK(!q.present, "a page is present before any touch");
	verify_zero(p, 3 * PGSIZE, "fresh mapping");
	fill(p, 3 * PGSIZE, 1);
	verify(p, 3 * PGSIZE, 1, "after writing");
	query(p + PGSIZE, &q);
	CHECK(q.present && q.page_size == PGSIZE && !q.cow && q.pfn != 0,
	      "after a write: present %d page_size %lu cow %d pfn 0x%lx", q.present,
	      (unsigned long)q.page_size, q.cow, (unsigned long)q.pfn);
	char *small = map(NULL, 100, RW, ANON);		/* rounded up to a page */
	expect_region(small, small, small + PGSIZE, RW);
	EXPECT(munmap(small, 100), 0);
	expect_unmapped(small);
	printf("mmaptest: anonymous OK\n");

	/* hint: honoured when free, another address when not */
	char *h = map(FIXED_BASE, PGSIZE, RW, ANON);
	CHECK(h == FIXED_BASE, "free hint %p gave %p", FIXED_BASE, h);
	char *h2 = map(FIXED_BASE, PGSIZE, RW, ANON);
	CHECK(h2 != h, "occupied hint %p given out twice", h);
	h2[0] = 1;
	CHECK(h[0] == 0, "the second mapping aliases the first");
	printf("mmaptest: hint OK\n");

	/* MAP_FIXED: exactly there; never over an existing mapping */
	char *fx = FIXED_BASE + 16 * PGSIZE;
	CHECK(map(fx, 2 * PGSIZE, RW, ANON | MAP_FIXED) == fx, "MAP_FIXED moved");
	fill(fx, 2 * PGSIZE, 2);
	verify(fx, 2 * PGSIZE, 2, "MAP_FIXED region");
	EXPECT(mmap(fx + PGSIZE, PGSIZE, RW, ANON | MAP_FIXED), -E_EXISTS);
	EXPECT(mmap(fx - PGSIZE, 2 * PGSIZE, RW, ANON | MAP_FIXED), -E_EXISTS);
	EXPECT(mmap(fx - PGSIZE, 4 * PGSIZE, RW, ANON | MAP_FIXED), -E_EXISTS);
	expect_unmapped(fx - PGSIZE);
	verify(fx, 2 * PGSIZE, 2, "after refused overlaps");
	printf("mmaptest: fixed OK\n");

	/* munmap */
	EXPECT(munmap(h, PGSIZE), 0);
	expect_unmapped(h);
	EXPECT(munmap(h2, PGSIZE), 0);
	expect_unmapped(h2);
	printf("mmaptest: munmap OK\n");

	/* munmap of the middle page splits the region in two */
	char *s = map(NULL, 3 * PGSIZE, RW, ANON);
	fill(s, 3 * PGSIZE, 3);
	EXPECT(munmap(s + PGSIZE, PGSIZE), 0);
	expect_region(s, s, s + PGSIZE, RW);
	expect_unmapped(s + PGSIZE);
	expect_region(s + 2 * PGSIZE, s + 2 * PGSIZE, s + 3 * PGSIZE, RW);
	verify(s, PGSIZE, 3, "first piece");
	verify(s + 2 * PGSIZE, PGSIZE, 3 + 2 * PGSIZE * 13, "last piece");
	EXPECT(munmap(s, 3 * PGSIZE), 0);		/* over the hole: fine */
	expect_unmapped(s);
	expect_unmapped(s + 2 * PGSIZE);
	printf("mmaptest: split OK\n");

	/* mprotect: read-only and back keeps the data; a partial one splits, undoing merges */
	EXPECT(mprotect(p, 3 * PGSIZE, PROT_READ), 0);
	expect_region(p, p, p + 3 * PGSIZE, PROT_READ);
	verify(p, 3 * PGSIZE, 1, "read-only");
	EXPECT(mprotect(p, 3 * PGSIZE, RW), 0);
	expect_region(p, p, p + 3 * PGSIZE, RW);
	fill(p, 3 * PGSIZE, 4);
	EXPECT(mprotect(p + PGSIZE, PGSIZE, PROT_READ), 0);
	expect_region(p, p, p + PGSIZE, RW);
	expect_region(p + PGSIZE, p + PGSIZE, p + 2 * PGSIZE, PROT_READ);
	expect_region(p + 2 * PGSIZE, p + 2 * PGSIZE, p + 3 * PGSIZE, RW);
	EXPECT(mprotect(p + PGSIZE, PGSIZE, RW), 0);
	expect_region(p + PGSIZE, p, p + 3 * PGSIZE, RW);
	verify(p, 3 * PGSIZE, 4, "after mprotect round trip");
	printf("mmaptest: mprotect OK\n");

	/* PROT_NONE and back keeps the data */
	EXPECT(mprotect(p, 3 * PGSIZE, PROT_NONE), 0);
	expect_region(p, p, p + 3 * PGSIZE, PROT_NONE);
	EXPECT(mprotect(p, 3 * PGSIZE, RW), 0);
	verify(p, 3 * PGSIZE, 4, "after PROT_NONE and back");
	printf("mmaptest: prot_none OK\n");

	/* madvise(DONTNEED): pages dropped, zeros on the next touch, region kept */
	EXPECT(madvise(p, 3 * PGSIZE, MADV_DONTNEED), 0);
	query(p, &q);
	CHECK(q.mapped && !q.present, "after DONTNEED: mapped %d present %d", q.mapped, q.present);
	verify_zero(p, 3 * PGSIZE, "after DONTNEED");
	EXPECT(madvise(p, PGSIZE, MADV_NORMAL), 0);
	printf("mmaptest: madvise OK\n");

	/* code written to an RW page runs once the page is R+X */
	char *x = map(NULL, PGSIZE, RW, ANON);
	x[0] = (char)0xB8;			/* mov $42, %eax */
	x[1] = 42, x[2] = 0, x[3] = 0, x[4] = 0;
	x[5] = (char)0xC3;			/* ret */
	EXPECT(mprotect(x, PGSIZE, PROT_READ | PROT_EXEC), 0);
	expect_region(x, x, x + PGSIZE, PROT_READ | PROT_EXEC);
	int (*fn)(void) = (int (*)(void))opaque_ptr((uint64_t)x);
	EXPECT(fn(), 42);
	EXPECT(munmap(x, PGSIZE), 0);
	printf("mmaptest: exec OK\n");

	/* bad arguments */
	EXPECT(mmap(FIXED_BASE + 100, PGSIZE, RW, ANON | MAP_FIXED), -E_INVAL);	/* unaligned */
	EXPECT(mmap(NULL, 0, RW, ANON), -E_INVAL);				/* length 0 */
	EXPECT(mmap(FIXED_BASE, 0, RW, ANON | MAP_FIXED), -E_INVAL);
	EXPECT(mmap((void *)KDIRECT, PGSIZE, RW, ANON | MAP_FIXED), -E_INVAL);	/* kernel */
	EXPECT(mmap((void *)KERNBASE, PGSIZE, RW, ANON | MAP_FIXED), -E_INVAL);
	EXPECT(mmap((void *)0x0000800000000000UL, PGSIZE, RW, ANON | MAP_FIXED), -E_INVAL);
	EXPECT(mmap((void *)0xDEAD000000000000UL, PGSIZE, RW, ANON | MAP_FIXED), -E_INVAL);
	EXPECT(mmap((void *)(UTOP - PGSIZE), 2 * PGSIZE, RW, ANON | MAP_FIXED), -E_INVAL);
	EXPECT(mmap((void *)0x1000, PGSIZE, RW, ANON | MAP_FIXED), -E_INVAL);	/* below UTEXT */
	EXPECT(mmap(NULL, PGSIZE, PROT_READ | PROT_WRITE | PROT_EXEC, ANON), -E_PERM);
	EXPECT(mmap(NULL, PGSIZE, PROT_WRITE | PROT_EXEC, ANON), -E_PERM);
	EXPECT(mmap(NULL, PGSIZE, 0x8, ANON), -E_INVAL);			/* unknown prot */
	EXPECT(mmap(NULL, PGSIZE, RW, ANON | 0x1000), -E_INVAL);		/* unknown flag */
	EXPECT(munmap(p + 1, PGSIZE), -E_INVAL);
	EXPECT(munmap(p, 0), -E_INVAL);
	EXPECT(mprotect(p + 1, PGSIZE, PROT_READ), -E_INVAL);
	EXPECT(mprotect(p, PGSIZE, PROT_WRITE | PROT_EXEC), -E_PERM);
	EXPECT(mprotect(p, PGSIZE, 0x8), -E_INVAL);
	EXPECT(mprotect(fx, 3 * PGSIZE, PROT_READ), -E_NOT_FOUND);		/* runs past fx */
	EXPECT(mprotect(FIXED_BASE + 64 * PGSIZE, PGSIZE, PROT_READ), -E_NOT_FOUND);
	EXPECT(madvise(p, PGSIZE, 99), -E_INVAL);
	expect_region(p, p, p + 3 * PGSIZE, RW);	/* nothing changed by the failures */
	expect_region(fx, fx, fx + 2 * PGSIZE, RW);
	expect_unmapped(FIXED_BASE);
	printf("mmaptest: bad arguments OK\n");

	EXPECT(munmap(p, 3 * PGSIZE), 0);
	EXPECT(munmap(fx, 2 * PGSIZE), 0);
	expect_unmapped(p);
	expect_unmapped(fx);
	printf("mmaptest: OK\n");
	return 0;
}
