/*
 * testall: the whole suite in one boot, with a leak check around it.  It records the
 * free-page count, spawns every non-faulting test in turn, waits for each (status
 * must be 0) and finally requires the free-page count to be back at the baseline.
 * Prints "testall: NAME OK" per program and "testall: OK, free pages N before and
 * after"; a failure prints "testall: FAIL ..." (after running the remaining tests).
 */
#include "user/utest.h"

static const char *const tests[] = {
	"hello", "exitstatus", "getpid", "spin", "yieldpingpong", "forktree", "cowfork",
	"forkbomb", "badsyscall", "evilpointer", "testbss", "mmaptest", "sbrktest",
	"killtest", "oomparent",
};

int
main(void)
{
	int status, failures = 0;
	uint64_t before = free_pages();

	for (size_t i = 0; i < ARRAY_SIZE(tests); i++) {
		int pid = spawn(tests[i], NULL);
		if (pid < 0) {
			printf("testall: FAIL spawn %s: %e\n", tests[i], pid);
			failures++;
			continue;
		}
		EXPECT(wait(pid, &status), pid);
		if (status != 0) {
			printf("testall: FAIL %s %s %d\n", tests[i],
			       (status & WSTATUS_KILLED) ? "killed, status" : "exited with status", status);
			failures++;
			continue;
		}
		printf("testall: %s OK\n", tests[i]);
	}
	uint64_t after = free_pages();
	CHECK(failures == 0, "%d of %d programs failed", failures, (int)ARRAY_SIZE(tests));
	CHECK(after == before, "free pages %lu before, %lu after: LEAK of %ld pages",
	      (unsigned long)before, (unsigned long)after, (long)(before - after));
	printf("testall: OK, free pages %lu before and after\n", (unsigned long)after);
	return 0;
}
