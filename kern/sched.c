/*
 * kern/sched.c: round-robin scheduling on one CPU, driven by the PIT timer.
 *
 * The kernel's boot thread doubles as the scheduler: it picks the next runnable
 * process in table order after the last one run and swtch-es to it; the process runs
 * until its time slice ends (a timer interrupt from user mode calls yield), it
 * yields, sleeps in wait, or exits, each of which swtch-es back.  The kernel itself
 * is not preemptible: it runs with interrupts off; user mode runs with them on.
 * When nothing is runnable the boot thread zeroes free memory ahead of demand
 * (kern/mm/prezero.c), one frame or block per step with a window for interrupts
 * between steps, and halts until the next interrupt once there is nothing to zero.
 * A process may sleep for a number of timer ticks (sched_sleep_ticks).
 *
 * The timer is the 8254 PIT at SCHED_HZ on IRQ 0 (sched.hz=N, 19..10000, to preempt
 * more often in tests), with the 8259 PICs remapped to vectors 32..47 and every other
 * IRQ masked.
 *
 * x87/SSE state.  The registers belong to the process that runs: run() loads its saved
 * image (FXRSTOR) before switching to it and saves it (FXSAVE) when it comes back, on
 * every switch.  Saving eagerly costs two 512-byte copies a switch, which spos does
 * rarely; trapping the first use with CR0.TS would save them only for processes that
 * use the FPU, at the price of a #NM handler and an owner to track.  The kernel itself
 * is built -mgeneral-regs-only and never touches these registers, so between run()'s
 * two steps the live registers are the running process's (fork copies them from
 * there).  AVX state is not saved, and need not be: CR4.OSXSAVE stays clear, so AVX
 * instructions raise #UD.
 */
#include "inc/mmu.h"
#include "inc/string.h"
#include "inc/x86.h"
#include "kern/cmdline.h"
#include "kern/console.h"
#include "kern/mm/daemon.h"
#include "kern/mm/prezero.h"
#include "kern/gdt.h"
#include "kern/mm/pt/pt.h"
#include "kern/proc.h"
#include "kern/qemu.h"
#include "kern/mm/tlbtrap.h"
#include "kern/mm/vm.h"

#define SCHED_HZ	100
#define PIT_HZ		1193182
#define PIT_CH0		0x40
#define PIT_CMD		0x43
#define PIC1_CMD	0x20
#define PIC1_DATA	0x21
#define PIC2_CMD	0xA0
#define PIC2_DATA	0xA1
#define PIC_EOI		0x20

uint64_t sched_ticks, sched_switches;
uint64_t syscall_kstack_top;
static struct context *kernel_context;	/* the boot thread, while a process runs */
static int last_run = -1;

void swtch(struct context **save, struct context *load);

/* FXSAVE/FXRSTOR's control words: x87 FCW after FNINIT, SSE MXCSR at reset. */
#define FCW_INIT	0x037f
#define MXCSR_INIT	0x1f80
#define FX_FCW		0	/* byte offsets in an FXSAVE image */
#define FX_MXCSR	24

static void
fxsave(uint8_t *area)
{
	__asm__ volatile("fxsave64 %0" : "=m"(*(uint8_t (*)[FPU_STATE_SIZE])area));
}

static void
fxrstor(const uint8_t *area)
{
	__asm__ volatile("fxrstor64 %0" : : "m"(*(const uint8_t (*)[FPU_STATE_SIZE])area));
}

/*
 * Let user code use x87 and SSE: no emulation (EM), no task-switch trap (TS), WAIT
 * checks TS (MP), x87 errors as #MF (NE); FXSAVE covers the SSE registers (OSFXSR);
 * unmasked SSE exceptions raise #XM (OSXMMEXCPT).  A user #MF/#XM kills the process.
 */
