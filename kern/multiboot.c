/*
 * kern/multiboot.c: read what the boot loader tells the kernel.
 *
 * Two loaders boot spos, each through its own header in boot/boot.S:
 *   - GRUB, from the ISO, by multiboot2 (specification §3.6): EAX = 0x36d76289 and EBX
 *     points at a list of 8-byte aligned tags; spos reads the command line, the
 *     loader's name and the memory map, whose entries {base, length, type, reserved}
 *     have the size the tag names.
 *   - QEMU's -kernel (the grader's boots: no firmware menu, no GRUB), by multiboot1
 *     (specification §3.3): EAX = 0x2badb002 and EBX points at one fixed structure whose
 *     flags say which fields are valid: bit 2 the command line, bit 6 the memory map,
 *     bit 9 the loader's name, each given by its physical address.  Its map entries are
 *     packed {size, base, length, type}, `size` not counting itself.  The command line
 *     starts with the image's own name (GRUB legacy and QEMU put it first, as argv[0]);
 *     spos's words are the ones after it.
 * The loaders leave this information in memory the physical allocator will later hand
 * out (GRUB right after the kernel image, QEMU its strings there too).  Rather than
 * reserving it, multiboot_init copies what spos uses into a buffer in the kernel's bss
 * before anything allocates, and every later user reads the copy, through one
 * struct boot_info in multiboot2's terms: a multiboot1 map is converted, entry by
 * entry, into struct mb2_mmap_entry.
 */
#include "inc/memlayout.h"
#include "inc/mmu.h"
#include "inc/string.h"
#include "inc/util.h"
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

#define MB1_BOOTLOADER_MAGIC	0x2BADB002
#define MB1_INFO_CMDLINE	(1u << 2)
#define MB1_INFO_MMAP		(1u << 6)
#define MB1_INFO_LOADER		(1u << 9)

/* The multiboot1 information, up to the last field spos reads. */
struct mb1_info {
	uint32_t flags;
	uint32_t mem_lower, mem_upper;
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
	uint32_t drives_length, drives_addr;
	uint32_t config_table;
	uint32_t boot_loader_name;
};

struct mb1_mmap_entry {
	uint32_t size;		/* of the rest of the entry: 20 or more */
	uint64_t base;
	uint64_t length;
	uint32_t type;		/* the same numbers as MB2_MEM_* */
} __attribute__((packed));

#define MBI_COPY_MAX (32 * 1024)
static uint8_t mbi_copy[MBI_COPY_MAX] __attribute__((aligned(8)));
static uint32_t mbi_used;		/* bytes of mbi_copy taken (multiboot1) */

struct boot_info boot_info;

/* The loader's bytes [pa, pa+len), through the bootstrap mapping of the first 1 GiB. */
static const void *
loader_bytes(uint64_t pa, uint64_t len, const char *what)
{
	if (pa >= PG1G || len > PG1G - pa)
		panic("multiboot %s at 0x%lx (%lu bytes), beyond the bootstrap mapping",
		      what, pa, len);
	return (const void *)(KERNBASE + pa);
}

/* n bytes of mbi_copy, 8-byte aligned. */
static void *
mbi_take(uint64_t n)
{
	uint32_t off = (mbi_used + 7) & ~7u;

	if (n > MBI_COPY_MAX - off)
		panic("multiboot information is more than %u bytes", MBI_COPY_MAX);
	mbi_used = off + n;
	return mbi_copy + off;
}

/* A copy of the loader's NUL-terminated string at physical pa. */
static const char *
mb1_string(uint32_t pa, const char *what)
{
	const char *s = loader_bytes(pa, 1, what);
	uint64_t max = MIN(PG1G - pa, (uint64_t)MBI_COPY_MAX);
	uint64_t len = strnlen(s, max);

	if (len == max)
		panic("multiboot %s at 0x%x: no end within %lu bytes", what, pa, max);
	char *copy = mbi_take(len + 1);
	memcpy(copy, s, len + 1);
	return copy;
}

/*
 * The multiboot1 memory map [pa, pa+len), converted into boot_info's entries in mbi_copy.
 * Panics on an entry shorter than base, length and type or running past the map's end.
 */
