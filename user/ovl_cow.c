/*
 * ovl_cow: copy-on-write after fork on superpages, under every cow= policy (overlay,
 * copy2m, split) -- the Linux selftests' cow.c matrix redone for spos -- and the life
 * of overlaid pages: fold-back, convergence, cuts, fork chains, memory running out.
 *
 *   ovl_cow matrix KIND WHO   KIND: 4k | 2m | 2m-demoted | 2m-pte | 2m-partial
 *                             WHO:  child | parent | both | mprotect
 *                             (all: every KIND, or every WHO, one after the other)
 *   ovl_cow chain             fork chain of depth 3, random writes, checksums everywhere
 *   ovl_cow cut MODE          MODE: munmap-seg | munmap-all | mprotect-seg | mprotect-all |
 *                             dontneed-seg | dontneed-all: cut an overlaid page
 *   ovl_cow converge          more overlays than ovl.max (boot with ovl.max=4)
 *   ovl_cow orphan            the parent exits first: the child's overlays fold back
 *   ovl_cow refork            fork of a process with overlaid pages shares them whole
 *   ovl_cow all               chain, every cut, refork, one after the other
 *   ovl_cow daemon            overlay pages under a page daemon compacting memory (boot
 *                             with vm.daemon.period=2 vm.daemon.target=1000): they stay put
 *   ovl_cow oom K             frame allocation K after the fork fails in the writer
 *   ovl_cow model PATTERN PAGES ACCESSES SEED MOD [WMOD]
 *                             the model TLB over overlaid pages: segment i of PAGES (2 MiB
 *                             pages) overlaid when (i - 3) % MOD == 0, then ACCESSES accesses of
 *                             PATTERN (inc/tlbtrace.h) measured, access j a store when
 *                             WMOD and j % WMOD == 0 (overlaying its segment while
 *                             measured), else a load; the grader compares the counts with
 *                             tests/tlbsim ovl
 *
 * Every process checks every byte of its view after the writes (its own writes over
 * the original data, never another's), and the invariant checker (kcheck) runs at the
 * end; the run= harness checks that no page leaked.  Boot with vm.policy=eager (every
 * 2 MiB region gets a 2 MiB page at first touch).  Prints "ovl_cow: OK".
 */
#include "inc/tlbtrace.h"
#include "user/utest.h"

#define SEG	4096UL
#define BLK	(512 * SEG)

static uint8_t *base;			/* the 2 MiB-aligned region */
static uint64_t len;			/* its length */
static uint64_t lo, hi;			/* the part still mapped (2m-pte, 2m-partial) */

static uint8_t
original(uint64_t off)
{
	return (uint8_t)(off * 7 + (off >> 12) * 13 + 1);
}

/* Process `who` (1 parent, 2 child, 3.. deeper) writes segment seg: 64 bytes at +100. */
static uint8_t
written(int who, uint64_t seg, int i)
{
	return (uint8_t)(0x80 + who * 17 + seg * 3 + i);
}

/* The segments a writer writes, within [lo, hi). */
static const uint64_t segs[] = { 0, 3, 200, 511, 7, 256 };
#define NSEGS	(sizeof segs / sizeof segs[0])

static bool
mine(uint64_t seg)
{
	return seg * SEG >= lo && seg * SEG < hi;
}

static void
write_segments(int who, int n)
{
	for (int k = 0; k < n; k++)
		if (mine(segs[k]))
			for (int i = 0; i < 64; i++)
				base[segs[k] * SEG + 100 + i] = written(who, segs[k], i);
}

/* Every byte of [lo, hi) is the original or, in the first n segments, who's writes. */
static void
verify(int who, int n, const char *when)
{
	for (uint64_t off = lo; off < hi; off++) {
		uint8_t want = original(off);
		uint64_t seg = off / SEG, in = off % SEG;
		for (int k = 0; k < n && who; k++)
			if (segs[k] == seg && in >= 100 && in < 164)
				want = written(who, seg, (int)(in - 100));
		CHECK(base[off] == want, "%s: byte +0x%lx is 0x%x, expected 0x%x", when, off, base[off], want);
	}
}

