/* Per-process file descriptors (kern/fd.c). */
#ifndef SPOS_KERN_FD_H
#define SPOS_KERN_FD_H

#include <stdint.h>
#include "inc/syscall.h"

#define NOFILE		OPEN_MAX

struct proc;
struct device;

/* An open device; fork shares it between the two descriptor tables. */
struct file {
	const struct device *dev;
	uint32_t mode;		/* O_RDONLY, O_WRONLY or O_RDWR */
	uint32_t refcount;	/* descriptors referring to it, in all processes */
};

/*
 * Open the device at user address upath with flags (O_*) in p's lowest free
 * descriptor.  Returns it, or -E_FAULT (bad pointer), -E_NOT_FOUND (no such device,
 * or a path longer than DEV_PATH_MAX), -E_INVAL (unknown flags), -E_RANGE (all NOFILE
 * descriptors in use), -E_NO_MEM.
 */
int fd_open(struct proc *p, uint64_t upath, uint64_t flags);
/* Close descriptor fd of p: 0, or -E_BAD_FD if fd is out of range or not open. */
int fd_close(struct proc *p, int64_t fd);
/* Give child (fork) the parent's descriptors, sharing their files.  Cannot fail. */
void fd_fork(struct proc *child, struct proc *parent);
/* Close all of p's descriptors (exit). */
void fd_close_all(struct proc *p);
/*
 * mmap(addr, len, prot, flags, fd, off) on a device: -E_BAD_FD (fd not open),
 * -E_PERM (fd opened write-only), -E_INVAL (MAP_SHARED: spos has no shared memory;
 * MAP_PRIVATE missing; off not page aligned), or what the device's mmap returns.
 */
int64_t fd_mmap(struct proc *p, int64_t fd, uint64_t addr, uint64_t len, uint32_t prot, uint32_t flags,
		uint64_t off);

#endif
