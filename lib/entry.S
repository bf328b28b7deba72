/*
 * lib/entry.S: where every user program starts.
 *
 * The kernel enters _start in ring 3 with rdi = argc, rsi = argv (a NULL-terminated
 * array of strings on the user stack) and rsp 16-byte aligned.  rbp is cleared so
 * that frame-pointer backtraces stop here; libmain never returns.
 */
	.text
	.globl _start
	.type _start, @function
_start:
	xorl	%ebp, %ebp
	andq	$-16, %rsp		/* the ABI's alignment at a call, whatever we got */
	call	libmain
1:	ud2				/* libmain calls exit: never reached */
	jmp	1b
	.size _start, . - _start

	.section .note.GNU-stack, "", @progbits
