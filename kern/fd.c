/*
 * kern/fd.c: file descriptors, the least that lets a process open a device and map it.
 *
 * Unix's model, cut down: a descriptor is an index into the process's table of
 * NOFILE pointers to struct file; a file is one open of a device (kern/dev.c) with its
 * access mode.  fork shares the files (refcount), as Unix does, so a descriptor opened
 * before fork is open in both; exit closes every descriptor.  There is no file
 * system, no read or write, no offset and no dup: the namespace is the fixed device
 * table, and what a device does is mmap.  Mappings do not hold their file: closing a
 * descriptor leaves what was mapped through it in place (as in POSIX), since the
 * mapping owns its memory object.
 */
#include "inc/error.h"
#include "inc/mmu.h"
#include "inc/syscall.h"
#include "kern/dev.h"
#include "kern/mm/kmalloc.h"
#include "kern/mm/uaccess.h"
#include "kern/proc.h"
#include "kern/fd.h"

int
fd_open(struct proc *p, uint64_t upath, uint64_t flags)
{
	char path[DEV_PATH_MAX];
	int r = copyinstr(p->vm, path, upath, sizeof path);
	if (r < 0)
		return r == -E_RANGE ? -E_NOT_FOUND : r;
	if ((flags & ~(uint64_t)O_ACCMODE) || (flags & O_ACCMODE) == O_ACCMODE)
		return -E_INVAL;
	const struct device *dev = dev_lookup(path);
	if (!dev)
		return -E_NOT_FOUND;
	int fd = 0;
	while (fd < NOFILE && p->files[fd])
		fd++;
	if (fd == NOFILE)
		return -E_RANGE;
	struct file *f = kmalloc(sizeof *f);
	if (!f)
		return -E_NO_MEM;
	f->dev = dev;
	f->mode = (uint32_t)flags;
	f->refcount = 1;
	p->files[fd] = f;
	return fd;
}

/* The file open as fd in p, or NULL. */
static struct file *
fd_file(struct proc *p, int64_t fd)
{
	return fd >= 0 && fd < NOFILE ? p->files[fd] : NULL;
}

int
fd_close(struct proc *p, int64_t fd)
{
	struct file *f = fd_file(p, fd);
	if (!f)
		return -E_BAD_FD;
	p->files[fd] = NULL;
	if (--f->refcount == 0)
		kfree(f);
	return 0;
}

void
fd_fork(struct proc *child, struct proc *parent)
{
	for (int fd = 0; fd < NOFILE; fd++)
		if ((child->files[fd] = parent->files[fd]) != NULL)
			child->files[fd]->refcount++;
}

void
fd_close_all(struct proc *p)
{
	for (int fd = 0; fd < NOFILE; fd++)
		if (p->files[fd])
			fd_close(p, fd);
}

int64_t
fd_mmap(struct proc *p, int64_t fd, uint64_t addr, uint64_t len, uint32_t prot, uint32_t flags,
	uint64_t off)
{
	struct file *f = fd_file(p, fd);
	if (!f)
		return -E_BAD_FD;
	if (f->mode == O_WRONLY)
		return -E_PERM;
	if ((flags & MAP_SHARED) || !(flags & MAP_PRIVATE) || (off & (PGSIZE - 1)))
		return -E_INVAL;
	return f->dev->mmap(p->vm, addr, len, prot, flags);
}
