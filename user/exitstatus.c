/*
 * exitstatus: exit codes travel from child to parent.  A forked child's exit(42)
 * reaches wait() with the child's pid; a spawned copy of this program, run with the
 * argument "ret7", returns 7 from main and wait() sees 7; wait(pid, NULL) is allowed;
 * waiting for a pid that is not a child fails with -E_CHILD (or -E_NOT_FOUND) and
 * wait(-1) with no children left fails with -E_CHILD.  Prints "exitstatus: OK"; a
 * failure prints "exitstatus: FAIL ...".
 */
#include "user/utest.h"

int
main(int argc, char **argv)
{
	int status, pid, r;

	if (argc >= 2 && strcmp(argv[1], "ret7") == 0)
		return 7;		/* the spawned copy: main's return value is the status */

	pid = fork();
	CHECK(pid >= 0, "fork: %e", pid);
	if (pid == 0)
		exit(42);
	r = wait(pid, &status);
	CHECK(r == pid, "wait returned %d, expected child %d", r, pid);
	CHECK(status == 42, "child exit(42) gave status %d", status);
	printf("exitstatus: child %d exited with 42\n", pid);

	const char *args[] = { "exitstatus", "ret7", NULL };
	pid = spawn("exitstatus", args);
	CHECK(pid > 0, "spawn: %e", pid);
	r = wait(-1, &status);
	CHECK(r == pid, "wait(-1) returned %d, expected %d", r, pid);
	CHECK(status == 7, "main returning 7 gave status %d", status);
	printf("exitstatus: main's return value 7 OK\n");

	pid = fork();
	CHECK(pid >= 0, "fork: %e", pid);
	if (pid == 0)
		exit(3);
	EXPECT(wait(pid, NULL), pid);

	r = wait(99999, &status);
	CHECK(r == -E_CHILD || r == -E_NOT_FOUND, "wait(99999) returned %d", r);
	r = wait(getpid(), &status);
	CHECK(r == -E_CHILD || r == -E_NOT_FOUND, "wait(self) returned %d", r);
	EXPECT(wait(-1, &status), -E_CHILD);
	printf("exitstatus: OK\n");
	return 0;
}
