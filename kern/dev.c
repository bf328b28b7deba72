/*
 * kern/dev.c: the device namespace, a fixed table of names -- no file system.
 *
 *   /dev/zero     demand-zero memory: mapping it is an anonymous mmap (vm_mmap);
 *   /dev/hugemap  demand-zero memory whose page size is chosen per 2 MiB block from
 *                 the fraction of the block the request covers (vm_mmap_hugemap,
 *                 kern/mm/policy.c), after the seed's Linux mmap driver.
 * Devices have no contents to read or write; they exist to be mapped.
 */
#include "inc/string.h"
#include "inc/syscall.h"
#include "inc/util.h"
#include "kern/mm/vm.h"
#include "kern/dev.h"

static int64_t
zero_mmap(struct vmspace *vs, uint64_t addr, uint64_t len, uint32_t prot, uint32_t flags)
{
	return vm_mmap(vs, addr, len, prot, flags | MAP_ANON);
}

static const struct device devices[] = {
	{ "/dev/zero", zero_mmap },
	{ "/dev/hugemap", vm_mmap_hugemap },
};

const struct device *
dev_lookup(const char *path)
{
	for (size_t i = 0; i < ARRAY_SIZE(devices); i++)
		if (strcmp(devices[i].path, path) == 0)
			return &devices[i];
	return NULL;
}
