/*
 * oomparent: after a process is killed for running out of memory, everything it had
 * comes back.  It spawns "oom", waits for it (status WSTATUS_KILLED) and checks that
 * the free-page count equals its value before the spawn.  Prints "oomparent: OK";
 * a failure prints "oomparent: FAIL ...".
 */
#include "user/utest.h"

int
main(void)
{
	int status;
	uint64_t before = free_pages();
	int pid = spawn("oom", NULL);

	CHECK(pid > 0, "spawn oom: %e", pid);
	EXPECT(wait(pid, &status), pid);
	CHECK(status & WSTATUS_KILLED, "oom was not killed: status 0x%x", status);
	uint64_t after = free_pages();
	CHECK(after == before, "free pages %lu before, %lu after", (unsigned long)before,
	      (unsigned long)after);
	printf("oomparent: oom killed, free pages %lu before and after\n", (unsigned long)after);
	printf("oomparent: OK\n");
	return 0;
}
