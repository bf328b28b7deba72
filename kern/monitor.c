/*
 * kern/monitor.c: a small command interpreter on the serial console, in the spirit
 * of JOS's monitor.  Each command is a function taking argc/argv; `help` lists them.
 * Commands only read kernel state or stop the machine; they never panic on input.
 */
#include <stdint.h>
#include "inc/error.h"
#include "inc/memlayout.h"
#include "inc/string.h"
#include "inc/util.h"
#include "inc/x86.h"
#include "kern/backtrace.h"
#include "kern/cmdline.h"
#include "kern/console.h"
#include "kern/ktest.h"
#include "kern/mm/frame.h"
#include "kern/mm/daemon.h"
#include "kern/mm/fault.h"
#include "kern/mm/invariant.h"
#include "kern/mm/pt/pt.h"
#include "kern/mm/policy.h"
#include "kern/mm/prezero.h"
#include "kern/mm/lib/reserv.h"
#include "kern/mm/tlbtrap.h"
#include "kern/programs.h"
#include "kern/proc.h"
#include "kern/qemu.h"
#include "kern/run.h"
#include "kern/monitor.h"

#define MAXARGS 16

struct command {
	const char *name;
	const char *help;
	int (*fn)(int argc, char **argv);
};

static int mon_help(int argc, char **argv);

static int
mon_kerninfo(int argc, char **argv)
{
	extern char _start[], kernel_entry[], __text_start[], __rodata_start[];
	extern char __data_start[], __bss_start[], __kernel_end[];
	(void)argc, (void)argv;

	cprintf("spos kernel image:\n");
	cprintf("  _start (boot entry)   %016lx (phys)\n", (uint64_t)_start);
	cprintf("  kernel_entry          %016lx (virt)  %08lx (phys)\n", (uint64_t)kernel_entry, PADDR(kernel_entry));
	cprintf("  text                  %016lx (virt)  %08lx (phys)\n", (uint64_t)__text_start, PADDR(__text_start));
	cprintf("  rodata                %016lx (virt)  %08lx (phys)\n", (uint64_t)__rodata_start, PADDR(__rodata_start));
	cprintf("  data                  %016lx (virt)  %08lx (phys)\n", (uint64_t)__data_start, PADDR(__data_start));
	cprintf("  bss                   %016lx (virt)  %08lx (phys)\n", (uint64_t)__bss_start, PADDR(__bss_start));
	cprintf("  end                   %016lx (virt)  %08lx (phys)\n", (uint64_t)__kernel_end, PADDR(__kernel_end));
	cprintf("kernel memory footprint: %lu KiB\n", (PADDR(__kernel_end) - KERNLOAD + 1023) / 1024);
	cprintf("cpu: 1 GiB pages %s, NX %s, SMEP %s, SMAP %s\n", cpu_has_1g_pages ? "yes" : "no",
		cpu_has_nx ? "on" : "off", (rcr4() & CR4_SMEP) ? "on" : "off", (rcr4() & CR4_SMAP) ? "on" : "off");
	cprintf("command line: %s\n", cmdline_text());
	return 0;
}

static int
mon_backtrace(int argc, char **argv)
{
	(void)argc, (void)argv;
	backtrace_print(read_rbp());
	return 0;
}

static int
mon_meminfo(int argc, char **argv)
{
	(void)argc, (void)argv;
	phys_print_meminfo();
	return 0;
}

static int
mon_ktest(int argc, char **argv)
{
	if (argc != 2) {
		cprintf("usage: ktest NAME (runs the test, then stops the machine); tests:\n");
		ktest_list();
		return 0;
	}
	ktest_run(argv[1]);
	return 0;
}

/* Join argv[1..] back into "NAME ARG ..." for run_start. */
static void
join_args(int argc, char **argv, char *buf, size_t size)
{
	buf[0] = '\0';
	for (int i = 1; i < argc; i++) {
		size_t len = strlen(buf);
		snprintf(buf + len, size - len, "%s%s", i > 1 ? " " : "", argv[i]);
	}
}