static void
fpu_init(void)
{
	lcr0((rcr0() | CR0_MP | CR0_NE) & ~(CR0_EM | CR0_TS));
	lcr4(rcr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
	__asm__ volatile("fninit");
}

void
fpu_init_state(struct proc *p)
{
	memset(p->fpu, 0, sizeof p->fpu);	/* all registers zero, tag word empty */
	*(uint16_t *)(p->fpu + FX_FCW) = FCW_INIT;
	*(uint32_t *)(p->fpu + FX_MXCSR) = MXCSR_INIT;
}

void
fpu_save_live(struct proc *p)
{
	fxsave(p->fpu);
}

static uint64_t tick_sleepers;		/* processes in sched_sleep_ticks */

static void
timer_interrupt(struct trapframe *tf)
{
	sched_ticks++;
	outb(PIC1_CMD, PIC_EOI);
	if (tick_sleepers)
		wakeup(&sched_ticks);
	if (curproc && (tf->cs & 3) == 3)
		yield();		/* end of the time slice */
}

/*
 * Enable the FPU for user code; remap the PICs to T_IRQ0.., mask all but the timer,
 * start the PIT at SCHED_HZ or sched.hz=.  A sched.hz= that is not a number in 19..10000
 * (the PIT's 16-bit divisor, a tick the kernel can keep up with) stops the boot.
 */
void
sched_init(void)
{
	fpu_init();
	outb(PIC1_DATA, 0xFF);
	outb(PIC2_DATA, 0xFF);
	outb(PIC1_CMD, 0x11);		/* ICW1: edge, cascade, ICW4 follows */
	outb(PIC2_CMD, 0x11);
	outb(PIC1_DATA, T_IRQ0);	/* ICW2: vector base */
	outb(PIC2_DATA, T_IRQ0 + 8);
	outb(PIC1_DATA, 4);		/* ICW3: slave on IRQ 2 */
	outb(PIC2_DATA, 2);
	outb(PIC1_DATA, 1);		/* ICW4: 8086 mode */
	outb(PIC2_DATA, 1);
	outb(PIC1_DATA, 0xFE);		/* only IRQ 0 */
	outb(PIC2_DATA, 0xFF);

	unsigned long hz = SCHED_HZ;
	const char *v = cmdline_get("sched.hz");
	if (v) {
		char *end;
		hz = strtoul(v, &end, 10);
		if (end == v || *end != '\0' || hz < 19 || hz > 10000) {
			cprintf("sched: bad sched.hz=%s: at least 19 and at most 10000; not booting\n", v);
			qemu_exit(QEMU_EXIT_FAILURE);
		}
	}
	uint16_t divisor = (uint16_t)(PIT_HZ / hz);
	outb(PIT_CMD, 0x34);		/* channel 0, lo/hi byte, rate generator */
	outb(PIT_CH0, divisor & 0xFF);
	outb(PIT_CH0, divisor >> 8);
	trap_set_irq_handler(T_IRQ0 + 0, timer_interrupt);
}

/* Run p until it comes back to the boot thread. */
static void
run(struct proc *p)
{
	uint64_t kstack_top = (uint64_t)p->kstack + (PGSIZE << PROC_KSTACK_ORDER);

	curproc = p;
	p->state = P_RUNNING;
	tss_set_kernel_stack(kstack_top);
	syscall_kstack_top = kstack_top;
	tlbtrap_switch(p->vm);
	vm_switch();
	lcr3(pmap_root(&p->vm->pmap));
	sched_switches++;
	fxrstor(p->fpu);
	swtch(&kernel_context, p->context);
	fxsave(p->fpu);			/* harmless if p exited: its slot is not reused yet */
	lcr3(kern_pml4_pa);		/* p may have exited and freed its tables */
	curproc = NULL;
}

void
sched(void)
{
	struct proc *p = curproc;
	assert(p && p->state != P_RUNNING);
	swtch(&p->context, kernel_context);
}

void
yield(void)
{
	curproc->state = P_RUNNABLE;
	sched();
}

void
sleep(void *chan)
{
	curproc->chan = chan;
	curproc->state = P_SLEEPING;
	sched();
	curproc->chan = NULL;
}

void
wakeup(void *chan)
{
	for (int i = 0; i < NPROC; i++)
		if (procs[i].state == P_SLEEPING && procs[i].chan == chan)
			procs[i].state = P_RUNNABLE;
}

void
sched_sleep_ticks(uint64_t n)
{
	uint64_t deadline = sched_ticks + n;
	tick_sleepers++;
	while (sched_ticks < deadline && !curproc->killed)
		sleep(&sched_ticks);
	tick_sleepers--;
}

bool
sched_run_one(void)
{
	for (int i = 1; i <= NPROC; i++) {
		int idx = (last_run + i) % NPROC;
		if (procs[idx].state == P_RUNNABLE) {
			last_run = idx;
			run(&procs[idx]);
			return true;
		}
	}
	return false;
}

void
sched_step(void)
{
	daemon_tick(sched_ticks);
	if (sched_run_one())
		return;
	if (prezero_idle())
		__asm__ volatile("sti; nop; cli");	/* a pending interrupt comes in after the nop */
	else
		__asm__ volatile("sti; hlt; cli");	/* sti's shadow covers hlt: no lost wakeup */
}
