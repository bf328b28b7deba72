/*
 * user/fuzz.c: a seeded system-call fuzzer.
 *
 *     run=fuzz,SEED,CALLS,SLICE[,OPTS]      OPTS letters: t measure with the model TLB,
 *                                            v print every call before making it,
 *                                            k also kill pids whose low 32 bits may alias,
 *                                            H keep the heap small and destructive calls
 *                                              off it (works around issue 15 bug 1)
 *
 * Makes CALLS random system calls -- every number in inc/syscall.h and numbers past
 * them -- with random and edge-case arguments: 0, -1, huge and wrapping lengths,
 * unaligned, non-canonical and kernel addresses, bad protections, flags and advice,
 * pointers into, across and past its own mappings.  It touches what it mapped (reads,
 * writes, and calls a `ret` it wrote into executable pages), forks children that fuzz
 * on their own seeds and are waited for, and after every SLICE calls reaps them and
 * runs the kernel's invariant checker (kcheck), which must find nothing.
 *
 * The fuzzer must survive its own calls: a destructive range (munmap, mprotect,
 * madvise; a buffer the kernel writes) never touches its text, data, bss or stack.
 * One child in four is a "kamikaze" without that rule, whose death is expected.  A
 * kamikaze can also wreck its memory without dying (MADV_DONTNEED zeroes its bss, a
 * kernel-written buffer lands on its data), so whether it is one, and that it never
 * forks, is kept on a page of its own that even a kamikaze leaves alone, and a
 * kamikaze never reports a failure: its checks read memory it may have wrecked.  A
 * killed ordinary child, a violation, a failed kcheck, a kernel panic or a hang fail
 * the run.  It ends with (the grader reads the last line):
 *     fuzz: seed S: cow=P: ... (what the calls reached of the copy-on-write paths)
 *     fuzz: seed S: N calls, M children, V violations, OK
 * The same seed repeats the same calls (timer interrupts can still change the order
 * in which children run).
 */
#include "inc/xorshift.h"
#include "user/utest.h"

#define MAXMAPS		16
#define MAXKIDS		4
#define CHILD_CALLS	200		/* calls a child makes */
#define ARENA_HINT	0x100000000000UL	/* where most MAP_FIXED attempts go */

static uint64_t rng;
static uint64_t seed, ncalls, slice;
static bool verbose, measure, wild_kill, spare_heap;
/* Who this process is, alone on its page (see the top of the file). */
static union {
	struct {
		bool kamikaze;		/* a child allowed to destroy itself */
		int depth;		/* 0: the main process */
	};
	uint8_t page[PGSIZE];
} self __attribute__((aligned(PGSIZE)));

static struct {
	uint64_t addr, len;
} maps[MAXMAPS];
static int nmaps;

static struct {
	int pid;
	bool kamikaze, killed_by_us;
} kids[MAXKIDS + 8];
static int nkids;

/* fail(), except in a kamikaze, which exits quietly: its memory may be wrecked. */
#define fuzz_fail(...)                                          \
	do {                                                    \
		if (self.kamikaze)                              \
			exit(KAMIKAZE_GAVE_UP);                 \
		fail(__VA_ARGS__);                              \
	} while (0)
