/* Kernel heap for small objects (kern/mm/kmalloc.c). */
#ifndef SPOS_KERN_KMALLOC_H
#define SPOS_KERN_KMALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kern/mm/lib/page.h"

/* A zeroed object of size bytes (at most KMALLOC_MAX), or NULL when out of memory. */
void *kmalloc(size_t size);
/* Return an object from kmalloc; NULL is ignored. */
void kfree(void *p);
/* Whether pg is a slab page (its refcount counts objects, not mappings). */
bool kmalloc_is_slab(const struct page *pg);
/* Bytes handed out and not yet freed (rounded to size classes). */
uint64_t kmalloc_bytes_in_use(void);

#define KMALLOC_MAX 2048

#endif
