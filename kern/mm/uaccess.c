/*
 * kern/mm/uaccess.c: the only way the kernel touches user memory.
 *
 * The kernel never dereferences a user virtual address.  For each page of a user
 * buffer these helpers check that the address is a user address (below UTOP, so
 * canonical), that a region allows the access, resolve the page through the normal
 * fault path if it is absent or copy-on-write (vm_fault: the same demand-zero and COW
 * rules as a user access), and then copy through the kernel's direct map of the
 * frame.  A bad pointer gives -E_FAULT and never a kernel fault; SMAP stays on and
 * is never lifted, since the user mapping itself is not used.
 */
#include "inc/error.h"
#include "inc/memlayout.h"
#include "inc/mmu.h"
#include "inc/string.h"
#include "inc/util.h"
#include "kern/mm/pt/pt.h"
#include "kern/mm/vm.h"
#include "kern/mm/uaccess.h"

/*
 * The kernel address of user byte va, made accessible for writing if `write`.
 * Returns NULL with *err set when the access is not allowed.
 */
static uint8_t *
user_byte(struct vmspace *vs, uint64_t va, bool write, int *err)
{
	if (va >= UTOP) {
		*err = -E_FAULT;
		return NULL;
	}
	int level;
	pte_t *pte = pmap_lookup(&vs->pmap, va, &level);
	bool ok = pte && (*pte & PTE_P) && (*pte & PTE_U) && (!write || (*pte & PTE_W));
	if (!ok) {
		int r = vm_fault(vs, va, PFERR_U | (write ? PFERR_W : 0) | (pte && (*pte & PTE_P) ? PFERR_P : 0));
		if (r < 0) {
			*err = r;
			return NULL;
		}
		pte = pmap_lookup(&vs->pmap, va, &level);
	}
	uint64_t offset = va & ((1UL << PTX_SHIFT(level)) - 1);
	return (uint8_t *)KADDR(PTE_ADDR(*pte) & ~((1UL << PTX_SHIFT(level)) - 1)) + offset;
}

/* Copy len bytes between user va and kernel buffer kbuf, one page piece at a time. */
static int
copy_user(struct vmspace *vs, uint64_t va, void *kbuf, size_t len, bool to_user)
{
	uint8_t *k = kbuf;
	if (va + len < va)
		return -E_FAULT;
	while (len > 0) {
		int err;
		uint8_t *u = user_byte(vs, va, to_user, &err);
		if (!u)
			return err;
		size_t n = MIN(len, PGSIZE - (va & (PGSIZE - 1)));
		if (to_user)
			memcpy(u, k, n);
		else
			memcpy(k, u, n);
		va += n;
		k += n;
		len -= n;
	}
	return 0;
}

int
copyin(struct vmspace *vs, void *dst, uint64_t usrc, size_t len)
{
	return copy_user(vs, usrc, dst, len, false);
}

int
copyout(struct vmspace *vs, uint64_t udst, const void *src, size_t len)
{
	return copy_user(vs, udst, (void *)src, len, true);
}

int
copyinstr(struct vmspace *vs, char *dst, uint64_t usrc, size_t max)
{
	for (size_t i = 0; i < max; i++) {
		int err;
		uint8_t *u = user_byte(vs, usrc + i, false, &err);
		if (!u)
			return err;
		dst[i] = (char)*u;
		if (!*u)
			return (int)i;
	}
	return -E_RANGE;
}