static void
setup(uint64_t length)
{
	len = length;
	base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON);
	CHECK((int64_t)base > 0, "mmap: %e", (int)(int64_t)base);
	lo = 0;
	hi = len;
	for (uint64_t off = 0; off < len; off++)
		base[off] = original(off);
	if (len == BLK)
		CHECK(query_va(base).page_size == BLK, "no 2 MiB page at %p (boot with vm.policy=eager)", base);
}

static int
wait_ok(int pid)
{
	int status = -1;
	CHECK(wait(pid, &status) == pid, "wait");
	return status;
}

/*
 * A child holding the snapshot (the shared frames) until its parent kills it; if the
 * parent is gone first (a failed check), it leaves too, so a failure does not hang.
 */
static void __attribute__((noreturn))
hold_snapshot(void)
{
	while (stats_now().procs_live > 1)
		yield();
	exit(0);
}

static void
end(void)
{
	EXPECT(munmap(base, len), 0);
	EXPECT(kcheck(KCHECK_RUN, 0), 0);
}

/* ---- the matrix ---- */

static void
matrix(const char *kind, const char *who)
{
	bool child_writes = strcmp(who, "parent") != 0, parent_writes = strcmp(who, "child") != 0;
	bool by_mprotect = strcmp(who, "mprotect") == 0;
	setup(strcmp(kind, "4k") == 0 ? SEG : BLK);
	if (strcmp(kind, "2m-demoted") == 0) {
		EXPECT(mprotect(base + 5 * SEG, SEG, PROT_READ), 0);
		EXPECT(mprotect(base + 5 * SEG, SEG, PROT_READ | PROT_WRITE), 0);
		CHECK(query_va(base).page_size == SEG, "2m-demoted: still a 2 MiB page");
	} else if (strcmp(kind, "2m-pte") == 0) {	/* one PTE left of a 2 MiB page */
		EXPECT(munmap(base, 7 * SEG), 0);
		EXPECT(munmap(base + 8 * SEG, BLK - 8 * SEG), 0);
		lo = 7 * SEG;
		hi = 8 * SEG;
	}
	if (by_mprotect)
		EXPECT(mprotect(base + lo, hi - lo, PROT_READ), 0);
	struct kcounters before = stats_now();
	int pid = fork();
	CHECK(pid >= 0, "fork: %e", pid);
	if (pid == 0) {
		if (strcmp(kind, "2m-partial") == 0) {	/* the child keeps half of the page */
			EXPECT(munmap(base + BLK / 2, BLK / 2), 0);
			hi = BLK / 2;
		}
		verify(0, 0, "child before writing");
		if (by_mprotect)
			EXPECT(mprotect(base + lo, hi - lo, PROT_READ | PROT_WRITE), 0);
		if (child_writes)
			write_segments(2, NSEGS);
		for (int i = 0; i < 3; i++)
			yield();
		verify(child_writes ? 2 : 0, NSEGS, "child after writing");
		EXPECT(kcheck(KCHECK_RUN, 0), 0);
		exit(0);
	}
	verify(0, 0, "parent before writing");
	if (by_mprotect)
		EXPECT(mprotect(base + lo, hi - lo, PROT_READ | PROT_WRITE), 0);
	if (parent_writes)
		write_segments(1, NSEGS);
	EXPECT(wait_ok(pid), 0);
	verify(parent_writes ? 1 : 0, NSEGS, "parent after the child exited");
	struct kcounters after = stats_now();
	/* what the policy did with the parent's superpage */
	if (strcmp(kind, "2m") == 0 && parent_writes && !by_mprotect) {
		struct vm_query q = query_va(base);
		if (after.cow_policy == COW_POLICY_OVERLAY) {
			CHECK(q.page_size == BLK && q.overlaid == 2 && q.overlays == NSEGS,
			      "overlay: page size %lu overlaid %u overlays %u", q.page_size, q.overlaid, q.overlays);
			CHECK(after.cow_overlay - before.cow_overlay >= NSEGS, "overlay: %lu overlay writes",
			      after.cow_overlay - before.cow_overlay);
			/* the child is gone: the next write folds the overlays back into the frame */
			*(volatile uint8_t *)&base[100 * SEG] = original(100 * SEG);
			q = query_va(base);
			CHECK(q.page_size == BLK && q.overlaid == 0 && q.writable, "fold: page size %lu overlaid %u",
			      q.page_size, q.overlaid);
			CHECK(stats_now().ovl_folded == after.ovl_folded + 1, "fold: not counted");
			verify(1, NSEGS, "parent after the fold");
		} else if (after.cow_policy == COW_POLICY_COPY2M) {
			CHECK(q.page_size == BLK && !q.overlaid && q.writable, "copy2m: page size %lu", q.page_size);
		} else {
			CHECK(q.page_size == SEG, "split: page size %lu", q.page_size);
		}
	}
	if (strcmp(kind, "2m") == 0 && !parent_writes && child_writes) {
		/* the child's copies are gone: the parent's write takes the 2 MiB page over in place */
		*(volatile uint8_t *)&base[9 * SEG] = original(9 * SEG);
		struct vm_query q = query_va(base);
		CHECK(q.page_size == BLK && q.writable && !q.cow, "reuse: page size %lu writable %u", q.page_size,
		      q.writable);
		CHECK(stats_now().cow_reuse_2m == after.cow_reuse_2m + 1, "reuse: not counted");
	}
	end();
}

