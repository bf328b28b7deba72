/*
 * The system-call interface shared by the kernel (kern/syscall.c) and user space
 * (lib/syscall.c).  Calls use the `syscall` instruction: number in rax, arguments in
 * rdi, rsi, rdx, r10, r8, r9; result in rax, a negative -E_* code on error.
 */
#ifndef SPOS_INC_SYSCALL_H
#define SPOS_INC_SYSCALL_H

#include <stdint.h>

enum {
	SYS_exit = 0,		/* exit(status): never returns */
	SYS_getpid,		/* getpid() -> pid */
	SYS_yield,		/* yield() -> 0 */
	SYS_fork,		/* fork() -> child pid in the parent, 0 in the child */
	SYS_spawn,		/* spawn(name, argv) -> child pid; argv NULL-terminated, may be NULL */
	SYS_wait,		/* wait(pid or -1, int *status or NULL) -> pid reaped */
	SYS_kill,		/* kill(pid) -> 0: the target dies at its next return to user mode;
				 * only oneself or a descendant (else -E_PERM) */
	SYS_cputs,		/* cputs(buf, len) -> len: write to the console */
	SYS_cgetc,		/* cgetc() -> next console character, or -E_NOT_FOUND if none waiting */
	SYS_mmap,		/* mmap(addr, len, prot, flags[, fd, off]) -> address; fd and off
				 * are read only without MAP_ANON (a device mapping) */
	SYS_munmap,		/* munmap(addr, len) -> 0 */
	SYS_mprotect,		/* mprotect(addr, len, prot) -> 0 */
	SYS_madvise,		/* madvise(addr, len, advice) -> 0 */
	SYS_sbrk,		/* sbrk(increment) -> previous break */
	SYS_vmquery,		/* vmquery(va, struct vm_query *) -> 0 */
	SYS_counters,		/* counters(struct kcounters *, size) -> bytes written */
	SYS_tlbctl,		/* tlbctl(op, a1, a2) -> 0: the model TLB, see TLBCTL_* */
	SYS_kcheck,		/* kcheck(op, va) -> violations: the invariant checker, see KCHECK_* */
	SYS_failnth,		/* failnth(kind, k, n) -> failures injected: see FAIL_* */
	SYS_open,		/* open(path, O_*) -> fd: a device, /dev/zero or /dev/hugemap */
	SYS_close,		/* close(fd) -> 0 */
	SYS_sleep,		/* tick_sleep(n) -> 0: sleep n timer ticks, n <= SLEEP_MAX_TICKS */
	NSYSCALLS
};

/* mmap/mprotect protections and mmap flags. */
#define PROT_NONE	0x0
#define PROT_READ	0x1
#define PROT_WRITE	0x2
#define PROT_EXEC	0x4

#define MAP_SHARED	0x01	/* not supported: spos has no shared memory (-E_INVAL) */
#define MAP_PRIVATE	0x02	/* required with an fd */
#define MAP_FIXED	0x10	/* place exactly at addr; fails with -E_EXISTS over a mapping */
#define MAP_ANON	0x20	/* anonymous, demand-zero memory; without it, map fd */

/* open flags: the access mode, nothing else. */
#define O_RDONLY	0
#define O_WRONLY	1	/* a write-only descriptor cannot be mapped */
#define O_RDWR		2
#define O_ACCMODE	3
#define DEV_PATH_MAX	32	/* longest device path, with its NUL */
#define OPEN_MAX	16	/* descriptors per process: 0 .. OPEN_MAX-1 */

#define SLEEP_MAX_TICKS	10000	/* the most tick_sleep takes (-E_INVAL above) */

#define MADV_NORMAL	0
#define MADV_DONTNEED	4	/* drop the pages: the next touch sees zeros */

