/*
 * kern/proc.c: processes — creation (spawn, fork), exit, wait, kill.
 *
 * A process is an address space (struct vmspace), a 16 KiB kernel stack whose top
 * holds the user registers (struct trapframe), and a saved kernel context for swtch.
 * A new process's stack is laid out so that its first swtch "returns" into trapret,
 * which pops the trapframe and enters ring 3 with iretq.
 *
 * Life cycle: FREE -> RUNNABLE <-> RUNNING (<-> SLEEPING in wait) -> ZOMBIE -> FREE.
 * exit frees the address space at once; the kernel stack and the slot are freed when
 * the parent reaps the zombie with wait.  Children of an exiting process, and
 * processes the kernel itself started, have parent NULL and are reaped by the
 * kernel thread (kern/run.c).  Everything here runs with interrupts off on one CPU.
 */
#include <stdarg.h>
#include "inc/error.h"
#include "inc/memlayout.h"
#include "inc/mmu.h"
#include "inc/string.h"
#include "inc/util.h"
#include "inc/x86.h"
#include "kern/console.h"
#include "kern/elf.h"
#include "kern/mm/frame.h"
#include "kern/mm/policy.h"
#include "kern/mm/pt/pt.h"
#include "kern/programs.h"
#include "kern/mm/uaccess.h"
#include "kern/proc.h"

struct proc procs[NPROC];
struct proc *curproc;
uint64_t procs_created;
static int64_t next_pid = 1;

extern char trapret[];

const struct user_program *
program_find(const char *name)
{
	for (uint64_t i = 0; i < user_programs_count; i++)
		if (strcmp(user_programs[i].name, name) == 0)
			return &user_programs[i];
	return NULL;
}

struct proc *
proc_find(int64_t pid)
{
	for (int i = 0; i < NPROC; i++)
		if (procs[i].state != P_FREE && procs[i].pid == pid)
			return &procs[i];
	return NULL;
}

int
proc_count_live(void)
{
	int n = 0;
	for (int i = 0; i < NPROC; i++)
		n += procs[i].state != P_FREE;
	return n;
}

/*
 * A free slot with a kernel stack whose first swtch enters trapret; the trapframe is
 * zeroed.  NULL with *err = -E_NO_PROC (no slot, or the PID_MAX pids are used up) or
 * -E_NO_MEM.
 */
static struct proc *
proc_alloc(const char *name, struct proc *parent, int *err)
{
	struct proc *p = NULL;
	for (int i = 0; i < NPROC && !p; i++)
		if (procs[i].state == P_FREE)
			p = &procs[i];
	if (!p || next_pid > PID_MAX) {
		*err = -E_NO_PROC;
		return NULL;
	}
	struct page *stack = frame_alloc(PROC_KSTACK_ORDER);
	if (!stack) {
		*err = -E_NO_MEM;
		return NULL;
	}
	memset(p, 0, sizeof *p);
	p->kstack = page2kva(stack);
	uint8_t *sp = p->kstack + (PGSIZE << PROC_KSTACK_ORDER);
	sp -= sizeof *p->tf;
	p->tf = (struct trapframe *)sp;
	memset(p->tf, 0, sizeof *p->tf);
	sp -= sizeof *p->context;
	p->context = (struct context *)sp;
	memset(p->context, 0, sizeof *p->context);
	p->context->rip = (uint64_t)trapret;	/* swtch's ret lands in trapret, rsp = tf */
	p->pid = (int)next_pid++;
	fpu_init_state(p);
	p->parent = parent;
	strlcpy(p->name, name, sizeof p->name);
	p->state = P_EMBRYO;		/* the caller makes it runnable once complete */
	procs_created++;
	return p;
}

/* Undo proc_alloc for a process that never ran. */
static void
proc_abort(struct proc *p)
{
	if (p->vm)
		vm_destroy(p->vm);
	page_free(pa2page(PADDR(p->kstack)), PROC_KSTACK_ORDER);
	memset(p, 0, sizeof *p);
}

/* Copy argv onto the new stack; set the entry registers (rdi = argc, rsi = argv). */
static int
setup_stack(struct proc *p, int argc, char *const argv[])
{
	uint64_t sp = USTACKTOP;
	uint64_t uargv[PROC_MAX_ARGS + 1];

	for (int i = argc - 1; i >= 0; i--) {
		size_t len = strlen(argv[i]) + 1;
		sp -= len;
		int r = copyout(p->vm, sp, argv[i], len);
		if (r < 0)
			return r;
		uargv[i] = sp;
	}
	uargv[argc] = 0;
	sp = ROUNDDOWN(sp, 16) - ROUNDUP((argc + 1) * sizeof(uint64_t), 16);
	int r = copyout(p->vm, sp, uargv, (argc + 1) * sizeof(uint64_t));
	if (r < 0)
		return r;
	p->tf->rdi = (uint64_t)argc;
	p->tf->rsi = sp;
	p->tf->rsp = sp - 16;
	return 0;
}

