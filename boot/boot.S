/*
 * boot/boot.S: from GRUB's 32-bit protected mode to the 64-bit higher-half kernel.
 *
 * Two loaders enter _start in 32-bit protected mode with paging off: GRUB from the ISO
 * (multiboot2: EAX = 0x36d76289) and QEMU's -kernel (multiboot1: EAX = 0x2badb002);
 * EBX is the physical address of the boot information, which kern/multiboot.c reads.
 * This code lives in the .boot section, linked and loaded at its physical address
 * (1 MiB), so it runs before any paging exists.  It
 *   1. builds bootstrap tables mapping the first 1 GiB twice with 2 MiB pages:
 *      identity (so this code keeps running) and at KERNBASE (where the kernel is linked);
 *   2. enables PAE, long mode and no-execute (EFER.LME|NXE), then paging with CR0.WP;
 *   3. far-jumps into 64-bit code and on to kernel_entry in the high half, which sets up
 *      the boot stack and calls kmain(magic, mbi_pa).
 * kern/mm/pt/radix.c replaces these tables with the kernel's own as soon as C runs.
 */
#include "inc/mmu.h"
#include "inc/memlayout.h"

#define MB2_MAGIC	0xE85250D6
#define MB2_ARCH_I386	0
#define MB2_HDR_LEN	(mb2_header_end - mb2_header)

#define MB1_MAGIC	0x1BADB002
#define MB1_MEMORY_INFO	(1 << 1)	/* the loader must give the memory map */
#define MB1_AOUT_KLUDGE	(1 << 16)	/* load by the address fields below, not as an ELF */
#define MB1_FLAGS	(MB1_MEMORY_INFO | MB1_AOUT_KLUDGE)

	.section .multiboot, "a"
	.balign 8
mb2_header:
	.long MB2_MAGIC
	.long MB2_ARCH_I386
	.long MB2_HDR_LEN
	.long -(MB2_MAGIC + MB2_ARCH_I386 + MB2_HDR_LEN)
	/* entry address tag: start at _start (physical) */
	.balign 8
	.word 3, 0
	.long 12
	.long _start
	/* end tag */
	.balign 8
	.word 0, 0
	.long 8
mb2_header_end:

	/*
	 * Multiboot1, for QEMU's -kernel, which boots the grader's runs without firmware
	 * menus and GRUB.  QEMU refuses a 64-bit ELF, but with the a.out kludge it ignores
	 * the ELF headers: it copies the file from this header's offset minus
	 * (header_addr - load_addr) on, load_end_addr - load_addr bytes, to load_addr, and
	 * zeroes up to bss_end_addr.  That is right only because the file offsets of the
	 * loaded segments follow their physical addresses (kern/kernel.ld; the link checks
	 * it).  The addresses are physical, from kern/kernel.ld.
	 */
	.balign 4
mb1_header:
	.long MB1_MAGIC
	.long MB1_FLAGS
	.long -(MB1_MAGIC + MB1_FLAGS)
	.long mb1_header		/* header_addr (.boot is linked at its physical address) */
	.long __mb1_load_start		/* load_addr: the start of .boot */
	.long __mb1_load_end		/* load_end_addr: the end of .data */
	.long __mb1_bss_end		/* bss_end_addr: the end of .bss */
	.long _start			/* entry_addr */

	.section .boot.text, "ax"
	.code32
	.globl _start
_start:
	cli
	cld
	movl	%eax, %edi		/* multiboot magic: 1st argument of kmain */
	movl	%ebx, %esi		/* multiboot info (physical): 2nd argument */
	movl	$boot_stack_top, %esp

	/* Long mode needs CPUID 0x80000001 EDX bit 29; stop with a message if absent. */
	movl	$0x80000001, %eax
	cpuid
	btl	$29, %edx
	jnc	no_long_mode

	/* pml4[0] and pml4[511] -> pdpt_low / pdpt_high; both -> boot_pd (1 GiB of 2 MiB pages) */
	movl	$(boot_pdpt_low + PTE_P + PTE_W), boot_pml4
	movl	$(boot_pdpt_high + PTE_P + PTE_W), boot_pml4 + 511 * 8
	movl	$(boot_pd + PTE_P + PTE_W), boot_pdpt_low
	movl	$(boot_pd + PTE_P + PTE_W), boot_pdpt_high + 510 * 8
	xorl	%ecx, %ecx
1:	movl	%ecx, %eax
	shll	$21, %eax
	orl	$(PTE_P + PTE_W + PTE_PS), %eax
	movl	%eax, boot_pd(, %ecx, 8)
	incl	%ecx
	cmpl	$512, %ecx
	jne	1b

	movl	%cr4, %eax
	orl	$CR4_PAE, %eax
	movl	%eax, %cr4
	movl	$boot_pml4, %eax
	movl	%eax, %cr3
	movl	$MSR_EFER, %ecx
	rdmsr
	orl	$(EFER_LME | EFER_NXE), %eax
	wrmsr
	movl	%cr0, %eax
	orl	$(CR0_PG | CR0_PE | CR0_WP), %eax
	movl	%eax, %cr0

	lgdt	boot_gdtdesc
	ljmp	$GD_KT, $start64

no_long_mode:
	movl	$no_lm_msg, %esi
2:	lodsb
	testb	%al, %al
	jz	3f
	movw	$0x3F8, %dx
	outb	%al, %dx
	jmp	2b
3:	movw	$0xF4, %dx		/* isa-debug-exit: failure */
	movb	$1, %al
	outb	%al, %dx
4:	hlt
	jmp	4b

	.code64
start64:
	movw	$GD_KD, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	xorw	%ax, %ax
	movw	%ax, %fs
	movw	%ax, %gs
	movabsq	$kernel_entry, %rax
	jmpq	*%rax

	.section .boot.data, "aw"
	.balign 4096
boot_pml4:	.space 4096
boot_pdpt_low:	.space 4096
boot_pdpt_high:	.space 4096
boot_pd:	.space 4096
	.space 4096
boot_stack_top:
	.balign 8
boot_gdt:
	.quad 0				/* null */
	.quad 0x00AF9A000000FFFF	/* GD_KT: 64-bit code, DPL 0 */
	.quad 0x00CF92000000FFFF	/* GD_KD: data, DPL 0 */
boot_gdtdesc:
	.word boot_gdtdesc - boot_gdt - 1
	.long boot_gdt
no_lm_msg:
	.asciz "spos: this CPU has no 64-bit long mode\n"

	/* From here on: the high half. */
	.text
	.globl kernel_entry
kernel_entry:
	movabsq	$kstack_top, %rsp
	xorl	%ebp, %ebp		/* terminates backtraces */
	call	kmain
5:	hlt
	jmp	5b

	.bss
	.balign 4096
	.globl kstack_guard
kstack_guard:			/* left unmapped by kern/mm/pt/radix.c: an overflow faults */
	.space 4096
	.globl kstack
kstack:
	.space KSTACKSIZE
	.globl kstack_top
kstack_top:
