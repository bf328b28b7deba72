/*
 * lib/syscall.c: the system-call wrappers (inc/lib.h, inc/syscall.h).
 *
 * One `syscall` instruction per call: number in rax, arguments in rdi, rsi, rdx, r10,
 * r8, r9, result in rax (a negative -E_* code on error).  The instruction itself
 * overwrites rcx (return rip) and r11 (rflags).  The argument registers are declared
 * as in/out so nothing assumes the kernel preserves them.
 */
#include "inc/lib.h"

int64_t
syscall6(uint64_t num, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5,
	 uint64_t a6)
{
	register uint64_t rax __asm__("rax") = num;
	register uint64_t rdi __asm__("rdi") = a1;
	register uint64_t rsi __asm__("rsi") = a2;
	register uint64_t rdx __asm__("rdx") = a3;
	register uint64_t r10 __asm__("r10") = a4;
	register uint64_t r8 __asm__("r8") = a5;
	register uint64_t r9 __asm__("r9") = a6;

	__asm__ volatile("syscall"
			 : "+r"(rax), "+r"(rdi), "+r"(rsi), "+r"(rdx), "+r"(r10), "+r"(r8), "+r"(r9)
			 :
			 : "rcx", "r11", "memory", "cc");
	return (int64_t)rax;
}

static inline int64_t
sc(uint64_t num, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4)
{
	return syscall6(num, a1, a2, a3, a4, 0, 0);
}

void
exit(int status)
{
	sc(SYS_exit, (uint64_t)(int64_t)status, 0, 0, 0);
	for (;;)
		;		/* the kernel never returns from exit */
}

int
getpid(void)
{
	return (int)sc(SYS_getpid, 0, 0, 0, 0);
}

int
yield(void)
{
	return (int)sc(SYS_yield, 0, 0, 0, 0);
}

int
fork(void)
{
	return (int)sc(SYS_fork, 0, 0, 0, 0);
}

int
spawn(const char *name, const char *const *argv)
{
	return (int)sc(SYS_spawn, (uint64_t)name, (uint64_t)argv, 0, 0);
}

int
wait(int64_t pid, int *status)
{
	return (int)sc(SYS_wait, (uint64_t)pid, (uint64_t)status, 0, 0);
}

int
kill(int64_t pid)
{
	return (int)sc(SYS_kill, (uint64_t)pid, 0, 0, 0);
}

int
cputs(const char *s, size_t len)
{
	return (int)sc(SYS_cputs, (uint64_t)s, len, 0, 0);
}

int
cgetc(void)
{
	return (int)sc(SYS_cgetc, 0, 0, 0, 0);
}

void *
mmap(void *addr, size_t len, int prot, int flags)
{
	return (void *)sc(SYS_mmap, (uint64_t)addr, len, (uint64_t)(uint32_t)prot,
			  (uint64_t)(uint32_t)flags);
}

void *
mmapfd(void *addr, size_t len, int prot, int flags, int fd, uint64_t off)
{
	return (void *)syscall6(SYS_mmap, (uint64_t)addr, len, (uint64_t)(uint32_t)prot, (uint64_t)(uint32_t)flags,
				(uint64_t)(int64_t)fd, off);
}

int
munmap(void *addr, size_t len)
{
	return (int)sc(SYS_munmap, (uint64_t)addr, len, 0, 0);
}

int
mprotect(void *addr, size_t len, int prot)
{
	return (int)sc(SYS_mprotect, (uint64_t)addr, len, (uint64_t)(uint32_t)prot, 0);
}

int
madvise(void *addr, size_t len, int advice)
{
	return (int)sc(SYS_madvise, (uint64_t)addr, len, (uint64_t)(uint32_t)advice, 0);
}

void *
sbrk(intptr_t increment)
{
	return (void *)sc(SYS_sbrk, (uint64_t)increment, 0, 0, 0);
}

int
vmquery(const void *va, struct vm_query *q)
{
	return (int)sc(SYS_vmquery, (uint64_t)va, (uint64_t)q, 0, 0);
}

int
counters(struct kcounters *c, size_t size)
{
	return (int)sc(SYS_counters, (uint64_t)c, size, 0, 0);
}

int
tick_sleep(uint64_t n)
{
	return (int)sc(SYS_sleep, n, 0, 0, 0);
}

int
tlbctl(int op, uint64_t a1, uint64_t a2)
{
	return (int)sc(SYS_tlbctl, (uint64_t)(uint32_t)op, a1, a2, 0);
}

int
kcheck(int op, uint64_t va)
{
	return (int)sc(SYS_kcheck, (uint64_t)(uint32_t)op, va, 0, 0);
}

int64_t
failnth(int kind, uint64_t k, uint64_t n)
{
	return sc(SYS_failnth, (uint64_t)(uint32_t)kind, k, n, 0);
}

int
open(const char *path, int flags)
{
	return (int)sc(SYS_open, (uint64_t)path, (uint64_t)(uint32_t)flags, 0, 0);
}

int
close(int fd)
{
	return (int)sc(SYS_close, (uint64_t)(int64_t)fd, 0, 0, 0);
}
