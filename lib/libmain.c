/*
 * lib/libmain.c: the C side of program start-up, and fail().
 *
 * libmain records the program's name (argv[0]) for messages, makes the top of the
 * stack resident, runs main and passes its return value to exit.
 */
#include "inc/lib.h"

const char *binaryname = "(unknown)";

int main(int argc, char **argv);
void libmain(int argc, char **argv) __attribute__((noreturn));

#define STACK_PREFAULT	(16 * 1024)

/*
 * Touch the top STACK_PREFAULT bytes of the stack once, so that the stack pages an
 * ordinary program uses are resident before main runs: a test comparing the kernel's
 * free-page count before and after some operation is then not disturbed by its own
 * stack growing into a fresh page in between (a demand-zero fault it did not cause
 * on purpose).
 */
static void __attribute__((noinline))
prefault_stack(void)
{
	volatile char buf[STACK_PREFAULT];

	for (size_t i = 0; i < sizeof buf; i += PGSIZE / 2)
		buf[i] = 0;
}

void
libmain(int argc, char **argv)
{
	if (argc > 0 && argv && argv[0])
		binaryname = argv[0];
	prefault_stack();
	exit(main(argc, argv));
}

/* Print "NAME: message" as one console write, then exit(1). */
void
fail(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	int n = snprintf(buf, sizeof buf - 1, "%s: ", binaryname);
	if (n > (int)sizeof buf - 2)
		n = (int)sizeof buf - 2;
	va_start(ap, fmt);
	int m = vsnprintf(buf + n, sizeof buf - 1 - (size_t)n, fmt, ap);
	va_end(ap);
	n += m;
	if (n > (int)sizeof buf - 2)
		n = (int)sizeof buf - 2;
	buf[n++] = '\n';
	cputs(buf, (size_t)n);
	exit(1);
}