#undef CHECK
#define CHECK(cond, fmt, ...)                                   \
	do {                                                    \
		if (!(cond))                                    \
			fuzz_fail("FAIL " fmt, ##__VA_ARGS__);  \
	} while (0)
#define KAMIKAZE_GAVE_UP	99

static uint64_t image_end;		/* text, data and bss lie in [UTEXT, image_end) */
static uint64_t calls_made, children, violations, low_memory;
static char text_buf[64] = "fuzz: console text\n";

static uint64_t
rnd(uint64_t n)
{
	return xorshift64_below(&rng, n);
}

static bool
chance(uint64_t one_in)
{
	return rnd(one_in) == 0;
}

/* ---- arguments ---- */

/* A length: edge cases, pages, or anything. */
static uint64_t
rand_len(void)
{
	static const uint64_t edge[] = { 0, 1, PGSIZE - 1, PGSIZE, PGSIZE + 1, PG2M, PG2M + PGSIZE, PG1G,
		1UL << 46, 1UL << 47, UTOP, (uint64_t)-1, (uint64_t)-PGSIZE, 1UL << 63 };
	switch (rnd(4)) {
	case 0:
		return edge[rnd(ARRAY_SIZE(edge))];
	case 1:
		return (rnd(16) + 1) * PGSIZE;
	case 2:
		return rnd(4 * PG2M);
	default:
		return (rnd(512) + 1) * PGSIZE;
	}
}

/* An address: in or near our mappings, at the edges of user space, or nowhere. */
static uint64_t
rand_addr(void)
{
	uint64_t off = rnd(64) * PGSIZE;
	switch (rnd(12)) {
	case 0:
		return 0;
	case 1:
	case 2:
	case 3:
		if (nmaps) {
			int i = (int)rnd((uint64_t)nmaps);
			return maps[i].addr + (chance(2) ? rnd(maps[i].len + PGSIZE) & ~(PGSIZE - 1) : rnd(maps[i].len));
		}
		return ARENA_HINT + off;
	case 4:
		return chance(2) ? KDIRECT + rnd(PG1G) : KERNBASE + rnd(PG2M);
	case 5:
		return 0x0000800000000000UL + off - (chance(2) ? PGSIZE : 0);	/* around the hole */
	case 6:
		return UTOP - off + (chance(2) ? 0 : PGSIZE);
	case 7:
		return rnd(UTEXT);
	case 8:
		return chance(2) ? (uint64_t)-1 : (uint64_t)-PGSIZE;
	case 9:
		return ARENA_HINT + off + (chance(4) ? rnd(PGSIZE) : 0);
	case 10:
		return UTEXT + rnd(image_end - UTEXT);			/* our own image */
	default:
		return (rnd(1UL << 47)) & ~(PGSIZE - 1);
	}
}

/* Whether [addr, addr+len) rounded to pages meets our image or stack. */
static bool
hits_self(uint64_t addr, uint64_t len)
{
	uint64_t lo = ROUNDDOWN(addr, PGSIZE), hi = addr + ROUNDUP(len, PGSIZE);
	if (len == 0)
		hi = lo + PGSIZE;
	if (hi < lo || ROUNDUP(len, PGSIZE) < len)
		return false;			/* wraps: the kernel must refuse it */
	if (spare_heap && lo < ROUNDUP((uint64_t)sbrk(0), PGSIZE) && hi > image_end)
		return true;
	return (lo < image_end && hi > UTEXT) || hi > USTACKTOP - 1024 * 1024;
}

/* Whether [addr, addr+len) meets the page that says who we are. */
static bool
hits_identity(uint64_t addr, uint64_t len)
{
	uint64_t lo = ROUNDDOWN(addr, PGSIZE), hi = addr + MAX(ROUNDUP(len, PGSIZE), PGSIZE);
	return hi >= lo && lo < (uint64_t)&self + PGSIZE && hi > (uint64_t)&self;
}

/* Whether this process may destroy or write [addr, addr+len). */
static bool
may_hit(uint64_t addr, uint64_t len)
{
	return self.kamikaze ? !hits_identity(addr, len) : !hits_self(addr, len);
}

/* An address for a range the call may destroy (or a buffer the kernel writes). */
static uint64_t
rand_target(uint64_t len)
{
	for (;;) {
		uint64_t a = rand_addr();
		if (may_hit(a, len))
			return a;
	}
}

static uint32_t
rand_prot(void)
{
	static const uint64_t prots[] = { PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE, PROT_READ | PROT_EXEC,
		PROT_EXEC, PROT_WRITE, PROT_READ | PROT_WRITE | PROT_EXEC, 0x8, 0xFFFFFFFF };
	return (uint32_t)prots[rnd(ARRAY_SIZE(prots))];
}

/* ---- touching memory ---- */

/* Read, write or run the page at va as its region allows. */
static void
touch(uint64_t va)
{
	struct vm_query q;
	if (vmquery((void *)va, &q) < 0 || !q.mapped || q.prot == PROT_NONE)
		return;
	if (!q.present && low_memory)
		return;				/* stay clear of out-of-memory kills */
	volatile uint8_t *p = opaque_ptr(va);
	volatile uint8_t *page = opaque_ptr(ROUNDDOWN(va, PGSIZE));
	if (q.prot & (PROT_READ | PROT_EXEC))
		(void)*p;
	if ((q.prot & PROT_WRITE) && may_hit(va, 1)) {
		*page = 0xC3;			/* ret: in case the page becomes executable */
		if ((va & (PGSIZE - 1)) >= 8)
			*p = (uint8_t)rnd(256);
	}
	if ((q.prot & PROT_EXEC) && *page == 0xC3)
		((void (*)(void))(uintptr_t)page)();
}

static void
touch_some(void)
{
	for (int n = (int)rnd(8); n >= 0; n--) {
		if (nmaps && !chance(4)) {
			int i = (int)rnd((uint64_t)nmaps);
			touch(maps[i].addr + rnd(MIN(maps[i].len, 64 * PG2M)));
		} else {
			touch(rand_addr());
		}
	}
}

static void
remember_map(uint64_t addr, uint64_t len)
{
	if (nmaps == MAXMAPS) {
		int i = (int)rnd(MAXMAPS);
		munmap((void *)maps[i].addr, maps[i].len);
		maps[i] = maps[--nmaps];
	}
	maps[nmaps].addr = addr;
	maps[nmaps].len = len;
	nmaps++;
}

/* ---- children ---- */

static void
forget_kid(int pid, int status)
{
	for (int i = 0; i < nkids; i++) {
		if (kids[i].pid != pid)
			continue;
		if ((status & WSTATUS_KILLED) && !kids[i].kamikaze && !kids[i].killed_by_us)
			fuzz_fail("FAIL seed %lu: child %d (an ordinary one) was killed", seed, pid);
		kids[i] = kids[--nkids];
		return;
	}
}

static void run_calls(uint64_t n);

static void
fork_child(void)
{
	if (self.depth > 0 || nkids >= MAXKIDS)
		return;
	bool kz = chance(4);
	uint64_t child_seed = xorshift64star(&rng);
	int pid = fork();
	if (pid == 0) {
		self.depth = 1;
		self.kamikaze = kz;
		nkids = 0;
		rng = xorshift64_seed(child_seed);
		run_calls(CHILD_CALLS);
		exit(0);
	}
	if (pid > 0) {
		kids[nkids].pid = pid;
		kids[nkids].kamikaze = kz;
		kids[nkids].killed_by_us = false;
		nkids++;
		children++;
	}
}

static void
reap_all(void)
{
	int status, pid;
	while ((pid = wait(-1, &status)) > 0)
		forget_kid(pid, status);
	CHECK(pid == -E_CHILD, "wait returned %d", pid);
	nkids = 0;
}

/* ---- one call ---- */

static uint64_t
rand_pid(void)
{
	static const uint64_t odd[] = { 0, (uint64_t)-1, (uint64_t)-2, 0x7FFFFFFF, 0x80000000UL,
		(1UL << 40) | 0x7FFFFFFF };
	if (nkids && chance(2))
		return (uint64_t)kids[rnd((uint64_t)nkids)].pid;
	if (wild_kill && chance(4))
		return (1UL << 32) + rnd(64);
	return odd[rnd(ARRAY_SIZE(odd))];
}

static void
do_spawn(void)
{
	static const char *names[] = { "hello", "nosuchprogram", "", "hello-not", "nosuchprogram" };
	static char long_arg[200];
	static const char *argv[20];
	memset(long_arg, 'a', sizeof long_arg - 1);
	int argc = (int)rnd(20);
	for (int i = 0; i < argc; i++) {
		uint64_t a = rand_addr();
		if (a >= UTEXT && a < image_end)
			a = 0;		/* hello would print our own strings, "FAIL" among them */
		argv[i] = chance(8) ? long_arg : chance(8) ? (const char *)a : "arg";
	}
	argv[argc] = NULL;
	uint64_t name = chance(6) ? rand_addr() : (uint64_t)names[rnd(ARRAY_SIZE(names))];
	uint64_t av = chance(3) ? 0 : chance(6) ? rand_addr() : (uint64_t)argv;
	int64_t pid = syscall6(SYS_spawn, name, av, 0, 0, 0, 0);
	if (pid > 0 && nkids < (int)ARRAY_SIZE(kids)) {
		kids[nkids].pid = (int)pid;
		kids[nkids].kamikaze = kids[nkids].killed_by_us = false;
		nkids++;
		children++;
	} else if (pid > 0) {
		int status;
		wait((int)pid, &status);
	}
}

static void
one_call(void)
{
	uint64_t num = rnd(NSYSCALLS + 3), a1 = 0, a2 = 0, a3 = 0, a4 = 0;
	int64_t r = 0;
	switch (num) {
	case SYS_exit:
		if (self.depth > 0 && chance(CHILD_CALLS / 4))
			exit((int)rnd(256) & 0x7F);
		break;
	case SYS_getpid:
	case SYS_yield:
	case SYS_cgetc:
		r = syscall6(num, rand_len(), rand_len(), 0, 0, 0, 0);
		break;
	case SYS_fork:
		fork_child();
		break;
	case SYS_spawn:
		if (self.depth == 0 || chance(8))
			do_spawn();
		break;
	case SYS_wait: {
		uint64_t pid = nkids && chance(2) ? (uint64_t)kids[rnd((uint64_t)nkids)].pid : rand_pid();
		uint64_t st = chance(2) ? 0 : rand_target(sizeof(int));
		int status = 0;
		r = syscall6(SYS_wait, pid, chance(2) ? (uint64_t)&status : st, 0, 0, 0, 0);
		if (r > 0)
			forget_kid((int)r, status);	/* a status written elsewhere: 0, counted as exit */
		break;
	}
	case SYS_kill: {
		uint64_t pid = rand_pid();
		if ((int)pid == getpid())
			break;
		r = syscall6(SYS_kill, pid, 0, 0, 0, 0, 0);
		for (int i = 0; r == 0 && i < nkids; i++)
			if (kids[i].pid == (int)pid)
				kids[i].killed_by_us = true;
		break;
	}
	case SYS_cputs:
		a2 = chance(2) ? rnd(sizeof text_buf) : rand_len();
		a1 = a2 <= sizeof text_buf && chance(2) ? (uint64_t)text_buf : rand_addr();
		if (a1 != (uint64_t)text_buf && a2 > 64 && a2 <= 64 * 1024)
			a2 = 64;		/* readable garbage stays short */
		if (a1 >= UTEXT && a1 < image_end)
			a1 = (uint64_t)text_buf;	/* our own strings would print "FAIL" */
		r = syscall6(SYS_cputs, a1, a2, 0, 0, 0, 0);
		break;
	case SYS_mmap:
		a2 = rand_len();
		a1 = chance(3) ? 0 : rand_addr();
		a3 = chance(8) ? rand_len() : rand_prot();
		a4 = chance(8) ? rnd(1UL << 32) : (MAP_PRIVATE | MAP_ANON | (chance(2) ? MAP_FIXED : 0));
		if (chance(4))
			a4 &= ~(uint64_t)MAP_ANON;	/* a device, if fd is open */
		r = syscall6(SYS_mmap, a1, a2, a3, a4, chance(2) ? rnd(OPEN_MAX + 1) : rand_len(),
			     chance(2) ? 0 : rand_len());
		if (r > 0)
			remember_map((uint64_t)r, ROUNDUP(a2, PGSIZE));
		break;
	case SYS_munmap:
	case SYS_mprotect:
	case SYS_madvise:
		a2 = rand_len();
		a1 = rand_target(a2);
		a3 = num == SYS_mprotect ? rand_prot() : chance(2) ? MADV_DONTNEED : rnd(8);
		r = syscall6(num, a1, a2, a3, 0, 0, 0);
		break;
	case SYS_sbrk:
		a1 = chance(2) || spare_heap ? (rnd(64) - 32) * PGSIZE + rnd(2) : rand_len();
		r = syscall6(SYS_sbrk, a1, 0, 0, 0, 0, 0);
		break;
	case SYS_vmquery:
		a1 = rand_addr();
		a2 = rand_target(sizeof(struct vm_query));
		r = syscall6(SYS_vmquery, a1, a2, 0, 0, 0, 0);
		break;
	case SYS_counters:
		a2 = chance(2) ? rnd(sizeof(struct kcounters) + 16) : rand_len();
		a1 = rand_target(MIN(a2, sizeof(struct kcounters)));	/* what the kernel writes */
		r = syscall6(SYS_counters, a1, a2, 0, 0, 0, 0);
		break;
	case SYS_tlbctl:
		a1 = chance(8) ? rnd(8) : !measure ? 1 + rnd(3) : chance(8) ? TLBCTL_START : TLBCTL_READ;
		a2 = chance(2) ? 0 : rand_addr();
		a3 = a1 == TLBCTL_READ ? rnd(128) : chance(2) ? 0 : rand_addr();
		if (a1 == TLBCTL_READ)
			a2 = rand_target(MIN(a3, sizeof(struct tlb_stats)));
		r = syscall6(SYS_tlbctl, a1, a2, a3, 0, 0, 0);
		break;
	case SYS_kcheck:
		if (chance(50))		/* a whole check is slow; the self-test is the grader's */
			r = syscall6(SYS_kcheck, chance(4) ? KCHECK_RUN : 2 + rnd(1UL << 32), rand_addr(), 0, 0, 0, 0);
		break;
	case SYS_failnth:		/* disarming and bad kinds only: arming belongs to fuzzfail */
		r = syscall6(SYS_failnth, chance(2) ? rnd(4) : rand_len(), 0, rand_len(), 0, 0, 0);
		break;
	case SYS_open: {
		static const char *const paths[] = { "/dev/hugemap", "/dev/zero", "/dev/none", "" };
		a1 = chance(4) ? rand_addr() : (uint64_t)paths[rnd(ARRAY_SIZE(paths))];
		a2 = chance(4) ? rand_len() : rnd(4);
		r = syscall6(SYS_open, a1, a2, 0, 0, 0, 0);
		break;
	}
	case SYS_close:
		a1 = chance(2) ? rnd(OPEN_MAX + 2) : rand_len();
		r = syscall6(SYS_close, a1, 0, 0, 0, 0, 0);
		break;
	case SYS_sleep:			/* a tick or two (the CPU may idle), or too many */
		r = syscall6(SYS_sleep, chance(4) ? SLEEP_MAX_TICKS + 1 + rnd(1UL << 32) : rnd(3), 0, 0, 0, 0, 0);
		break;
	default:			/* past the last number */
		r = syscall6(chance(2) ? num : (chance(2) ? (uint64_t)-1 : (1UL << 32) | SYS_getpid), rand_len(),
			     rand_addr(), 0, 0, 0, 0);
		CHECK(r == -E_NO_SYS, "seed %lu: syscall %lu returned %ld", seed, num, (long)r);
		break;
	}
	CHECK(r >= -MAXERROR || num == SYS_mmap, "seed %lu: call %lu returned %ld", seed, num, (long)r);
	if (verbose)
		printf("fuzz: pid %d call %lu: %lu(0x%lx, 0x%lx, 0x%lx, 0x%lx) = 0x%lx\n", getpid(), calls_made, num,
		       a1, a2, a3, a4, (uint64_t)r);
	calls_made++;
}

static void
run_calls(uint64_t n)
{
	struct kcounters c;
	for (uint64_t i = 0; i < n; i++) {
		if (i % 32 == 0 && counters(&c, sizeof c) == (int)sizeof c)
			low_memory = c.free_pages < c.total_pages / 4;
		if (low_memory && nmaps && chance(2)) {
			nmaps--;
			munmap((void *)maps[nmaps].addr, maps[nmaps].len);
		}
		one_call();
		touch_some();
	}
}

int
main(int argc, char **argv)
{
	CHECK(argc >= 4, "usage: fuzz,SEED,CALLS,SLICE[,OPTS]");
	seed = strtoul(argv[1], NULL, 0);
	ncalls = strtoul(argv[2], NULL, 0);
	slice = MAX(strtoul(argv[3], NULL, 0), 1);
	const char *opts = argc > 4 ? argv[4] : "";
	verbose = strchr(opts, 'v') != NULL;
	measure = strchr(opts, 't') != NULL;
	wild_kill = strchr(opts, 'k') != NULL;
	spare_heap = strchr(opts, 'H') != NULL;
	rng = xorshift64_seed(seed);
	image_end = ROUNDUP((uint64_t)sbrk(0), PGSIZE);
	if (measure)
		CHECK(tlbctl(TLBCTL_START, 0, 0) == 0, "tlbctl start failed");

	for (uint64_t done = 0; done < ncalls;) {
		uint64_t n = MIN(slice, ncalls - done);
		run_calls(n);
		done += n;
		reap_all();
		int v = kcheck(KCHECK_RUN, 0);
		CHECK(v >= 0, "seed %lu: kcheck returned %d", seed, v);
		violations += (uint64_t)v;
		if (v > 0)
			fuzz_fail("FAIL seed %lu: %d invariant violations after %lu calls", seed, v, calls_made);
	}
	struct kcounters c;
	if (counters(&c, sizeof c) == sizeof c)	/* what the calls reached of the copy-on-write paths */
		printf("\nfuzz: seed %lu: cow=%lu: 2 MiB writes reused %lu, copied %lu, split %lu, overlaid %lu; overlaid "
		       "pages %lu (folded %lu, converged %lu, dissolved %lu, shared %lu)\n", seed, c.cow_policy,
		       c.cow_reuse_2m, c.cow_copy_2m, c.cow_split_2m, c.cow_overlay, c.ovl_created, c.ovl_folded,
		       c.ovl_converged, c.ovl_dissolved, c.ovl_shared);
	printf("\nfuzz: seed %lu: %lu calls, %lu children, %lu violations, OK\n", seed, calls_made, children,
	       violations);
	return 0;
}
