/* Kernel access to user memory (kern/mm/uaccess.c). */
#ifndef SPOS_KERN_UACCESS_H
#define SPOS_KERN_UACCESS_H

#include <stddef.h>
#include <stdint.h>

struct vmspace;

/* Copy len bytes from user address usrc in vs. 0, -E_FAULT, or -E_NO_MEM. */
int copyin(struct vmspace *vs, void *dst, uint64_t usrc, size_t len);
/* Copy len bytes to user address udst in vs. 0, -E_FAULT, or -E_NO_MEM. */
int copyout(struct vmspace *vs, uint64_t udst, const void *src, size_t len);
/*
 * Copy a NUL-terminated string of at most max-1 characters from usrc.  Returns its
 * length, -E_FAULT, or -E_RANGE when no NUL comes within max bytes.
 */
int copyinstr(struct vmspace *vs, char *dst, uint64_t usrc, size_t max);

#endif
