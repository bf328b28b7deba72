/*
 * probe: the operations `make bench-peer` (tools/bench_peer.py) compares between spos
 * and Linux, in guest instructions.  The same source builds for spos's user library and,
 * with user/probe_linux.h, statically for Linux.  Both kernels boot under QEMU with
 * -icount shift=0,sleep=off, where rdtsc advances by one per guest instruction while the
 * CPU is busy, so an rdtsc delta around an operation is the instructions it took
 * (a timer interrupt that lands in the window counts too, the same way on both).
 *
 * Every figure is one line "probe.KEY=VALUE" on the console; a child's lines come
 * before its parent's next ones.  Which figures mean what depends on the boot: with
 * 4 KiB pages only (spos vm.policy=base, Linux transparent_hugepage=never) the 64 MiB
 * touch measures 4 KiB faults; with 2 MiB pages (vm.policy=eager, THP always) its slow
 * touches are 2 MiB faults.  The runner picks each row from the right boot.
 */
#ifdef PROBE_LINUX
#include "user/probe_linux.h"
#else
#include "inc/lib.h"

static inline void
probe_init(void)
{
}

/* Let the CPU idle for 20 timer ticks: spos's idle loop fills its pre-zeroed pools. */
static inline void
probe_idle(void)
{
	tick_sleep(20);
}

/* spos zeroes and copies pages with lib/string.c's memset and memcpy, built the same. */
static inline void
kernel_zero_page(void *dst)
{
	memset(dst, 0, PGSIZE);
}

static inline void
kernel_copy_page(void *dst, const void *src)
{
	memcpy(dst, src, PGSIZE);
}

/* The size of the page mapped at va, 0 if none. */
static uint64_t
page_size(const void *va)
{
	struct vm_query q;

	return vmquery(va, &q) == 0 && q.present ? q.page_size : 0;
}
#endif

#define HPAGE	(2UL << 20)
#define REGION	(64UL << 20)
#define NPAGES	(REGION / PGSIZE)
#define SLOW	200	/* a touch that took longer took a fault */
#define REPEAT	100	/* tries for the minimum of a short operation */
#define PZ_PAGES	64	/* fewer than spos's pool of pre-zeroed 4 KiB pages holds */

static inline uint64_t
rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}

static void
put(const char *key, uint64_t v)
{
	printf("probe.%s=%lu\n", key, (unsigned long)v);
}

static void
die(const char *what)
{
	printf("probe.error=%s\n", what);
	exit(1);
}

static uint32_t dt1[NPAGES], dt2[NPAGES];
static char calbuf[2 * PGSIZE] __attribute__((aligned(4096)));

/* Shell sort: the user library has no qsort, and this is short. */
static void
sort(uint32_t *a, unsigned long n)
{
	for (unsigned long gap = n / 2; gap > 0; gap /= 2)
		for (unsigned long i = gap; i < n; i++) {
			uint32_t v = a[i];
			unsigned long j = i;
			for (; j >= gap && a[j - gap] > v; j -= gap)
				a[j] = a[j - gap];
			a[j] = v;
		}
}

/*
 * len (at most 1 GiB) bytes of anonymous memory in a 1 GiB slot of its own that no
 * earlier phase used: what a phase left behind in the page tables (a kernel may keep
 * page-table pages after munmap) must not change what the next one measures.
 */
static char *
map_fresh(unsigned long len)
{
	static uintptr_t next = 1UL << 40;
	char *p = mmap((void *)next, len, PROT_READ | PROT_WRITE, MAP_ANON | MAP_PRIVATE | MAP_FIXED);

	if (MMAP_FAILED(p) || (uintptr_t)p != next)
		die("mmap");
	next += 1UL << 30;
	return p;
}

static void
populate(char *p, unsigned long len)
{
	for (unsigned long off = 0; off < len; off += PGSIZE)
		((volatile char *)p)[off + 7] = 1;
}

