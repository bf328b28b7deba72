/*
 * kern/syscall.c: system-call dispatch and the calls themselves.
 *
 * Arguments arrive in the trapframe (rdi, rsi, rdx, r10, r8, r9; number in rax) and
 * are untrusted: numbers are range-checked, pointers only go through kern/mm/uaccess.c,
 * and every failure is a negative -E_* code in rax.  The process goes on after a
 * bad call; only a fault of its own kills it.
 */
#include "inc/error.h"
#include "inc/mmu.h"
#include "inc/string.h"
#include "inc/syscall.h"
#include "inc/util.h"
#include "inc/x86.h"
#include "kern/console.h"
#include "kern/fd.h"
#include "kern/mm/daemon.h"
#include "kern/mm/failinject.h"
#include "kern/mm/fault.h"
#include "kern/mm/invariant.h"
#include "kern/mm/kmalloc.h"
#include "kern/mm/frame.h"
#include "kern/mm/pt/pt.h"
#include "kern/mm/policy.h"
#include "kern/mm/prezero.h"
#include "kern/mm/lib/reserv.h"
#include "kern/mm/tlbtrap.h"
#include "kern/proc.h"
#include "kern/mm/uaccess.h"
#include "kern/syscall.h"

#define CPUTS_MAX	(64 * 1024)	/* longest single console write */
#define CPUTS_CHUNK	256

uint64_t syscall_count;
extern char syscall_entry[];

void
syscall_init(void)
{
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
	/* syscall: CS = GD_KT, SS = GD_KT + 8 = GD_KD.  (sysret is never used.) */
	wrmsr(MSR_STAR, (uint64_t)GD_KT << 32 | (uint64_t)(GD_UD - 8) << 48);
	wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
	wrmsr(MSR_SFMASK, FL_IF | FL_TF | FL_DF | FL_AC);	/* cleared on entry */
}

static int64_t
sys_cputs(uint64_t ubuf, uint64_t len)
{
	char chunk[CPUTS_CHUNK];

	if (len > CPUTS_MAX)
		return -E_INVAL;
	/* check the whole buffer first, so a bad one prints nothing */
	for (uint64_t off = 0; off < len; off += CPUTS_CHUNK) {
		int r = copyin(curproc->vm, chunk, ubuf + off, MIN(len - off, CPUTS_CHUNK));
		if (r < 0)
			return r;
	}
	for (uint64_t off = 0; off < len; off += CPUTS_CHUNK) {
		uint64_t n = MIN(len - off, CPUTS_CHUNK);
		copyin(curproc->vm, chunk, ubuf + off, n);
		for (uint64_t i = 0; i < n; i++)
			cons_putc(chunk[i]);
	}
	return (int64_t)len;
}

static int64_t
sys_spawn(uint64_t uname, uint64_t uargv)
{
	char name[PROC_NAME_MAX];
	char args[PROC_MAX_ARGS][PROC_ARG_MAX];
	char *argv[PROC_MAX_ARGS];
	int argc = 0, r, err;

	if ((r = copyinstr(curproc->vm, name, uname, sizeof name)) < 0)
		return r == -E_RANGE ? -E_NOT_FOUND : r;
	if (uargv) {
		for (;; argc++) {
			uint64_t uarg;
			if ((r = copyin(curproc->vm, &uarg, uargv + argc * sizeof(uint64_t), sizeof uarg)) < 0)
				return r;
			if (!uarg)
				break;
			if (argc == PROC_MAX_ARGS)
				return -E_INVAL;
			if ((r = copyinstr(curproc->vm, args[argc], uarg, PROC_ARG_MAX)) < 0)
				return r == -E_RANGE ? -E_INVAL : r;
			argv[argc] = args[argc];
		}
	}
	if (argc == 0) {		/* argv[0] defaults to the program name */
		strlcpy(args[0], name, PROC_ARG_MAX);
		argv[argc++] = args[0];
	}
	struct proc *p = proc_spawn(name, argc, argv, curproc, &err);
	return p ? p->pid : err;
}

static int64_t
sys_wait(int64_t pid, uint64_t ustatus)
{
	int status = 0, r;
	if (pid < -1 || pid == 0)
		return -E_CHILD;
	/* check the status pointer before reaping, so a bad one loses no child */
	if (ustatus && (r = copyout(curproc->vm, ustatus, &status, sizeof status)) < 0)
		return r;
	int cpid = proc_wait(pid, &status);
	if (cpid > 0 && ustatus)
		copyout(curproc->vm, ustatus, &status, sizeof status);
	return cpid;
}

static int64_t
sys_vmquery(uint64_t va, uint64_t uq)
{
	struct vm_query q;
	vm_query(curproc->vm, va, &q);
	int r = copyout(curproc->vm, uq, &q, sizeof q);
	return r < 0 ? r : 0;
}