/* ---- a fork chain of depth 3 ---- */

static uint32_t
checksum(void)
{
	uint32_t h = 2166136261u;
	for (uint64_t off = 0; off < len; off++)
		h = (h ^ base[off]) * 16777619u;
	return h;
}

/* Write 40 random bytes; return the checksum this process must see from now on. */
static uint32_t
scribble(uint64_t seed)
{
	for (int i = 0; i < 40; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		base[(seed >> 20) % len] = (uint8_t)(seed >> 56);
	}
	return checksum();
}

static void
chain_level(int depth)
{
	uint32_t mine_sum = scribble(0x1234 + depth);
	if (depth < 3) {
		int pid = fork();
		CHECK(pid >= 0, "fork at depth %d: %e", depth, pid);
		if (pid == 0) {
			CHECK(checksum() == mine_sum, "depth %d: the child does not see its parent's data", depth + 1);
			chain_level(depth + 1);
			exit(0);
		}
		uint32_t again = scribble(0x9876 + depth);
		EXPECT(wait_ok(pid), 0);
		CHECK(checksum() == again, "depth %d: the data changed under the parent", depth);
		mine_sum = again;
	}
	CHECK(checksum() == mine_sum, "depth %d: checksum", depth);
}

static void
chain(void)
{
	setup(2 * BLK);
	chain_level(0);
	end();
}

/* ---- cutting an overlaid page ---- */

