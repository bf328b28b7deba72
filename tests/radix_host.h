/*
 * The machine under kern/mm/pt/radix.c in its host unit test (tests/test_radix.c), in
 * place of kern/mm/pt/machine.h's kernel half: table pages in a fake physical memory,
 * a fake CR3, and counted TLB flushes.
 */
#ifndef SPOS_TESTS_RADIX_HOST_H
#define SPOS_TESTS_RADIX_HOST_H

#include <stdint.h>

void *pt_va(uint64_t pa);
uint64_t rcr3(void);
void lcr3(uint64_t pa);
void invlpg(uint64_t va);
/* The frames' counts: a 2 MiB block's 4 KiB mappings became one (promotion) or the reverse. */
void pt_block_merged(uint64_t pa);
void pt_block_split(uint64_t pa);

#endif
