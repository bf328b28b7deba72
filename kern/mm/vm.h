/* Address spaces: regions, memory objects, mmap and friends (kern/mm/vm.c). */
#ifndef SPOS_KERN_VM_H
#define SPOS_KERN_VM_H

#include <stdbool.h>
#include <stdint.h>
#include "inc/syscall.h"
#include "kern/mm/object.h"
#include "kern/mm/pt/pt.h"

/* Region kinds, for reports and placement rules. */
enum vm_region_kind {
	VR_IMAGE,	/* program text/data/bss */
	VR_HEAP,	/* sbrk */
	VR_STACK,	/* the user stack */
	VR_GUARD,	/* inaccessible page below the stack: occupied, never mapped */
	VR_MMAP,	/* anonymous mmap */
	VR_DEVICE,	/* mmap of a device (kern/dev.c) other than /dev/zero */
};

/* [start, end) page aligned; in a vmspace's list sorted by start, never overlapping. */
struct vm_region {
	uint64_t start, end;
	uint32_t prot;			/* PROT_* */
	uint32_t maxprot;		/* what mprotect may grant: program text is never writable */
	enum vm_region_kind kind;
	struct vm_object *obj;
	uint64_t offset;		/* of start within obj */
	struct vm_region *next;
	struct vm_region *left, *right;	/* in the vmspace's search tree (kern/mm/vm.c) */
};

struct vmspace {
	struct pmap pmap;		/* its page tables (kern/mm/pt/pt.h) */
	struct vm_region *regions;	/* sorted by start */
	struct vm_region *tree;		/* the same regions as a search tree by start (vm_find) */
	struct vm_region *hint;		/* the region vm_find found last, or NULL */
	uint64_t heap_start;		/* first byte of the heap (page aligned) */
	uint64_t brk;			/* current break (byte granular) */
	uint64_t resident_pages;	/* user pages mapped */
	struct tlb_measure *tlb;	/* model-TLB measurement, or NULL (kern/mm/tlbtrap.c) */
	int64_t pid;			/* the process using it, for reports (set by kern/proc.c) */
	struct vmspace *next_live;	/* the list of live spaces (vm_first_space) */
};

/*
 * Layers above vm (the model TLB, the page daemon) hear of address-space changes
 * through observers they register at boot, so vm never calls up into them:
 * changed(vs, start, end) after any mapping of vs in [start, end) changed (mapped,
 * unmapped, protected, promoted, demoted, moved); destroyed(vs) before vs goes.
 * A superpage promoted or demoted is reported whole (every translation inside it
 * changed, as a real TLB sees it), even when the operation's range was one page; any
 * other range is reported exactly, not rounded: the model TLB drops every entry
 * overlapping it, as invlpg of those pages would, and no more.
 * Either may be NULL.  At most VM_OBSERVERS.
 */
struct vm_observer {
	void (*changed)(struct vmspace *vs, uint64_t start, uint64_t end);
	void (*destroyed)(struct vmspace *vs);
};
#define VM_OBSERVERS	4
void vm_observe(const struct vm_observer *obs);
/* Tell the observers that the mappings of vs in [start, end) changed. */
void vm_changed(struct vmspace *vs, uint64_t start, uint64_t end);
/* At boot: let the page-table designs reclaim other spaces' x86 caches (pt_reclaim). */
void vm_init(void);
/*
 * At a context switch, nothing user loaded: under pt=clustered|guarded drop the x86
 * caches if pt.drop=switch, or if they hold more than pt.cache= pages.
 */
void vm_switch(void);
/* The live address spaces: the first, then follow next_live; NULL at the end. */
struct vmspace *vm_first_space(void);

#define USTACKSIZE	(256 * 1024UL)
#define USTACKBOTTOM	(USTACKTOP - USTACKSIZE)
#define UMMAPTOP	(USTACKBOTTOM - PGSIZE)		/* below the guard page */