static void
cut(const char *mode)
{
	setup(BLK);
	int pid = fork();
	CHECK(pid >= 0, "fork: %e", pid);
	if (pid == 0) {		/* holds the original until the parent is done */
		for (int i = 0; i < 20; i++)
			yield();
		verify(0, 0, "the child");
		exit(0);
	}
	write_segments(1, NSEGS);
	struct vm_query q = query_va(base);
	bool overlay = stats_now().cow_policy == COW_POLICY_OVERLAY;
	CHECK(!overlay || q.overlays == NSEGS, "not overlaid: %u", q.overlays);
	bool all = strcmp(mode + strlen(mode) - 4, "-all") == 0;
	uint8_t *at = all ? base : base + 3 * SEG;	/* segment 3 is overlaid */
	uint64_t n = all ? BLK : SEG;
	if (strncmp(mode, "munmap", 6) == 0) {
		EXPECT(munmap(at, n), 0);
		lo = all ? hi : lo;
		if (!all) {		/* what is left reads as before */
			for (uint64_t off = 0; off < BLK; off++) {
				if (off / SEG == 3)
					continue;
				uint8_t want = original(off);
				for (unsigned k = 0; k < NSEGS; k++)
					if (segs[k] == off / SEG && off % SEG >= 100 && off % SEG < 164)
						want = written(1, segs[k], (int)(off % SEG - 100));
				CHECK(base[off] == want, "after munmap: byte +0x%lx", off);
			}
		}
	} else if (strncmp(mode, "mprotect", 8) == 0) {
		EXPECT(mprotect(at, n, PROT_READ), 0);
		verify(1, NSEGS, "after mprotect");
		EXPECT(mprotect(at, n, PROT_READ | PROT_WRITE), 0);
		write_segments(1, NSEGS);
		verify(1, NSEGS, "after writing again");
	} else {
		CHECK(strncmp(mode, "dontneed", 8) == 0, "no mode %s", mode);
		EXPECT(madvise(at, n, MADV_DONTNEED), 0);
		for (uint64_t off = 0; off < n; off++)
			CHECK(at[off] == 0, "after DONTNEED: byte +0x%lx is 0x%x", off, at[off]);
	}
	EXPECT(kcheck(KCHECK_RUN, 0), 0);
	EXPECT(wait_ok(pid), 0);
	if (strncmp(mode, "munmap", 6) == 0) {
		if (!all) {
			EXPECT(munmap(base, 3 * SEG), 0);
			EXPECT(munmap(base + 4 * SEG, BLK - 4 * SEG), 0);
		}
		EXPECT(kcheck(KCHECK_RUN, 0), 0);
		return;
	}
	end();
}

/* ---- convergence: more overlays than ovl.max ---- */

static void
converge(void)
{
	setup(BLK);
	int pid = fork();
	CHECK(pid >= 0, "fork: %e", pid);
	if (pid == 0) {
		for (int i = 0; i < 20; i++)
			yield();
		verify(0, 0, "the child");
		exit(0);
	}
	struct kcounters before = stats_now();
	write_segments(1, NSEGS);		/* more than ovl.max=4 */
	struct kcounters after = stats_now();
	struct vm_query q = query_va(base);
	CHECK(after.ovl_converged == before.ovl_converged + 1, "not converged (%lu)",
	      after.ovl_converged - before.ovl_converged);
	CHECK(q.page_size == BLK && !q.overlaid && q.writable && !q.cow, "after convergence: size %lu overlaid %u",
	      q.page_size, q.overlaid);
	verify(1, NSEGS, "after convergence");
	EXPECT(wait_ok(pid), 0);
	end();
}

/* ---- the parent exits first: the child's overlays fold back into the frame ---- */

static void
orphan(void)
{
	setup(BLK);
	struct kcounters c0 = stats_now(), c;
	int pid = fork();
	CHECK(pid >= 0, "fork: %e", pid);
	if (pid > 0) {		/* the parent exits once the child has written all three segments */
		do {
			yield();
			c = stats_now();
		} while (c.cow_overlay < c0.cow_overlay + 3 &&
			 c.cow_split_2m + c.cow_copy_2m == c0.cow_split_2m + c0.cow_copy_2m);
		return;
	}
	write_segments(2, 3);
	struct vm_query q = query_va(base);
	bool overlay = stats_now().cow_policy == COW_POLICY_OVERLAY;
	CHECK(!overlay || (q.overlaid == 2 && q.overlays == 3), "child: overlaid %u, %u overlays", q.overlaid,
	      q.overlays);
	while (stats_now().procs_live > 1)	/* until the parent is gone */
		yield();
	struct kcounters before = stats_now();
	*(volatile uint8_t *)&base[300 * SEG] = original(300 * SEG);
	q = query_va(base);
	CHECK(!overlay || (q.page_size == BLK && !q.overlaid && q.writable), "child after the parent: size %lu overlaid %u",
	      q.page_size, q.overlaid);
	CHECK(!overlay || stats_now().ovl_folded == before.ovl_folded + 1, "child: no fold counted");
	verify(2, 3, "child after the fold");
	end();
	if (overlay)
		printf("ovl_cow: orphan: the child folded its overlays back\n");
	exit(0);
}

