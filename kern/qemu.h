/*
 * Leaving QEMU through its isa-debug-exit device (iobase 0xf4): writing v makes QEMU
 * exit with status (v << 1) | 1.  A triple fault exits 0 and a plain halt never exits,
 * so neither can pass for success: the grader accepts only QEMU_STATUS_SUCCESS.
 */
#ifndef SPOS_KERN_QEMU_H
#define SPOS_KERN_QEMU_H

#define QEMU_EXIT_SUCCESS	0x10	/* QEMU exit status 33 */
#define QEMU_EXIT_FAILURE	0x11	/* QEMU exit status 35 */
#define QEMU_STATUS_SUCCESS	((QEMU_EXIT_SUCCESS << 1) | 1)
#define QEMU_STATUS_FAILURE	((QEMU_EXIT_FAILURE << 1) | 1)

/* Exit QEMU with the given code; on a machine without the device, halt forever. */
void qemu_exit(int code) __attribute__((noreturn));

#endif
