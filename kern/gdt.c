/*
 * kern/gdt.c: the global descriptor table and the task state segment.
 *
 * Long mode ignores segment bases and limits, but the GDT still names the privilege
 * levels and the TSS supplies the stacks the CPU switches to: rsp0 on entry from ring
 * 3, and IST1 for double faults, so a kernel stack overflow is still reported.
 * The descriptor order is fixed by syscall/sysret (see inc/mmu.h): kernel code, kernel
 * data, user data, user code.
 */
#include <stdint.h>
#include "inc/mmu.h"
#include "inc/memlayout.h"
#include "kern/trap.h"
#include "kern/gdt.h"

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

static struct tss tss;
static uint8_t double_fault_stack[4096] __attribute__((aligned(16)));

/* Access byte | flags for each flat segment. */
#define SEG_KCODE	0x00AF9A000000FFFFUL	/* present, DPL 0, code, long mode */
#define SEG_KDATA	0x00CF92000000FFFFUL	/* present, DPL 0, data */
#define SEG_UDATA	0x00CFF2000000FFFFUL	/* present, DPL 3, data */
#define SEG_UCODE	0x00AFFA000000FFFFUL	/* present, DPL 3, code, long mode */

static uint64_t gdt[7] = {
	0,
	SEG_KCODE,
	SEG_KDATA,
	SEG_UDATA,
	SEG_UCODE,
	0, 0,		/* GD_TSS: 16-byte system descriptor, filled in by gdt_init */
};

struct descriptor_pointer {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

void
gdt_init(void)
{
	uint64_t base = (uint64_t)&tss;
	uint64_t limit = sizeof tss - 1;

	tss.ist[0] = (uint64_t)double_fault_stack + sizeof double_fault_stack;
	tss.iomap_base = sizeof tss;
	gdt[GD_TSS / 8] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) | (0x89UL << 40) |
			  (((limit >> 16) & 0xF) << 48) | (((base >> 24) & 0xFF) << 56);
	gdt[GD_TSS / 8 + 1] = base >> 32;

	struct descriptor_pointer gdtr = { sizeof gdt - 1, (uint64_t)gdt };
	__asm__ volatile(
		"lgdt %0\n\t"
		"pushq %1\n\t"
		"leaq 1f(%%rip), %%rax\n\t"
		"pushq %%rax\n\t"
		"lretq\n"
		"1:\n\t"
		"movw %w2, %%ds\n\t"
		"movw %w2, %%es\n\t"
		"movw %w2, %%ss\n\t"
		: : "m"(gdtr), "i"((uint64_t)GD_KT), "r"(GD_KD) : "rax", "memory");
	__asm__ volatile("ltr %w0" : : "r"(GD_TSS));
}

void
tss_set_kernel_stack(uint64_t rsp0)
{
	tss.rsp[0] = rsp0;
}
