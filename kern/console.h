/* The kernel console (kern/console.c) and kernel printf/panic (kern/printf.c). */
#ifndef SPOS_KERN_CONSOLE_H
#define SPOS_KERN_CONSOLE_H

#include <stdarg.h>
#include "inc/stdio.h"

void cons_init(void);
void cons_putc(int c);
int cons_getc(void);		/* next input character, or -1 if none is waiting */
int cons_getc_wait(void);	/* blocks (polling) until a character arrives */
/* Called repeatedly while cons_getc_wait waits for input. */
extern void (*cons_idle_hook)(void);

/* Read one line with echo and backspace; returns buf, or NULL at end of input. */
char *readline(const char *prompt, char *buf, size_t size);

void _panic(const char *file, int line, const char *fmt, ...) __attribute__((noreturn));
void _warn(const char *file, int line, const char *fmt, ...);
#define panic(...) _panic(__FILE__, __LINE__, __VA_ARGS__)
#define warn(...) _warn(__FILE__, __LINE__, __VA_ARGS__)
#define assert(x) \
	do { if (!(x)) panic("assertion failed: %s", #x); } while (0)
#define static_assert(x, msg) _Static_assert(x, msg)

#endif
