/*
 * forkbomb: running out of processes is an error, not a crash.  The parent forks
 * until fork fails, which must be -E_NO_PROC or -E_NO_MEM; the children yield in a
 * loop until the parent kills them all and reaps them (each status WSTATUS_KILLED).
 * Afterwards no child is left (wait(-1) gives -E_CHILD) and the free-page count is
 * back to its value before the first fork.  Prints "forkbomb: N children, then
 * <error>" and "forkbomb: OK"; a failure prints "forkbomb: FAIL ...".
 */
#include "user/utest.h"

#define MAX_CHILDREN 256	/* far above the kernel's process limit */

int
main(void)
{
	int kids[MAX_CHILDREN], n, err = 0, status;

	memset(kids, 0, sizeof kids);	/* resident before the baseline (it is on the stack) */
	uint64_t before = free_pages();
	for (n = 0; n < MAX_CHILDREN; n++) {
		int pid = fork();
		if (pid == 0)
			for (;;)
				yield();
		if (pid < 0) {
			err = pid;
			break;
		}
		kids[n] = pid;
	}
	CHECK(err == -E_NO_PROC || err == -E_NO_MEM, "fork never failed properly (%d children, %d)",
	      n, err);
	CHECK(n > 0, "not even one fork succeeded: %e", err);
	printf("forkbomb: %d children, then %e\n", n, err);
	for (int i = 0; i < n; i++)
		EXPECT(kill(kids[i]), 0);
	for (int i = 0; i < n; i++) {
		EXPECT(wait(kids[i], &status), kids[i]);
		CHECK(status & WSTATUS_KILLED, "child %d status 0x%x", kids[i], status);
	}
	EXPECT(wait(-1, &status), -E_CHILD);
	uint64_t after = free_pages();
	CHECK(after == before, "free pages %lu before, %lu after", (unsigned long)before,
	      (unsigned long)after);
	printf("forkbomb: OK\n");
	return 0;
}
