/* The kernel command line: key=value words (kern/cmdline.c). */
#ifndef SPOS_KERN_CMDLINE_H
#define SPOS_KERN_CMDLINE_H

#include <stdint.h>

/*
 * Build the command line from the boot loader's and QEMU fw_cfg's "opt/spos/cmdline".
 * A line that does not fit (1023 characters, 64 words) ends the boot: message, QEMU
 * failure status.
 */
void cmdline_init(const char *from_loader);
/* The whole command line as parsed. */
const char *cmdline_text(void);
/* Value of key=value (the first one), "" for a bare key, NULL when absent. */
const char *cmdline_get(const char *key);
/* Numeric value of key (accepts 0x.. and K/M/G suffixes), or dflt when absent or malformed. */
uint64_t cmdline_get_u64(const char *key, uint64_t dflt);

#endif