/*
 * tlbctl operations on the trap-driven model TLB (kern/mm/tlbtrap.c), for the calling
 * process.  START(lo, hi): measure accesses to [lo, hi) (0, 0: all of user space),
 * starting from an empty model and zero counts; -E_NO_MEM when, under tlb.mode=tag,
 * every tag (tlb.tags) is taken by another live measured process.  STOP: stop
 * measuring (no entry stays fake-invalid).  READ(struct tlb_stats *, size): copy the
 * counts of this process (the first size bytes of struct tlb_stats).
 */
#define TLBCTL_START	1
#define TLBCTL_STOP	2
#define TLBCTL_READ	3

/*
 * kcheck operations (kern/mm/invariant.c).  RUN: check every kernel invariant, print each
 * violation on the console, return their number.  SELFTEST(va): plant corruptions
 * one at a time around the caller's page at va (present, private, writable, not
 * executable, in a region followed by another, with a second populated page in its
 * 2 MiB block), check that the checker reports each, undo them; returns how many were
 * missed, or -E_INVAL if va does not qualify or the system was not clean.
 */
#define KCHECK_RUN	0
#define KCHECK_SELFTEST	1

/*
 * failnth(kind, k, n): make allocations k .. k+n-1 of kind, counted from now, fail
 * as if memory ran out (kern/mm/failinject.c); k == 0 disarms.  Returns how many
 * failures the previous arming of kind injected.
 */
#define FAIL_FRAME	0	/* page_alloc: every physical frame, user or kernel */
#define FAIL_KMALLOC	1	/* kmalloc: kernel objects */
#define FAIL_NKINDS	2

/* Model TLB counts of one process; [0] 4 KiB TLB, [1] 2 MiB TLB, [2] 1 GiB TLB. */
struct tlb_stats {
	uint64_t traps;			/* the (primary) model's misses: its vtlb_miss calls */
	uint64_t misses[3];
	uint64_t evictions[3];
	uint64_t walk_refs;		/* page-walk memory references of the misses */
	uint64_t omt_walks;		/* 4 KiB misses of overlaid segments (overlay milestone) */
	uint64_t real_faults;		/* ordinary page faults taken while measured */
	/* Appended (READ copies only the size asked for, so older callers are unaffected): */
	uint64_t fake_faults;		/* traps taken: accesses that missed in either model */
	uint64_t shadow;		/* 1 if a shadow model (tlb.shadow.*) measures too */
	uint64_t shadow_traps;		/* the shadow model's counts, as above; 0 without one */
	uint64_t shadow_misses[3];
	uint64_t shadow_evictions[3];
	uint64_t shadow_walk_refs;
	uint64_t pt_refs;		/* pt=clustered|guarded: the design's lookup references for
					   the model's misses (walk_refs stays x86's 4/3/2) */
};

/*
 * Pids run from 1 to PID_MAX and are never reused.  wait and kill take a pid as a
 * 64-bit value and compare all of it: a value that is no pid matches no process.
 */
#define PID_MAX		0x7fffffff

/* wait() status: the exit code, or WSTATUS_KILLED when the kernel or kill() ended it. */
#define WSTATUS_KILLED	0x100

/* What vmquery reports about one virtual address. */
struct vm_query {
	uint64_t va;
	uint32_t mapped;	/* 1 if a region covers va */
	uint32_t present;	/* 1 if a page is mapped at va now */
	uint64_t page_size;	/* 4096, 2 MiB or 1 GiB when present */
	uint32_t prot;		/* PROT_* of the region */
	uint32_t cow;		/* 1 if the page is shared copy-on-write */
	uint64_t pfn;		/* physical frame number when present */
	uint64_t region_start, region_end;
	uint64_t reservation_size;	/* 2 MiB or 1 GiB if va lies in a reservation, else 0 */
	/* the leaf entry mapping va when present (a superpage's bits cover all of it) */
	uint32_t writable;	/* 1 if writes are allowed now (not while copy-on-write) */
	uint32_t accessed;	/* the accessed bit */
	uint32_t dirty;		/* the dirty bit */
	/* /dev/hugemap mappings (0 elsewhere) */
	uint64_t device_page_size;	/* what the device gives va's 2 MiB block: 4096 or 2 MiB */
	uint32_t device_fallback;	/* 1 if it chose 2 MiB for the block and gave 4 KiB pages */
	/*
	 * Page overlays: 0 unless va lies in an overlaid 2 MiB page (page_size is then 2 MiB,
	 * pfn the frame va reads now); 1: va reads the shared frame, 2: its own overlay page.
	 */
	uint32_t overlaid;
	uint32_t overlays;	/* segments of that 2 MiB page with an overlay page */
};

