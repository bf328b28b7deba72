/*
 * user/probe_linux.h: the few lines that let user/probe.c, written for spos's user
 * library (inc/lib.h), build statically for Linux (gcc -static -DPROBE_LINUX): the spos
 * calls it uses map onto Linux's with the same meaning.  PROT_* and MAP_ANON have the
 * same values on both.
 */
#ifndef SPOS_USER_PROBE_LINUX_H
#define SPOS_USER_PROBE_LINUX_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PGSIZE		4096UL
#define MMAP_FAILED(p)	((p) == MAP_FAILED)
#define mmap(a, len, prot, flags)	mmap((a), (len), (prot), (flags), -1, 0)
#define wait(pid, status)		waitpid((pid), (status), 0)

/*
 * The size of the pages of the probe's one populated region, 0 if unknown: 2 MiB when
 * the process holds transparent huge pages (the region is its only large anonymous
 * memory), else 4 KiB.
 */
static inline uint64_t
page_size(const void *va)
{
	char buf[4096];
	int fd = open("/proc/self/smaps_rollup", O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
	const char *f;

	(void)va;
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	if (!(f = strstr(buf, "AnonHugePages:")))
		return 0;
	return strtoul(f + strlen("AnonHugePages:"), NULL, 10) >= 2048 ? 2UL << 20 : PGSIZE;
}

/*
 * fork(2) as the bare system call, as spos's fork is: glibc's fork() adds atfork
 * handlers and lock resets that are not the kernel's cost.  The child only runs the
 * probe's own code and exits, so glibc's stale thread state in it does not matter.
 */
static inline int
probe_fork(void)
{
	long r;

	fflush(stdout);
	__asm__ volatile("syscall" : "=a"(r) : "a"(57L) : "rcx", "r11", "memory");
	return (int)r;
}
#define fork()	probe_fork()

/* Let the CPU idle (spos fills its pre-zeroed pools then; Linux has none). */
static inline void
probe_idle(void)
{
	usleep(200000);
}

/* Output goes to the serial console a line at a time, like spos's cprintf. */
static inline void
probe_init(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
}

/*
 * The kernel's own page primitives, to subtract from fault and copy-on-write costs:
 * Linux 6.1 clears a page with clear_page_erms (rep stosb of 4096 bytes) when the CPU
 * has ERMS, and copies one with copy_page (rep movsq of 512 quadwords) when it has
 * REP_GOOD; QEMU's "max" CPU has both.
 */
static inline void
kernel_zero_page(void *dst)
{
	unsigned long n = PGSIZE;

	__asm__ volatile("rep stosb" : "+D"(dst), "+c"(n) : "a"(0) : "memory");
}

static inline void
kernel_copy_page(void *dst, const void *src)
{
	unsigned long n = PGSIZE / 8;

	__asm__ volatile("rep movsq" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
}

#endif
