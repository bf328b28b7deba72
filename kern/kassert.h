/*
 * KASSERT(cond, fmt, ...): check an invariant, and stop with a formatted message when
 * it does not hold.  Always compiled in, so cond is always evaluated.
 *
 * In the kernel a failed KASSERT calls _panic (kern/printf.c), whose printf knows
 * %d %u %x %lx %lu %ld %p %s %c %llu.  In host test builds (-DHOSTTEST) it prints to
 * stderr and abort()s, so tests can catch it in a fork()ed child as SIGABRT.
 * fmt must be a string literal.
 */
#ifndef SPOS_KERN_KASSERT_H
#define SPOS_KERN_KASSERT_H

#ifdef HOSTTEST
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>

#define KASSERT(cond, fmt, ...)							\
	do {									\
		if (!(cond)) {							\
			fprintf(stderr, "%s:%d: KASSERT(%s) failed: " fmt "\n",	\
			    __FILE__, __LINE__, #cond, ##__VA_ARGS__);		\
			abort();						\
		}								\
	} while (0)
#else
void _panic(const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));

#define KASSERT(cond, ...)							\
	do { if (!(cond)) _panic(__FILE__, __LINE__, __VA_ARGS__); } while (0)
#endif

#endif
