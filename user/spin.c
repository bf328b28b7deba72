/*
 * spin: preemption and kill.  A child spins forever without a system call; the
 * parent yields a few times and must get the CPU back anyway, which only the timer
 * can arrange (the timer-tick counter must advance meanwhile).  Then kill(child)
 * ends the child and wait reports WSTATUS_KILLED; a second kill finds no such
 * process.  Prints "spin: parent ran while child spun" and "spin: OK"; a kernel
 * without preemption hangs here (the grader's timeout), other failures print
 * "spin: FAIL ...".
 */
#include "user/utest.h"

int
main(void)
{
	struct kcounters before, after;
	int status;

	EXPECT(counters(&before, sizeof before), sizeof before);
	int child = fork();
	CHECK(child >= 0, "fork: %e", child);
	if (child == 0) {
		volatile uint64_t n = 0;
		for (;;)
			n++;
	}
	for (int i = 0; i < 5; i++)
		yield();
	EXPECT(counters(&after, sizeof after), sizeof after);
	printf("spin: parent ran while child spun\n");
	EXPECT(kill(child), 0);
	EXPECT(wait(child, &status), child);
	CHECK(status & WSTATUS_KILLED, "killed child's status 0x%x", status);
	EXPECT(kill(child), -E_NOT_FOUND);
	CHECK(after.timer_ticks > before.timer_ticks, "no timer tick while the child spun");
	printf("spin: OK\n");
	return 0;
}
