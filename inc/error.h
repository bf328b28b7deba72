/*
 * Error codes shared by the kernel and user space.  Functions return the negative
 * value (-E_NO_MEM); printf's %e verb prints the name.
 */
#ifndef SPOS_INC_ERROR_H
#define SPOS_INC_ERROR_H

enum {
	E_UNSPECIFIED = 1,	/* unspecified or unknown problem */
	E_INVAL,		/* invalid argument */
	E_NO_MEM,		/* out of memory */
	E_FAULT,		/* bad user address */
	E_NOT_FOUND,		/* no such object (program, process, mapping) */
	E_NO_PROC,		/* out of process slots */
	E_NO_SYS,		/* no such system call */
	E_PERM,			/* operation not permitted */
	E_EXISTS,		/* already exists / overlaps an existing mapping */
	E_CHILD,		/* no child to wait for */
	E_BAD_ELF,		/* program image is not a valid ELF64 executable */
	E_RANGE,		/* value or size out of range */
	E_BAD_FD,		/* file descriptor out of range or not open */
	MAXERROR
};

#endif
