/* Loading ELF64 program images into an address space (kern/elf.c). */
#ifndef SPOS_KERN_ELF_H
#define SPOS_KERN_ELF_H

#include <stdint.h>

struct vmspace;

/*
 * Validate the ELF64 image and map its PT_LOAD segments into vs (one region each,
 * contents copied, bss zero).  On success sets *entry and *image_end (the page-aligned
 * end of the highest segment, where the heap starts) and returns 0; otherwise
 * -E_BAD_ELF for a malformed or unsafe image (e.g. a writable and executable segment),
 * or -E_NO_MEM.  On failure vs may hold some regions; the caller destroys it.
 */
int elf_load(struct vmspace *vs, const uint8_t *image, uint64_t size, uint64_t *entry,
	     uint64_t *image_end);

#endif
