/*
 * x86-64 4-level paging: the definitions the MMU imposes.
 *
 * A 48-bit virtual address splits into four 9-bit table indexes and a 12-bit offset:
 *
 *   47      39 38      30 29      21 20      12 11         0
 *  +----------+----------+----------+----------+------------+
 *  | PML4 idx | PDPT idx |  PD idx  |  PT idx  |   offset   |
 *  +----------+----------+----------+----------+------------+
 *
 * A PDPT entry with PTE_PS maps a 1 GiB page, a PD entry with PTE_PS a 2 MiB page.
 * Level numbers here: 3 = PML4, 2 = PDPT, 1 = PD, 0 = PT.
 */
#ifndef SPOS_INC_MMU_H
#define SPOS_INC_MMU_H

#include "inc/ulong.h"

#define PGSHIFT		12
#define PGSIZE		(_UL(1) << PGSHIFT)		/* 4 KiB */
#define PG2M_SHIFT	21
#define PG2M		(_UL(1) << PG2M_SHIFT)		/* 2 MiB */
#define PG1G_SHIFT	30
#define PG1G		(_UL(1) << PG1G_SHIFT)		/* 1 GiB */
#define NPTENTRIES	512

#define PTX_SHIFT(level)	(PGSHIFT + 9 * (level))
#define PTX(va, level)		(((uint64_t)(va) >> PTX_SHIFT(level)) & 0x1FF)

/* Page-table entry bits. */
#define PTE_P		_UL(0x001)		/* present */
#define PTE_W		_UL(0x002)		/* writable */
#define PTE_U		_UL(0x004)		/* user accessible */
#define PTE_PWT		_UL(0x008)
#define PTE_PCD		_UL(0x010)
#define PTE_A		_UL(0x020)		/* accessed */
#define PTE_D		_UL(0x040)		/* dirty */
#define PTE_PS		_UL(0x080)		/* page size: 2 MiB in a PD, 1 GiB in a PDPT */
#define PTE_G		_UL(0x100)		/* global */
#define PTE_AVAIL	_UL(0xE00)		/* bits 9-11: ignored by the MMU, ours */
#define PTE_NX		(_UL(1) << 63)	/* no execute (needs EFER.NXE) */
#define PTE_TRAP	(_UL(1) << 51)	/* reserved bit: model-TLB fake-invalid (kern/mm/tlbtrap.c) */
#define PTE_ADDR_MASK	_UL(0x0007FFFFFFFFF000)	/* bits 12-50: bit 51 is PTE_TRAP */
#define PTE_ADDR(pte)	((pte) & PTE_ADDR_MASK)

/* Control register bits. */
#define CR0_PE		_UL(0x00000001)
#define CR0_MP		_UL(0x00000002)	/* WAIT/FWAIT honour TS */
#define CR0_EM		_UL(0x00000004)	/* no x87: x87 and SSE instructions raise #UD/#NM */
#define CR0_TS		_UL(0x00000008)	/* task switched: the next FPU use raises #NM */
#define CR0_NE		_UL(0x00000020)	/* x87 errors raise #MF, not the legacy IRQ 13 */
#define CR0_WP		_UL(0x00010000)	/* supervisor writes honour read-only pages */
#define CR0_PG		_UL(0x80000000)
#define CR4_PAE		_UL(0x00000020)
#define CR4_PGE		_UL(0x00000080)
#define CR4_OSFXSR	_UL(0x00000200)
#define CR4_OSXMMEXCPT	_UL(0x00000400)	/* unmasked SSE exceptions raise #XM */
#define CR4_SMEP	_UL(0x00100000)
#define CR4_SMAP	_UL(0x00200000)

/* RFLAGS bits */
#define FL_TF		_UL(0x00000100)	/* trap flag: single-step */
#define FL_IF		_UL(0x00000200)	/* interrupts enabled */
#define FL_DF		_UL(0x00000400)	/* string direction */
#define FL_AC		_UL(0x00040000)	/* alignment check (SMAP: user access allowed) */
#define FL_RESERVED1	_UL(0x00000002)	/* always 1 */

#define MSR_EFER	0xC0000080
#define EFER_SCE	_UL(0x001)		/* syscall/sysret */
#define EFER_LME	_UL(0x100)		/* long mode enable */
#define EFER_NXE	_UL(0x800)		/* no-execute enable */
#define MSR_STAR	0xC0000081
#define MSR_LSTAR	0xC0000082
#define MSR_SFMASK	0xC0000084
#define MSR_FS_BASE	0xC0000100
#define MSR_GS_BASE	0xC0000101
#define MSR_KERNEL_GS_BASE 0xC0000102

/* Page-fault error code bits. */
#define PFERR_P		0x01	/* 0: not present, 1: protection violation */
#define PFERR_W		0x02	/* write access */
#define PFERR_U		0x04	/* from user mode */
#define PFERR_RSVD	0x08	/* reserved bit set in an entry */
#define PFERR_I		0x10	/* instruction fetch */

/* Segment selectors; the order is the one syscall/sysret requires (see kern/gdt.c). */
#define GD_KT		0x08	/* kernel code */
#define GD_KD		0x10	/* kernel data */
#define GD_UD		0x18	/* user data (sysret: STAR[63:48] + 8) */
#define GD_UT		0x20	/* user code, 64-bit (sysret: STAR[63:48] + 16) */
#define GD_TSS		0x28	/* task state segment, 16 bytes */

#endif
