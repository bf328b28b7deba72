/* The parts of the multiboot1 or multiboot2 boot information spos uses (kern/multiboot.c). */
#ifndef SPOS_KERN_MULTIBOOT_H
#define SPOS_KERN_MULTIBOOT_H

#include <stdint.h>

#define MB2_BOOTLOADER_MAGIC 0x36D76289

/* A memory map entry, as multiboot2 reports it (a multiboot1 map is converted to these). */
struct mb2_mmap_entry {
	uint64_t base;
	uint64_t length;
	uint32_t type;		/* MB2_MEM_* */
	uint32_t reserved;
};
#define MB2_MEM_AVAILABLE	1
#define MB2_MEM_ACPI		3
#define MB2_MEM_NVS		4
#define MB2_MEM_BAD		5

struct boot_info {
	const char *cmdline;			/* "" when the loader gave none */
	const char *loader;			/* boot loader name, or "unknown" */
	const struct mb2_mmap_entry *mmap;	/* the firmware memory map */
	uint32_t mmap_count;
	uint32_t mmap_entry_size;
};

extern struct boot_info boot_info;

/*
 * Copy the multiboot2 or multiboot1 information (magic says which; at physical mbi_pa,
 * reachable through the bootstrap mapping of the first 1 GiB at KERNBASE) into kernel
 * memory and parse it.  Panics if magic is wrong or the map is missing or malformed:
 * nothing can run without it.
 */
void multiboot_init(uint32_t magic, uint64_t mbi_pa);
/* The i-th memory map entry. */
const struct mb2_mmap_entry *multiboot_mmap_entry(uint32_t i);

#endif