static int
mon_run(int argc, char **argv)
{
	char cmd[256];
	const char *verb = argv[0];
	bool measure = argc > 1 && strcmp(argv[1], "-t") == 0;
	if (measure) {			/* run -t PROG: measure it with the model TLB */
		argc--;
		argv++;
	}
	if (argc < 2) {
		cprintf("usage: %s [-t] PROG [ARGS...] (-t: measure it with the model TLB); programs:", verb);
		for (uint64_t i = 0; i < user_programs_count; i++)
			cprintf(" %s", user_programs[i].name);
		cprintf("\n");
		return 0;
	}
	join_args(argc, argv, cmd, sizeof cmd);
	int pid = run_start(cmd);
	if (pid < 0) {
		cprintf("%s: cannot start %s: %e\n", verb, argv[1], pid);
		return 0;
	}
	int r = measure ? tlbtrap_start(proc_find(pid)->vm, 0, 0) : 0;
	if (r < 0)
		cprintf("%s: cannot measure %s: %e\n", verb, argv[1], r);
	if (strcmp(verb, "bg") == 0)
		cprintf("[pid %d] %s started in the background\n", pid, argv[1]);
	else
		run_wait(pid, false);
	if (invariant_at_exit && strcmp(verb, "bg") != 0)
		invariant_check(true);
	return 0;
}

static int
mon_ps(int argc, char **argv)
{
	(void)argc, (void)argv;
	proc_print_all();
	return 0;
}

static int
mon_kill(int argc, char **argv)
{
	char *end;
	if (argc != 2) {
		cprintf("usage: kill PID\n");
		return 0;
	}
	long pid = strtol(argv[1], &end, 10);
	int r = *end ? -E_INVAL : proc_kill(NULL, pid);
	if (r < 0)
		cprintf("kill: %s: %e\n", argv[1], r);
	return 0;
}

static int
mon_vm(int argc, char **argv)
{
	struct proc *p = argc == 2 ? proc_find(strtol(argv[1], NULL, 10)) : NULL;
	if (!p || !p->vm) {
		cprintf("usage: vm PID (a live process)\n");
		return 0;
	}
	vm_print(p->vm);
	return 0;
}

static int
mon_pt(int argc, char **argv)
{
	(void)argc, (void)argv;
	cprintf("page tables: pt=%s; x86 table pages %lu; design tables hold %lu KiB\n", pmap_design_name(),
		pmap_user_pt_pages, pt_mem_held() >> 10);
	for (struct vmspace *vs = vm_first_space(); vs; vs = vs->next_live) {
		cprintf("  pml4 0x%lx: %lu pages resident; ", pmap_root(&vs->pmap), vs->resident_pages);
		pmap_design_print(&vs->pmap);
		cprintf("\n");
	}
	return 0;
}

