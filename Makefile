# mmlab: build, boot and grade a kernel's memory management, one chapter at a time.
#
#   make grade [CH=n]     build every chapter (or one), boot it in QEMU, grade it
#   make test             everything the project checks (what CI runs)
#   make run CH=n         boot chapter n interactively (quit QEMU: Ctrl-A then x)
#   make gdb CH=n         boot chapter n waiting for gdb-multiarch
#   make bench CH=n       benchmarks, in guest instructions (QEMU -icount)
#   make docs             the reference site, into build/docs/html
#   make handout CH=n OUT=dir   a student tree with chapters n.. stubbed
#   make mutants [MUTANTS=id,...] [JOBS=n]   does the grade catch the mistakes
#                         of grader/mutants.toml? (mutation testing; slow)
#   make compile_commands.json  for editors (clangd)
#   make setup | clean

SHELL := /bin/bash
ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
BUILD := build
PYTHON ?= python3
CROSS ?= riscv64-unknown-elf-
CC := $(CROSS)gcc
OBJDUMP := $(CROSS)objdump

# Chapters present in this tree (a handout may hold fewer): 1 2 3 ...
CHAPTERS := $(sort $(patsubst ch%,%,$(notdir $(wildcard $(ROOT)/ch[1-9]))))
LAST_CH := $(lastword $(CHAPTERS))
KCH := $(or $(CH),$(LAST_CH))
# Chapters a kernel of chapter $(KCH) is made of: 1 .. KCH.
LAYERS := $(foreach c,$(CHAPTERS),$(if $(shell [ $(c) -le $(KCH) ] && echo y),ch$(c)))

CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -ffreestanding -nostdlib -fno-builtin-printf \
	-fno-common -fno-stack-protector -fno-pie -fno-omit-frame-pointer \
	-march=rv64imac_zicsr_zifencei -mabi=lp64 -mcmodel=medany -mno-relax \
	-MMD -MP -DMMLAB_CH=$(KCH) -Icommon/include $(addprefix -I,$(addsuffix /include,$(LAYERS)))
LDFLAGS := -nostdlib -no-pie -Wl,--no-relax -Wl,-T,common/boot/kernel.ld \
	-Wl,-z,max-page-size=4096 -Wl,--build-id=none

KDIR := $(BUILD)/ch$(KCH)
KSRCS := $(wildcard common/boot/*.S common/lib/*.[cS] common/tests/*.c) \
	$(foreach l,$(LAYERS),$(wildcard $(l)/src/*.[cS] $(l)/tests/*.c))
KOBJS := $(patsubst %,$(KDIR)/obj/%.o,$(KSRCS))
KERNEL := $(KDIR)/kernel.elf

.PHONY: all kernel kernels grade test run gdb bench docs handout setup clean host-test host-bench \
	grader-test handout-check docs-check check-rubric mutants mutants-check generated-check \
	compile_commands.json

all: kernels

kernel: $(KERNEL)

# V=1 shows the full commands.
Q := $(if $(V),,@)

$(KERNEL): $(KOBJS) common/boot/kernel.ld
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(KOBJS)
	$(Q)$(OBJDUMP) -d -S $@ > $(KDIR)/kernel.asm

$(KDIR)/obj/%.c.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(KDIR)/obj/%.S.o: %.S
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	$(Q)$(CC) $(CFLAGS) -D__ASSEMBLER__ -c -o $@ $<

-include $(KOBJS:.o=.d)

kernels:
	@for c in $(CHAPTERS); do $(MAKE) --no-print-directory kernel CH=$$c || exit 1; done

# ---- set-up ---------------------------------------------------------------
setup:
	@scripts/setup.sh

# ---- grading --------------------------------------------------------------
grade: setup
	$(PYTHON) grader/grade.py $(CH) $(GRADEFLAGS)

bench: setup kernel
	$(PYTHON) grader/grade.py --bench $(KCH)
	@$(MAKE) --no-print-directory host-bench CH=$(KCH)

run: setup kernel
	scripts/qemu.sh $(KERNEL) $(QEMUFLAGS)

gdb: kernel
	@scripts/setup.sh --dev
	scripts/qemu.sh $(KERNEL) -S -gdb tcp::$(GDBPORT) $(QEMUFLAGS) & \
	gdb-multiarch -q -x scripts/gdbinit -ex 'target remote :$(GDBPORT)' $(KERNEL); \
	kill %1 2>/dev/null || true
GDBPORT ?= 26000

# ---- the project's own checks --------------------------------------------
PYTEST := /usr/bin/python3 -m pytest
HOST_CC ?= cc
HOST_CFLAGS := -std=gnu11 -g -O1 -Wall -Wextra -Werror -fsanitize=address,undefined \
	-fno-sanitize-recover=all -DMMLAB_HOST -iquote common/include \
	$(addprefix -iquote ,$(wildcard ch*/include))

