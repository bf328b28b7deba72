/*
 * lib/malloc.c: malloc and free on top of sbrk.
 *
 * Every block, free or in use, starts with a 16-byte header giving its size in
 * 16-byte units (header included), so user pointers are 16-byte aligned.  Free blocks
 * sit on a list sorted by address; malloc takes the first that fits (splitting off
 * its tail), free puts a block back and merges it with free neighbours.  When nothing
 * fits, the heap grows by at least HEAP_CHUNK bytes.  Not thread safe (there are no
 * threads).
 */
#include "inc/lib.h"

union header {
	struct {
		union header *next;	/* next free block (free blocks only) */
		size_t units;		/* size of the block in units, header included */
	} h;
	uint8_t align[16];
};

#define UNIT		sizeof(union header)
#define HEAP_CHUNK	(64 * 1024)

static union header *free_list;		/* sorted by address */

void
free(void *p)
{
	if (!p)
		return;
	union header *b = (union header *)p - 1;
	union header *prev = NULL, *next = free_list;

	while (next && next < b) {
		prev = next;
		next = next->h.next;
	}
	if (next && b + b->h.units == next) {		/* merge with the block after */
		b->h.units += next->h.units;
		b->h.next = next->h.next;
	} else {
		b->h.next = next;
	}
	if (prev && prev + prev->h.units == b) {	/* merge with the block before */
		prev->h.units += b->h.units;
		prev->h.next = b->h.next;
	} else if (prev) {
		prev->h.next = b;
	} else {
		free_list = b;
	}
}

/* Grow the heap by at least units units and put the new space on the free list. */
static int
grow(size_t units)
{
	size_t bytes = MAX(units * UNIT, (size_t)HEAP_CHUNK);
	uintptr_t brk = (uintptr_t)sbrk(0);

	if (MMAP_FAILED(brk))
		return -1;
	size_t pad = (UNIT - brk % UNIT) % UNIT;	/* someone else may have moved the break */
	if (bytes > (size_t)INTPTR_MAX - pad)
		return -1;
	void *p = sbrk((intptr_t)(bytes + pad));
	if (MMAP_FAILED(p))
		return -1;
	union header *b = (union header *)((uintptr_t)p + pad);
	b->h.units = bytes / UNIT;
	free(b + 1);
	return 0;
}

void *
malloc(size_t size)
{
	if (size == 0 || size > ((size_t)1 << 46))
		return NULL;
	size_t units = (size + UNIT - 1) / UNIT + 1;

	for (int tries = 0; tries < 2; tries++) {
		union header *prev = NULL;
		for (union header *b = free_list; b; prev = b, b = b->h.next) {
			if (b->h.units < units)
				continue;
			if (b->h.units == units) {
				if (prev)
					prev->h.next = b->h.next;
				else
					free_list = b->h.next;
			} else {			/* hand out the tail */
				b->h.units -= units;
				b += b->h.units;
				b->h.units = units;
			}
			b->h.next = NULL;
			return b + 1;
		}
		if (grow(units) < 0)
			return NULL;
	}
	return NULL;
}
