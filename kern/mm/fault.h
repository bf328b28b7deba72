/* Page-fault statistics (kern/mm/fault.c); vm_fault itself is declared in kern/mm/vm.h. */
#ifndef SPOS_KERN_FAULT_H
#define SPOS_KERN_FAULT_H

#include <stdint.h>

struct fault_stats {
	uint64_t faults;		/* user page faults taken (including from copyin/out) */
	uint64_t demand_zero;
	uint64_t cow_copy;
	uint64_t cow_reuse;
	uint64_t refused;		/* access not allowed by the region */
	uint64_t no_memory;
	/* writes to copy-on-write 2 MiB pages, and what they cost */
	uint64_t cow_reuse_2m;		/* the other sharers were gone: made writable in place */
	uint64_t cow_copy_2m;		/* cow=copy2m: copied into a private 2 MiB page */
	uint64_t cow_split_2m;		/* demoted to 4 KiB pages (cow=split, or copy2m without memory) */
	uint64_t cow_overlay;		/* segments given an overlay page (cow=overlay) */
	uint64_t cow_bytes_copied;	/* bytes copied by copy-on-write faults, every policy */
};

extern struct fault_stats fault_stats;

/* How a write to a shared copy-on-write 2 MiB page is resolved (boot word cow=). */
enum cow_policy { COW_OVERLAY, COW_COPY2M, COW_SPLIT };
extern enum cow_policy cow_policy;
/* Read the boot words cow= and ovl.max=. */
void fault_init(void);
/* The name of the copy-on-write policy in force. */
const char *fault_cow_name(void);

#endif