/* ---- fork of an overlaid page: shared whole, its overlay pages copy-on-write ---- */

/* Byte +100 of segment seg as process who left it (0: the original). */
static void
expect_byte(uint64_t seg, int who, const char *when)
{
	uint8_t want = who ? written(who, seg, 0) : original(seg * SEG + 100);
	CHECK(base[seg * SEG + 100] == want, "%s: segment %lu byte +100 is 0x%x, expected 0x%x", when, seg,
	      base[seg * SEG + 100], want);
}

static void
refork(void)
{
	setup(BLK);
	int snap = fork();		/* holds the original: the frame stays shared */
	CHECK(snap >= 0, "fork: %e", snap);
	if (snap == 0)
		hold_snapshot();
	write_segments(1, 3);		/* segments 0, 3, 200 overlaid */
	struct kcounters c0 = stats_now();
	int pid = fork();
	CHECK(pid >= 0, "fork: %e", pid);
	if (pid == 0) {
		struct vm_query q = query_va(base);
		bool overlay = c0.cow_policy == COW_POLICY_OVERLAY;
		CHECK(!overlay || (q.page_size == BLK && q.overlaid == 2 && q.overlays == 3 && stats_now().ovl_shared ==
				   c0.ovl_shared + 1), "child: size %lu overlaid %u overlays %u", q.page_size, q.overlaid,
		      q.overlays);
		verify(1, 3, "child before writing");
		for (int i = 0; i < 64; i++)	/* segment 3: its shared overlay page is copied */
			base[3 * SEG + 100 + i] = written(2, 3, i);
		for (int i = 0; i < 64; i++)	/* segment 7: a new overlay */
			base[7 * SEG + 100 + i] = written(2, 7, i);
		expect_byte(0, 1, "child");
		expect_byte(3, 2, "child");
		expect_byte(7, 2, "child");
		expect_byte(200, 1, "child");
		for (int i = 0; i < 5; i++)
			yield();
		expect_byte(0, 1, "child after the parent wrote");
		EXPECT(kcheck(KCHECK_RUN, 0), 0);
		exit(0);
	}
	base[100] = 0x11;		/* segment 0: shared overlay page, copied */
	expect_byte(3, 1, "parent");
	expect_byte(7, 0, "parent");
	EXPECT(wait_ok(pid), 0);
	struct kcounters c1 = stats_now();
	base[200 * SEG + 100] = written(1, 200, 0);	/* the child is gone: taken over, not copied */
	struct kcounters c2 = stats_now();
	CHECK(c1.cow_policy != COW_POLICY_OVERLAY || c2.cow_bytes_copied == c1.cow_bytes_copied,
	      "parent: %lu bytes copied to write an overlay page no one else maps",
	      c2.cow_bytes_copied - c1.cow_bytes_copied);
	CHECK(base[100] == 0x11, "parent: its own write to segment 0 is gone");
	expect_byte(3, 1, "parent after the child");
	EXPECT(kill(snap), 0);
	CHECK(wait_ok(snap) == WSTATUS_KILLED, "the snapshot child");
	end();
}

/* ---- overlay pages while the page daemon compacts memory ---- */

static void
daemon_passes(void)
{
	struct kcounters c = stats_now();
	while (stats_now().daemon_passes < c.daemon_passes + 50)
		yield();
}

#define NREGIONS	20

/*
 * NREGIONS 2 MiB pages shared with a snapshot child; one segment of each written while
 * every free piece smaller than 2 MiB is taken, so their overlay pages share a block of
 * their own -- the block a compacting daemon empties first.  The pieces are given back
 * for it to move the pages into.  The overlays must survive the moves byte for byte,
 * OMT and PTEs agreeing (kcheck), and fold back.
 */
