/*
 * kern/mm/kmalloc.c: a small-object allocator for kernel data structures (regions,
 * memory objects, ...).
 *
 * Objects come in power-of-two size classes from 32 to 2048 bytes.  Each class
 * carves whole 4 KiB pages ("slabs") into equal slots; a slab's struct page records
 * its class (refcount = slots in use) and links the free slots through the first
 * word of each slot.  A slab whose last object is freed goes straight back to the
 * buddy allocator, so after every object is freed the kernel holds no heap pages:
 * the free-page count returns to its baseline, which the leak checks rely on.
 * Freed objects are filled with junk (0x6b) to expose use after free.
 */
#include <stdbool.h>
#include "inc/string.h"
#include "kern/console.h"
#include "kern/mm/failinject.h"
#include "kern/mm/frame.h"
#include "kern/mm/policy.h"
#include "kern/mm/kmalloc.h"

#define KMALLOC_MIN_SHIFT	5	/* 32 bytes */
#define KMALLOC_MAX_SHIFT	11	/* 2048 bytes */
#define NCLASSES		(KMALLOC_MAX_SHIFT - KMALLOC_MIN_SHIFT + 1)
#define PG_SLAB			0x100u	/* struct page flag: a kmalloc slab */

struct slot {
	struct slot *next;
};

/* Per class: slabs with at least one free slot, linked through struct page next/prev. */
static struct page *partial_slabs[NCLASSES];
static uint64_t bytes_in_use;

static int
size_class(size_t size)
{
	int shift = KMALLOC_MIN_SHIFT;
	while (((size_t)1 << shift) < size)
		shift++;
	return shift - KMALLOC_MIN_SHIFT;
}

/* The free-slot list of a slab lives in its struct page's `prev` field (a slot pointer). */
static struct slot **
slab_freelist(struct page *slab)
{
	return (struct slot **)&slab->prev;
}

static struct page *
slab_new(int cls)
{
	struct page *slab = wired_page_alloc();
	if (!slab)
		return NULL;
	size_t objsize = (size_t)1 << (cls + KMALLOC_MIN_SHIFT);
	uint8_t *base = page2kva(slab);
	struct slot *list = NULL;
	for (size_t off = PGSIZE; off >= objsize; off -= objsize) {
		struct slot *s = (struct slot *)(base + off - objsize);
		s->next = list;
		list = s;
	}
	slab->flags |= PG_SLAB;
	slab->order = (uint8_t)cls;
	slab->refcount = 0;
	*slab_freelist(slab) = list;
	slab->next = partial_slabs[cls];
	partial_slabs[cls] = slab;
	return slab;
}

static void
slab_unlink(struct page *slab, int cls)
{
	for (struct page **pp = &partial_slabs[cls]; *pp; pp = &(*pp)->next) {
		if (*pp == slab) {
			*pp = slab->next;
			return;
		}
	}
}

void *
kmalloc(size_t size)
{
	if (size == 0 || size > KMALLOC_MAX || failinject_now(FAIL_KMALLOC))
		return NULL;
	int cls = size_class(size);
	struct page *slab = partial_slabs[cls];
	if (!slab && !(slab = slab_new(cls)))
		return NULL;
	struct slot *s = *slab_freelist(slab);
	*slab_freelist(slab) = s->next;
	slab->refcount++;
	if (!*slab_freelist(slab))		/* full: no longer partial */
		slab_unlink(slab, cls);
	size_t objsize = (size_t)1 << (cls + KMALLOC_MIN_SHIFT);
	bytes_in_use += objsize;
	memset(s, 0, objsize);
	return s;
}

void
kfree(void *p)
{
	if (!p)
		return;
	struct page *slab = pa2page(PADDR(p));
	assert(slab->flags & PG_SLAB);
	assert(slab->refcount > 0);
	int cls = slab->order;
	size_t objsize = (size_t)1 << (cls + KMALLOC_MIN_SHIFT);
	assert(((uint64_t)p & (objsize - 1)) == 0);

	memset(p, 0x6b, objsize);
	bool was_full = *slab_freelist(slab) == NULL;
	struct slot *s = p;
	s->next = *slab_freelist(slab);
	*slab_freelist(slab) = s;
	slab->refcount--;
	bytes_in_use -= objsize;
	if (slab->refcount == 0) {		/* empty: give the page back */
		if (!was_full)
			slab_unlink(slab, cls);
		slab->flags &= ~PG_SLAB;
		slab->next = slab->prev = NULL;
		frame_free(slab);
	} else if (was_full) {
		slab->next = partial_slabs[cls];
		partial_slabs[cls] = slab;
	}
}

bool
kmalloc_is_slab(const struct page *pg)
{
	return (pg->flags & PG_SLAB) != 0;
}

uint64_t
kmalloc_bytes_in_use(void)
{
	return bytes_in_use;
}