static int64_t
sys_counters(uint64_t ubuf, uint64_t size)
{
	struct kcounters c = {
		.free_pages = phys_free_pages(),
		.total_pages = phys_buddy.managed_pages,
		.page_faults = fault_stats.faults,
		.faults_demand_zero = fault_stats.demand_zero,
		.faults_cow_copy = fault_stats.cow_copy,
		.faults_cow_reuse = fault_stats.cow_reuse,
		.faults_killed = fault_stats.refused + fault_stats.no_memory,
		.pt_pages = pmap_user_pt_pages,
		.procs_created = procs_created,
		.procs_live = (uint64_t)proc_count_live(),
		.syscalls = syscall_count,
		.context_switches = sched_switches,
		.timer_ticks = sched_ticks,
		.kmalloc_bytes = kmalloc_bytes_in_use(),
		.policy = vm_policy,
		.eager_2m = policy_stats.eager_2m,
		.bytes_zeroed = policy_stats.bytes_zeroed,
		.demotions_1g = pmap_stats.demotions_1g,
		.cow_policy = cow_policy,
		.cow_reuse_2m = fault_stats.cow_reuse_2m,
		.cow_copy_2m = fault_stats.cow_copy_2m,
		.cow_split_2m = fault_stats.cow_split_2m,
		.cow_overlay = fault_stats.cow_overlay,
		.cow_bytes_copied = fault_stats.cow_bytes_copied,
		.ovl_created = overlay_stats.created,
		.ovl_pages_created = overlay_stats.pages_created,
		.ovl_pages_live = overlay_stats.pages_live,
		.ovl_folded = overlay_stats.folded,
		.ovl_converged = overlay_stats.converged,
		.ovl_dissolved = overlay_stats.dissolved,
		.ovl_omt_pages = overlay_stats.omt_pages,
		.ovl_shared = overlay_stats.shared,
		.pt_mem_held = pt_mem_held(),
		.pt_cache_drops = pt_cache_stats.drops,
		.pt_cache_pages_dropped = pt_cache_stats.pages_dropped,
		.pt_cache_refills = pt_cache_stats.refills,
		.prezero_on = prezero_on,
		.prezero_reserv_hits = prezero_stats.reserv_hits,
		.prezero_pages_zeroed = prezero_stats.pages_zeroed,
		.prezero_bytes_ahead = prezero_stats.pages_zeroed * PGSIZE,
		.prezero_pool_pages = prezero_pages(),
		.prezero_pool_2m = prezero_blocks(PS_2M),
		.prezero_given_back = prezero_stats.given_back,
	};
	struct pmap_design_stats ds;
	pmap_design_stats(&curproc->vm->pmap, &ds);
	c.pt_design_bytes = ds.bytes;
	c.pt_design_pages = ds.pages;
	c.pt_design = strcmp(pmap_design_name(), "clustered") == 0 ? PT_DESIGN_CLUSTERED :
		      strcmp(pmap_design_name(), "guarded") == 0 ? PT_DESIGN_GUARDED : PT_DESIGN_RADIX;
	static_assert(NDEMOTE_CAUSES == ARRAY_SIZE(c.demotions), "demotion causes");
	for (int i = 0; i < NDEMOTE_CAUSES; i++)
		c.demotions[i] = pmap_stats.demotions[i];
	for (int k = 0; k < 2; k++) {
		unsigned order = k ? PS_ORDER(PS_1G) : PS_ORDER(PS_2M);
		c.reserv_created[k] = reserv_stats.created[k];
		c.reserv_broken[k] = reserv_stats.broken[k];
		c.reserv_preempted[k] = reserv_stats.preempted[k];
		c.reserv_live[k] = reserv_count(order);
		c.reserv_partial[k] = reserv_partial_count(order);
		c.promotions[k] = pmap_stats.promotions[k];
		c.promotion_attempts[k] = policy_stats.promotion_attempts[k];
		c.promotion_failures[k] = pmap_stats.promotion_failures[k];
		c.prezero_hits[k] = prezero_stats.hits[k];
		c.prezero_misses[k] = prezero_stats.misses[k];
	}
	for (int k = 0; k < BUDDY_ORDERS; k++)
		c.free_blocks[k] = phys_buddy.nfree[k];
	c.free_2m_blocks = free_2m_blocks();
	c.daemon_passes = daemon_stats.passes;
	c.daemon_preempted = daemon_stats.preempted;
	c.compactions = daemon_stats.compactions;
	c.migrations = daemon_stats.migrations;
	c.repromotions = daemon_stats.repromotions;
	c.wired_pages = wired_pages;
	c.tlb_traps = tlb_model.stats.traps;
	c.daemon_no_room = daemon_stats.no_room;
	c.daemon_last_preempted = daemon_stats.last_preempted;
	c.daemon_last_migrated = daemon_stats.last_migrated;
	c.daemon_max_preempted = daemon_stats.max_pass_preempted;
	c.daemon_max_migrated = daemon_stats.max_pass_migrated;
	wired_usage(&c.wired_blocks, &c.wired_in_use);
	c.hugemap_threshold = policy_hugemap_threshold();
	c.hugemap_2m = policy_stats.hugemap_2m;
	c.hugemap_fallbacks = policy_stats.hugemap_fallbacks;
	c.hugemap_bloat = policy_stats.hugemap_bloat;
	c.util_fill_pages = policy_stats.util_fill_pages;
	size = MIN(size, sizeof c);
	int r = copyout(curproc->vm, ubuf, &c, size);
	return r < 0 ? r : (int64_t)size;
}

