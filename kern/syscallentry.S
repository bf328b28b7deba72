/*
 * kern/syscallentry.S: the `syscall` instruction's entry point (MSR_LSTAR).
 *
 * spos uses syscall rather than a software interrupt because it is the x86-64 system
 * call instruction (what Linux and FreeBSD use) and skips the IDT and the hardware
 * stack switch.  The CPU saves the user rip in rcx and rflags in r11, loads the kernel
 * code segment and clears IF (MSR_SFMASK), but leaves rsp on the user stack: the
 * entry switches to the process's kernel stack through a global (one CPU, interrupts
 * off) and builds the same struct trapframe an interrupt would, so the return path is
 * the common trapret/iretq.  Returning with iretq rather than sysret also avoids
 * sysret's #GP-in-ring-0 on a non-canonical rcx.
 */
#include "inc/mmu.h"
#include "kern/trap.h"

	.text
	.globl syscall_entry
syscall_entry:
	movq	%rsp, syscall_user_rsp(%rip)
	movq	syscall_kstack_top(%rip), %rsp
	pushq	$(GD_UD | 3)			/* ss */
	pushq	syscall_user_rsp(%rip)		/* rsp */
	pushq	%r11				/* rflags */
	pushq	$(GD_UT | 3)			/* cs */
	pushq	%rcx				/* rip */
	pushq	$0				/* err */
	pushq	$T_SYSCALL			/* trapno */
	PUSH_GPRS
	cld
	movq	%rsp, %rdi
	xorl	%ebp, %ebp
	call	syscall_trap
	jmp	trapret

	.bss
	.balign 8
syscall_user_rsp:
	.quad 0