/*
 * Kernel counters readable from user space with counters(); later milestones append
 * fields at the end, and a caller passing a smaller size gets a prefix.
 */
struct kcounters {
	uint64_t free_pages;		/* pages free in the buddy allocator */
	uint64_t total_pages;		/* pages the allocator manages */
	uint64_t page_faults;		/* user page faults taken */
	uint64_t faults_demand_zero;	/* ... resolved by mapping a zeroed page */
	uint64_t faults_cow_copy;	/* ... resolved by copying a shared page */
	uint64_t faults_cow_reuse;	/* ... resolved by reusing a page no longer shared */
	uint64_t faults_killed;		/* ... that killed the process */
	uint64_t pt_pages;		/* user page-table pages in use */
	uint64_t procs_created;
	uint64_t procs_live;
	uint64_t syscalls;
	uint64_t context_switches;
	uint64_t timer_ticks;
	uint64_t kmalloc_bytes;		/* kernel heap bytes in use */
	/* superpages ([0] = 2 MiB, [1] = 1 GiB) */
	uint64_t policy;		/* VM_POLICY_* in force */
	uint64_t reserv_created[2];
	uint64_t reserv_broken[2];	/* dissolved with frames still in use, preemptions included */
	uint64_t reserv_preempted[2];	/* broken because memory ran short */
	uint64_t reserv_live[2];
	uint64_t reserv_partial[2];	/* live and partially populated */
	uint64_t promotions[2];
	uint64_t promotion_attempts[2];	/* blocks offered to pmap_promote (kern/mm/policy.c) */
	uint64_t promotion_failures[2];	/* ... whose entries were not uniform */
	uint64_t demotions[5];		/* by cause: DEMOTE_* below */
	uint64_t demotions_1g;		/* of which 1 GiB -> 2 MiB */
	uint64_t eager_2m;		/* 2 MiB pages mapped at first touch (eager) */
	uint64_t bytes_zeroed;		/* by page population */
	uint64_t free_blocks[19];	/* free buddy blocks per order (4 KiB .. 1 GiB) */
	uint64_t free_2m_blocks;	/* free memory in whole 2 MiB blocks, in 2 MiB units */
	/* the page daemon */
	uint64_t daemon_passes;
	uint64_t daemon_preempted;	/* reservations it preempted */
	uint64_t compactions;		/* 2 MiB blocks it emptied by migration */
	uint64_t migrations;		/* 4 KiB pages it moved */
	uint64_t repromotions;		/* pressure-demoted blocks promoted again */
	uint64_t wired_pages;		/* kernel pages handed out from wired 2 MiB blocks */
	uint64_t tlb_traps;		/* model-TLB traps, all processes (kern/mm/tlbtrap.c) */
	/* what the page daemon's passes did (kern/mm/daemon.h) */
	uint64_t daemon_no_room;	/* compactions given up: nowhere below 2 MiB to move pages */
	uint64_t daemon_last_preempted;	/* reservations the latest pass broke */
	uint64_t daemon_last_migrated;	/* pages the latest pass moved */
	uint64_t daemon_max_preempted;	/* the most reservations one pass broke */
	uint64_t daemon_max_migrated;	/* the most pages one pass moved */
	uint64_t wired_blocks;		/* live wired 2 MiB blocks */
	uint64_t wired_in_use;		/* pages in use in them */
	/* /dev/hugemap (kern/mm/policy.c) */
	uint64_t hugemap_threshold;	/* percent of a block that gets 2 MiB (hugemap.threshold=) */
	uint64_t hugemap_2m;		/* 2 MiB pages granted */
	uint64_t hugemap_fallbacks;	/* blocks chosen 2 MiB that got 4 KiB pages */
	uint64_t hugemap_bloat;		/* bytes of granted 2 MiB pages beyond the request */
	/* writes to shared copy-on-write 2 MiB pages (kern/mm/fault.c) and page overlays */
	uint64_t cow_policy;		/* COW_POLICY_* in force (boot word cow=) */
	uint64_t cow_reuse_2m;		/* sharers gone: made writable in place */
	uint64_t cow_copy_2m;		/* copied whole (cow=copy2m) */
	uint64_t cow_split_2m;		/* demoted, 4 KiB copied (cow=split) */
	uint64_t cow_overlay;		/* segments overlaid (cow=overlay) */
	uint64_t cow_bytes_copied;	/* bytes copied by copy-on-write faults */
	uint64_t ovl_created;		/* 2 MiB pages overlaid */
	uint64_t ovl_pages_created;	/* overlay pages made */
	uint64_t ovl_pages_live;	/* overlay pages mapped now */
	uint64_t ovl_folded;		/* overlaid pages folded back into their frame */
	uint64_t ovl_converged;		/* ... copied into a private 2 MiB frame */
	uint64_t ovl_dissolved;		/* ... turned into plain 4 KiB tables */
	uint64_t ovl_omt_pages;		/* OMT table pages now */
	uint64_t ovl_shared;		/* overlaid pages fork gave a child (shared whole) */
	/* page-table designs (pt=; issue 11) */
	uint64_t pt_design;		/* PT_DESIGN_* */
	uint64_t pt_design_bytes;	/* the calling process's design table: its own byte count */
	uint64_t pt_design_pages;	/* ... the 4 KiB pages it maps */
	uint64_t pt_mem_held;		/* memory all design tables hold (allocator sizes) */
	uint64_t pt_cache_drops;	/* x86 caches dropped */
	uint64_t pt_cache_pages_dropped;	/* table pages those drops freed */
	uint64_t pt_cache_refills;	/* leaves refilled from a design */
	/* pre-zeroed pools (kern/mm/prezero.c); bytes_zeroed above is what faults zeroed */
	uint64_t prezero_on;		/* 1 unless prezero=off */
	uint64_t prezero_hits[2];	/* zeroed frames faults took from a pool: [0] 4 KiB, [1] 2 MiB */
	uint64_t prezero_misses[2];	/* ... wanted while that pool was empty */
	uint64_t prezero_reserv_hits;	/* reservation frames handed out zero (made from a pool block) */
	uint64_t prezero_pages_zeroed;	/* 4 KiB pages zeroed ahead, while idle */
	uint64_t prezero_bytes_ahead;	/* the same in bytes */
	uint64_t prezero_pool_pages;	/* pages the pools hold now (counted in free_pages) */
	uint64_t prezero_pool_2m;	/* 2 MiB blocks the pool holds now (counted in free_2m_blocks) */
	uint64_t prezero_given_back;	/* pool pages handed back to the allocator: memory was short */
	uint64_t util_fill_pages;	/* vm.promote.util: pages populated untouched so a block promotes */
};

#define PT_DESIGN_RADIX		0
#define PT_DESIGN_CLUSTERED	1
#define PT_DESIGN_GUARDED	2

#define COW_POLICY_OVERLAY	0
#define COW_POLICY_COPY2M	1
#define COW_POLICY_SPLIT	2

#define VM_POLICY_BASE		0
#define VM_POLICY_EAGER		1
#define VM_POLICY_RESERVE	2

/* Demotion causes, indexes of kcounters.demotions. */
#define DEMOTE_BY_MPROTECT	0
#define DEMOTE_BY_MUNMAP	1
#define DEMOTE_BY_MADVISE	2
#define DEMOTE_BY_COW		3
#define DEMOTE_BY_PRESSURE	4

#endif
