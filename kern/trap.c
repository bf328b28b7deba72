/*
 * kern/trap.c: the interrupt descriptor table and trap dispatch.
 *
 * Every vector has a stub in kern/trapentry.S that builds a struct trapframe and calls
 * trap().  Exceptions raised by kernel code are bugs: trap() prints the vector, error
 * code, CR2, RIP, the registers and a backtrace, then stops QEMU with the failure
 * status.  Hardware interrupts go to handlers registered with trap_set_irq_handler.
 * Traps from ring 3 are the process's: a page fault goes to the model TLB when a
 * reserved bit is set (a fake-invalid entry: kern/mm/tlbtrap.c), else to vm_fault
 * (kern/mm/fault.c); one that cannot be resolved, and every other exception, kills
 * only that process with a one-line reason (kern/proc.c).  The exception: a debug trap
 * that ends the model TLB's single step of an instruction after a refill.
 */
#include <stdint.h>
#include "inc/error.h"
#include "inc/mmu.h"
#include "inc/x86.h"
#include "kern/console.h"
#include "kern/backtrace.h"
#include "kern/qemu.h"
#include "kern/proc.h"
#include "kern/mm/tlbtrap.h"
#include "kern/trap.h"

struct gate {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t reserved;
} __attribute__((packed));

#define GATE_INTERRUPT	0x8E	/* present, DPL 0, 64-bit interrupt gate (IF cleared) */
#define GATE_DPL3	0x60	/* callable with int from ring 3 */

static struct gate idt[256];
static void (*irq_handlers[256])(struct trapframe *tf);
extern const uint64_t trap_vectors[256];

static const char *const exception_names[NEXCEPTIONS] = {
	"divide error", "debug", "non-maskable interrupt", "breakpoint", "overflow",
	"bound range exceeded", "invalid opcode", "device not available", "double fault",
	"coprocessor segment overrun", "invalid TSS", "segment not present",
	"stack-segment fault", "general protection fault", "page fault", "reserved",
	"x87 floating-point error", "alignment check", "machine check", "SIMD floating-point",
	"virtualization", "control protection",
};

const char *
trap_name(uint64_t trapno)
{
	if (trapno < NEXCEPTIONS)
		return exception_names[trapno] ? exception_names[trapno] : "reserved";
	if (trapno >= T_IRQ0 && trapno < T_IRQ0 + NIRQS)
		return "hardware interrupt";
	return "unknown trap";
}

static void
set_gate(int vector, uint64_t handler, uint8_t attr, uint8_t ist)
{
	idt[vector] = (struct gate){
		.offset_low = handler & 0xFFFF,
		.selector = GD_KT,
		.ist = ist,
		.type_attr = attr,
		.offset_mid = (handler >> 16) & 0xFFFF,
		.offset_high = (uint32_t)(handler >> 32),
	};
}

void
idt_init(void)
{
	for (int v = 0; v < 256; v++)
		set_gate(v, trap_vectors[v], GATE_INTERRUPT, 0);
	set_gate(T_DBLFLT, trap_vectors[T_DBLFLT], GATE_INTERRUPT, 1);	/* IST1 */
	set_gate(T_BRKPT, trap_vectors[T_BRKPT], GATE_INTERRUPT | GATE_DPL3, 0);

	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr = { sizeof idt - 1, (uint64_t)idt };
	__asm__ volatile("lidt %0" : : "m"(idtr));
}

void
trap_set_irq_handler(int vector, void (*handler)(struct trapframe *tf))
{
	irq_handlers[vector] = handler;
}

/* Describe a page-fault error code: "write, not present, kernel". */
static void
print_pf_err(uint64_t err)
{
	const char *access = (err & PFERR_I) ? "instruction fetch" : (err & PFERR_W) ? "write" : "read";

	cprintf(" [%s, %s, %s%s]", access, (err & PFERR_P) ? "protection violation" : "not present",
		(err & PFERR_U) ? "user" : "kernel", (err & PFERR_RSVD) ? ", reserved bit" : "");
}

