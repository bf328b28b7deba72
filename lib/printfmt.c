/*
 * lib/printfmt.c: the printf engine shared by the kernel and user programs.
 *
 * vprintfmt walks the format and hands each output character to putch; the callers
 * decide where characters go (the serial console, a string buffer, a system call).
 * No floating point: the kernel is built -mgeneral-regs-only.
 */
#include <stdint.h>
#include "inc/stdio.h"
#include "inc/string.h"
#include "inc/error.h"

static const char *const error_names[MAXERROR] = {
	[0] = "success",
	[E_UNSPECIFIED] = "unspecified error",
	[E_INVAL] = "invalid argument",
	[E_NO_MEM] = "out of memory",
	[E_FAULT] = "bad address",
	[E_NOT_FOUND] = "not found",
	[E_NO_PROC] = "out of processes",
	[E_NO_SYS] = "no such system call",
	[E_PERM] = "permission denied",
	[E_EXISTS] = "already exists",
	[E_CHILD] = "no child process",
	[E_BAD_ELF] = "invalid ELF image",
	[E_RANGE] = "out of range",
	[E_BAD_FD] = "bad file descriptor",
};

struct fmtspec {
	int width;
	char pad;		/* ' ' or '0' */
	int left;		/* '-' flag: pad on the right */
};

static void
put_padded(void (*putch)(int, void *), void *ctx, const char *s, size_t len, struct fmtspec *spec)
{
	int padding = spec->width > (int)len ? spec->width - (int)len : 0;

	if (!spec->left)
		while (padding-- > 0)
			putch(spec->pad, ctx);
	for (size_t i = 0; i < len; i++)
		putch(s[i], ctx);
	if (spec->left)
		while (padding-- > 0)
			putch(' ', ctx);
}

/* Format v in base into the end of buf[0..23]; returns the first digit. */
static char *
format_number(char *end, uint64_t v, unsigned base)
{
	char *p = end;
	do {
		*--p = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	return p;
}

static void
put_number(void (*putch)(int, void *), void *ctx, uint64_t v, unsigned base, int negative,
	   struct fmtspec *spec)
{
	char buf[24];
	char *end = buf + sizeof buf;
	char *p = format_number(end, v, base);

	if (negative) {
		if (spec->pad == '0' && spec->width > 0) {
			putch('-', ctx);
			spec->width--;
		} else {
			*--p = '-';
		}
	}
	put_padded(putch, ctx, p, (size_t)(end - p), spec);
}

void
vprintfmt(void (*putch)(int, void *), void *ctx, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			putch(*fmt, ctx);
			continue;
		}
		struct fmtspec spec = { .width = 0, .pad = ' ', .left = 0 };
		int lflag = 0;
		fmt++;
		for (;; fmt++) {
			if (*fmt == '-')
				spec.left = 1;
			else if (*fmt == '0')
				spec.pad = '0';
			else
				break;
		}
		while (*fmt >= '0' && *fmt <= '9')
			spec.width = spec.width * 10 + (*fmt++ - '0');
		while (*fmt == 'l' || *fmt == 'z') {
			lflag = 1;
			fmt++;
		}
		switch (*fmt) {
		case 'd':
		case 'i': {
			int64_t v = lflag ? va_arg(ap, long) : va_arg(ap, int);
			put_number(putch, ctx, v < 0 ? -(uint64_t)v : (uint64_t)v, 10, v < 0, &spec);
			break;
		}
		case 'u':
		case 'x':
		case 'o': {
			uint64_t v = lflag ? va_arg(ap, unsigned long) : va_arg(ap, unsigned int);
			put_number(putch, ctx, v, *fmt == 'u' ? 10 : *fmt == 'x' ? 16 : 8, 0, &spec);
			break;
		}
		case 'p':
			putch('0', ctx);
			putch('x', ctx);
			put_number(putch, ctx, (uint64_t)va_arg(ap, void *), 16, 0, &spec);
			break;
		case 'c': {
			char c = (char)va_arg(ap, int);
			put_padded(putch, ctx, &c, 1, &spec);
			break;
		}
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			put_padded(putch, ctx, s, strlen(s), &spec);
			break;
		}
		case 'e': {
			int err = va_arg(ap, int);
			if (err < 0)
				err = -err;
			if (err < MAXERROR && error_names[err]) {
				const char *s = error_names[err];
				put_padded(putch, ctx, s, strlen(s), &spec);
			} else {
				put_padded(putch, ctx, "error ", 6, &spec);
				put_number(putch, ctx, (uint64_t)err, 10, 0, &spec);
			}
			break;
		}
		case '%':
			putch('%', ctx);
			break;
		case '\0':
			return;
		default:
			putch('%', ctx);
			putch(*fmt, ctx);
			break;
		}
	}
}

struct strbuf {
	char *buf;
	size_t size;
	size_t len;
};

static void
strbuf_putch(int ch, void *ctx)
{
	struct strbuf *sb = ctx;
	if (sb->len + 1 < sb->size)
		sb->buf[sb->len] = (char)ch;
	sb->len++;
}

/* Format into buf (always NUL terminated when size > 0); returns the untruncated length. */
int
vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct strbuf sb = { buf, size, 0 };
	vprintfmt(strbuf_putch, &sb, fmt, ap);
	if (size > 0)
		buf[sb.len < size ? sb.len : size - 1] = '\0';
	return (int)sb.len;
}

int
snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

/* printf to the console: vcprintf is the kernel's (kern/printf.c) or the user library's. */
int
cprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vcprintf(fmt, ap);
	va_end(ap);
	return n;
}