static int
mon_vmstat(int argc, char **argv)
{
	(void)argc, (void)argv;
	static const char *const causes[] = { "mprotect", "munmap", "madvise", "cow", "pressure" };
	cprintf("policy %s; free pages %lu of %lu\n", policy_name(), phys_free_pages(), phys_buddy.managed_pages);
	cprintf("faults %lu: demand-zero %lu, cow copy %lu, cow reuse %lu, refused %lu, out of memory %lu\n",
		fault_stats.faults, fault_stats.demand_zero, fault_stats.cow_copy, fault_stats.cow_reuse,
		fault_stats.refused, fault_stats.no_memory);
	cprintf("cow=%s: 2 MiB writes reused %lu, copied %lu, split %lu; overlay writes %lu; bytes copied %lu\n",
		fault_cow_name(), fault_stats.cow_reuse_2m, fault_stats.cow_copy_2m, fault_stats.cow_split_2m,
		fault_stats.cow_overlay, fault_stats.cow_bytes_copied);
	cprintf("overlays (omt=%s): pages overlaid %lu (folded %lu, converged %lu, dissolved %lu, shared by fork %lu); "
		"overlay pages created %lu, live %lu; OMT pages %lu\n", pmap_overlay_folded() ? "folded" : "separate",
		overlay_stats.created, overlay_stats.folded, overlay_stats.converged, overlay_stats.dissolved,
		overlay_stats.shared, overlay_stats.pages_created, overlay_stats.pages_live, overlay_stats.omt_pages);
	for (int k = 0; k < 2; k++)
		cprintf("%s: reservations created %lu broken %lu preempted %lu live %lu partial %lu; "
			"promotions %lu (attempts %lu, failed %lu)\n", k ? "1G" : "2M",
			reserv_stats.created[k], reserv_stats.broken[k], reserv_stats.preempted[k],
			reserv_count(k ? PS_ORDER(PS_1G) : PS_ORDER(PS_2M)),
			reserv_partial_count(k ? PS_ORDER(PS_1G) : PS_ORDER(PS_2M)), pmap_stats.promotions[k],
			policy_stats.promotion_attempts[k], pmap_stats.promotion_failures[k]);
	cprintf("demotions:");
	for (int i = 0; i < NDEMOTE_CAUSES; i++)
		cprintf(" %s %lu", causes[i], pmap_stats.demotions[i]);
	cprintf(" (1G->2M %lu)\n", pmap_stats.demotions_1g);
	cprintf("eager 2M pages %lu (fallbacks %lu); reservation hits %lu, 4K fallbacks %lu; zeroed %lu KiB\n",
		policy_stats.eager_2m, policy_stats.eager_fallbacks, policy_stats.reserv_hits,
		policy_stats.reserv_fallbacks, policy_stats.bytes_zeroed >> 10);
	prezero_print();
	cprintf("hugemap: threshold %lu%%, 2M pages %lu, fallbacks %lu, bloat %lu KiB\n",
		policy_hugemap_threshold(), policy_stats.hugemap_2m, policy_stats.hugemap_fallbacks,
		policy_stats.hugemap_bloat >> 10);
	cprintf("daemon: passes %lu, preempted %lu, compactions %lu (aborted %lu), migrations %lu, "
		"accessed bits cleared %lu, re-promotions %lu; wired pages %lu\n", daemon_stats.passes,
		daemon_stats.preempted, daemon_stats.compactions, daemon_stats.compaction_aborts,
		daemon_stats.migrations, daemon_stats.referenced_cleared, daemon_stats.repromotions, wired_pages);
	cprintf("pt=%s: design tables hold %lu KiB; x86 table pages %lu; cache drops %lu (%lu pages freed), "
		"refills %lu (failed %lu)\n", pmap_design_name(), pt_mem_held() >> 10, pmap_user_pt_pages,
		pt_cache_stats.drops, pt_cache_stats.pages_dropped, pt_cache_stats.refills, pt_cache_stats.fill_failures);
	cprintf("free blocks per order:");
	for (int k = 0; k < BUDDY_ORDERS; k++)
		cprintf(" %lu", phys_buddy.nfree[k]);
	cprintf(" (free 2 MiB blocks: %lu)\n", free_2m_blocks());
	return 0;
}

static int
mon_reserv(int argc, char **argv)
{
	(void)argc, (void)argv;
	policy_print_reservations();
	return 0;
}

static int
mon_pmap(int argc, char **argv)
{
	struct proc *p = argc == 3 ? proc_find(strtol(argv[1], NULL, 10)) : NULL;
	if (!p || !p->vm) {
		cprintf("usage: pmap PID VA (a live process)\n");
		return 0;
	}
	struct vm_query q;
	uint64_t va = strtoul(argv[2], NULL, 16);
	vm_query(p->vm, va, &q);
	if (!q.mapped) {
		cprintf("pid %d va 0x%lx: not mapped\n", p->pid, va);
		return 0;
	}
	cprintf("pid %d va 0x%lx: region %lx-%lx prot %c%c%c", p->pid, va, q.region_start, q.region_end,
		(q.prot & PROT_READ) ? 'r' : '-', (q.prot & PROT_WRITE) ? 'w' : '-', (q.prot & PROT_EXEC) ? 'x' : '-');
	if (q.present)
		cprintf(", %s page, frame 0x%lx%s", q.page_size == PG1G ? "1G" : q.page_size == PG2M ? "2M" : "4K",
			q.pfn, q.cow ? ", copy-on-write" : "");
	else
		cprintf(", not present");
	if (q.reservation_size)
		cprintf(", in a %s reservation", q.reservation_size == PG1G ? "1G" : "2M");
	if (q.overlaid)
		cprintf(", overlaid: %u of 512 segments have overlays (this one %s)", q.overlays,
			q.overlaid == 2 ? "reads its overlay" : "reads the shared frame");
	cprintf("\n");
	return 0;
}