void
print_trapframe(const struct trapframe *tf)
{
	cprintf("trap %lu (%s) err 0x%lx", tf->trapno, trap_name(tf->trapno), tf->err);
	if (tf->trapno == T_PGFLT)
		print_pf_err(tf->err);
	cprintf("\n  cr2 0x%016lx  rip ", rcr2());
	print_kaddr(tf->rip);
	cprintf("\n  cs  0x%lx rflags 0x%lx rsp 0x%016lx ss 0x%lx\n", tf->cs, tf->rflags, tf->rsp, tf->ss);
	cprintf("  rax 0x%016lx rbx 0x%016lx rcx 0x%016lx rdx 0x%016lx\n", tf->rax, tf->rbx, tf->rcx, tf->rdx);
	cprintf("  rsi 0x%016lx rdi 0x%016lx rbp 0x%016lx r8  0x%016lx\n", tf->rsi, tf->rdi, tf->rbp, tf->r8);
	cprintf("  r9  0x%016lx r10 0x%016lx r11 0x%016lx r12 0x%016lx\n", tf->r9, tf->r10, tf->r11, tf->r12);
	cprintf("  r13 0x%016lx r14 0x%016lx r15 0x%016lx\n", tf->r13, tf->r14, tf->r15);
}

/* An exception in kernel mode is a kernel bug: report it and stop the machine. */
static void __attribute__((noreturn))
kernel_fault(struct trapframe *tf)
{
	cprintf("kernel fault: ");
	print_trapframe(tf);
	/* the faulting function's frame, then its callers */
	cprintf("  #  ");
	print_kaddr(tf->rip);
	cprintf("\n");
	backtrace_print(tf->rbp);
	qemu_exit(QEMU_EXIT_FAILURE);
}

/* A page fault from ring 3: resolve it, or kill the process with the reason. */
static void
user_page_fault(struct trapframe *tf)
{
	uint64_t va = rcr2();
	if (tf->err & PFERR_RSVD) {		/* a fake-invalid entry: a model TLB miss */
		if (tlbtrap_fault(curproc->vm, va, &tf->rflags))
			return;
		proc_kill_fault("page fault at va 0x%lx (reserved bit set) rip 0x%lx", va, tf->rip);
	}
	int r = vm_fault(curproc->vm, va, (uint32_t)tf->err);

	if (r == -E_NO_MEM)
		proc_kill_fault("out of memory at va 0x%lx rip 0x%lx", va, tf->rip);
	if (r < 0) {
		const char *access = (tf->err & PFERR_I) ? "instruction fetch" : (tf->err & PFERR_W) ? "write" : "read";
		proc_kill_fault("page fault at va 0x%lx (%s, %s) rip 0x%lx", va, access,
				(tf->err & PFERR_P) ? "protection violation" : "not present", tf->rip);
	}
}

static void
user_trap(struct trapframe *tf)
{
	curproc->tf = tf;
	if (tf->trapno != T_PGFLT && tlbtrap_retire(curproc->vm, &tf->rflags) && tf->trapno == T_DEBUG)
		return;		/* the model's single step (kern/mm/tlbtrap.c) is over */
	if (tf->trapno == T_PGFLT)
		user_page_fault(tf);
	else
		proc_kill_fault("%s rip 0x%lx", trap_name(tf->trapno), tf->rip);
}

void
trap(struct trapframe *tf)
{
	bool from_user = (tf->cs & 3) == 3;

	if (tf->trapno >= T_IRQ0 && tf->trapno < T_IRQ0 + NIRQS) {
		if (irq_handlers[tf->trapno])
			irq_handlers[tf->trapno](tf);
		/* else: a spurious or masked IRQ (e.g. the PIC's IRQ 7): ignore it */
	} else if (!from_user)
		kernel_fault(tf);
	else
		user_trap(tf);
	if (from_user && curproc->killed)
		proc_exit(WSTATUS_KILLED);
}
