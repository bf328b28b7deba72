/*
 * kern/ktest_vm.c: in-kernel tests of superpage promotion and of mprotect's
 * all-or-nothing rule (issue 15), run with test=vmh-promote and test=vmh-mprotect.
 *
 * User programs cannot build a page table whose entries differ in one bit, nor make
 * one page-table allocation fail; these tests do both directly.
 */
#include "inc/error.h"
#include "inc/util.h"
#include "kern/console.h"
#include "kern/mm/frame.h"
#include "kern/mm/pt/pt.h"
#include "kern/mm/policy.h"
#include "kern/mm/vm.h"
#include "kern/ktest.h"

#define TVA		0x40000000UL		/* a 2 MiB-aligned user address */
#define UFLAGS		(PTE_U | PTE_W | PTE_NX)

/*
 * The frames' mapping counts follow the test's entries (pmap_promote and pmap_demote
 * convert 512 4 KiB counts to one block count and back): set them as the entries made,
 * and clear them directly afterwards (page_unref would free the test's block).
 */
static void
count_mappings(uint64_t pa, bool block, int delta)
{
	struct page *head = pa2page(pa);
	if (block) {
		head->maps2m += delta;
	} else {
		for (int i = 0; i < NPTENTRIES; i++)
			head[i].refcount += delta;
		head->maps4k += delta * NPTENTRIES;
	}
}

/*
 * Map a 2 MiB block at TVA with 512 entries of flags to the frames at pa, then change
 * entry `odd`: set and clear bits, or move its frame by `shift` bytes.  Offer it to
 * pmap_promote; check the answer is `want` and, if promoted, that the superpage has
 * the flags and exactly the accessed/dirty bits `want_ad`.  Unmaps everything again.
 */
static int
promote_case(uint64_t pa, const uint64_t ad[NPTENTRIES], int odd, uint64_t set, uint64_t clear, uint64_t shift,
	     bool want, uint64_t want_ad)
{
	struct pmap pm;
	if (pmap_create(&pm) < 0)
		return 100;
	for (int i = 0; i < NPTENTRIES; i++)
		if (pmap_enter(&pm, TVA + i * PGSIZE, pa + i * PGSIZE, UFLAGS | ad[i]) < 0)
			return 101;
	count_mappings(pa, false, 1);
	int level;
	pte_t *pte = pmap_lookup(&pm, TVA + odd * PGSIZE, &level);
	*pte = ((*pte | set) & ~clear) + shift;
	pmap_update(&pm, TVA + odd * PGSIZE, 0);
	int bad = 0;
	bool promoted = pmap_promote(&pm, TVA, 1);
	pte = pmap_lookup(&pm, TVA, &level);
	if (promoted != want)
		bad = 1;
	else if (promoted && (level != 1 || *pte != (pa | UFLAGS | PTE_PS | PTE_P | want_ad)))
		bad = 2;
	count_mappings(pa, promoted, -1);
	if (promoted) {
		*pte = 0;
		pmap_update(&pm, TVA, 1);
	} else {
		for (int i = 0; i < NPTENTRIES; i++) {
			*pmap_lookup(&pm, TVA + i * PGSIZE, &level) = 0;
			pmap_update(&pm, TVA + i * PGSIZE, 0);
		}
	}
	pmap_destroy(&pm);
	return bad;
}

/* Demote a superpage with accessed/dirty bits ad: every entry must get exactly those. */
static int
demote_case(uint64_t pa, uint64_t ad)
{
	struct pmap pm;
	count_mappings(pa, true, 1);
	if (pmap_create(&pm) < 0 || pmap_enter_level(&pm, TVA, pa, UFLAGS | PTE_PS | ad, 1) < 0 ||
	    pmap_demote(&pm, TVA, 1, DEMOTE_MPROTECT) < 0)
		return 1;
	count_mappings(pa, false, -1);
	int level, bad = 0;
	for (int i = 0; i < NPTENTRIES; i++) {
		pte_t *pte = pmap_lookup(&pm, TVA + i * PGSIZE, &level);
		if (level != 0 || *pte != ((pa + i * PGSIZE) | UFLAGS | PTE_P | ad))
			bad = 2;
		*pte = 0;
		pmap_update(&pm, TVA + i * PGSIZE, 0);
	}
	pmap_destroy(&pm);
	return bad;
}

