/*
 * kern/printf.c: kernel printf, panic and warn on top of the console.
 * panic prints "kernel panic at FILE:LINE: message", a backtrace, and exits QEMU
 * with the failure status so the grader sees it at once.
 */
#include "inc/x86.h"
#include "kern/console.h"
#include "kern/qemu.h"
#include "kern/backtrace.h"

static void
console_putch(int ch, void *ctx)
{
	int *count = ctx;
	cons_putc(ch);
	(*count)++;
}

int
vcprintf(const char *fmt, va_list ap)
{
	int count = 0;
	vprintfmt(console_putch, &count, fmt, ap);
	return count;
}

static int panicking;

void
_panic(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	cli();
	if (panicking++)
		qemu_exit(QEMU_EXIT_FAILURE);	/* panic inside panic: just stop */
	cprintf("kernel panic at %s:%d: ", file, line);
	va_start(ap, fmt);
	vcprintf(fmt, ap);
	va_end(ap);
	cprintf("\n");
	backtrace_print(read_rbp());
	qemu_exit(QEMU_EXIT_FAILURE);
}

void
_warn(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	cprintf("kernel warning at %s:%d: ", file, line);
	va_start(ap, fmt);
	vcprintf(fmt, ap);
	va_end(ap);
	cprintf("\n");
}
