/*
 * lib/printf.c: cprintf for user programs.
 *
 * Characters collect in a buffer on the stack and go to the console with one cputs
 * when it fills and at the end, so a line printed by one cprintf is normally a single
 * system call and lines of different processes do not interleave mid-line.
 */
#include "inc/lib.h"

#define PRINTBUF_SIZE	256

struct printbuf {
	size_t len;		/* characters waiting in buf */
	int count;		/* characters printed in all */
	char buf[PRINTBUF_SIZE];
};

static void
putch(int ch, void *ctx)
{
	struct printbuf *b = ctx;

	b->buf[b->len++] = (char)ch;
	b->count++;
	if (b->len == sizeof b->buf) {
		cputs(b->buf, b->len);
		b->len = 0;
	}
}

int
vcprintf(const char *fmt, va_list ap)
{
	struct printbuf b;

	b.len = 0;
	b.count = 0;
	vprintfmt(putch, &b, fmt, ap);
	if (b.len > 0)
		cputs(b.buf, b.len);
	return b.count;
}