static int
mon_tlb(int argc, char **argv)
{
	tlbtrap_print(argc > 1 && strcmp(argv[1], "reset") == 0);
	return 0;
}

static int
mon_check(int argc, char **argv)
{
	(void)argc, (void)argv;
	invariant_check(true);
	return 0;
}

static int
mon_exit(int argc, char **argv)
{
	int failure = argc > 1 && strcmp(argv[1], "0") != 0;
	cprintf("monitor: exiting QEMU (%s)\n", failure ? "failure" : "success");
	qemu_exit(failure ? QEMU_EXIT_FAILURE : QEMU_EXIT_SUCCESS);
}

static const struct command commands[] = {
	{ "help", "list the commands", mon_help },
	{ "kerninfo", "kernel image layout, CPU features, command line", mon_kerninfo },
	{ "backtrace", "backtrace of the monitor's own stack", mon_backtrace },
	{ "meminfo", "physical memory: totals and free blocks per order", mon_meminfo },
	{ "ktest", "ktest NAME: run an in-kernel test (no name: list them)", mon_ktest },
	{ "run", "run [-t] PROG [ARGS]: run a user program and wait for it (-t: model TLB)", mon_run },
	{ "bg", "bg [-t] PROG [ARGS]: start a user program in the background", mon_run },
	{ "ps", "list processes", mon_ps },
	{ "kill", "kill PID: kill a process", mon_kill },
	{ "vm", "vm PID: the regions of a process's address space", mon_vm },
	{ "pmap", "pmap PID VA: the mapping at VA (hex): page size, frame, reservation", mon_pmap },
	{ "vmstat", "superpage and fault counters", mon_vmstat },
	{ "pt", "the page-table design (pt=) of each address space: bytes, nodes, chains, depths", mon_pt },
	{ "reserv", "list reservations with their population", mon_reserv },
	{ "tlb", "tlb [reset]: the model TLB's geometry and counts", mon_tlb },
	{ "check", "check every kernel memory invariant (kern/mm/invariant.c)", mon_check },
	{ "exit", "exit [STATUS]: stop QEMU (status 0 = success, default)", mon_exit },
};

static int
mon_help(int argc, char **argv)
{
	(void)argc, (void)argv;
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		cprintf("  %-10s %s\n", commands[i].name, commands[i].help);
	return 0;
}

int
monitor_runcmd(char *line)
{
	char *argv[MAXARGS];
	int argc = 0;

	for (char *p = line; *p;) {
		while (*p == ' ' || *p == '\t')
			*p++ = '\0';
		if (!*p)
			break;
		if (argc == MAXARGS - 1) {
			cprintf("monitor: too many arguments (at most %d)\n", MAXARGS - 1);
			return 0;
		}
		argv[argc++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
	}
	argv[argc] = NULL;
	if (argc == 0)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			return commands[i].fn(argc, argv);
	cprintf("monitor: unknown command '%s' (type 'help' for the list)\n", argv[0]);
	return 0;
}

void
monitor(void)
{
	char buf[256];

	cprintf("Welcome to the spos kernel monitor. Type 'help' for a list of commands.\n");
	for (;;) {
		if (!readline("K> ", buf, sizeof buf))
			break;
		if (monitor_runcmd(buf) < 0)
			break;
	}
}
