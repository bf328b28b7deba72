/*
 * tools/insnprof.c: a QEMU TCG plugin that counts the guest instructions executed at
 * each address inside a window, for `tools/insnprof.py` to fold into functions.
 *
 * Debian's QEMU 7.2 loads plugins (-plugin) but ships neither plugins nor the plugin
 * header, so the few entry points used here are declared below as the 7.2 API
 * (QEMU_PLUGIN_VERSION 1) defines them.
 *
 * The window: counting turns on when the instruction at address on= executes and off
 * when the one at off= executes (both guest virtual addresses, e.g. the two rdtsc
 * instructions around a measured call in a user program); windows add up.  Without
 * on=, everything is counted; first=K skips the
 * windows before the K-th, windows=N counts N windows only.  At exit the plugin writes "address count" lines (hex,
 * decimal) and a "windows N" line to out= (default insnprof.out).
 *
 * Each instruction gets an execution callback (not an inline add), so a run is about
 * ten times slower than without the plugin; -icount's counting is unaffected.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
typedef struct {
	const char *target_name;
	struct { int min, cur; } version;
	bool system_emulation;
	union { struct { int smp_vcpus, max_vcpus; } system; };
} qemu_info_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t, struct qemu_plugin_tb *);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *udata);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t, void *udata);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t, qemu_plugin_vcpu_tb_trans_cb_t);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *, qemu_plugin_vcpu_udata_cb_t,
    enum qemu_plugin_cb_flags, void *udata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t, qemu_plugin_udata_cb_t, void *udata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

/*
 * One counter per distinct address.  A callback holds its counter's address, so the
 * counters must not move: each is a heap cell {vaddr, count}, and an open-addressing
 * table (grown when half full) maps an address to its cell.
 */
struct slot {
	uint64_t vaddr;
	uint64_t *cell;		/* NULL: the slot is empty */
};
static struct slot *table;
static size_t table_size, table_used;
static uint64_t on_addr, off_addr, windows, seen, first_window = 1, max_windows = UINT64_MAX;
static bool counting = true, have_window;
static const char *out_path = "insnprof.out";

static struct slot *
slot_for(uint64_t vaddr)
{
	size_t i = (size_t)(vaddr * 0x9E3779B97F4A7C15ull >> 20) & (table_size - 1);
	while (table[i].cell && table[i].vaddr != vaddr)
		i = (i + 1) & (table_size - 1);
	return &table[i];
}

static void
grow(void)
{
	struct slot *old = table;
	size_t old_size = table_size;
	table_size = old_size ? old_size * 2 : 1 << 16;
	table = calloc(table_size, sizeof *table);
	if (!table)
		abort();
	for (size_t i = 0; i < old_size; i++)
		if (old[i].cell)
			*slot_for(old[i].vaddr) = old[i];
	free(old);
}

/* The per-instruction callback: udata is the instruction's counter's address. */
static void
exec(unsigned int vcpu, void *udata)
{
	uint64_t *key = udata;		/* key[0] = vaddr, key[1] = count */
	(void)vcpu;
	if (have_window) {
		if (key[0] == on_addr && !counting && ++seen >= first_window && windows < max_windows) {
			counting = true;
			windows++;
		} else if (key[0] == off_addr)
			counting = false;
	}
	if (counting)
		key[1]++;
}

/* Each translated instruction gets its address's counter and an execution callback. */
static void
tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	(void)id;
	size_t n = qemu_plugin_tb_n_insns(tb);
	for (size_t i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
		uint64_t vaddr = qemu_plugin_insn_vaddr(insn);
		if (2 * (table_used + 1) > table_size)
			grow();
		struct slot *s = slot_for(vaddr);
		if (!s->cell) {
			if (!(s->cell = calloc(2, sizeof *s->cell)))
				abort();
			s->cell[0] = s->vaddr = vaddr;
			table_used++;
		}
		qemu_plugin_register_vcpu_insn_exec_cb(insn, exec, QEMU_PLUGIN_CB_NO_REGS, s->cell);
	}
}

static void
at_exit(qemu_plugin_id_t id, void *udata)
{
	(void)id;
	(void)udata;
	FILE *f = fopen(out_path, "w");
	if (!f)
		return;
	fprintf(f, "windows %" PRIu64 "\n", have_window ? windows : 1);
	for (size_t i = 0; i < table_size; i++)
		if (table[i].cell && table[i].cell[1])
			fprintf(f, "%" PRIx64 " %" PRIu64 "\n", table[i].cell[0], table[i].cell[1]);
	fclose(f);
}

__attribute__((visibility("default"))) int
qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
	(void)info;
	for (int i = 0; i < argc; i++) {
		if (strncmp(argv[i], "on=", 3) == 0) {
			on_addr = strtoull(argv[i] + 3, NULL, 0);
			have_window = true;
			counting = false;
		} else if (strncmp(argv[i], "off=", 4) == 0)
			off_addr = strtoull(argv[i] + 4, NULL, 0);
		else if (strncmp(argv[i], "first=", 6) == 0)
			first_window = strtoull(argv[i] + 6, NULL, 0);
		else if (strncmp(argv[i], "windows=", 8) == 0)
			max_windows = strtoull(argv[i] + 8, NULL, 0);
		else if (strncmp(argv[i], "out=", 4) == 0)
			out_path = argv[i] + 4;
		else {
			fprintf(stderr, "insnprof: unknown argument %s\n", argv[i]);
			return -1;
		}
	}
	grow();
	qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
	qemu_plugin_register_atexit_cb(id, at_exit, NULL);
	return 0;
}
