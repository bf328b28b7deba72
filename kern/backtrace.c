/*
 * kern/backtrace.c: walk the frame-pointer chain and name each return address.
 *
 * The kernel is built with -fno-omit-frame-pointer, so every frame starts with the
 * caller's rbp followed by the return address.  Names come from the symbol table the
 * build embeds in .ksyms (tools/mkksyms.sh, second link pass): function start addresses
 * in ascending order, so a lookup is a binary search.
 */
#include <stddef.h>
#include "inc/memlayout.h"
#include "kern/console.h"
#include "kern/backtrace.h"

struct ksym {
	uint64_t addr;
	const char *name;
};

extern const uint64_t ksyms_count;
extern const struct ksym ksyms_table[];
extern char __text_start[], __rodata_start[];

#define BACKTRACE_MAX_FRAMES 8192	/* frames walked; a 64 KiB stack holds at most 4096 */
#define BACKTRACE_MAX_PRINTED 32

const char *
ksym_lookup(uint64_t addr, uint64_t *offset)
{
	uint64_t lo = 0, hi = ksyms_count;

	if (addr < (uint64_t)__text_start || addr >= (uint64_t)__rodata_start || hi == 0)
		return NULL;
	while (hi - lo > 1) {		/* invariant: table[lo].addr <= addr < table[hi].addr */
		uint64_t mid = (lo + hi) / 2;
		if (ksyms_table[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	if (ksyms_table[lo].addr > addr)
		return NULL;
	*offset = addr - ksyms_table[lo].addr;
	return ksyms_table[lo].name;
}

void
print_kaddr(uint64_t addr)
{
	uint64_t off;
	const char *name = ksym_lookup(addr, &off);

	if (name)
		cprintf("0x%016lx <%s+0x%lx>", addr, name, off);
	else
		cprintf("0x%016lx", addr);
}

/* A frame pointer is believable if it is aligned and lies in kernel memory. */
static int
frame_ok(uint64_t rbp)
{
	return rbp != 0 && (rbp & 7) == 0 && rbp >= KDIRECT && rbp < ~0UL - 16;
}

void
backtrace_print(uint64_t rbp)
{
	uint64_t prev_ret = 0;
	int repeats = 0, printed = 0;

	cprintf("backtrace:\n");
	for (int depth = 0; depth < BACKTRACE_MAX_FRAMES && frame_ok(rbp); depth++) {
		const uint64_t *frame = (const uint64_t *)rbp;
		uint64_t ret = frame[1];
		if (ret == 0)
			break;
		rbp = frame[0];
		if (ret == prev_ret) {		/* recursion: say how deep, not each frame */
			repeats++;
			continue;
		}
		if (repeats)
			cprintf("  ... the same frame %d more times\n", repeats);
		repeats = 0;
		prev_ret = ret;
		if (++printed > BACKTRACE_MAX_PRINTED)
			break;
		cprintf("  #%d ", depth);
		print_kaddr(ret);
		cprintf("\n");
	}
	if (repeats)
		cprintf("  ... the same frame %d more times\n", repeats);
}