/* rdtsc back to back, rep-string instructions over 4 KiB, the page primitives, getpid. */
static void
calibrate(void)
{
	uint64_t best, t0, t1;
	char *a = calbuf, *b = calbuf + PGSIZE;

	memset(calbuf, 1, sizeof calbuf);
	best = ~0UL;
	for (int i = 0; i < REPEAT; i++) {
		t0 = rdtsc();
		t1 = rdtsc();
		best = t1 - t0 < best ? t1 - t0 : best;
	}
	put("cal.rdtsc", best);
	{
		void *d = a;
		unsigned long n = PGSIZE;
		t0 = rdtsc();
		__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(0) : "memory");
		t1 = rdtsc();
		put("cal.rep_stosb_4k", t1 - t0);
	}
	{
		void *d = a;
		unsigned long n = PGSIZE / 8;
		t0 = rdtsc();
		__asm__ volatile("rep stosq" : "+D"(d), "+c"(n) : "a"(0) : "memory");
		t1 = rdtsc();
		put("cal.rep_stosq_4k", t1 - t0);
	}
	{
		void *d = a;
		const void *s = b;
		unsigned long n = PGSIZE / 8;
		t0 = rdtsc();
		__asm__ volatile("rep movsq" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
		t1 = rdtsc();
		put("cal.rep_movsq_4k", t1 - t0);
	}
	{
		void *d = a;
		const void *s = b;
		unsigned long n = PGSIZE;
		t0 = rdtsc();
		__asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
		t1 = rdtsc();
		put("cal.rep_movsb_4k", t1 - t0);
	}
	t0 = rdtsc();
	kernel_zero_page(a);
	t1 = rdtsc();
	put("cal.kernel_zero_4k", t1 - t0);
	t0 = rdtsc();
	kernel_copy_page(a, b);
	t1 = rdtsc();
	put("cal.kernel_copy_4k", t1 - t0);
	best = ~0UL;
	for (int i = 0; i < REPEAT; i++) {
		t0 = rdtsc();
		getpid();
		t1 = rdtsc();
		best = t1 - t0 < best ? t1 - t0 : best;
	}
	put("getpid", best);
}

/* Write one byte per 4 KiB page; dt[i] = instructions around the i-th store. */
static __attribute__((noinline)) uint64_t
touch(volatile char *p, unsigned long n, uint32_t *dt)
{
	uint64_t start = rdtsc();
	for (unsigned long i = 0; i < n; i++) {
		uint64_t s = rdtsc();
		p[i * PGSIZE] = 1;
		dt[i] = (uint32_t)(rdtsc() - s);
	}
	return rdtsc() - start;
}

/* 64 MiB, 2 MiB aligned, touched in address order, then unmapped. */
static void
phase_touch(void)
{
	char *p = map_fresh(REGION);
	uint64_t pass1 = touch(p, NPAGES, dt1);
	uint64_t pass2 = touch(p, NPAGES, dt2);	/* pages present: the loop alone */
	uint64_t t0 = rdtsc();
	if (munmap(p, REGION) != 0)
		die("munmap 64 MiB");
	uint64_t t1 = rdtsc();
	unsigned long slow = 0;

	sort(dt1, NPAGES);
	for (unsigned long i = 0; i < NPAGES; i++)
		slow += dt1[i] > SLOW;
	put("touch.p50", dt1[NPAGES / 2]);
	put("touch.mean", (pass1 - pass2) / NPAGES);
	put("touch.faults", slow);
	if (slow) {
		put("touch.slow_p50", dt1[NPAGES - slow + slow / 2]);
		put("touch.slow_mean", (pass1 - pass2) / slow);
	}
	put("munmap_64m", t1 - t0);
}

/* A populated 2 MiB-aligned 2 MiB region: unmapped, and mprotect of 4 KiB inside it. */
static void
phase_region_ops(void)
{
	char *p = map_fresh(HPAGE);
	populate(p, HPAGE);
	put("munmap_2m.page_size", page_size(p));
	uint64_t t0 = rdtsc();
	int r = munmap(p, HPAGE);
	uint64_t t1 = rdtsc();
	if (r != 0)
		die("munmap 2 MiB");
	put("munmap_2m", t1 - t0);

	p = map_fresh(HPAGE);
	populate(p, HPAGE);
	put("mprotect.page_size", page_size(p));
	t0 = rdtsc();
	r = mprotect(p + 5 * PGSIZE, PGSIZE, PROT_READ);
	t1 = rdtsc();
	if (r != 0)
		die("mprotect");
	put("mprotect_4k_in_2m", t1 - t0);
	if (munmap(p, HPAGE) != 0)
		die("munmap");
}

