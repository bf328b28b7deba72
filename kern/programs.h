/* The user programs embedded in the kernel image (generated: obj/kern/userprogs.S). */
#ifndef SPOS_KERN_PROGRAMS_H
#define SPOS_KERN_PROGRAMS_H

#include <stdint.h>

struct user_program {
	const char *name;
	const uint8_t *image;	/* the ELF file */
	uint64_t size;
};

extern const struct user_program user_programs[];	/* sorted by name */
extern const uint64_t user_programs_count;

/* The program called name, or NULL. */
const struct user_program *program_find(const char *name);

#endif
