/* Memory objects: what a region maps, its population map and reservations (kern/mm/object.c). */
#ifndef SPOS_KERN_OBJECT_H
#define SPOS_KERN_OBJECT_H

#include <stdbool.h>
#include <stdint.h>
#include "kern/mm/lib/popmap.h"

struct reserv;

/* What backs an object. */
enum vm_object_type {
	OBJ_ANON,		/* demand-zero memory: heap, stack, anonymous mmap */
	OBJ_IMAGE,		/* a program image segment, filled from the ELF file at load */
	OBJ_HUGEMAP,		/* /dev/hugemap: demand-zero, page size chosen per 2 MiB block */
};

/* The page size /dev/hugemap chose for one 2 MiB block (kern/mm/policy.c). */
enum hugemap_choice {
	HM_4K,			/* 4 KiB pages on demand: the request covers too little of it */
	HM_2M,			/* one 2 MiB page at the block's first touch */
	HM_FALLBACK,		/* chosen 2 MiB, got 4 KiB pages: no free 2 MiB block, or no room */
};

/*
 * What a /dev/hugemap object was asked for: the request [req_start, req_end) (page
 * aligned) and a choice per 2 MiB block of it, the first at first_blk.  The object's
 * regions may cover more than the request: a 2 MiB block's bloat.
 */
struct hugemap {
	uint64_t req_start, req_end;
	uint64_t first_blk;
	uint64_t nblocks;
	uint8_t choice[];	/* enum hugemap_choice */
};

/*
 * A memory object: the thing a region maps.  Its pages are indexed by virtual page
 * number (pindex = va >> 12), so the object's aligned blocks are virtual memory's.
 * Fixed-size objects (program segments, mmap regions) do not grow at their start and
 * reserve only inside themselves; the heap and the stack grow.  Regions split from one
 * region share its object (refcount); objects are private to one address space (fork
 * copies them).  The population map records which pages are populated and which
 * reservation covers each aligned block; reservs lists the same reservations, so that
 * the object's teardown breaks them without a scan of all reservations.
 */
struct vm_object {
	enum vm_object_type type;
	bool fixed_size;
	uint32_t refcount;	/* regions referring to it */
	uint64_t size;		/* bytes; grows with the heap */
	struct popmap popmap;
	struct reserv *reservs;	/* its reservations, linked through objnext/objprev */
	struct hugemap *hugemap;	/* OBJ_HUGEMAP only, else NULL */
};

/* The allocator of population-map nodes (and of reservation structs and bitmaps). */
extern const struct popmap_allocator popmap_kernel_allocator;

/* Set up the reservation module for all of RAM, with the object layer's ops.  Panics if out of memory. */
void object_system_init(void);

/* A new object with one reference, or NULL when out of memory. */
struct vm_object *object_new(enum vm_object_type type, uint64_t size, bool grows);

/*
 * Make obj (OBJ_HUGEMAP) the object of the request [req_start, req_end), every block
 * HM_4K.  0 or -E_NO_MEM.
 */
int object_hugemap_init(struct vm_object *obj, uint64_t req_start, uint64_t req_end);

/* The choice of the block containing va in obj's hugemap, or NULL (none, or outside it). */
uint8_t *object_hugemap_choice(struct vm_object *obj, uint64_t va);

/* A new object like src (fork): its type, size, growth and hugemap; NULL when out of memory. */
struct vm_object *object_new_like(const struct vm_object *src);

/* Drop a reference; the last one breaks the object's reservations and frees it. */
void object_unref(struct vm_object *obj);

/*
 * Reserve the 2^order frames at pfn (allocated by the caller, order PS_ORDER(PS_2M) or
 * PS_ORDER(PS_1G)) for the aligned block of obj at pindex, which must have no
 * reservation yet: the new reservation is on obj's list and in its population map.
 * NULL when out of memory; the extent is then back with the allocator.
 */
struct reserv *object_reserve(struct vm_object *obj, unsigned order, uint64_t pfn, uint64_t pindex,
			      uint64_t now);

/* The reservation of obj covering pindex (2 MiB or 1 GiB), or NULL. */
struct reserv *object_reservation(struct vm_object *obj, uint64_t pindex);

/* The number of reservations on obj's list (the invariant checker compares it with the map). */
uint64_t object_reserv_count(const struct vm_object *obj);

#endif