test: setup-test grader-test check-rubric mutants-check generated-check host-test
	$(PYTHON) grader/grade.py $(GRADEFLAGS)
	$(MAKE) --no-print-directory handout-check
	$(MAKE) --no-print-directory docs-check
	@echo "make test: all checks passed"

setup-test:
	@scripts/setup.sh --test

grader-test:
	$(PYTEST) -q grader/tests scripts/tests

check-rubric:
	$(PYTHON) grader/grade.py --check-rubric

# Every rule of the mutant catalogue still applies to the tree (no build).
mutants-check:
	$(PYTHON) scripts/mutants.py --check

# Mutation testing: apply each mutant of grader/mutants.toml alone, build and
# grade its chapter; fails on a mutant the grade does not catch and nothing
# explains. MUTANTS=id1,id2 picks some, JOBS=n runs n at once (default 1),
# MUTANTFLAGS passes more options (scripts/mutants.py --help).
mutants: setup
	$(PYTHON) scripts/mutants.py $(if $(MUTANTS),--only $(MUTANTS)) $(if $(JOBS),--jobs $(JOBS)) $(MUTANTFLAGS)

# Generated files that are committed must match their generator.
generated-check:
	@set -e; for g in $(wildcard ch*/traces/gen_traces.py); do $(PYTHON) $$g --check; done

# Each common/hosttest/test_X.c and chN/hosttest/test_X.c is built with the
# sources it names on a line `// HOSTTEST_SOURCES: chN/src/a.c ...` (and the
# extra flags on a line `// HOSTTEST_CFLAGS: ...`), then run.
HOST_TESTS := $(wildcard common/hosttest/test_*.c ch*/hosttest/test_*.c)
host-test:
	@mkdir -p $(BUILD)/host
	@set -e; for t in $(HOST_TESTS); do \
		ch=$${t%%/*}; exe=$(BUILD)/host/$$ch-$$(basename $$t .c); \
		srcs=$$(sed -n 's|^// HOSTTEST_SOURCES:||p' $$t); \
		flags=$$(sed -n 's|^// HOSTTEST_CFLAGS:||p' $$t); \
		echo "host-test $$t"; \
		$(HOST_CC) $(HOST_CFLAGS) $$flags -iquote $$ch/include -iquote $$ch/src -o $$exe $$t $$srcs; \
		$$exe; \
	done

# Host benchmarks: chN/hosttest/bench_*.c, optimised, no sanitizers, for the
# chapter given by CH (make bench CH=n runs them after the guest benchmarks).
host-bench:
	@mkdir -p $(BUILD)/host
	@set -e; for t in $(wildcard ch$(KCH)/hosttest/bench_*.c); do \
		ch=$${t%%/*}; exe=$(BUILD)/host/$$(basename $$t .c); \
		srcs=$$(sed -n 's|^// HOSTTEST_SOURCES:||p' $$t); \
		$(HOST_CC) -std=gnu11 -O2 -DMMLAB_HOST -iquote common/include $(addprefix -iquote ,$(wildcard ch*/include)) \
			-iquote $$ch/src -o $$exe $$t $$srcs; \
		$$exe; \
	done

# ---- the reference site and the student handout ---------------------------
docs:
	scripts/docs.sh build

docs-check:
	scripts/docs.sh check

handout:
	@[ -n "$(CH)" ] && [ -n "$(OUT)" ] || { echo "usage: make handout CH=n OUT=dir"; exit 2; }
	$(PYTHON) scripts/handout.py --ch $(CH) --out $(OUT)

handout-check:
	$(PYTHON) scripts/handout.py --check

# ---- editors ----------------------------------------------------------------
compile_commands.json:
	@scripts/setup.sh --dev
	bear --output $@ -- $(MAKE) -B kernels

clean:
	rm -rf $(BUILD) compile_commands.json
