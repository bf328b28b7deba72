/*
 * prc_fpu: x87 and SSE registers belong to one process.  User code is built
 * -mgeneral-regs-only, so the registers are loaded and read with FXRSTOR/FXSAVE only.
 *
 * The parent loads state A (all eight x87 registers, FCW, all sixteen XMM registers,
 * MXCSR) and forks: the child must start with A (fork copies the registers), then
 * loads B.  Both then check their own state ROUNDS times, yielding or spinning through
 * timer ticks in between, so that they run alternately across many context switches;
 * a state that changed says whether it is the other process's.  Last, a program
 * spawned while A is loaded must start from the initial state (FNINIT: FCW 0x37f,
 * tags empty; MXCSR 0x1f80; registers zero).  Prints "prc_fpu: OK".
 */
#include "user/utest.h"

#define ROUNDS		2000
#define FX_FCW		0		/* byte offsets in an FXSAVE image */
#define FX_FSW		2
#define FX_FTW		4
#define FX_MXCSR	24
#define FX_ST		32		/* ST0..ST7: 10 bytes used of every 16 */
#define FX_XMM		160		/* XMM0..XMM15, 16 bytes each */

typedef uint8_t fximage[512] __attribute__((aligned(16)));

static fximage a, b, now;

static void
fxsave(fximage img)
{
	__asm__ volatile("fxsave64 %0" : "=m"(*(fximage *)img));
}

static void
fxrstor(const fximage img)
{
	__asm__ volatile("fxrstor64 %0" : : "m"(*(const fximage *)img));
}

/* Fill img with a state made of seed: x87 values, control words, XMM bytes. */
static void
make_state(fximage img, uint8_t seed, uint16_t fcw, uint32_t mxcsr)
{
	memset(img, 0, sizeof(fximage));
	*(uint16_t *)(img + FX_FCW) = fcw;
	img[FX_FTW] = 0xff;			/* all eight x87 registers valid */
	*(uint32_t *)(img + FX_MXCSR) = mxcsr;
	for (int r = 0; r < 8; r++) {
		uint8_t *st = img + FX_ST + 16 * r;
		for (int i = 0; i < 8; i++)
			st[i] = (uint8_t)(seed * 37 + r * 8 + i);
		st[7] |= 0x80;			/* the integer bit: a normal number */
		st[8] = (uint8_t)(0xff - r);	/* exponent near 0x3fff */
		st[9] = 0x3f;
	}
	for (int i = 0; i < 256; i++)
		img[FX_XMM + i] = (uint8_t)(seed * 101 + i * 7);
}

/* Whether the state in img is the one made as want (control words, registers). */
static bool
same_state(const fximage img, const fximage want)
{
	if (memcmp(img + FX_FCW, want + FX_FCW, 2) != 0 || memcmp(img + FX_FSW, want + FX_FSW, 2) != 0 ||
	    img[FX_FTW] != want[FX_FTW] || memcmp(img + FX_MXCSR, want + FX_MXCSR, 4) != 0)
		return false;
	for (int r = 0; r < 8; r++)
		if (memcmp(img + FX_ST + 16 * r, want + FX_ST + 16 * r, 10) != 0)
			return false;
	return memcmp(img + FX_XMM, want + FX_XMM, 256) == 0;
}

/* Check ROUNDS times that the registers still hold mine, never theirs. */
static void
keep_checking(const char *who, const fximage mine, const fximage theirs)
{
	for (int round = 0; round < ROUNDS; round++) {
		fxsave(now);
		CHECK(!same_state(now, theirs), "%s sees the other process's registers (round %d)",
		      who, round);
		CHECK(same_state(now, mine), "%s's registers changed (round %d)", who, round);
		if (round % 8 == 0) {
			for (volatile int i = 0; i < 20000; i++)
				;
		} else {
			yield();
		}
	}
}

/* Run as "prc_fpu fresh": the registers of a new program are the initial ones. */
static int
fresh(void)
{
	fximage init;

	make_state(init, 0, 0x037f, 0x1f80);
	memset(init + FX_ST, 0, 8 * 16);
	memset(init + FX_XMM, 0, 256);
	init[FX_FTW] = 0;
	fxsave(now);
	CHECK(same_state(now, init), "a new program's registers are not the initial ones "
	      "(FCW 0x%x, tags 0x%x, MXCSR 0x%x)", *(uint16_t *)(now + FX_FCW), now[FX_FTW],
	      *(uint32_t *)(now + FX_MXCSR));
	return 0;
}

int
main(int argc, char **argv)
{
	struct kcounters before, after;
	int status;

	if (argc > 1 && strcmp(argv[1], "fresh") == 0)
		return fresh();
	make_state(a, 1, 0x027f, 0x1f80 | 1 << 13);	/* 53-bit precision; SSE rounds down */
	make_state(b, 2, 0x0f7f, 0x1f80 | 3 << 13);	/* both round toward zero */
	EXPECT(counters(&before, sizeof before), sizeof before);
	fxrstor(a);
	int c = fork();
	CHECK(c >= 0, "fork: %e", c);
	if (c == 0) {
		fxsave(now);
		CHECK(same_state(now, a), "the child did not start with the parent's registers");
		fxrstor(b);
		keep_checking("the child", b, a);
		exit(0);
	}
	keep_checking("the parent", a, b);
	EXPECT(wait(c, &status), c);
	EXPECT(status, 0);
	EXPECT(counters(&after, sizeof after), sizeof after);
	CHECK(after.context_switches - before.context_switches >= ROUNDS,
	      "only %lu context switches", after.context_switches - before.context_switches);
	printf("prc_fpu: x87 and SSE registers kept across %d rounds of switches\n", ROUNDS);

	const char *args[] = { "prc_fpu", "fresh", NULL };
	int f = spawn("prc_fpu", args);
	CHECK(f >= 0, "spawn: %e", f);
	EXPECT(wait(f, &status), f);
	EXPECT(status, 0);
	fxsave(now);
	CHECK(same_state(now, a), "the parent's registers changed while a new program ran");
	printf("prc_fpu: a new program starts from the initial state\n");
	printf("prc_fpu: OK\n");
	return 0;
}
