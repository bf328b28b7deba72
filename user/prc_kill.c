/*
 * prc_kill: pids are compared in all 64 bits, and kill obeys its rule (a process may
 * kill itself and its descendants only, inc/syscall.h).
 *
 * The parent P forks a spinning child S, then checks that pid values which are S's pid
 * or -1 in their low 32 bits match nothing: kill(S + 2^32) must not kill S, and
 * wait(0xffffffff) must not reap a zombie child as if it were wait(-1).  A child C
 * checks it may kill neither its parent nor its sibling S, then forks a grandchild G
 * that spins; P kills G (a descendant two levels down), which C sees in wait.  A child
 * that kills itself dies.  Prints "prc_kill: OK".  G's pid is taken to be C's plus one:
 * nothing else creates processes meanwhile (run= or testall run one test at a time).
 */
#include "user/utest.h"

#define HIGH	((int64_t)1 << 32)

/* Run forever; only a kill ends it. */
static void __attribute__((noreturn))
spin(void)
{
	for (;;)
		yield();
}

int
main(void)
{
	int status, r;
	int parent = getpid();

	int s = fork();
	CHECK(s >= 0, "fork: %e", s);
	if (s == 0)
		spin();

	int z = fork();
	CHECK(z >= 0, "fork: %e", z);
	if (z == 0)
		exit(3);
	EXPECT(kill(s + HIGH), -E_NOT_FOUND);
	EXPECT(kill(0), -E_NOT_FOUND);
	EXPECT(kill(-1), -E_NOT_FOUND);
	EXPECT(kill(INT64_MIN), -E_NOT_FOUND);
	EXPECT(kill((int64_t)PID_MAX + 1), -E_NOT_FOUND);
	for (int i = 0; i < 20; i++)
		yield();		/* z is a zombie now */
	EXPECT(wait(0xffffffffLL, &status), -E_CHILD);
	EXPECT(wait(z + HIGH, &status), -E_CHILD);
	EXPECT(wait(z, &status), z);
	EXPECT(status, 3);
	printf("prc_kill: 64-bit pids OK\n");

	int c = fork();
	CHECK(c >= 0, "fork: %e", c);
	if (c == 0) {
		EXPECT(kill(parent), -E_PERM);
		EXPECT(kill(s), -E_PERM);
		int g = fork();
		CHECK(g >= 0, "fork: %e", g);
		if (g == 0)
			spin();
		EXPECT(wait(g, &status), g);
		CHECK(status == WSTATUS_KILLED, "grandchild's status 0x%x", status);
		exit(0);
	}
	for (int i = 0; (r = kill(c + 1)) == -E_NOT_FOUND && i < 1000; i++)
		yield();
	EXPECT(r, 0);
	EXPECT(wait(c, &status), c);
	EXPECT(status, 0);
	EXPECT(kill(s), 0);
	EXPECT(wait(s, &status), s);
	CHECK(status == WSTATUS_KILLED, "sibling's status 0x%x", status);

	int k = fork();
	CHECK(k >= 0, "fork: %e", k);
	if (k == 0) {
		kill(getpid());
		printf("prc_kill: FAIL survived kill(self)\n");
		exit(1);
	}
	EXPECT(wait(k, &status), k);
	CHECK(status == WSTATUS_KILLED, "self-killed child's status 0x%x", status);
	printf("prc_kill: permissions OK\n");
	printf("prc_kill: OK\n");
	return 0;
}
