/*
 * yieldpingpong: yield hands the CPU back and forth.  Parent and child each print
 * ROUNDS lines ("ping i" from the parent, "pong i" from the child), yielding after
 * each; then the parent reaps the child and prints "yield: OK".  A failure is a
 * missing line, a "yieldpingpong: FAIL" line or a hang.
 */
#include "user/utest.h"

#define ROUNDS 5

int
main(void)
{
	int status;
	int child = fork();

	CHECK(child >= 0, "fork: %e", child);
	const char *word = child == 0 ? "pong" : "ping";
	for (int i = 0; i < ROUNDS; i++) {
		printf("%s %d\n", word, i);
		EXPECT(yield(), 0);
	}
	if (child == 0)
		return 0;
	EXPECT(wait(child, &status), child);
	CHECK(status == 0, "child status %d", status);
	printf("yield: OK\n");
	return 0;
}
