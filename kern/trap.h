/* Traps, interrupts and the saved register frame (kern/trap.c, kern/trapentry.S). */
#ifndef SPOS_KERN_TRAP_H
#define SPOS_KERN_TRAP_H

#ifndef __ASSEMBLER__
#include <stdint.h>
#endif

/* Exception vectors (Intel SDM vol. 3, table 6-1). */
#define T_DIVIDE	0
#define T_DEBUG		1
#define T_NMI		2
#define T_BRKPT		3
#define T_OFLOW		4
#define T_BOUND		5
#define T_ILLOP		6
#define T_DEVICE	7
#define T_DBLFLT	8
#define T_TSS		10
#define T_SEGNP		11
#define T_STACK		12
#define T_GPFLT		13
#define T_PGFLT		14
#define T_FPERR		16
#define T_ALIGN		17
#define T_MCHK		18
#define T_SIMDERR	19
#define T_VIRT		20
#define T_CTRLPROT	21
#define NEXCEPTIONS	32

#define T_IRQ0		32	/* legacy IRQ n arrives at vector T_IRQ0 + n */
#define NIRQS		16
#define T_SYSCALL	0x80	/* trapno of a `syscall` frame (no IDT gate; kern/syscallentry.S) */
#define T_SPURIOUS	0xFF	/* LAPIC spurious vector */

#ifdef __ASSEMBLER__
/* Save / restore the general registers in struct trapframe order (trapentry.S, syscallentry.S). */
.macro PUSH_GPRS
	pushq	%rax
	pushq	%rbx
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
	pushq	%rbp
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
.endm
.macro POP_GPRS
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rbp
	popq	%rdi
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rbx
	popq	%rax
.endm
#else
/*
 * The frame kern/trapentry.S builds on the kernel stack: general registers pushed by
 * the stub, then the vector and error code (0 when the CPU pushes none), then what
 * the CPU pushes itself.  Layout shared with kern/trapentry.S.
 */
struct trapframe {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t trapno;
	uint64_t err;
	uint64_t rip, cs, rflags, rsp, ss;	/* pushed by the CPU */
};

void idt_init(void);
void trap(struct trapframe *tf);
const char *trap_name(uint64_t trapno);
void print_trapframe(const struct trapframe *tf);

/* A handler for a hardware interrupt vector (T_IRQ0..); NULL to remove. */
void trap_set_irq_handler(int vector, void (*handler)(struct trapframe *tf));

#endif /* __ASSEMBLER__ */
#endif
