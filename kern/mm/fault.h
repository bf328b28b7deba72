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
};

extern struct fault_stats fault_stats;

#endif