struct proc *
proc_spawn(const char *name, int argc, char *const argv[], struct proc *parent, int *err)
{
	const struct user_program *prog = program_find(name);
	uint64_t entry, image_end;

	if (!prog) {
		*err = -E_NOT_FOUND;
		return NULL;
	}
	if (argc < 0 || argc > PROC_MAX_ARGS) {
		*err = -E_INVAL;
		return NULL;
	}
	struct proc *p = proc_alloc(name, parent, err);
	if (!p)
		return NULL;
	if (!(p->vm = vm_create())) {
		*err = -E_NO_MEM;
		goto fail;
	}
	p->vm->pid = p->pid;
	if ((*err = elf_load(p->vm, prog->image, prog->size, &entry, &image_end)) < 0)
		goto fail;
	p->vm->heap_start = p->vm->brk = image_end;
	if ((*err = vm_map_region(p->vm, USTACKBOTTOM, USTACKTOP, PROT_READ | PROT_WRITE, VR_STACK, OBJ_ANON, true)) < 0 ||
	    (*err = vm_map_region(p->vm, USTACKBOTTOM - PGSIZE, USTACKBOTTOM, PROT_NONE, VR_GUARD, OBJ_ANON, false)) < 0 ||
	    (*err = setup_stack(p, argc, argv)) < 0)
		goto fail;
	p->tf->rip = entry;
	p->tf->cs = GD_UT | 3;
	p->tf->ss = GD_UD | 3;
	p->tf->rflags = FL_IF | FL_RESERVED1;	/* user mode runs with interrupts on */
	p->state = P_RUNNABLE;
	return p;
fail:
	proc_abort(p);
	return NULL;
}

int
proc_fork(void)
{
	int err;
	struct proc *child = proc_alloc(curproc->name, curproc, &err);
	if (!child)
		return err;
	if (!(child->vm = vm_fork(curproc->vm))) {
		proc_abort(child);
		return -E_NO_MEM;
	}
	child->vm->pid = child->pid;
	fd_fork(child, curproc);
	*child->tf = *curproc->tf;
	child->tf->rax = 0;		/* fork returns 0 in the child */
	fpu_save_live(child);		/* the parent's registers, as they are now */
	child->state = P_RUNNABLE;
	return child->pid;
}

void
proc_exit(int status)
{
	struct proc *p = curproc;

	lcr3(kern_pml4_pa);		/* leave the address space before freeing it */
	vm_destroy(p->vm);
	p->vm = NULL;
	fd_close_all(p);
	for (int i = 0; i < NPROC; i++)
		if (procs[i].state != P_FREE && procs[i].parent == p)
			procs[i].parent = NULL;		/* orphans: the kernel reaps them */
	p->exit_status = status;
	p->state = P_ZOMBIE;
	if (p->parent)
		wakeup(p->parent);
	sched();			/* a zombie is never scheduled again */
	panic("zombie %d ran again", p->pid);
}

int
proc_reap(struct proc *p)
{
	assert(p->state == P_ZOMBIE);
	int status = p->exit_status;
	page_free(pa2page(PADDR(p->kstack)), PROC_KSTACK_ORDER);
	memset(p, 0, sizeof *p);
	return status;
}

int
proc_wait(int64_t pid, int *status)
{
	for (;;) {
		bool have_child = false;
		for (int i = 0; i < NPROC; i++) {
			struct proc *c = &procs[i];
			if (c->state == P_FREE || c->parent != curproc || (pid != -1 && c->pid != pid))
				continue;
			have_child = true;
			if (c->state == P_ZOMBIE) {
				int cpid = c->pid;
				*status = proc_reap(c);
				return cpid;
			}
		}
		if (!have_child)
			return -E_CHILD;
		if (curproc->killed)
			return -E_CHILD;	/* the caller dies on its way out */
		sleep(curproc);
	}
}

/* Whether p is a or a descendant of a (orphans belong to the kernel, not to a). */
static bool
proc_in_family(const struct proc *a, const struct proc *p)
{
	for (; p; p = p->parent)
		if (p == a)
			return true;
	return false;
}

/*
 * The rule is xv6's kill restricted to one's own family, so that a test or a fuzzer
 * running beside others cannot end them; the kernel (monitor `kill`) is not limited.
 */
int
proc_kill(struct proc *killer, int64_t pid)
{
	struct proc *p = proc_find(pid);
	if (!p || p->state == P_ZOMBIE)
		return -E_NOT_FOUND;
	if (killer && !proc_in_family(killer, p))
		return -E_PERM;
	p->killed = true;
	if (p->state == P_SLEEPING)
		p->state = P_RUNNABLE;		/* let it notice */
	return 0;
}

void
proc_kill_fault(const char *fmt, ...)
{
	va_list ap;

	cprintf("[pid %d] killed: ", curproc->pid);
	va_start(ap, fmt);
	vcprintf(fmt, ap);
	va_end(ap);
	cprintf("\n");
	proc_exit(WSTATUS_KILLED);
}

void
proc_print_all(void)
{
	static const char *const states[] = { "free", "embryo", "runnable", "running", "sleeping", "zombie" };
	cprintf("  PID  PPID STATE     NAME                 RESIDENT\n");
	for (int i = 0; i < NPROC; i++) {
		struct proc *p = &procs[i];
		if (p->state == P_FREE)
			continue;
		cprintf("%5d %5d %-9s %-20s %lu pages%s\n", p->pid, p->parent ? p->parent->pid : 0,
			states[p->state], p->name, p->vm ? p->vm->resident_pages : 0,
			p->killed ? " (killed)" : "");
	}
}