static void
mb1_mmap(uint32_t pa, uint32_t len)
{
	const uint8_t *map = loader_bytes(pa, len, "memory map");
	struct mb1_mmap_entry e;
	/* each entry takes sizeof e bytes or more: that bounds the count */
	struct mb2_mmap_entry *out = mbi_take((uint64_t)len / sizeof e * sizeof *out);
	uint32_t n = 0;

	for (uint32_t off = 0; off < len; n++) {
		if (len - off < sizeof e)
			panic("multiboot1 memory map: %u bytes left after entry %u, too few for one",
			      len - off, n);
		memcpy(&e, map + off, sizeof e);
		if (e.size < sizeof e - sizeof e.size || e.size > len - off - sizeof e.size)
			panic("multiboot1 memory map: entry %u of %u bytes in a map of %u",
			      n, e.size, len);
		out[n] = (struct mb2_mmap_entry){ .base = e.base, .length = e.length, .type = e.type };
		off += sizeof e.size + e.size;
	}
	boot_info.mmap = out;
	boot_info.mmap_entry_size = sizeof *out;
	boot_info.mmap_count = n;
}

/* Fill boot_info from the multiboot1 information at physical mbi_pa, copying what it uses. */
static void
mb1_parse(uint64_t mbi_pa)
{
	struct mb1_info info;

	memcpy(&info, loader_bytes(mbi_pa, sizeof info, "information"), sizeof info);
	if (info.flags & MB1_INFO_CMDLINE) {
		const char *s = mb1_string(info.cmdline, "command line");

		while (*s && *s != ' ')		/* the image's name */
			s++;
		while (*s == ' ')
			s++;
		boot_info.cmdline = s;
	}
	if (info.flags & MB1_INFO_LOADER)
		boot_info.loader = mb1_string(info.boot_loader_name, "loader name");
	if (info.flags & MB1_INFO_MMAP)
		mb1_mmap(info.mmap_addr, info.mmap_length);
}

/* Copy the multiboot2 information at physical mbi_pa into mbi_copy; boot_info points into it. */
static void
mb2_parse(uint64_t mbi_pa)
{
	uint32_t total = *(const uint32_t *)loader_bytes(mbi_pa, 8, "information");

	if (total > MBI_COPY_MAX)
		panic("multiboot information is %u bytes, more than %u", total, MBI_COPY_MAX);
	memcpy(mbi_copy, loader_bytes(mbi_pa, total, "information"), total);

	for (uint32_t off = 8; off + sizeof(struct mb2_tag) <= total;) {
		const struct mb2_tag *tag = (const struct mb2_tag *)(mbi_copy + off);
		if (tag->type == MB2_TAG_END || tag->size < sizeof *tag || tag->size > total - off)
			break;
		if (tag->type == MB2_TAG_CMDLINE) {
			boot_info.cmdline = (const char *)(tag + 1);
		} else if (tag->type == MB2_TAG_LOADER) {
			boot_info.loader = (const char *)(tag + 1);
		} else if (tag->type == MB2_TAG_MMAP) {
			const struct mb2_tag_mmap *m = (const struct mb2_tag_mmap *)tag;
			if (m->size < sizeof *m || m->entry_size < sizeof(struct mb2_mmap_entry))
				panic("multiboot2 memory map: tag of %u bytes, entries of %u",
				      m->size, m->entry_size);
			boot_info.mmap = (const struct mb2_mmap_entry *)(m + 1);
			boot_info.mmap_entry_size = m->entry_size;
			boot_info.mmap_count = (m->size - sizeof *m) / m->entry_size;
		}
		off += (tag->size + 7) & ~7u;
	}
}

void
multiboot_init(uint32_t magic, uint64_t mbi_pa)
{
	boot_info.cmdline = "";
	boot_info.loader = "unknown";
	if (magic == MB2_BOOTLOADER_MAGIC)
		mb2_parse(mbi_pa);
	else if (magic == MB1_BOOTLOADER_MAGIC)
		mb1_parse(mbi_pa);
	else
		panic("not booted by a multiboot loader (magic 0x%x)", magic);
	if (!boot_info.mmap || boot_info.mmap_count == 0)
		panic("the boot loader gave no memory map");
}

const struct mb2_mmap_entry *
multiboot_mmap_entry(uint32_t i)
{
	return (const struct mb2_mmap_entry *)((const uint8_t *)boot_info.mmap +
					       (uint64_t)i * boot_info.mmap_entry_size);
}