/* A new, empty address space, or NULL when out of memory. */
struct vmspace *vm_create(void);
/* Unmap everything, free pages, tables, regions, objects and vs itself. */
void vm_destroy(struct vmspace *vs);
/* A copy-on-write copy of parent (fork); NULL when out of memory (nothing leaked). */
struct vmspace *vm_fork(struct vmspace *parent);

/* The region with the highest start at or below va, or NULL: a descent of the region tree. */
static inline struct vm_region *
vm_region_at_or_below(struct vmspace *vs, uint64_t va)
{
	struct vm_region *best = NULL;
	for (struct vm_region *t = vs->tree; t;) {
		if (t->start <= va) {
			best = t;
			t = t->right;
		} else {
			t = t->left;
		}
	}
	return best;
}

/* The first region that ends after va (it may start after va), or NULL: O(log n). */
static inline struct vm_region *
first_region_ending_after(struct vmspace *vs, uint64_t va)
{
	struct vm_region *r = vm_region_at_or_below(vs, va);
	if (!r)
		return vs->regions;
	return va < r->end ? r : r->next;
}

/*
 * The region containing va, or NULL.  O(log n) in the number of regions (expected);
 * O(1) when it is the region found last, as for the successive leaves of a walk.
 */
static inline struct vm_region *
vm_find(struct vmspace *vs, uint64_t va)
{
	struct vm_region *r = vs->hint;
	if (r && r->start <= va && va < r->end)
		return r;
	r = vm_region_at_or_below(vs, va);
	if (!r || va >= r->end)
		return NULL;
	vs->hint = r;
	return r;
}

/*
 * Add a region [start, end) (page aligned, inside user space, free) with a new object.
 * Returns 0, -E_INVAL, -E_EXISTS (overlap) or -E_NO_MEM.
 */
int vm_map_region(struct vmspace *vs, uint64_t start, uint64_t end, uint32_t prot,
		  enum vm_region_kind kind, enum vm_object_type type, bool grows);
/* Copy len bytes to va in vs regardless of protection (program loading). 0 or -E_*. */
int vm_load_bytes(struct vmspace *vs, uint64_t va, const void *src, uint64_t len);

/* The system calls; arguments straight from user space, fully validated. */
int64_t vm_mmap(struct vmspace *vs, uint64_t addr, uint64_t len, uint32_t prot, uint32_t flags);
/*
 * mmap of /dev/hugemap (flags MAP_PRIVATE, maybe MAP_FIXED): a private demand-zero
 * mapping of the request [addr, addr+len) whose 2 MiB blocks get a 2 MiB page or 4 KiB
 * pages (kern/mm/policy.c).  A block given a 2 MiB page is mapped whole: the region
 * grows over the rest of the block (the bloat) if that address space is free, else the
 * block falls back to 4 KiB pages.  munmap of the request's part of a block unmaps its
 * bloat too.  Returns addr (the request's start, a hint as for vm_mmap), or -E_INVAL,
 * -E_PERM (W^X), -E_EXISTS (MAP_FIXED over a mapping), -E_NO_MEM (no room, or len
 * larger than physical memory).
 */
int64_t vm_mmap_hugemap(struct vmspace *vs, uint64_t addr, uint64_t len, uint32_t prot, uint32_t flags);
int vm_munmap(struct vmspace *vs, uint64_t addr, uint64_t len);
int vm_mprotect(struct vmspace *vs, uint64_t addr, uint64_t len, uint32_t prot);
int vm_madvise(struct vmspace *vs, uint64_t addr, uint64_t len, uint32_t advice);
int64_t vm_sbrk(struct vmspace *vs, int64_t increment);
void vm_query(struct vmspace *vs, uint64_t va, struct vm_query *q);

/*
 * Resolve a page fault at va with page-fault error code err (PFERR_*) in vs:
 * demand-zero, copy-on-write.  Returns 0 when resolved, -E_FAULT when the access is
 * not allowed (the caller kills the process), -E_NO_MEM when memory ran out.
 */
int vm_fault(struct vmspace *vs, uint64_t va, uint32_t err);

/* Print the regions of vs (monitor). */
void vm_print(struct vmspace *vs);

#endif
