# spos: one make for the whole tree (JOS style).  Build output goes to obj/.
#
#   make            build the kernel and the boot ISO (obj/spos.iso)
#   make qemu       boot it in QEMU, serial console on this terminal (ARGS="..." adds
#                   kernel command-line words, MEM=4G sets the RAM size)
#   make qemu-gdb   the same, stopped at the first instruction, waiting for gdb
#   make gdb        gdb attached to `make qemu-gdb`
#   make test       bench's smoke run, host unit tests and every grader test; last line
#                   "N passed, N failed"
#   make grade      the grader's QEMU tests only (PT=clustered|guarded: every boot with that
#                   page-table design; BOOT="words" adds kernel words, e.g. pt.drop=switch)
#   make bench      every experiment of tools/exp/ (tools/experiments.py): CSVs, plots and
#                   obj/bench/report.md; EXP=name runs one, QUICK=1 a smoke run, SKIP_PEER=1
#                   leaves out the Linux peer, FRESH=1 ignores the cache of finished runs
#   make bench-table  the old table of workloads x policies (tools/bench.py)
#   make bench-peer spos next to Debian's Linux kernel, operation by operation (user/probe.c;
#                   PEER_RUNS=2 checks that two runs give the same figures)
#   make profile    where the guest instructions of a measured operation go, by function
#                   (tools/insnprof.py, a QEMU plugin; PROFILE="--prog P --on F:rdtsc:1 ...")
#   make fuzz       a long fuzzing campaign (FUZZ="--calls N ..." passes tools/fuzz.py options)
#   make fuzz-pt    the long differential run of the page-table designs (10^6 operations each)
#   make bench-pt   page-table designs: synthetic spaces (host) and the bench programs (QEMU)
#   make clean      remove obj/

OBJDIR  := obj
HOSTCC  ?= cc
CC      := gcc
LD      := ld
OBJCOPY := objcopy
OBJDUMP := objdump
NM      := nm
PYTHON  ?= python3

MEM     ?= 128M
ARGS    ?=
GDBPORT ?= 26000

KERN_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -I. \
	-ffreestanding -fno-builtin -fno-pic -fno-pie -mno-red-zone -mcmodel=kernel \
	-mgeneral-regs-only -fno-stack-protector -nostdlib -fno-omit-frame-pointer \
	-fno-asynchronous-unwind-tables -fno-tree-loop-distribute-patterns -MMD -MP
KERN_ASFLAGS := -I. -MMD -MP -D__ASSEMBLER__
KERN_LDFLAGS := -m elf_x86_64 -nostdlib -static --build-id=none -z max-page-size=0x1000 \
	-z noexecstack --no-warn-rwx-segments -T kern/kernel.ld

all: $(OBJDIR)/spos.iso

include kern/Makefrag
include user/Makefrag
include tests/Makefrag

# --- set-up: the Debian packages QEMU and GRUB come from ------------------------------
$(OBJDIR)/.deps-ok: tools/install-deps.sh
	@mkdir -p $(@D)
	@sh tools/install-deps.sh
	@touch $@
deps: $(OBJDIR)/.deps-ok

# --- the boot ISO ---------------------------------------------------------------------
$(OBJDIR)/spos.iso: $(OBJDIR)/kern/kernel boot/grub.cfg $(OBJDIR)/.deps-ok
	@rm -rf $(OBJDIR)/iso
	@mkdir -p $(OBJDIR)/iso/boot/grub
	cp $(OBJDIR)/kern/kernel $(OBJDIR)/iso/boot/spos
	cp boot/grub.cfg $(OBJDIR)/iso/boot/grub/grub.cfg
	grub-mkrescue -o $@ $(OBJDIR)/iso >$(OBJDIR)/grub-mkrescue.log 2>&1 || \
		{ cat $(OBJDIR)/grub-mkrescue.log; exit 1; }

# --- running it -----------------------------------------------------------------------
# isa-debug-exit makes QEMU's status (code << 1) | 1; the kernel's success is 33.
QEMUOPTS = -cpu max -m $(MEM) -display none -serial mon:stdio -no-reboot \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 -cdrom $(OBJDIR)/spos.iso -boot d \
	$(if $(strip $(ARGS)),-fw_cfg name=opt/spos/cmdline$(comma)string="$(ARGS)")
comma := ,

qemu: $(OBJDIR)/spos.iso
	qemu-system-x86_64 $(QEMUOPTS) || [ $$? -eq 33 ]

qemu-gdb: $(OBJDIR)/spos.iso
	@echo "*** waiting for gdb on port $(GDBPORT): run 'make gdb' in another terminal"
	qemu-system-x86_64 $(QEMUOPTS) -S -gdb tcp::$(GDBPORT) || [ $$? -eq 33 ]