static int64_t
sys_tlbctl(uint64_t op, uint64_t a1, uint64_t a2)
{
	struct tlb_stats s;
	int r;

	switch (op) {
	case TLBCTL_START:
		return tlbtrap_start(curproc->vm, a1, a2);
	case TLBCTL_STOP:
		tlbtrap_stop(curproc->vm);
		return 0;
	case TLBCTL_READ:
		tlbtrap_read(curproc->vm, &s);
		r = copyout(curproc->vm, a1, &s, MIN(a2, sizeof s));
		return r < 0 ? r : 0;
	default:
		return -E_INVAL;
	}
}

static int64_t
sys_kcheck(uint64_t op, uint64_t va)
{
	switch (op) {
	case KCHECK_RUN:
		return invariant_check(false);
	case KCHECK_SELFTEST:
		return invariant_selftest(curproc->vm, va);
	default:
		return -E_INVAL;
	}
}

static int64_t
dispatch(struct trapframe *tf)
{
	uint64_t a1 = tf->rdi, a2 = tf->rsi, a3 = tf->rdx, a4 = tf->r10;
	struct vmspace *vm = curproc->vm;

	switch (tf->rax) {
	case SYS_exit:
		proc_exit((int)(a1 & 0xFF));
	case SYS_getpid:
		return curproc->pid;
	case SYS_yield:
		yield();
		return 0;
	case SYS_fork:
		return proc_fork();
	case SYS_spawn:
		return sys_spawn(a1, a2);
	case SYS_wait:
		return sys_wait((int64_t)a1, a2);
	case SYS_kill:
		return proc_kill(curproc, (int64_t)a1);
	case SYS_cputs:
		return sys_cputs(a1, a2);
	case SYS_cgetc: {
		int c = cons_getc();
		return c < 0 ? -E_NOT_FOUND : c;
	}
	case SYS_mmap:
		if (a3 > UINT32_MAX || a4 > UINT32_MAX)
			return -E_INVAL;
		if (!(a4 & MAP_ANON))
			return fd_mmap(curproc, (int64_t)tf->r8, a1, a2, (uint32_t)a3, (uint32_t)a4, tf->r9);
		return vm_mmap(vm, a1, a2, (uint32_t)a3, (uint32_t)a4);
	case SYS_munmap:
		return vm_munmap(vm, a1, a2);
	case SYS_mprotect:
		return a3 > UINT32_MAX ? -E_INVAL : vm_mprotect(vm, a1, a2, (uint32_t)a3);
	case SYS_madvise:
		return a3 > UINT32_MAX ? -E_INVAL : vm_madvise(vm, a1, a2, (uint32_t)a3);
	case SYS_sbrk:
		return vm_sbrk(vm, (int64_t)a1);
	case SYS_vmquery:
		return sys_vmquery(a1, a2);
	case SYS_counters:
		return sys_counters(a1, a2);
	case SYS_tlbctl:
		return sys_tlbctl(a1, a2, a3);
	case SYS_kcheck:
		return sys_kcheck(a1, a2);
	case SYS_failnth:
		return a1 > INT32_MAX ? -E_INVAL : failinject_arm((int)a1, a2, a3);
	case SYS_open:
		return fd_open(curproc, a1, a2);
	case SYS_close:
		return fd_close(curproc, (int64_t)a1);
	case SYS_sleep:
		if (a1 > SLEEP_MAX_TICKS)
			return -E_INVAL;
		sched_sleep_ticks(a1);
		return 0;
	default:
		return -E_NO_SYS;
	}
}

void
syscall_trap(struct trapframe *tf)
{
	syscall_count++;
	curproc->tf = tf;
	tlbtrap_retire(curproc->vm, &tf->rflags);	/* a stepped syscall: SFMASK cleared TF */
	tf->rax = (uint64_t)dispatch(tf);
	if (curproc->killed)
		proc_exit(WSTATUS_KILLED);
}
