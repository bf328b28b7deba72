/*
 * kern/init.c: kmain, the kernel's first C code, and the boot sequence.
 *
 * Order matters: traps first (so anything that goes wrong is reported), then the boot
 * information (before any allocation can overwrite it), the command line, the
 * kernel's own page tables, the physical allocator and its self-check.  Then either
 * the in-kernel test the command line names (test=NAME), the user program it names
 * (run=NAME[,ARG...]), or the monitor, which runs processes while it waits for input.
 */
#include <stdint.h>
#include "inc/util.h"
#include "kern/mm/lib/buddy.h"
#include "kern/cmdline.h"
#include "kern/console.h"
#include "kern/mm/daemon.h"
#include "kern/mm/failinject.h"
#include "kern/gdt.h"
#include "kern/mm/invariant.h"
#include "kern/ktest.h"
#include "kern/monitor.h"
#include "kern/multiboot.h"
#include "kern/mm/frame.h"
#include "kern/mm/pt/pt.h"
#include "kern/mm/fault.h"
#include "kern/mm/policy.h"
#include "kern/proc.h"
#include "kern/qemu.h"
#include "kern/run.h"
#include "kern/syscall.h"
#include "kern/mm/tlbtrap.h"
#include "kern/mm/vm.h"
#include "kern/trap.h"

/*
 * Below this much usable RAM, the kernel image (about 3 MiB with the embedded
 * programs), its tables and a few processes leave too little to run anything worth
 * running: say so and stop, instead of failing later in some allocation.  GRUB itself
 * needs room to read the image: with a 3 MiB image it loads nothing at -m 9M and
 * prints only to the screen, so the floor sits a few MiB above that, where the
 * kernel is still loaded and can say why it stops (-m 12M; 13M is the smallest that
 * boots).
 */
#define MIN_USABLE_BYTES	(12UL << 20)

/* Boot-time self-check of the buddy allocator on the live free lists. */
static void
check_buddy(void)
{
	uint64_t free_before = phys_free_pages();
	int r = buddy_selfcheck(&phys_buddy);

	if (r < 0)
		panic("check_buddy: self-check failed (%d)", r);
	if (phys_free_pages() != free_before)
		panic("check_buddy: free pages %lu, expected %lu", phys_free_pages(), free_before);
	cprintf("check_buddy() succeeded\n");
}

/* While the monitor waits for input: run background processes, reap orphans. */
static void
monitor_idle(void)
{
	run_reap_orphans();
	sched_step();
}

void
kmain(uint32_t magic, uint64_t mbi_pa)
{
	cons_init();
	cprintf("\nspos: x86-64 research kernel for flexible superpages\n");
	gdt_init();
	idt_init();
	multiboot_init(magic, mbi_pa);
	cmdline_init(boot_info.cmdline);
	cprintf("boot loader: %s\n", boot_info.loader);
	cprintf("command line: %s\n", cmdline_text());

	phys_limit = phys_scan_limit();
	pmap_init_kernel(MAX(phys_limit, 4 * PG1G));	/* 4 GiB at least: device memory */
	phys_init();
	cprintf("memory: %lu KiB usable, %lu pages free\n", phys_usable_bytes >> 10, phys_free_pages());
	if (phys_usable_bytes < MIN_USABLE_BYTES) {
		cprintf("memory: spos needs at least %lu KiB of RAM, has %lu KiB: give QEMU more (-m)\n",
			MIN_USABLE_BYTES >> 10, phys_usable_bytes >> 10);
		qemu_exit(QEMU_EXIT_FAILURE);
	}
	check_buddy();
	invariant_init();

	policy_init();
	fault_init();
	pmap_overlay_init();
	pmap_design_init();
	vm_init();
	daemon_init();
	tlbtrap_init();
	const char *test = cmdline_get("test");
	if (test) {		/* with the memory system up, before the timer starts */
		ktest_run(test);	/* returns only if there is no such test */
		qemu_exit(QEMU_EXIT_FAILURE);
	}
	syscall_init();
	sched_init();
	failinject_init();
	const char *run = cmdline_get("run");
	if (run)
		run_boot_program(run);
	cons_idle_hook = monitor_idle;
	monitor();
	qemu_exit(QEMU_EXIT_SUCCESS);
}
