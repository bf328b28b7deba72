/* Running user programs from the kernel: run= and the monitor (kern/run.c). */
#ifndef SPOS_KERN_RUN_H
#define SPOS_KERN_RUN_H

#include <stdbool.h>

/*
 * Start the program named by cmd ("NAME ARG..." with spaces, or "NAME,ARG,..." with
 * commas) as a child of the kernel.  Returns its pid or a negative error.
 */
int run_start(const char *cmd);
/*
 * Schedule processes until process pid has exited (and, with all, until every process
 * has); return its wait status.
 */
int run_wait(int pid, bool all);
/* Reap zombies whose parent is the kernel, reporting background ones. */
void run_reap_orphans(void);
/* Boot with run=CMD: run it, check for leaks, exit QEMU with the result. */
void run_boot_program(const char *cmd) __attribute__((noreturn));

#endif
