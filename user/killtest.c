/*
 * killtest: every faulting program dies alone.  It spawns each fault program in turn
 * and waits for it: the status must have WSTATUS_KILLED (the kernel prints the
 * reason), and this process keeps running.  Prints "killtest: NAME killed OK" per
 * program and "killtest: OK"; a failure prints "killtest: FAIL ...".
 */
#include "user/utest.h"

static const char *const victims[] = {
	"faultread", "faultwrite", "faultkernelread", "faultkernelwrite", "faultexec",
	"faultnoncanon", "textwrite", "stackguard", "divzero", "breakpoint",
	"mprotectfault", "protnonefault",
};

int
main(void)
{
	int status;

	for (size_t i = 0; i < ARRAY_SIZE(victims); i++) {
		int pid = spawn(victims[i], NULL);
		CHECK(pid > 0, "spawn %s: %e", victims[i], pid);
		EXPECT(wait(pid, &status), pid);
		CHECK(status & WSTATUS_KILLED, "%s was not killed: status 0x%x", victims[i], status);
		printf("killtest: %s killed OK\n", victims[i]);
	}
	printf("killtest: OK\n");
	return 0;
}
