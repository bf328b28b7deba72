/*
 * evilpointer: system calls given bad pointers fail with -E_FAULT and the process
 * goes on.  cputs is tried with a kernel-image pointer, a direct-map pointer, NULL,
 * an unmapped pointer, non-canonical pointers, a range wrapping around the address
 * space, the stack guard page, a PROT_NONE page, and a buffer starting in mapped
 * memory and running off its end; vmquery, counters and wait with pointers they
 * cannot write (kernel, unmapped, read-only text); spawn with bad names and bad
 * argv.  The buffers hold "EVIL": the grader rejects any output containing it, since
 * a failed cputs must print nothing.  A failed wait must not lose the child, and no
 * failed spawn may leave a process behind.  Prints one "evilpointer: <call> OK" line
 * per group and "evilpointer: OK"; a failure prints "evilpointer: FAIL ...".
 */
#include "user/utest.h"

#define KERNEL_PTR	0xFFFFFFFF80100000UL
#define UNMAPPED_PTR	0x10000000UL

static const uint64_t bad_pointers[] = {
	KERNEL_PTR, KDIRECT, 0, UNMAPPED_PTR, 0x0000800000000000UL, 0xDEAD000000000000UL,
	USTACKTOP - 256 * 1024 - PGSIZE,	/* the stack guard page */
};

int
main(void)
{
	char *m;
	int status, child;
	struct vm_query q;
	struct kcounters c;

	/* two pages of "EVIL"; the second is unmapped again, the first ends mapped memory */
	m = mmap(NULL, 2 * PGSIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON);
	CHECK(!MMAP_FAILED(m), "mmap: %e", (int)(int64_t)m);
	for (size_t i = 0; i < 2 * PGSIZE; i++)
		m[i] = "EVIL"[i % 4];
	EXPECT(munmap(m + PGSIZE, PGSIZE), 0);
	char *edge = m + PGSIZE - 8;		/* 8 mapped bytes, then nothing */

	for (size_t i = 0; i < ARRAY_SIZE(bad_pointers); i++)
		CHECK(cputs(opaque_ptr(bad_pointers[i]), 16) == -E_FAULT, "cputs(0x%lx) did not fail with -E_FAULT",
		      (unsigned long)bad_pointers[i]);
	EXPECT(cputs(opaque_ptr(0xFFFFFFFFFFFFFFF0UL), 32), -E_FAULT);	/* wraps around */
	EXPECT(cputs(edge, 16), -E_FAULT);
	EXPECT(cputs(edge, PGSIZE), -E_FAULT);
	int r = cputs(m, 1UL << 40);
	CHECK(r == -E_FAULT || r == -E_INVAL, "cputs of 1 TiB returned %d", r);
	EXPECT(mprotect(m, PGSIZE, PROT_NONE), 0);
	EXPECT(cputs(m, 4), -E_FAULT);
	EXPECT(mprotect(m, PGSIZE, PROT_READ | PROT_WRITE), 0);
	EXPECT(cputs("evilpointer: cputs OK\n", 22), 22);

	/* vmquery writes a struct: not into the kernel, a hole, text, or across an edge */
	for (size_t i = 0; i < ARRAY_SIZE(bad_pointers); i++)
		CHECK(vmquery(m, opaque_ptr(bad_pointers[i])) == -E_FAULT,
		      "vmquery into 0x%lx did not fail with -E_FAULT", (unsigned long)bad_pointers[i]);
	EXPECT(vmquery(m, opaque_ptr((uint64_t)main)), -E_FAULT);
	EXPECT(vmquery(m, (struct vm_query *)edge), -E_FAULT);
	EXPECT(vmquery(opaque_ptr(KERNEL_PTR), &q), 0);		/* asking about it is fine */
	CHECK(!q.mapped, "vmquery says the kernel is mapped for the user");
	EXPECT(vmquery(opaque_ptr(0xDEAD000000000000UL), &q), 0);
	CHECK(!q.mapped, "vmquery says a non-canonical address is mapped");
	printf("evilpointer: vmquery OK\n");

	for (size_t i = 0; i < ARRAY_SIZE(bad_pointers); i++)
		CHECK(counters(opaque_ptr(bad_pointers[i]), sizeof c) == -E_FAULT,
		      "counters into 0x%lx did not fail with -E_FAULT", (unsigned long)bad_pointers[i]);
	EXPECT(counters(opaque_ptr((uint64_t)main), sizeof c), -E_FAULT);
	EXPECT(counters((struct kcounters *)edge, sizeof c), -E_FAULT);
	printf("evilpointer: counters OK\n");

	child = fork();
	CHECK(child >= 0, "fork: %e", child);
	if (child == 0)
		exit(5);
	for (size_t i = 0; i < ARRAY_SIZE(bad_pointers); i++)
		CHECK(bad_pointers[i] == 0 ||	/* wait(pid, NULL) is allowed */
		      wait(child, opaque_ptr(bad_pointers[i])) == -E_FAULT,
		      "wait with status at 0x%lx did not fail with -E_FAULT", (unsigned long)bad_pointers[i]);
	EXPECT(wait(child, opaque_ptr((uint64_t)main)), -E_FAULT);
	EXPECT(wait(child, &status), child);	/* the failed waits did not lose it */
	CHECK(status == 5, "child status %d", status);
	printf("evilpointer: wait OK\n");

	for (size_t i = 0; i < ARRAY_SIZE(bad_pointers); i++) {
		if (bad_pointers[i] == 0)
			continue;	/* argv NULL is allowed */
		CHECK(spawn(opaque_ptr(bad_pointers[i]), NULL) == -E_FAULT,
		      "spawn of a name at 0x%lx did not fail with -E_FAULT", (unsigned long)bad_pointers[i]);
		CHECK(spawn("hello", opaque_ptr(bad_pointers[i])) == -E_FAULT,
		      "spawn with argv at 0x%lx did not fail with -E_FAULT", (unsigned long)bad_pointers[i]);
		const char *argv[] = { "hello", opaque_ptr(bad_pointers[i]), NULL };
		CHECK(spawn("hello", argv) == -E_FAULT,
		      "spawn with argv[1] = 0x%lx did not fail with -E_FAULT", (unsigned long)bad_pointers[i]);
	}
	memcpy(m + PGSIZE - 5, "hello", 5);	/* a name with no NUL before the edge */
	EXPECT(spawn(m + PGSIZE - 5, NULL), -E_FAULT);
	const char **argv_edge = (const char **)edge;	/* argv[0] ok, then no NULL */
	argv_edge[0] = "hello";
	EXPECT(spawn("hello", argv_edge), -E_FAULT);
	EXPECT(spawn("nosuchprogram", NULL), -E_NOT_FOUND);
	EXPECT(wait(-1, &status), -E_CHILD);	/* no failed spawn left a process */
	printf("evilpointer: spawn OK\n");

	EXPECT(munmap(m, PGSIZE), 0);
	printf("evilpointer: OK\n");
	return 0;
}
