/* System calls (kern/syscall.c). */
#ifndef SPOS_KERN_SYSCALL_H
#define SPOS_KERN_SYSCALL_H

#include "kern/trap.h"

/* Enable the syscall instruction (EFER.SCE, STAR, LSTAR, SFMASK). */
void syscall_init(void);
/* Called by kern/syscallentry.S with the user's registers. */
void syscall_trap(struct trapframe *tf);

extern uint64_t syscall_count;

#endif
