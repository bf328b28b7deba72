/* The kernel monitor on the serial console (kern/monitor.c). */
#ifndef SPOS_KERN_MONITOR_H
#define SPOS_KERN_MONITOR_H

/* Read and run commands until `exit` (which stops QEMU) or end of input. */
void monitor(void);
/* Run one command line; returns -1 if the command asks the monitor to stop. */
int monitor_runcmd(char *line);

#endif
