/*
 * getpid: process ids.  The parent's pid is positive; fork returns the child's pid
 * (positive, different from the parent's) in the parent and 0 in the child; the
 * child's getpid() differs from the parent's and equals what fork returned (the child
 * reports its pid modulo 256 as its exit status); wait returns that pid.  Prints
 * "getpid: OK"; a failure prints "getpid: FAIL ...".
 */
#include "user/utest.h"

int
main(void)
{
	int parent = getpid(), status;

	CHECK(parent > 0, "getpid returned %d", parent);
	int child = fork();
	CHECK(child >= 0, "fork: %e", child);
	if (child == 0) {
		int me = getpid();
		CHECK(me > 0 && me != parent, "child getpid %d, parent %d", me, parent);
		exit(me & 0xFF);
	}
	CHECK(child != parent, "fork returned the parent's own pid %d", child);
	CHECK(getpid() == parent, "parent's pid changed from %d to %d", parent, getpid());
	EXPECT(wait(child, &status), child);
	CHECK(status == (child & 0xFF), "child's getpid (mod 256) %d, fork returned %d", status, child);
	printf("getpid: parent %d, child %d\n", parent, child);
	printf("getpid: OK\n");
	return 0;
}
