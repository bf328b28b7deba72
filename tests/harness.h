/*
 * The harness the host unit tests share (host-only, uses libc).  A test defines
 * HARNESS_NAME ("buddy", ...) before including this; every line printed here starts
 * with it.  Provides: the check counter and CHECK(cond, fmt, ...), which on failure
 * prints "<name>: FAIL <what> (<file>:<line>)" and exits 1; xcalloc (exits on no host
 * memory); a fixed-seed xorshift64* generator (rng_seed, rnd, the state rng_state);
 * harness_start (line-buffered stdout; a stray KASSERT/abort is a failure) and
 * harness_done ("<name>: N checks passed"); and harness_kassert, the death tests: each
 * misuse runs in a fork()ed child that must die of SIGABRT after printing "KASSERT"
 * and its expected message.
 */
#ifndef SPOS_TESTS_HARNESS_H
#define SPOS_TESTS_HARNESS_H

#ifndef HARNESS_NAME
#error "define HARNESS_NAME before including tests/harness.h"
#endif

#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "inc/xorshift.h"

static unsigned long checks;	/* CHECKs evaluated so far, all passed */

/* Report a failed check at file:line (printed without its directory) and exit 1. */
static void __attribute__((noreturn, format(printf, 3, 4)))
fail(const char *file, int line, const char *fmt, ...)
{
	const char *base = strrchr(file, '/');
	va_list ap;

	printf(HARNESS_NAME ": FAIL ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" (%s:%d)\n", base ? base + 1 : file, line);
	exit(1);
}

#define CHECK(cond, ...)						\
	do {								\
		checks++;						\
		if (!(cond))						\
			fail(__FILE__, __LINE__, __VA_ARGS__);		\
	} while (0)

/* Zero-filled memory for n objects of size sz; exits if there is none. */
static inline void *
xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz);

	if (p == NULL) {
		printf(HARNESS_NAME ": FAIL out of host memory\n");
		exit(1);
	}
	return p;
}

static uint64_t rng_state;

/* Restart the generator; seed must be nonzero. */
static inline void
rng_seed(uint64_t seed)
{
	rng_state = seed;
}

/* Next xorshift64* value. */
static inline uint64_t
rnd(void)
{
	return xorshift64star(&rng_state);
}

/* A KASSERT that fires outside a death test is a failure too (abort() is synchronous here). */
static void
harness_on_abort(int sig)
{
	(void)sig;
	fputs(HARNESS_NAME ": FAIL KASSERT or abort (see stderr)\n", stdout);
	fflush(stdout);
	_exit(1);
}

/* First thing in main. */
static void
harness_start(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGABRT, harness_on_abort);
}

/* Last thing in main: the summary line; returns main's exit status. */
static int
harness_done(void)
{
	printf(HARNESS_NAME ": %lu checks passed\n", checks);
	return 0;
}

/*
 * Misuse 0..n-1, each run as misuse(i) in a child, must die of SIGABRT after a message
 * on stderr containing "KASSERT" and expect[i].
 */
static void
harness_kassert(int n, void (*misuse)(int), const char *const expect[])
{
	for (int i = 0; i < n; i++) {
		char msg[1024];
		int status, fds[2];
		size_t len;
		ssize_t got;
		pid_t pid;

		CHECK(pipe(fds) == 0, "pipe");
		fflush(stdout);
		fflush(stderr);
		pid = fork();
		CHECK(pid >= 0, "fork");
		if (pid == 0) {
			signal(SIGABRT, SIG_DFL);
			close(fds[0]);
			dup2(fds[1], 2);
			misuse(i);
			_exit(0);
		}
		close(fds[1]);
		len = 0;
		while (len < sizeof(msg) - 1 &&
		    (got = read(fds[0], msg + len, sizeof(msg) - 1 - len)) > 0)
			len += (size_t)got;
		close(fds[0]);
		msg[len] = '\0';
		CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
		CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
		    "misuse %d not caught (status %#x)", i, status);
		CHECK(strstr(msg, "KASSERT") && strstr(msg, expect[i]),
		    "misuse %d: wrong message: %s", i, msg);
	}
	printf(HARNESS_NAME ": kassert OK (%d misuses abort)\n", n);
}

#endif
