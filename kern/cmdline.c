/*
 * kern/cmdline.c: the kernel command line.
 *
 * Two loaders pass a command line (kern/multiboot.c): GRUB, from the ISO, the one
 * written in grub.cfg, and QEMU's -kernel (the grader's boots) its -append words; both
 * are normally empty.  A run that wants other arguments (the grader's test=NAME or
 * run=PROG, `make qemu ARGS=...`) changes neither the ISO nor the way QEMU boots:
 * QEMU puts them in the fw_cfg file "opt/spos/cmdline" (-fw_cfg
 * name=opt/spos/cmdline,string=...), and they are appended to the loader's line here.
 * Words are key=value or bare keys separated by spaces; the first occurrence wins.
 * A line longer than CMDLINE_MAX - 1 characters or CMDLINE_MAX_WORDS words stops the
 * boot with a message and QEMU's failure status: a cut line would lose words silently
 * (a lost run= would leave the run waiting in the monitor forever).
 *
 * QEMU's fw_cfg interface: write a 16-bit selector to port 0x510, read bytes from
 * 0x511.  Selector 0x0000 reads the signature "QEMU", 0x0019 the file directory
 * (big-endian count, then 64-byte entries: size, selector, reserved, name[56]).
 */
#include <stddef.h>
#include "inc/string.h"
#include "inc/x86.h"
#include "kern/console.h"
#include "kern/qemu.h"
#include "kern/cmdline.h"

#define FWCFG_PORT_SEL		0x510
#define FWCFG_PORT_DATA		0x511
#define FWCFG_SIGNATURE		0x0000
#define FWCFG_FILE_DIR		0x0019
#define FWCFG_FILE_NAME_LEN	56

#define CMDLINE_MAX 1024
#define CMDLINE_MAX_WORDS 64
static char cmdline[CMDLINE_MAX];	/* as given, for display */
static char words_buf[CMDLINE_MAX];	/* the same, split at spaces into NUL-terminated words */
static const char *words[CMDLINE_MAX_WORDS];
static int nwords;

static void
fwcfg_read(void *buf, size_t n)
{
	uint8_t *p = buf;
	while (n--)
		*p++ = inb(FWCFG_PORT_DATA);
}

static uint32_t
be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/*
 * Copy fw_cfg file `name` into buf (NUL terminated, truncated to size-1).
 * Returns the file's whole length (above size-1 if it was truncated), or -1 when there
 * is no fw_cfg device or no such file.
 */
static int
fwcfg_read_file(const char *name, char *buf, size_t size)
{
	uint8_t sig[4], count_be[4];

	outw(FWCFG_PORT_SEL, FWCFG_SIGNATURE);
	fwcfg_read(sig, 4);
	if (memcmp(sig, "QEMU", 4) != 0)
		return -1;
	outw(FWCFG_PORT_SEL, FWCFG_FILE_DIR);
	fwcfg_read(count_be, 4);
	uint32_t count = be32(count_be);
	for (uint32_t i = 0; i < count; i++) {
		uint8_t entry[8 + FWCFG_FILE_NAME_LEN];
		fwcfg_read(entry, sizeof entry);
		entry[sizeof entry - 1] = '\0';
		if (strcmp((const char *)entry + 8, name) != 0)
			continue;
		uint32_t len = be32(entry);
		uint16_t select = (uint16_t)(entry[4] << 8 | entry[5]);
		size_t n = len < size - 1 ? len : size - 1;
		outw(FWCFG_PORT_SEL, select);
		fwcfg_read(buf, n);
		buf[n] = '\0';
		return (int)len;
	}
	return -1;
}

/* Refuse a command line that does not fit: say why and leave QEMU with failure. */
static void __attribute__((noreturn))
too_long(const char *what, uint64_t n, uint64_t max)
{
	cprintf("command line: too long: %lu %s, at most %lu; not booting with part of it\n",
		n, what, max);
	qemu_exit(QEMU_EXIT_FAILURE);
}

void
cmdline_init(const char *from_loader)
{
	char extra[CMDLINE_MAX];
	size_t len = strlen(from_loader);
	int n;

	if (len > CMDLINE_MAX - 1)
		too_long("characters", len, CMDLINE_MAX - 1);
	strlcpy(cmdline, from_loader, sizeof cmdline);
	if ((n = fwcfg_read_file("opt/spos/cmdline", extra, sizeof extra)) > 0) {
		uint64_t total = len + (len > 0) + (uint64_t)n;

		if (total > CMDLINE_MAX - 1)
			too_long("characters", total, CMDLINE_MAX - 1);
		if (len > 0)
			cmdline[len++] = ' ';
		strlcpy(cmdline + len, extra, sizeof cmdline - len);
	}
	for (char *p = cmdline; *p; p++)	/* newlines from a file count as spaces */
		if (*p == '\n' || *p == '\t')
			*p = ' ';

	strlcpy(words_buf, cmdline, sizeof words_buf);
	nwords = 0;
	for (char *p = words_buf; *p;) {
		while (*p == ' ')
			*p++ = '\0';
		if (!*p)
			break;
		if (nwords == CMDLINE_MAX_WORDS) {
			int more = 0;

			for (; *p; p++)
				more += *p != ' ' && (p[1] == ' ' || p[1] == '\0');
			too_long("words", (uint64_t)(nwords + more), CMDLINE_MAX_WORDS);
		}
		words[nwords++] = p;
		while (*p && *p != ' ')
			p++;
	}
}

const char *
cmdline_text(void)
{
	return cmdline;
}

const char *
cmdline_get(const char *key)
{
	size_t keylen = strlen(key);

	for (int i = 0; i < nwords; i++) {
		if (strncmp(words[i], key, keylen) != 0)
			continue;
		if (words[i][keylen] == '\0')
			return "";
		if (words[i][keylen] == '=')
			return words[i] + keylen + 1;
	}
	return NULL;
}

uint64_t
cmdline_get_u64(const char *key, uint64_t dflt)
{
	const char *v = cmdline_get(key);
	char *end;

	if (!v || !*v)
		return dflt;
	uint64_t n = strtoul(v, &end, 0);
	if (end == v)
		return dflt;
	switch (*end) {
	case 'G': case 'g': n <<= 10; /* fall through */
	case 'M': case 'm': n <<= 10; /* fall through */
	case 'K': case 'k': n <<= 10; end++; break;
	}
	return *end == '\0' ? n : dflt;
}