static void
compacting(void)
{
	setup(NREGIONS * BLK);
	int snap = fork();
	CHECK(snap >= 0, "fork: %e", snap);
	if (snap == 0)
		hold_snapshot();
	/* use up the free pieces smaller than 2 MiB, so the overlay pages get a block of their own */
	struct kcounters c = stats_now();
	uint64_t small = 0;
	for (int k = 0; k < 9; k++)
		small += c.free_blocks[k] << k;
	uint64_t nfill = small / 256 + 1;
	static uint8_t *fill[64];
	CHECK(nfill <= 64, "%lu small free pages", small);
	for (uint64_t i = 0; i < nfill; i++) {
		fill[i] = mmap(NULL, BLK / 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON);
		CHECK((int64_t)fill[i] > 0, "mmap");
		for (uint64_t off = 0; off < BLK / 2; off += SEG)
			fill[i][off] = 1;
	}
	for (uint64_t r = 0; r < NREGIONS; r++)
		base[r * BLK + 100] = written(1, r, 0);
	for (uint64_t i = 0; i < nfill; i++)	/* room for the daemon to move them to */
		EXPECT(munmap(fill[i], BLK / 2), 0);
	struct kcounters c0 = stats_now();
	daemon_passes();
	struct kcounters c1 = stats_now();
	CHECK(c1.migrations > c0.migrations, "the daemon moved no page in %lu passes",
	      c1.daemon_passes - c0.daemon_passes);
	printf("ovl_cow: daemon: %lu passes, %lu pages migrated, %lu blocks compacted\n",
	       c1.daemon_passes - c0.daemon_passes, c1.migrations - c0.migrations, c1.compactions - c0.compactions);
	EXPECT(kcheck(KCHECK_RUN, 0), 0);
	for (uint64_t r = 0; r < NREGIONS; r++)
		CHECK(base[r * BLK + 100] == written(1, r, 0), "region %lu: its overlay lost its byte", r);
	EXPECT(kill(snap), 0);
	CHECK(wait_ok(snap) == WSTATUS_KILLED, "the snapshot child");
	for (uint64_t r = 0; r < NREGIONS; r++) {	/* folds: copies each overlay back */
		*(volatile uint8_t *)&base[r * BLK + 300 * SEG] = original(r * BLK + 300 * SEG);
		CHECK(base[r * BLK + 100] == written(1, r, 0), "region %lu: the fold lost the overlay's byte", r);
	}
	end();
}

/* ---- memory runs out during an overlay copy ---- */

static void
oom(uint64_t k)
{
	setup(BLK);
	int pid = fork();
	CHECK(pid >= 0, "fork: %e", pid);
	if (pid == 0) {
		failnth(FAIL_FRAME, k, 1000000);
		write_segments(2, NSEGS);	/* killed on the way, or all done */
		failnth(FAIL_FRAME, 0, 0);
		verify(2, NSEGS, "the child");
		exit(0);
	}
	int status = wait_ok(pid);
	failnth(FAIL_FRAME, 0, 0);
	CHECK(status == 0 || (status & WSTATUS_KILLED), "the writer exited with %d", status);
	printf("ovl_cow: oom %lu: the writer %s\n", k, status ? "was killed" : "completed");
	verify(0, 0, "the parent");
	end();
}

/* ---- the model TLB over overlaid pages ---- */

