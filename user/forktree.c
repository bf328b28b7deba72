/*
 * forktree: a binary tree of processes.  Each node prints "forktree: node 'PATH'"
 * (PATH the branch choices from the root, '' for the root itself); a node above
 * DEPTH forks two children and waits for both; each process exits with the number
 * of processes in its subtree, so the root counts 1 + 2 + 4 + 8 = 15 and prints
 * "forktree: OK 15 processes".  A failure prints "forktree: FAIL ...".
 */
#include "user/utest.h"

#define DEPTH 3

/* Run node `path` (length len): its subtree's process count. */
static int
node(char *path, int len)
{
	int pids[2], total = 1, status;

	printf("forktree: node '%s'\n", path);
	if (len == DEPTH)
		return 1;
	for (int b = 0; b < 2; b++) {
		path[len] = (char)('0' + b);
		path[len + 1] = '\0';
		int pid = fork();
		CHECK(pid >= 0, "fork at '%s': %e", path, pid);
		if (pid == 0)
			exit(node(path, len + 1));
		pids[b] = pid;
		path[len] = '\0';
	}
	for (int b = 0; b < 2; b++) {
		EXPECT(wait(pids[b], &status), pids[b]);
		CHECK(!(status & WSTATUS_KILLED), "child %d was killed", pids[b]);
		total += status;
	}
	return total;
}

int
main(void)
{
	char path[DEPTH + 1] = "";
	int n = node(path, 0);

	CHECK(n == 15, "counted %d processes, expected 15", n);
	printf("forktree: OK %d processes\n", n);
	return 0;
}