gdb:
	gdb -q -ex 'set architecture i386:x86-64' -ex 'target remote localhost:$(GDBPORT)' \
		-ex 'symbol-file $(OBJDIR)/kern/kernel' $(OBJDIR)/kern/kernel

# --- tests ----------------------------------------------------------------------------
# make grade PT=clustered (or guarded): every boot with that page-table design;
# BOOT="words" adds any kernel words to every boot (pt.drop=switch, say).
grade: $(OBJDIR)/kern/kernel $(OBJDIR)/spos.iso
	$(PYTHON) grade-lab --kind qemu --boot "$(if $(PT),pt=$(PT)) $(BOOT)"

# the smoke run of make bench (about 30 s on two cores; obj/bench/quick/), then the grader
test: $(OBJDIR)/kern/kernel $(OBJDIR)/spos.iso $(HOST_TESTS) $(TLBSIM)
	$(MAKE) --no-print-directory bench QUICK=1
	$(PYTHON) grade-lab

FUZZ ?=
fuzz: $(OBJDIR)/kern/kernel
	$(PYTHON) tools/fuzz.py $(FUZZ)

host-tests-build: $(HOST_TESTS)
tlbsim-tool: $(TLBSIM)

# make bench: tools/experiments.py with a Python that imports matplotlib (Debian's
# python3-matplotlib serves /usr/bin/python3, which may not be the python3 on PATH).
$(OBJDIR)/.plot-deps-ok: tools/install-plot-deps.sh
	@mkdir -p $(@D)
	@sh tools/install-plot-deps.sh
	@touch $@
BENCH_PYTHON = $(firstword $(foreach py,$(PYTHON) /usr/bin/python3,\
	$(if $(shell $(py) -c 'import matplotlib' 2>/dev/null && echo y),$(py))) $(PYTHON))
EXP ?=
QUICK ?=
SKIP_PEER ?=
FRESH ?=
BENCH_DEPS := $(OBJDIR)/kern/kernel $(OBJDIR)/spos.iso $(OBJDIR)/.plot-deps-ok $(OBJDIR)/tests/ptbench $(TLBSIM)
BENCH_DEPS += $(if $(QUICK)$(SKIP_PEER),,$(if $(filter-out peer,$(EXP)),,$(OBJDIR)/.bench-deps-ok))
bench: $(BENCH_DEPS)
	$(BENCH_PYTHON) tools/experiments.py $(if $(QUICK),--quick --skip peer) $(if $(SKIP_PEER),--skip peer) \
		$(if $(FRESH),--fresh) $(EXP)

bench-table: $(OBJDIR)/kern/kernel
	$(PYTHON) tools/bench.py

# The fork-checkpoint benchmark of page overlays (issue 10), per cow= policy: make bench's
# experiment overlay (tools/bench_overlay.py alone prints the table).
bench-overlay:
	$(MAKE) --no-print-directory bench EXP=overlay

# The threshold sweep of /dev/hugemap (kern/mm/policy.c HUGEMAP_THRESHOLD), measured:
# one boot per threshold, distribution and seed (user/hugemap_bench.c): make bench's
# experiment hugemap (tools/bench_hugemap.py alone prints the table).
bench-hugemap:
	$(MAKE) --no-print-directory bench EXP=hugemap

# --- the Linux side of bench-peer: a Debian kernel, busybox-static, cpio ---------------
$(OBJDIR)/.bench-deps-ok: tools/install-bench-deps.sh
	@mkdir -p $(@D)
	@sh tools/install-bench-deps.sh
	@touch $@

PEER_RUNS ?= 1
bench-peer: $(OBJDIR)/spos.iso $(OBJDIR)/.bench-deps-ok
	$(PYTHON) tools/bench_peer.py --runs $(PEER_RUNS)

# The default: the probe's small-process fork under vm.policy=base (user/probe.c fork_cost).
PROFILE ?= --prog probe --on fork_cost:rdtsc:1 --off fork_cost:rdtsc:2 --windows 3 \
	--cmdline "vm.policy=base run=probe"
profile: $(OBJDIR)/kern/kernel
	$(PYTHON) tools/insnprof.py $(PROFILE)

compile_commands.json:
	bear -- $(MAKE) -B $(OBJDIR)/kern/kernel $(HOST_TESTS)

clean:
	rm -rf $(OBJDIR) compile_commands.json

.PHONY: all deps qemu qemu-gdb gdb grade test host-tests-build tlbsim-tool bench bench-table bench-hugemap bench-overlay bench-peer profile fuzz clean compile_commands.json
.DELETE_ON_ERROR:
