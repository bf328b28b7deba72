/*
 * kern/run.c: the kernel thread starting programs and waiting for them.
 *
 * Processes the kernel starts (the monitor's `run`, the run= boot word) have no
 * parent process; the kernel thread is their parent.  While it waits it schedules
 * (kern/sched.c) and reaps its zombies, including orphans whose parent exited first.
 * The status of the program being waited for is kept when its zombie is reaped.
 */
#include "inc/error.h"
#include "inc/string.h"
#include "inc/syscall.h"
#include "kern/console.h"
#include "kern/mm/invariant.h"
#include "kern/mm/frame.h"
#include "kern/proc.h"
#include "kern/qemu.h"
#include "kern/run.h"

#define CMD_MAX 256

static int waited_pid;		/* the program run_wait waits for */
static int waited_status;
static bool waited_done;

int
run_start(const char *cmd)
{
	char buf[CMD_MAX];
	char *argv[PROC_MAX_ARGS];
	int argc = 0, err;

	strlcpy(buf, cmd, sizeof buf);
	for (char *p = buf; *p;) {
		while (*p == ' ' || *p == ',')
			*p++ = '\0';
		if (!*p)
			break;
		if (argc == PROC_MAX_ARGS)
			return -E_INVAL;
		argv[argc++] = p;
		while (*p && *p != ' ' && *p != ',')
			p++;
	}
	if (argc == 0)
		return -E_INVAL;
	struct proc *p = proc_spawn(argv[0], argc, argv, NULL, &err);
	return p ? p->pid : err;
}

static void
report_status(const struct proc *p, int status)
{
	if (status & WSTATUS_KILLED)
		cprintf("run: %s killed\n", p->name);
	else
		cprintf("run: %s exited with status %d\n", p->name, status);
}

void
run_reap_orphans(void)
{
	for (int i = 0; i < NPROC; i++) {
		struct proc *p = &procs[i];
		if (p->state != P_ZOMBIE || p->parent)
			continue;
		int pid = p->pid;
		if (pid == waited_pid) {
			report_status(p, p->exit_status);
			waited_status = proc_reap(p);
			waited_done = true;
		} else {
			proc_reap(p);
		}
	}
}

int
run_wait(int pid, bool all)
{
	waited_pid = pid;
	waited_done = false;
	for (;;) {
		run_reap_orphans();
		if (waited_done && (!all || proc_count_live() == 0))
			break;
		sched_step();
	}
	waited_pid = 0;
	return waited_status;
}

void
run_boot_program(const char *cmd)
{
	uint64_t before = phys_free_pages();
	int pid = run_start(cmd);

	if (pid < 0) {
		cprintf("run: cannot start '%s': %e\n", cmd, pid);
		qemu_exit(QEMU_EXIT_FAILURE);
	}
	int status = run_wait(pid, true);
	uint64_t after = phys_free_pages();
	cprintf("run: free pages %lu before, %lu after\n", before, after);
	if (after == before)
		cprintf("run: no leak\n");
	else
		cprintf("run: LEAK of %ld pages\n", (long)(before - after));
	int violations = invariant_at_exit ? invariant_check(true) : 0;
	qemu_exit(status == 0 && after == before && violations == 0 ? QEMU_EXIT_SUCCESS : QEMU_EXIT_FAILURE);
}
