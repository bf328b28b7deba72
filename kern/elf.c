/*
 * kern/elf.c: the program loader.
 *
 * Programs are static ELF64 x86-64 executables (user/user.ld) embedded in the kernel.
 * The loader trusts nothing in the file: every offset and size is checked against the
 * file, every segment against user space, segments may not overlap, and a segment may
 * not be both writable and executable (W^X).  Each PT_LOAD becomes one region of an
 * OBJ_IMAGE object with the segment's protection; file bytes are copied in and the
 * rest (bss) is demand-zero.
 */
#include "inc/error.h"
#include "inc/memlayout.h"
#include "inc/mmu.h"
#include "inc/syscall.h"
#include "inc/util.h"
#include "kern/mm/vm.h"
#include "kern/elf.h"

#define ELF_MAGIC	0x464C457FU	/* "\x7FELF" little endian */
#define ELFCLASS64	2
#define ELFDATA2LSB	1
#define ET_EXEC		2
#define EM_X86_64	62
#define PT_LOAD		1
#define PF_X		1
#define PF_W		2
#define PF_R		4
#define ELF_MAX_PHDRS	16

struct elf64_ehdr {
	uint32_t e_magic;
	uint8_t e_class, e_data, e_version, e_osabi;
	uint8_t e_pad[8];
	uint16_t e_type, e_machine;
	uint32_t e_version2;
	uint64_t e_entry, e_phoff, e_shoff;
	uint32_t e_flags;
	uint16_t e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx;
};

struct elf64_phdr {
	uint32_t p_type, p_flags;
	uint64_t p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align;
};

static int
check_header(const struct elf64_ehdr *eh, uint64_t size)
{
	if (size < sizeof *eh || eh->e_magic != ELF_MAGIC || eh->e_class != ELFCLASS64 ||
	    eh->e_data != ELFDATA2LSB || eh->e_type != ET_EXEC || eh->e_machine != EM_X86_64)
		return -E_BAD_ELF;
	if (eh->e_phentsize != sizeof(struct elf64_phdr) || eh->e_phnum == 0 || eh->e_phnum > ELF_MAX_PHDRS)
		return -E_BAD_ELF;
	if (eh->e_phoff > size || eh->e_phnum * sizeof(struct elf64_phdr) > size - eh->e_phoff)
		return -E_BAD_ELF;
	if (eh->e_phoff % 8)
		return -E_BAD_ELF;
	return 0;
}

static int
check_segment(const struct elf64_phdr *ph, uint64_t size)
{
	uint64_t end = ph->p_vaddr + ph->p_memsz;
	if (ph->p_filesz > ph->p_memsz || ph->p_offset > size || ph->p_filesz > size - ph->p_offset)
		return -E_BAD_ELF;
	if (ph->p_memsz == 0 || end < ph->p_vaddr || ph->p_vaddr < UTEXT || end > UMMAPTOP)
		return -E_BAD_ELF;
	if ((ph->p_flags & PF_W) && (ph->p_flags & PF_X))
		return -E_BAD_ELF;
	return 0;
}

static uint32_t
segment_prot(uint32_t flags)
{
	return ((flags & PF_R) ? PROT_READ : 0) | ((flags & PF_W) ? PROT_WRITE : 0) |
	       ((flags & PF_X) ? PROT_EXEC : 0);
}

int
elf_load(struct vmspace *vs, const uint8_t *image, uint64_t size, uint64_t *entry, uint64_t *image_end)
{
	const struct elf64_ehdr *eh = (const struct elf64_ehdr *)image;
	int r = check_header(eh, size);
	if (r < 0)
		return r;
	const struct elf64_phdr *ph = (const struct elf64_phdr *)(image + eh->e_phoff);
	bool entry_in_text = false;
	uint64_t top = 0;

	for (int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD)
			continue;
		if ((r = check_segment(&ph[i], size)) < 0)
			return r;
		uint64_t start = ROUNDDOWN(ph[i].p_vaddr, PGSIZE);
		uint64_t end = ROUNDUP(ph[i].p_vaddr + ph[i].p_memsz, PGSIZE);
		r = vm_map_region(vs, start, end, segment_prot(ph[i].p_flags), VR_IMAGE, OBJ_IMAGE, false);
		if (r < 0)
			return r == -E_NO_MEM ? r : -E_BAD_ELF;		/* overlap: malformed */
		if ((r = vm_load_bytes(vs, ph[i].p_vaddr, image + ph[i].p_offset, ph[i].p_filesz)) < 0)
			return r;
		if ((ph[i].p_flags & PF_X) && ph[i].p_vaddr <= eh->e_entry && eh->e_entry < ph[i].p_vaddr + ph[i].p_memsz)
			entry_in_text = true;
		top = MAX(top, end);
	}
	if (!entry_in_text)
		return -E_BAD_ELF;
	*entry = eh->e_entry;
	*image_end = top;
	return 0;
}
