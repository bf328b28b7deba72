/*
 * The spos virtual address map, shared by the kernel, user programs and host tests.
 *
 * x86-64 uses 48-bit canonical virtual addresses: the low half belongs to the running
 * process, the high half to the kernel and is the same in every address space.
 *
 *  0xFFFFFFFFFFFFFFFF  +------------------------------------+
 *                      | kernel image: text RX, rodata R,   |  KERNBASE + KERNLOAD ..
 *                      | data/bss RW (NX), 4 KiB pages      |
 *  0xFFFFFFFF80000000  +------------------------------------+  KERNBASE (-2 GiB, -mcmodel=kernel)
 *                      |              unmapped              |
 *  0xFFFF808000000000  +------------------------------------+  KDIRECT + 512 GiB
 *                      | direct map of all physical memory  |  RW NX, 1 GiB pages
 *                      | (physical address p at KDIRECT + p)|  (2 MiB pages without PDPE1GB)
 *  0xFFFF800000000000  +------------------------------------+  KDIRECT
 *                      |    non-canonical hole (#GP)        |
 *  0x00007FFFFFFFFFFF  +------------------------------------+
 *                      | user stack, growing down           |  USTACKTOP
 *                      | user mmap area                     |
 *                      | user heap (sbrk), growing up       |
 *                      | user program text/data/bss         |  UTEXT
 *  0x0000000000400000  +------------------------------------+
 *                      | never mapped: catches NULL derefs  |
 *  0x0000000000000000  +------------------------------------+
 *
 * Physically, GRUB loads the kernel image at KERNLOAD (1 MiB); the 32-bit entry code in
 * boot/boot.S runs there, identity mapped, until it jumps to the high half.
 */
#ifndef SPOS_INC_MEMLAYOUT_H
#define SPOS_INC_MEMLAYOUT_H

#include "inc/ulong.h"

#define KERNBASE	_UL(0xFFFFFFFF80000000)	/* virtual base of the kernel image mapping */
#define KERNLOAD	_UL(0x100000)		/* physical load address of the kernel image */
#define KDIRECT		_UL(0xFFFF800000000000)	/* virtual base of the direct physical map */
#define KDIRECT_SIZE	(_UL(512) << 30)		/* one PML4 slot: at most 512 GiB of RAM */

#define UTEXT		_UL(0x400000)		/* lowest user address ever mapped */
#define UTOP		_UL(0x00007FFFFFFFF000)	/* one past the highest user page */
#define USTACKTOP	_UL(0x00007FFFFFFF0000)	/* top of the initial user stack */

#define KSTACKSIZE	(16 * 4096)		/* per-CPU boot stack and per-process kernel stacks */

#ifndef __ASSEMBLER__
#include <stdint.h>
/* Kernel virtual address of physical address pa, through the direct map. */
#define KADDR(pa)	((void *)((uint64_t)(pa) + KDIRECT))
/* Physical address of a direct-map or kernel-image virtual address. */
#define PADDR(va)	((uint64_t)(va) >= KERNBASE ? (uint64_t)(va) - KERNBASE : (uint64_t)(va) - KDIRECT)
#endif

#endif
