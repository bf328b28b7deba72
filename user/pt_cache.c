/*
 * pt_cache [drop]: the page-table designs hold every mapping and the x86 tables are only
 * their cache (pt=clustered|guarded; kern/mm/pt/cache.c).
 *
 * The program maps three kinds of space: a sparse one (one 4 KiB page per 2 MiB over
 * 64 MiB), a dense one (256 consecutive pages) and a 4 MiB region, 2 MiB aligned, touched
 * whole (2 MiB pages under vm.policy=reserve or eager).  It forks; parent and child each
 * write their own pattern over every other page (copy-on-write, through the design),
 * mprotect a part read-only, unmap another part, and yield between steps, then check
 * every byte of every page.  Before the fork one page of each 2 MiB block of the
 * superpage region is unmapped (a demotion each).  Under pt.drop=switch each yield throws the x86 tables away,
 * so every access after it faults and is refilled from the design: with "drop" the
 * kernel's counters must show drops and refills.  Both run the invariant checker, which
 * compares each space's x86 tables with its design, after their writes.  Prints
 * "pt_cache: OK".
 */
#include "user/utest.h"

#define SPARSE_SPAN	(64UL << 20)
#define SPARSE_STEP	(2UL << 20)
#define DENSE_PAGES	256
#define SUPER_BYTES	(4UL << 20)

static uint8_t *sparse, *dense, *super;

/* The byte at offset i of page p of a region, as `who` (0: before fork, 1 parent, 2 child) wrote it. */
static uint8_t
pattern(int who, uint64_t region, uint64_t p, uint64_t i)
{
	return (uint8_t)(who * 77 + region * 13 + p * 5 + i * 3);
}

/* Page p of region r: its address and whether `who` rewrote it (every other page after fork). */
static uint8_t *
page_at(int r, uint64_t p)
{
	return r == 0 ? sparse + p * SPARSE_STEP : r == 1 ? dense + p * PGSIZE : super + p * PGSIZE;
}

static uint64_t
pages_in(int r)
{
	return r == 0 ? SPARSE_SPAN / SPARSE_STEP : r == 1 ? DENSE_PAGES : SUPER_BYTES / PGSIZE;
}

/*
 * Whether page p of region r is unmapped by now: page 5 of each 2 MiB of the superpage
 * region (before fork), the last quarter of the dense region (after).
 */
static int
unmapped(int r, uint64_t p)
{
	return (r == 1 && p >= DENSE_PAGES * 3 / 4) || (r == 2 && p % 512 == 5);
}

static void
write_pages(int who, int every_other)
{
	for (int r = 0; r < 3; r++)
		for (uint64_t p = every_other; p < pages_in(r); p += every_other ? 2 : 1) {
			if (every_other && unmapped(r, p))
				continue;
			uint8_t *pg = page_at(r, p);
			for (uint64_t i = 0; i < PGSIZE; i++)
				pg[i] = pattern(who, r, p, i);
			if (p % 64 == 0)
				yield();
		}
}

static void
verify(int who, const char *when)
{
	for (int r = 0; r < 3; r++)
		for (uint64_t p = 0; p < pages_in(r); p++) {
			if (unmapped(r, p))
				continue;
			int w = p % 2 ? who : 0;
			const uint8_t *pg = page_at(r, p);
			for (uint64_t i = 0; i < PGSIZE; i++)
				CHECK(pg[i] == pattern(w, r, p, i), "%s: region %d page %lu byte %lu is 0x%x, expected 0x%x",
				      when, r, (unsigned long)p, (unsigned long)i, pg[i], pattern(w, r, p, i));
			if (p % 64 == 0)
				yield();
		}
}

static uint8_t *
map(uint64_t len, uint64_t align)
{
	uint8_t *p = mmap(NULL, len + align, PROT_READ | PROT_WRITE, MAP_ANON | MAP_PRIVATE);
	CHECK(!MMAP_FAILED(p), "mmap of %lu bytes: %e", (unsigned long)(len + align), (int)(intptr_t)p);
	return (uint8_t *)ROUNDUP((uintptr_t)p, align ? align : PGSIZE);
}

int
main(int argc, char **argv)
{
	int drop = argc > 1 && strcmp(argv[1], "drop") == 0, status;
	struct kcounters before = stats_now();
	sparse = map(SPARSE_SPAN, 0);
	dense = map(DENSE_PAGES * PGSIZE, 0);
	super = map(SUPER_BYTES, 2UL << 20);
	write_pages(0, 0);
	/* page 5 of each 2 MiB of the superpage region goes: a 2 MiB page is demoted first */
	for (uint64_t b = 0; b < SUPER_BYTES; b += 2UL << 20)
		EXPECT(munmap(super + b + 5 * PGSIZE, PGSIZE), 0);
	EXPECT(kcheck(KCHECK_RUN, 0), 0);
	verify(0, "before fork");
	int child = fork();
	CHECK(child >= 0, "fork: %e", child);
	int who = child == 0 ? 2 : 1;
	write_pages(who, 1);
	EXPECT(munmap(dense + DENSE_PAGES * 3 / 4 * PGSIZE, DENSE_PAGES / 4 * PGSIZE), 0);
	EXPECT(mprotect(dense, DENSE_PAGES / 4 * PGSIZE, PROT_READ), 0);
	EXPECT(kcheck(KCHECK_RUN, 0), 0);	/* x86 tables and design agree (kern/mm/invariant.c) */
	yield();
	verify(who, who == 2 ? "child" : "parent");
	if (child == 0)
		exit(0);
	EXPECT(wait(child, &status), child);
	CHECK(status == 0, "the child exited with status %d", status);
	verify(1, "parent after the child");
	struct kcounters after = stats_now();
	CHECK(after.pt_design == PT_DESIGN_RADIX || after.pt_design_pages > 0, "the design maps no page");
	if (drop) {
		CHECK(after.pt_cache_drops > before.pt_cache_drops, "no cache was dropped");
		CHECK(after.pt_cache_refills > before.pt_cache_refills, "nothing was refilled");
	}
	printf("pt_cache: design %lu, %lu pages in %lu bytes; drops %lu, refills %lu\n", (unsigned long)after.pt_design,
	       (unsigned long)after.pt_design_pages, (unsigned long)after.pt_design_bytes,
	       (unsigned long)(after.pt_cache_drops - before.pt_cache_drops),
	       (unsigned long)(after.pt_cache_refills - before.pt_cache_refills));
	printf("pt_cache: OK\n");
	return 0;
}
