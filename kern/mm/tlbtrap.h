/* The trap-driven model TLB mechanism (kern/mm/tlbtrap.c). */
#ifndef SPOS_KERN_TLBTRAP_H
#define SPOS_KERN_TLBTRAP_H

#include <stdbool.h>
#include <stdint.h>
#include "inc/syscall.h"
#include "kern/mm/lib/vtlb.h"

struct vmspace;

/* Measurement state of one address space (vmspace.tlb; NULL when not measured). */
struct tlb_measure {
	uint64_t lo, hi;		/* measured range of virtual addresses */
	uint16_t asid;			/* the model's tag for it (tag mode; else 0) */
	struct vtlb_stats stats;	/* its share of the model's counts */
	struct vtlb_stats shadow_stats;	/* its share of the shadow model's (tlb.shadow.*) */
	uint64_t fake_faults;		/* traps taken: accesses that missed in either model */
	uint64_t real_faults;		/* ordinary page faults while measured */
	uint64_t pt_refs;		/* the page-table design's references for the model's misses */
};

extern struct vtlb tlb_model;
extern struct vtlb tlb_shadow;		/* the second model, when tlb_shadow_on */
extern bool tlb_shadow_on;
extern bool tlbtrap_available;

/* Set the models' geometries from the command line (tlb.4k=ENTRIES:WAYS:REPL, tlb.shadow.4k=...). */
void tlbtrap_init(void);
/*
 * Start measuring [lo, hi) of vs (0, 0: everything), under a tag of its own in tag mode.
 * 0, -E_NO_SYS (no trap bit), -E_INVAL (bad range) or -E_NO_MEM (no memory, no free tag).
 */
int tlbtrap_start(struct vmspace *vs, uint64_t lo, uint64_t hi);
/* Stop measuring vs: every fake-invalid entry becomes valid again. */
void tlbtrap_stop(struct vmspace *vs);
/*
 * A page fault with PFERR_RSVD at va in vs, *rflags the user's RFLAGS in the trap frame:
 * if it is a fake-invalid entry, a model miss: refill, set TF and clear IF in *rflags
 * (the faulting instruction is single-stepped, see tlbtrap.c) and return true.
 */
bool tlbtrap_fault(struct vmspace *vs, uint64_t va, uint64_t *rflags);
/*
 * vs entered the kernel from user mode other than by a page fault (the debug trap after
 * a stepped instruction, a syscall, another exception): if an instruction of vs was
 * being stepped, it is over -- re-arm the evicted pages it was let use until it
 * retired and, if rflags is not NULL, give back the user's own TF and IF in *rflags.  True iff it was a
 * step of the model's and the user had no TF of its own: the debug trap is consumed.
 */
bool tlbtrap_retire(struct vmspace *vs, uint64_t *rflags);
/* The mappings of [start, end) in vs changed: drop model entries, re-arm the traps. */
void tlbtrap_sync(struct vmspace *vs, uint64_t start, uint64_t end);
/* vs is about to run (flush mode: the model holds only the running space's entries). */
void tlbtrap_switch(struct vmspace *vs);
/*
 * Flush mode: the space whose entries the model holds (NULL: none).  Tag mode: NULL,
 * entries belong to the space measured with their tag.  For kern/mm/invariant.c.
 */
struct vmspace *tlbtrap_owner(void);
/*
 * Whether an access to va (mapped with page size `size`) of measured space vs would hit
 * in every model without trapping: what its leaf's bit 51 must say (kern/mm/invariant.c).
 * The caller knows the model holds vs's entries (tag mode, or vs is tlbtrap_owner()).
 */
bool tlbtrap_resident(struct vmspace *vs, uint64_t va, enum page_size size);
/* Copy vs's counts out. */
void tlbtrap_read(struct vmspace *vs, struct tlb_stats *out);
/* Print the geometry and the global counts (monitor `tlb`); reset them if reset. */
void tlbtrap_print(bool reset);

#endif
