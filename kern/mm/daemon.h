/* The page daemon: contiguity restoration and speculative demotion (kern/mm/daemon.c). */
#ifndef SPOS_KERN_DAEMON_H
#define SPOS_KERN_DAEMON_H

#include <stdint.h>

struct vmspace;

struct daemon_stats {
	uint64_t passes;		/* daemon passes run */
	uint64_t preempted;		/* reservations it preempted to make free 2 MiB blocks */
	uint64_t compactions;		/* 2 MiB blocks emptied by migration */
	uint64_t migrations;		/* 4 KiB pages it moved */
	uint64_t compaction_aborts;	/* candidate blocks that turned out unmovable */
	uint64_t referenced_cleared;	/* superpage accessed bits it cleared */
	uint64_t repromotions;		/* pressure-demoted blocks promoted again */
	uint64_t no_room;		/* compactions given up: no free pieces below 2 MiB to move to */
	uint64_t last_preempted;	/* reservations the latest pass broke */
	uint64_t last_migrated;		/* pages the latest pass moved */
	uint64_t max_pass_preempted;	/* the most reservations one pass broke */
	uint64_t max_pass_migrated;	/* the most pages one pass moved */
};

extern struct daemon_stats daemon_stats;

/* Read vm.daemon.* from the command line. */
void daemon_init(void);
/* Called by the scheduler between time slices: runs a pass when one is due. */
void daemon_tick(uint64_t now_ticks);
/* Run one pass now. */
void daemon_pass(void);
/* Free 2 MiB-or-larger blocks in the buddy allocator and the pre-zeroed pool, counted in 2 MiB units. */
uint64_t free_2m_blocks(void);

#endif
