/*
 * testbss: the loader sets up a program's data.  A 4 MiB static array (bss) must read
 * as zeros everywhere and keep what is written to it; an initialised variable (data)
 * and a constant string (rodata) must hold their values; vmquery must report bss as
 * mapped read/write and rodata as read-only.  Prints "testbss: OK"; a failure prints
 * "testbss: FAIL ...".
 */
#include "user/utest.h"

#define BIG_WORDS (4 * 1024 * 1024 / sizeof(uint64_t))

static uint64_t big[BIG_WORDS];
static volatile uint64_t initialised = 0x5eed5eed12345678UL;
static const char message[] = "read-only data";

int
main(void)
{
	struct vm_query q;

	CHECK(initialised == 0x5eed5eed12345678UL, "initialised data is 0x%lx",
	      (unsigned long)initialised);
	CHECK(strcmp(message, "read-only data") == 0, "rodata is '%s'", message);
	EXPECT(vmquery(message, &q), 0);
	CHECK(q.mapped && q.prot == PROT_READ, "rodata prot %d", q.prot);
	EXPECT(vmquery(&big[BIG_WORDS / 2], &q), 0);
	CHECK(q.mapped && q.prot == (PROT_READ | PROT_WRITE), "bss prot %d", q.prot);

	for (size_t i = 0; i < BIG_WORDS; i++)
		CHECK(big[i] == 0, "big[%lu] = 0x%lx, not zero", (unsigned long)i, (unsigned long)big[i]);
	for (size_t i = 0; i < BIG_WORDS; i++)
		big[i] = i * 0x9E3779B97F4A7C15UL;
	for (size_t i = 0; i < BIG_WORDS; i++)
		CHECK(big[i] == i * 0x9E3779B97F4A7C15UL, "big[%lu] lost its value", (unsigned long)i);
	printf("testbss: 4 MiB of bss zeroed and writable\n");
	printf("testbss: OK\n");
	return 0;
}
