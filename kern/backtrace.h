/* Kernel backtraces with symbol names (kern/backtrace.c). */
#ifndef SPOS_KERN_BACKTRACE_H
#define SPOS_KERN_BACKTRACE_H
#include <stdint.h>

/* Name of the kernel function containing addr and addr's offset in it; NULL if unknown. */
const char *ksym_lookup(uint64_t addr, uint64_t *offset);
/* Print "  #n 0x... <func+off>" for each frame of the rbp chain starting at rbp. */
void backtrace_print(uint64_t rbp);
/* Print one address as 0x... <func+off>. */
void print_kaddr(uint64_t addr);

#endif
