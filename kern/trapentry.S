/*
 * kern/trapentry.S: one stub per IDT vector (0..255), the common save path and the
 * return path.  Each stub makes the frame uniform (pushes a 0 error code where the CPU
 * pushes none), pushes its vector and jumps to alltraps, which saves the general
 * registers as struct trapframe (kern/trap.h) and calls trap(tf).
 */
#include "kern/trap.h"

	.altmacro
	.text

.macro vector n
	.balign 16
vector\n:
	.if !(\n == 8 || \n == 10 || \n == 11 || \n == 12 || \n == 13 || \n == 14 || \n == 17 || \n == 21 || \n == 29 || \n == 30)
	pushq	$0
	.endif
	pushq	$\n
	jmp	alltraps
.endm

.macro vector_addr n
	.quad vector\n
.endm

	.globl trap_vectors_start
trap_vectors_start:
	.set i, 0
	.rept 256
	vector %i
	.set i, i + 1
	.endr

alltraps:
	PUSH_GPRS
	cld
	movq	%rsp, %rdi
	xorl	%ebp, %ebp	/* the backtrace of a trap ends at the frame */
	call	trap
	/* trap() returns only to resume the interrupted context */
	.globl trapret
trapret:
	POP_GPRS
	addq	$16, %rsp	/* trapno and err */
	iretq

	.section .rodata
	.balign 8
	.globl trap_vectors
trap_vectors:
	.set i, 0
	.rept 256
	vector_addr %i
	.set i, i + 1
	.endr
