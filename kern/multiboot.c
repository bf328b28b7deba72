/*
 * kern/multiboot.c: read what GRUB tells the kernel (multiboot2 specification, §3.6).
 *
 * GRUB leaves the boot information right after the kernel image, in memory the
 * physical allocator will later hand out.  Rather than reserving it, multiboot_init
 * copies it into a buffer in the kernel's bss before anything allocates, and every
 * later user reads the copy.  The information is a list of 8-byte aligned tags.
 */
#include "inc/memlayout.h"
#include "inc/mmu.h"
#include "inc/string.h"
#include "kern/console.h"
#include "kern/multiboot.h"

#define MB2_TAG_END		0
#define MB2_TAG_CMDLINE		1
#define MB2_TAG_LOADER		2
#define MB2_TAG_MMAP		6

struct mb2_tag {
	uint32_t type;
	uint32_t size;
};

struct mb2_tag_mmap {
	uint32_t type;
	uint32_t size;
	uint32_t entry_size;
	uint32_t entry_version;
	/* entries follow */
};

#define MBI_COPY_MAX (32 * 1024)
static uint8_t mbi_copy[MBI_COPY_MAX] __attribute__((aligned(8)));

struct boot_info boot_info;

void
multiboot_init(uint32_t magic, uint64_t mbi_pa)
{
	if (magic != MB2_BOOTLOADER_MAGIC)
		panic("not booted by a multiboot2 loader (magic 0x%x)", magic);
	if (mbi_pa >= PG1G)
		panic("multiboot information at 0x%lx, beyond the bootstrap mapping", mbi_pa);

	const uint8_t *mbi = (const uint8_t *)(KERNBASE + mbi_pa);
	uint32_t total = *(const uint32_t *)mbi;
	if (total > MBI_COPY_MAX)
		panic("multiboot information is %u bytes, more than %u", total, MBI_COPY_MAX);
	memcpy(mbi_copy, mbi, total);

	boot_info.cmdline = "";
	boot_info.loader = "unknown";
	for (uint32_t off = 8; off + sizeof(struct mb2_tag) <= total;) {
		const struct mb2_tag *tag = (const struct mb2_tag *)(mbi_copy + off);
		if (tag->type == MB2_TAG_END || tag->size < sizeof *tag)
			break;
		if (tag->type == MB2_TAG_CMDLINE) {
			boot_info.cmdline = (const char *)(tag + 1);
		} else if (tag->type == MB2_TAG_LOADER) {
			boot_info.loader = (const char *)(tag + 1);
		} else if (tag->type == MB2_TAG_MMAP) {
			const struct mb2_tag_mmap *m = (const struct mb2_tag_mmap *)tag;
			boot_info.mmap = (const struct mb2_mmap_entry *)(m + 1);
			boot_info.mmap_entry_size = m->entry_size;
			boot_info.mmap_count = (m->size - sizeof *m) / m->entry_size;
		}
		off += (tag->size + 7) & ~7u;
	}
	if (!boot_info.mmap || boot_info.mmap_entry_size < sizeof(struct mb2_mmap_entry))
		panic("the boot loader gave no memory map");
}

const struct mb2_mmap_entry *
multiboot_mmap_entry(uint32_t i)
{
	return (const struct mb2_mmap_entry *)((const uint8_t *)boot_info.mmap +
					       (uint64_t)i * boot_info.mmap_entry_size);
}