int
ktest_vm_promote(void)
{
	static uint64_t none[NPTENTRIES], all_a[NPTENTRIES], one_d[NPTENTRIES], split[NPTENTRIES];
	struct page *blk = page_alloc(9);
	if (!blk)
		return 1;
	uint64_t pa = page2pa(blk);
	for (int i = 0; i < NPTENTRIES; i++) {
		all_a[i] = PTE_A;
		one_d[i] = PTE_A | (i == 300 ? PTE_D : 0);
	}
	split[NPTENTRIES - 1] = PTE_A;	/* accessed only in the last entry, dirty only in the first */
	split[0] = PTE_D;
	static const struct {
		int odd;
		uint64_t set, clear, shift;
	} refused[] = {
		{ 511, 0, PTE_W, 0 }, { 0, 0, PTE_W, 0 }, { 256, 0, PTE_W, 0 },	/* protection */
		{ 511, 0, PTE_NX, 0 }, { 511, 0, PTE_U, 0 }, { 0, 0, PTE_U, 0 },
		{ 511, 0, 0, PGSIZE }, { 511, 0, PTE_P, 0 }, { 511, PTE_COW, PTE_W, 0 },	/* last entry */
		{ 1, 0, 0, PGSIZE }, { 511, PTE_PCD, 0, 0 },
	};
	int r;
	for (size_t i = 0; i < ARRAY_SIZE(refused); i++)
		if ((r = promote_case(pa, all_a, refused[i].odd, refused[i].set, refused[i].clear, refused[i].shift,
				      false, 0)) != 0)
			return 10 * (int)(i + 1) + r;
	if ((r = promote_case(pa, none, 0, 0, 0, 0, true, 0)) != 0)
		return 200 + r;
	if ((r = promote_case(pa, all_a, 0, 0, 0, 0, true, PTE_A)) != 0)
		return 210 + r;
	if ((r = promote_case(pa, one_d, 0, 0, 0, 0, true, PTE_A | PTE_D)) != 0)
		return 220 + r;
	if ((r = promote_case(pa, split, 0, 0, 0, 0, true, PTE_A | PTE_D)) != 0)
		return 230 + r;
	for (uint64_t ad = 0; ad <= PTE_AD; ad += PTE_A)
		if ((r = demote_case(pa, ad)) != 0)
			return 300 + (int)ad + r;
	page_free(blk, 9);
	cprintf("ktest vmh-promote: pmap_promote refused %lu non-uniform tables, A/D exact\n",
		(unsigned long)ARRAY_SIZE(refused));
	return 0;
}

/* ---- mprotect without memory ---- */

static int allocs_left;		/* page-table pages test_alloc still hands out */
static pt_alloc_fn *real_alloc;

static uint64_t
test_alloc(void)
{
	if (allocs_left == 0)
		return 0;
	allocs_left--;
	return real_alloc();
}

/* Every page of [va, end) keeps region protection prot and matching write rights. */
static bool
unchanged(struct vmspace *vs, uint64_t va, uint64_t end, uint32_t prot)
{
	for (; va < end; va += PGSIZE) {
		struct vm_query q;
		vm_query(vs, va, &q);
		if (!q.present || q.prot != prot || q.writable != !!(prot & PROT_WRITE))
			return false;
	}
	return true;
}

int
ktest_vm_mprotect(void)
{
	struct vmspace *vs = vm_create();
	uint32_t rw = PROT_READ | PROT_WRITE;
	uint64_t end = TVA + 2 * PG2M;
	if (!vs || vm_map_region(vs, TVA, end, rw, VR_MMAP, OBJ_ANON, false) < 0)
		return 1;
	for (uint64_t va = TVA; va < end; va += PGSIZE)
		if (policy_populate(vs, vm_find(vs, va), va) < 0)
			return 2;
	struct vm_query q;
	vm_query(vs, TVA + PG2M, &q);
	if (q.page_size != PG2M)
		return 3;
	/* [TVA + 4K, TVA + 2M + 4K) crosses both superpages: each must be demoted */
	for (int k = 0; k < 2; k++) {		/* the first demotion fails; the second */
		allocs_left = k;
		real_alloc = pmap_use_page_allocator(test_alloc);
		int r = vm_mprotect(vs, TVA + PGSIZE, PG2M, PROT_READ);
		pmap_use_page_allocator(real_alloc);
		if (r != -E_NO_MEM)
			return 10 + k;
		if (!unchanged(vs, TVA, end, rw))
			return 20 + k;
		vm_query(vs, TVA, &q);
		if (q.region_start != TVA || q.region_end != end)
			return 30 + k;
	}
	if (vm_mprotect(vs, TVA + PGSIZE, PG2M, PROT_READ) != 0)
		return 40;
	if (!unchanged(vs, TVA, TVA + PGSIZE, rw) || !unchanged(vs, TVA + PGSIZE, TVA + PG2M + PGSIZE, PROT_READ) ||
	    !unchanged(vs, TVA + PG2M + PGSIZE, end, rw))
		return 41;
	vm_destroy(vs);
	cprintf("ktest vmh-mprotect: mprotect without memory changed nothing\n");
	return 0;
}
