/* Formatted output (lib/printfmt.c), for the kernel and user programs. */
#ifndef SPOS_INC_STDIO_H
#define SPOS_INC_STDIO_H

#include <stdarg.h>
#include <stddef.h>

/*
 * vprintfmt: the formatting engine.  Verbs: %d %i %u %x %o %c %s %p %% with
 * l/ll/z length modifiers, '-' and '0' flags and a width; %e prints an error code
 * (positive or negative) by name, e.g. "out of memory" for -E_NO_MEM.
 */
void vprintfmt(void (*putch)(int ch, void *ctx), void *ctx, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

/* No format attribute: gcc would take %e for a double.
 * Provided by the kernel (kern/printf.c) or by lib/ for user programs. */
int cprintf(const char *fmt, ...);
int vcprintf(const char *fmt, va_list ap);

#endif