static void
model(const char *pattern, uint64_t pages, uint64_t accesses, uint64_t seed, uint64_t mod, uint64_t wmod)
{
	setup(ROUNDUP(pages * SEG, BLK));
	int pid = fork();
	CHECK(pid >= 0, "fork: %e", pid);
	if (pid == 0)
		hold_snapshot();
	for (uint64_t i = 3; i < pages; i += mod)	/* segments 3, 3 + mod, ...: overlaid */
		base[i * SEG] ^= 1;
	struct vm_query q = query_va(base);
	CHECK(q.page_size == BLK && q.overlays == (BLK / SEG - 3 + mod - 1) / mod, "not overlaid: size %lu, %u overlays",
	      q.page_size, q.overlays);
	struct tlbtrace t;
	tlbtrace_init(&t, (enum tlbtrace_pattern)tlbtrace_lookup(pattern), pages, 1, seed);
	uint64_t sum = 0;
	EXPECT(tlbctl(TLBCTL_START, (uint64_t)base, (uint64_t)base + len), 0);
	for (uint64_t i = 0; i < accesses; i++) {
		volatile uint8_t *at = base + tlbtrace_next(&t) * SEG;
		if (wmod && i % wmod == 0)
			*at = (uint8_t)i;
		else
			sum += *at;
	}
	EXPECT(kcheck(KCHECK_RUN, 0), 0);	/* the PTEs' trap bits follow the model */
	struct tlb_stats s;
	EXPECT(tlbctl(TLBCTL_READ, (uint64_t)&s, sizeof s), 0);
	EXPECT(tlbctl(TLBCTL_STOP, 0, 0), 0);
	printf("ovl_cow: model %s pages %lu accesses %lu seed %lu mod %lu wmod %lu base %p: misses 4k %lu 2m %lu "
	       "1g %lu evictions 4k %lu 2m %lu 1g %lu walkrefs %lu omt %lu (sum %lu)\n", pattern, pages, accesses, seed,
	       mod, wmod, base, s.misses[0], s.misses[1], s.misses[2], s.evictions[0], s.evictions[1], s.evictions[2], s.walk_refs,
	       s.omt_walks, sum);
	EXPECT(kill(pid), 0);
	int status = wait_ok(pid);
	CHECK(status == WSTATUS_KILLED, "the child: status %d", status);
	end();
}

static const char *const kinds[] = { "4k", "2m", "2m-demoted", "2m-pte", "2m-partial" };
static const char *const whos[] = { "child", "parent", "both", "mprotect" };

/* The matrix cells named (either may be "all"), each with the invariants checked after it. */
static void
matrix_cells(const char *kind, const char *who)
{
	for (unsigned k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
		for (unsigned w = 0; w < sizeof whos / sizeof whos[0]; w++)
			if ((strcmp(kind, "all") == 0 || strcmp(kind, kinds[k]) == 0) &&
			    (strcmp(who, "all") == 0 || strcmp(who, whos[w]) == 0)) {
				matrix(kinds[k], whos[w]);
				printf("ovl_cow: matrix %s %s OK\n", kinds[k], whos[w]);
			}
}

/* chain, every cut and refork in one run (one boot in the grader). */
static void
all(void)
{
	static const char *const modes[] = { "munmap-seg", "munmap-all", "mprotect-seg", "mprotect-all",
					     "dontneed-seg", "dontneed-all" };
	chain();
	printf("ovl_cow: chain OK\n");
	for (unsigned i = 0; i < sizeof modes / sizeof modes[0]; i++) {
		cut(modes[i]);
		printf("ovl_cow: cut %s OK\n", modes[i]);
	}
	refork();
	printf("ovl_cow: refork OK\n");
}

int
main(int argc, char **argv)
{
	CHECK(argc >= 2, "usage: ovl_cow matrix KIND WHO | chain | cut MODE | converge | oom K");
	if (strcmp(argv[1], "matrix") == 0 && argc == 4)
		matrix_cells(argv[2], argv[3]);
	else if (strcmp(argv[1], "chain") == 0)
		chain();
	else if (strcmp(argv[1], "cut") == 0 && argc == 3)
		cut(argv[2]);
	else if (strcmp(argv[1], "converge") == 0)
		converge();
	else if (strcmp(argv[1], "orphan") == 0)
		orphan();
	else if (strcmp(argv[1], "refork") == 0)
		refork();
	else if (strcmp(argv[1], "all") == 0)
		all();
	else if (strcmp(argv[1], "daemon") == 0)
		compacting();
	else if (strcmp(argv[1], "oom") == 0 && argc == 3)
		oom(strtoul(argv[2], NULL, 0));
	else if (strcmp(argv[1], "model") == 0 && (argc == 7 || argc == 8))
		model(argv[2], strtoul(argv[3], NULL, 0), strtoul(argv[4], NULL, 0), strtoul(argv[5], NULL, 0),
		      strtoul(argv[6], NULL, 0), argc == 8 ? strtoul(argv[7], NULL, 0) : 0);
	else
		fail("FAIL bad arguments");
	printf("ovl_cow: OK\n");
	return 0;
}
