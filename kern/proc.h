/* Processes (kern/proc.c) and the scheduler (kern/sched.c). */
#ifndef SPOS_KERN_PROC_H
#define SPOS_KERN_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include "kern/fd.h"
#include "kern/trap.h"
#include "kern/mm/vm.h"

#define NPROC		64
#define PROC_NAME_MAX	32
#define PROC_KSTACK_ORDER 2		/* 16 KiB kernel stack per process */
#define PROC_MAX_ARGS	16
#define PROC_ARG_MAX	128
#define FPU_STATE_SIZE	512		/* an FXSAVE image: x87, MMX and SSE registers */

enum proc_state {
	P_FREE = 0,	/* slot unused */
	P_EMBRYO,	/* being built by spawn or fork */
	P_RUNNABLE,	/* ready to run */
	P_RUNNING,	/* the current process */
	P_SLEEPING,	/* waiting in wait() for a child */
	P_ZOMBIE,	/* exited; its parent has not reaped it yet */
};

/* Callee-saved registers kept across swtch (kern/swtch.S); rip is swtch's return address. */
struct context {
	uint64_t r15, r14, r13, r12, rbx, rbp, rip;
};

/*
 * One process.  Fields are only touched with interrupts off (the kernel is not
 * preemptible and runs on one CPU), so no locks.
 */
struct proc {
	enum proc_state state;
	int pid;			/* 1 .. PID_MAX (inc/syscall.h), never reused */
	char name[PROC_NAME_MAX];
	struct proc *parent;		/* NULL: started by the kernel (monitor, run=) */
	struct vmspace *vm;
	uint8_t *kstack;		/* base of the kernel stack (direct-map address) */
	struct trapframe *tf;		/* user registers, at the top of kstack */
	struct context *context;	/* where swtch resumes it */
	void *chan;			/* what it sleeps on, when P_SLEEPING */
	bool killed;			/* die at the next return to user mode */
	int exit_status;		/* for wait(): exit code, or WSTATUS_KILLED | cause */
	uint64_t start_tick;
	struct file *files[NOFILE];	/* open devices by descriptor (kern/fd.c) */
	/* x87/SSE registers while it does not run (kern/sched.c); FXSAVE wants 16-byte alignment */
	uint8_t fpu[FPU_STATE_SIZE] __attribute__((aligned(16)));
};

extern struct proc procs[NPROC];
extern struct proc *curproc;		/* NULL while the kernel's own thread runs */

void proc_init(void);
/*
 * Start the embedded program `name` with argv[0..argc) as a child of parent (NULL for
 * the kernel).  Returns the new process or NULL with *err set (-E_NOT_FOUND,
 * -E_NO_PROC, -E_NO_MEM, -E_BAD_ELF, -E_INVAL).
 */
struct proc *proc_spawn(const char *name, int argc, char *const argv[], struct proc *parent, int *err);
/* fork the current process: child pid, or -E_NO_PROC / -E_NO_MEM. */
int proc_fork(void);
/* End the current process with status; never returns. */
void proc_exit(int status) __attribute__((noreturn));
/*
 * wait for a child (pid, or -1 for any): its pid, with *status set; -E_CHILD if none.
 * pid is compared in all its 64 bits.
 */
int proc_wait(int64_t pid, int *status);
/*
 * killer (NULL: the kernel) marks pid killed.  A process may kill itself and its
 * descendants only; the kernel may kill any process.  0, -E_NOT_FOUND if no live
 * process has that pid (all 64 bits compared), or -E_PERM.
 */
int proc_kill(struct proc *killer, int64_t pid);
/* Kill the current process for a fault: print the one-line reason, then exit. */
void proc_kill_fault(const char *fmt, ...) __attribute__((noreturn));
struct proc *proc_find(int64_t pid);
/* Reap a zombie whose parent is the kernel; returns its status. */
int proc_reap(struct proc *p);
/* Processes that are not free. */
int proc_count_live(void);
/* Print the process table (monitor `ps`). */
void proc_print_all(void);

/* ---- scheduler (kern/sched.c) ---- */
void sched_init(void);
/* Switch from the current process to the kernel thread; the caller set its state. */
void sched(void);
/* Give up the CPU from a process's kernel context; it stays runnable. */
void yield(void);
/* Sleep on chan until wakeup(chan), from a process's kernel context. */
void sleep(void *chan);
void wakeup(void *chan);
/* Sleep for n timer ticks (less if killed), from a process's kernel context. */
void sched_sleep_ticks(uint64_t n);
/* From the kernel thread: run the next runnable process until it yields; false if none. */
bool sched_run_one(void);
/* From the kernel thread: run processes, or halt until an interrupt if none can run. */
void sched_step(void);
extern uint64_t sched_ticks, sched_switches, procs_created;
/* Give p the x87/SSE state of a fresh FNINIT, with SSE exceptions masked (MXCSR 0x1f80). */
void fpu_init_state(struct proc *p);
/* Store the registers of the running process (the live ones) as p's state: fork. */
void fpu_save_live(struct proc *p);
/* The top of the running process's kernel stack, for kern/syscallentry.S. */
extern uint64_t syscall_kstack_top;

#endif
