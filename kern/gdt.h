/* Segment descriptors and the TSS (kern/gdt.c). */
#ifndef SPOS_KERN_GDT_H
#define SPOS_KERN_GDT_H
#include <stdint.h>
void gdt_init(void);
/* The stack the CPU switches to on a trap from ring 3. */
void tss_set_kernel_stack(uint64_t rsp0);
#endif
