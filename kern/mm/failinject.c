/*
 * kern/mm/failinject.c: fault injection for the allocators.
 *
 * Out-of-memory paths run rarely and are where leaks and panics hide: every caller of
 * page_alloc and kmalloc must turn a NULL into an error code or a clean kill.  To test
 * them, an injector makes the k-th allocation of a kind, counted from when it was
 * armed, and the n-1 after it, fail as if memory had run out.  Armed at boot by
 * fail.frame=K[:N] / fail.kmalloc=K[:N] (counted from the end of boot, so the boot
 * itself is not what fails), or from user space with the failnth system call, so one
 * boot can sweep k over a workload.  Kinds: FAIL_FRAME (every page_alloc, hence
 * frame_alloc, page-table, wired and kernel-stack pages) and FAIL_KMALLOC.
 * The invariant checker allocates with buddy_alloc directly and never fails here.
 */
#include "inc/error.h"
#include "inc/string.h"
#include "kern/cmdline.h"
#include "kern/console.h"
#include "kern/mm/failinject.h"

static struct {
	uint64_t first, last;		/* fail allocations first..last (1-based); first 0: off */
	uint64_t seen;			/* allocations since armed */
	uint64_t injected;		/* failures since armed */
} inj[FAIL_NKINDS];

/* Parse "K[:N]" for key and arm kind with it. */
static void
arm_from_cmdline(const char *key, int kind)
{
	const char *v = cmdline_get(key);
	char *end;
	if (!v)
		return;
	uint64_t k = strtoul(v, &end, 0), n = 1;
	if (*end == ':')
		n = strtoul(end + 1, &end, 0);
	if (k == 0 || n == 0 || *end != '\0') {
		cprintf("failinject: ignoring malformed %s=%s (want K[:N], K, N >= 1)\n", key, v);
		return;
	}
	failinject_arm(kind, k, n);
	cprintf("failinject: allocations %lu..%lu of kind %s will fail\n", k, k + n - 1, key);
}

void
failinject_init(void)
{
	arm_from_cmdline("fail.frame", FAIL_FRAME);
	arm_from_cmdline("fail.kmalloc", FAIL_KMALLOC);
}

static bool paused;

void
failinject_pause(bool pause)
{
	paused = pause;
}

bool
failinject_now(int kind)
{
	if (!inj[kind].first || paused)
		return false;
	uint64_t i = ++inj[kind].seen;
	if (i < inj[kind].first || i > inj[kind].last)
		return false;
	inj[kind].injected++;
	return true;
}

int64_t
failinject_arm(int kind, uint64_t k, uint64_t n)
{
	if (kind < 0 || kind >= FAIL_NKINDS)
		return -E_INVAL;
	int64_t injected = (int64_t)inj[kind].injected;
	inj[kind].seen = inj[kind].injected = 0;
	if (k == 0 || n == 0) {
		inj[kind].first = inj[kind].last = 0;
		return injected;
	}
	inj[kind].first = k;
	inj[kind].last = k + n - 1 < k ? UINT64_MAX : k + n - 1;
	return injected;
}
