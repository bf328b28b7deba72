/*
 * inc/lib.h: the user-space library (lib/): system-call wrappers, console output,
 * string functions and malloc.  A user program defines
 *     int main(int argc, char **argv);
 * and returns its exit status (or calls exit).
 */
#ifndef SPOS_INC_LIB_H
#define SPOS_INC_LIB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "inc/error.h"
#include "inc/memlayout.h"
#include "inc/mmu.h"
#include "inc/stdio.h"
#include "inc/string.h"
#include "inc/syscall.h"
#include "inc/util.h"

/* System calls (lib/syscall.c); each returns a negative -E_* code on error. */
void exit(int status) __attribute__((noreturn));
int getpid(void);
int yield(void);
int fork(void);
int spawn(const char *name, const char *const *argv);
int wait(int64_t pid, int *status);
int kill(int64_t pid);
int cputs(const char *s, size_t len);
int cgetc(void);
void *mmap(void *addr, size_t len, int prot, int flags);
/* mmap of descriptor fd (flags without MAP_ANON) at page-aligned offset off. */
void *mmapfd(void *addr, size_t len, int prot, int flags, int fd, uint64_t off);
int open(const char *path, int flags);
int close(int fd);
int munmap(void *addr, size_t len);
int mprotect(void *addr, size_t len, int prot);
int madvise(void *addr, size_t len, int advice);
void *sbrk(intptr_t increment);
int vmquery(const void *va, struct vm_query *q);
int counters(struct kcounters *c, size_t size);
int tlbctl(int op, uint64_t a1, uint64_t a2);
/* Sleep n timer ticks (at most SLEEP_MAX_TICKS): the CPU idles if nothing else runs. */
int tick_sleep(uint64_t n);
int kcheck(int op, uint64_t va);
int64_t failnth(int kind, uint64_t k, uint64_t n);
/* Raw system call: for tests of bad numbers and bad arguments. */
int64_t syscall6(uint64_t num, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5,
		 uint64_t a6);

/* mmap returns an address or a small negative error code cast to a pointer. */
#define MMAP_FAILED(p)	((int64_t)(p) < 0 && (int64_t)(p) > -MAXERROR)

/* Console output (lib/printf.c). printf is cprintf. */
#define printf cprintf

/* Heap (lib/malloc.c), on top of sbrk. */
void *malloc(size_t size);
void free(void *p);

/* Argument and program name helpers (lib/entry.c sets them up). */
extern const char *binaryname;
/* Print "PROG: message" and exit(1). */
void fail(const char *fmt, ...) __attribute__((noreturn));

#endif
