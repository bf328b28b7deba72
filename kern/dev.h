/* The device namespace: /dev/zero and /dev/hugemap (kern/dev.c). */
#ifndef SPOS_KERN_DEV_H
#define SPOS_KERN_DEV_H

#include <stdint.h>

struct vmspace;

/*
 * A device a process may open.  mmap maps it privately into vs (MAP_PRIVATE, maybe
 * MAP_FIXED; arguments not yet checked beyond the flags): the mapped address or -E_*.
 */
struct device {
	const char *path;
	int64_t (*mmap)(struct vmspace *vs, uint64_t addr, uint64_t len, uint32_t prot, uint32_t flags);
};

/* The device named path, or NULL. */
const struct device *dev_lookup(const char *path);

#endif
