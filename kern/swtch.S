/*
 * swtch(struct context **save, struct context *load): save the callee-saved registers
 * on the current stack, store that stack pointer in *save, switch to `load` and pop
 * its registers; `ret` resumes wherever `load` last called swtch (or trapret for a
 * new process).  The caller-saved registers are saved by the C calling convention.
 */
	.text
	.globl swtch
swtch:
	pushq	%rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	movq	%rsp, (%rdi)
	movq	%rsi, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	ret