/*
 * fork whose child exits at once: the parent's instructions from the call to its return.
 * Not inlined, so that make profile can name its two rdtsc instructions.
 */
static __attribute__((noinline)) uint64_t
fork_cost(void)
{
	int status;
	uint64_t t0 = rdtsc();
	int pid = fork();
	uint64_t t1 = rdtsc();

	if (pid < 0)
		die("fork");
	if (pid == 0)
		exit(0);
	if (wait(pid, &status) != pid)
		die("wait");
	return t1 - t0;
}

/*
 * The cheapest of three forks: a timer tick inside one lets the child run, and exit,
 * before the parent's second rdtsc (it did, in one spos build, adding the child's whole
 * life to a 315,000-instruction fork).
 */
static uint64_t
fork_best(void)
{
	uint64_t best = ~0UL;
	for (int i = 0; i < 3; i++) {
		uint64_t c = fork_cost();
		best = c < best ? c : best;
	}
	return best;
}

/* Write 16 KiB of stack below the caller's frame: the child's own copy-on-write. */
static __attribute__((noinline)) void
warm_stack(void)
{
	volatile char buf[16 << 10];
	for (unsigned long i = 0; i < sizeof buf; i += 256)
		buf[i] = 0;
}

/*
 * fork holding a populated 2 MiB region; the child writes one page (first
 * copy-on-write), another (second), and exits; then the parent writes the first page.
 */
static void
phase_fork(void)
{
	put("fork_small", fork_best());

	volatile char *p = map_fresh(HPAGE);
	populate((char *)p, HPAGE);
	put("fork.page_size", page_size((char *)p));
	put("fork_2m_region", fork_best());

	int status;
	int pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		warm_stack();
		uint64_t a0 = rdtsc();
		p[5 * PGSIZE + 7] = 2;
		uint64_t a1 = rdtsc();
		p[300 * PGSIZE + 9] = 2;
		uint64_t b1 = rdtsc();
		put("cow_write1", a1 - a0);
		put("cow_write2", b1 - a1);
		/* the copies keep the bytes populate wrote next to the new ones */
		exit(p[5 * PGSIZE + 7] == 2 && p[300 * PGSIZE + 7] == 1 && p[300 * PGSIZE + 9] == 2 &&
		     p[400 * PGSIZE + 7] == 1 ? 0 : 3);
	}
	if (wait(pid, &status) != pid)
		die("wait");
	uint64_t t0 = rdtsc();
	p[5 * PGSIZE + 9] = 4;
	uint64_t t1 = rdtsc();
	put("cow_child_status", (uint64_t)status);
	put("parent_write_after_child_exit", t1 - t0);
	if (p[5 * PGSIZE + 7] != 1 || p[300 * PGSIZE + 9] != 0)
		die("the child's write reached the parent");
	if (munmap((void *)p, HPAGE) != 0)
		die("munmap");
}

/*
 * Faults after the CPU idled: spos has pre-zeroed 4 KiB pages and 2 MiB blocks in its
 * pools then (kern/mm/prezero.c) and skips the zeroing; Linux zeroes at fault time.
 * 64 4 KiB faults, then the first touch of a 2 MiB region (a 2 MiB fault with 2 MiB
 * pages).  Last, so that no other figure sees the pools.
 */
static void
phase_prezeroed(void)
{
	char *p = map_fresh(PZ_PAGES * PGSIZE), *h = map_fresh(HPAGE);
	probe_idle();
	uint64_t pass1 = touch(p, PZ_PAGES, dt1);
	uint64_t pass2 = touch(p, PZ_PAGES, dt2);

	sort(dt1, PZ_PAGES);
	put("touch_prezeroed.p50", dt1[PZ_PAGES / 2]);
	put("touch_prezeroed.mean", (pass1 - pass2) / PZ_PAGES);
	touch(h, 1, dt1);
	put("touch_prezeroed.2m", dt1[0]);
	if (munmap(p, PZ_PAGES * PGSIZE) != 0 || munmap(h, HPAGE) != 0)
		die("munmap");
}

int
main(void)
{
	probe_init();
	memset(dt1, 0, sizeof dt1);	/* fault the probe's own arrays in first */
	memset(dt2, 0, sizeof dt2);
	calibrate();
	phase_touch();
	phase_region_ops();
	phase_fork();
	phase_prezeroed();
	printf("probe.done=1\n");
	return 0;
}
