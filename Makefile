# mmlab: build, boot and grade a kernel's memory management, one chapter at a time.
#
#   make grade [CH=n]     build every chapter (or one), boot it in QEMU, grade it
#   make test             everything the project checks (what CI runs)
#   make run CH=n         boot chapter n interactively (quit QEMU: Ctrl-A then x)
#   make disk CH=n        a fresh disk image, build/chN/disk.img (ch5 on; make run attaches it)
#   make gdb CH=n         boot chapter n waiting for gdb-multiarch
#   make bench CH=n       benchmarks, in guest instructions (QEMU -icount)
#   make stress           boot the 4-hart configurations many times at once (boot races)
#   make docs             the reference site, into build/docs/html
#   make handout CH=n OUT=dir   a student tree with chapters n.. stubbed
#   make gradescope [CH=n]      build/gradescope/chN-autograder.zip, Gradescope's
#                         autograder of chapter n (of every chapter without CH)
#   make initramfs CH=n   the archive of chapter n's user programs (chN/user, ch4 on)
#   make progress-check   the guides say truly which tests each exercise turns green
#   make workflow-check   the GitHub Actions workflow is valid (.github/workflows/grade.yml)
#   make mutants [MUTANTS=id,...] [JOBS=n]   does the grade catch the mistakes
#                         of grader/mutants.toml? (mutation testing; slow)
#   make format           apply .clang-format to the C sources (make test checks it)
#   make compile_commands.json  for editors (clangd)
#   make setup | clean

SHELL := /bin/bash
ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
BUILD := build
PYTHON ?= python3
CROSS ?= riscv64-unknown-elf-
# ccache where it is installed (scripts/setup.sh --test installs it): the
# handout and progress checks build the same sources in many trees, and a
# file that is the same in two of them compiles once. Paths are relative to
# the tree's root, and the directory is left out of the hash, so that trees
# in other places share the cache: safe because no object holds the tree's
# place (PREFIX_MAP: the compile directory in the debug info of C and of
# assembly alike is "."). CCACHE= turns it off.
CCACHE ?= $(shell command -v ccache 2>/dev/null)
export CCACHE_BASEDIR := $(ROOT)
export CCACHE_NOHASHDIR := 1
# The maps name the tree but make every tree's object the same: not hashed.
export CCACHE_IGNOREOPTIONS := -ffile-prefix-map=* -Wa,--debug-prefix-map=*
CC := $(strip $(CCACHE) $(CROSS)gcc)
PREFIX_MAP := -ffile-prefix-map=$(ROOT)=. -Wa,--debug-prefix-map=$(ROOT)=.
OBJDUMP := $(CROSS)objdump

# Chapters present in this tree (a handout may hold fewer): 1 2 3 ...
CHAPTERS := $(sort $(patsubst ch%,%,$(notdir $(wildcard $(ROOT)/ch[1-9]))))
LAST_CH := $(lastword $(CHAPTERS))
KCH := $(or $(CH),$(LAST_CH))
# Chapters a kernel of chapter $(KCH) is made of: 1 .. KCH.
LAYERS := $(shell for c in $(CHAPTERS); do [ $$c -le $(KCH) ] && echo ch$$c; done)

# GCC 12 (binutils 2.38 on) wants Zicsr and Zifencei named in -march; GCC 10
# and 11 (Ubuntu 22.04: Gradescope's base image) refuse the names and have
# them in rv64imac already (the compiler is asked once per make, not
# through ccache, which would run it twice).
MARCH_EXT := $(shell $(CROSS)gcc -march=rv64imac_zicsr_zifencei -mabi=lp64 -x c -c -o /dev/null /dev/null 2>/dev/null && echo _zicsr)
MARCH := rv64imac$(MARCH_EXT)

CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -ffreestanding -nostdlib -fno-builtin-printf \
	-fno-common -fno-stack-protector -fno-pie -fno-omit-frame-pointer \
	-march=$(MARCH)$(if $(MARCH_EXT),_zifencei) -mabi=lp64 -mcmodel=medany -mno-relax \
	$(PREFIX_MAP) -MMD -MP -DMMLAB_CH=$(KCH) -Icommon/include $(addprefix -I,$(addsuffix /include,$(LAYERS)))
LDFLAGS := -nostdlib -no-pie -Wl,--no-relax -Wl,-T,common/boot/kernel.ld \
	-Wl,-z,max-page-size=4096 -Wl,--build-id=none

KDIR := $(BUILD)/ch$(KCH)
KSRCS := $(wildcard common/boot/*.S common/lib/*.[cS] common/tests/*.c) \
	$(foreach l,$(LAYERS),$(wildcard $(l)/src/*.[cS] $(l)/proc/*.[cS] $(l)/fs/*.[cS] $(l)/tests/*.c))
KOBJS := $(patsubst %,$(KDIR)/obj/%.o,$(KSRCS))
KERNEL := $(KDIR)/kernel.elf

# ---- user programs (ch4 on) -------------------------------------------------
# A chapter adds user programs by adding files, never a rule here: every
# chN/user/NAME.c of the chapters this kernel is made of is one program, NAME,
# and every chN/user/tests/TOPIC.c a user test program, chN.user.TOPIC (the
# KTAP suite it prints, which the kernel runs by that name), each linked with
# the user library (every chN/user/lib/*.c and *.S; headers there too),
# static, at USER_BASE. The programs, stripped, are packed into
# $(KDIR)/initramfs.cpio (cpio newc, one file per program, named NAME), which
# common/boot/initramfs.S links into the kernel between _initramfs_start and
# _initramfs_end (common/include/initramfs.h). Before ch4 the archive is
# empty: its trailer alone. The unstripped programs stay in $(KDIR)/user/bin
# for gdb and objdump.
USER_DIRS := $(wildcard $(addsuffix /user,$(LAYERS)))
USER_SRCS := $(wildcard $(addsuffix /*.c,$(USER_DIRS)))
USER_TEST_SRCS := $(wildcard $(addsuffix /tests/*.c,$(USER_DIRS)))
# The kernel's freestanding string functions, formatter and errno names are
# the user library's too: one copy of each (built with common/include on the
# path).
USER_COMMON_SRCS := $(if $(USER_DIRS),common/lib/string.c common/lib/format.c common/lib/errno.c)
USER_LIB_SRCS := $(USER_COMMON_SRCS) $(wildcard $(addsuffix /lib/*.[cS],$(USER_DIRS)))
# chN/user/tests/TOPIC.c -> chN.user.TOPIC
user_test_name = $(firstword $(subst /, ,$(1))).user.$(basename $(notdir $(1)))
USER_NAMES := $(basename $(notdir $(USER_SRCS))) $(foreach t,$(USER_TEST_SRCS),$(call user_test_name,$(t)))
ifneq ($(words $(USER_NAMES)),$(words $(sort $(USER_NAMES))))
$(error two user programs have the same name in $(USER_DIRS): $(USER_SRCS))
endif
UDIR := $(KDIR)/user
USER_PROGS := $(addprefix $(UDIR)/bin/,$(USER_NAMES))
USER_LIB_OBJS := $(patsubst %,$(UDIR)/obj/%.o,$(USER_LIB_SRCS))
USER_BASE ?= 0x10000
USER_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -ffreestanding -nostdlib -fno-builtin \
	-fno-common -fno-stack-protector -fno-pie -fno-omit-frame-pointer \
	-march=$(MARCH) -mabi=lp64 -mcmodel=medany -mno-relax $(PREFIX_MAP) -MMD -MP -DMMLAB_CH=$(KCH) \
	$(addprefix -I,$(addsuffix /lib,$(USER_DIRS)))
# Separate pages for text and data (max-page-size), so user pages are W^X too.
USER_LDFLAGS := -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-z,max-page-size=4096 \
	-Wl,-Ttext-segment=$(USER_BASE)
INITRAMFS := $(KDIR)/initramfs.cpio
# The list of programs, rewritten only when it changes (as OBJLIST is).
USERLIST := $(KDIR)/user.list
$(shell mkdir -p $(KDIR) && echo '$(USER_PROGS)' | cmp -s - $(USERLIST) || echo '$(USER_PROGS)' > $(USERLIST))
# The list of objects, rewritten only when it changes: a source file added or
# deleted relinks the kernel, not only a source file changed.
OBJLIST := $(KDIR)/objects.list
$(shell mkdir -p $(KDIR) && echo '$(KOBJS)' | cmp -s - $(OBJLIST) || echo '$(KOBJS)' > $(OBJLIST))

.PHONY: all kernel kernels initramfs disk grade test linux-compare format format-check run gdb bench stress docs handout gradescope setup clean host-test host-bench \
	grader-test workflow-check handout-check progress-check docs-check check-rubric mutants mutants-check generated-check \
	compile_commands.json

all: kernels

kernel: $(KERNEL)

# V=1 shows the full commands.
Q := $(if $(V),,@)

# The kernel carries its own symbol and line table (common/include/ksyms.h),
# made from the kernel itself, so it is linked twice: first with an empty
# table (kernel.pass1.elf), then with the table scripts/ksyms.py writes from
# that first link. The table is the last thing in .rodata (kernel.ld), where
# it moves no code; the second link checks that by making the table again
# from the final kernel (while objdump writes kernel.asm). /usr/bin/python3:
# Debian's python3-pyelftools is seen by that interpreter only.
KSYMS_PY := /usr/bin/python3 scripts/ksyms.py --ldscript common/boot/kernel.ld
PASS1 := $(KDIR)/kernel.pass1.elf

$(PASS1): $(KOBJS) $(OBJLIST) $(KDIR)/ksyms0.o common/boot/kernel.ld
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(KOBJS) $(KDIR)/ksyms0.o

$(KDIR)/ksyms.c: $(PASS1) scripts/ksyms.py
	@echo "  GEN     $@"
	$(Q)$(KSYMS_PY) -o $@ $<

$(KDIR)/ksyms0.c: scripts/ksyms.py
	@mkdir -p $(dir $@)
	@echo "  GEN     $@"
	$(Q)$(KSYMS_PY) --empty -o $@

$(KDIR)/ksyms.o $(KDIR)/ksyms0.o: $(KDIR)/%.o: $(KDIR)/%.c
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(KERNEL): $(KOBJS) $(OBJLIST) $(KDIR)/ksyms.o common/boot/kernel.ld
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(KOBJS) $(KDIR)/ksyms.o
	$(Q)$(OBJDUMP) -d -S $@ > $(KDIR)/kernel.asm & asm=$$!; \
	if ! $(KSYMS_PY) --check $(KDIR)/ksyms.c $@; then rm -f $@; wait $$asm; exit 1; fi; \
	wait $$asm

$(KDIR)/obj/%.c.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(KDIR)/obj/%.S.o: %.S
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	$(Q)$(CC) $(CFLAGS) -D__ASSEMBLER__ -c -o $@ $<

# $(1): the source, $(2): the program's name.
define user_program
$(UDIR)/bin/$(2): $(UDIR)/obj/$(1).o $(USER_LIB_OBJS)
	@mkdir -p $$(dir $$@)
	@echo "  LD      $$@"
	$(Q)$(CC) $(USER_CFLAGS) $(USER_LDFLAGS) -o $$@ $$^
endef
$(foreach src,$(USER_SRCS),$(eval $(call user_program,$(src),$(basename $(notdir $(src))))))
$(foreach src,$(USER_TEST_SRCS),$(eval $(call user_program,$(src),$(call user_test_name,$(src)))))

$(patsubst %,$(UDIR)/obj/%.o,$(USER_COMMON_SRCS)): USER_CFLAGS += -Icommon/include

$(UDIR)/obj/%.c.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (user)"
	$(Q)$(CC) $(USER_CFLAGS) -c -o $@ $<

$(UDIR)/obj/%.S.o: %.S
	@mkdir -p $(dir $@)
	@echo "  AS      $< (user)"
	$(Q)$(CC) $(USER_CFLAGS) -D__ASSEMBLER__ -c -o $@ $<

# Files in name order, owner 0, time 0: the same programs make the same archive.
$(INITRAMFS): $(USER_PROGS) $(USERLIST)
	@echo "  CPIO    $@"
	$(Q)rm -rf $(UDIR)/root && mkdir -p $(UDIR)/root
	$(Q)for p in $(USER_PROGS); do $(CROSS)strip -o $(UDIR)/root/$${p##*/} $$p || exit 1; done
	$(Q)cd $(UDIR)/root && find . -mindepth 1 -exec touch -h -d @0 {} + && \
		find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort | \
		cpio --quiet -o -H newc --reproducible -R 0:0 > $(abspath $@).tmp && mv $(abspath $@).tmp $(abspath $@)

# .incbin is not seen by -MMD: the archive is named here.
$(KDIR)/obj/common/boot/initramfs.S.o: $(INITRAMFS)
$(KDIR)/obj/common/boot/initramfs.S.o: CFLAGS += -DINITRAMFS='"$(INITRAMFS)"'

initramfs: $(INITRAMFS)

-include $(KOBJS:.o=.d) $(KDIR)/ksyms.d $(KDIR)/ksyms0.d $(USER_LIB_OBJS:.o=.d) \
	$(patsubst %,$(UDIR)/obj/%.d,$(USER_SRCS) $(USER_TEST_SRCS))

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

# Boot races show up once in tens of boots under load: boot each 4-hart
# configuration STRESS_COUNT times, more QEMUs at once than there are cores.
STRESS_COUNT ?= 100
stress: setup kernels
	$(PYTHON) scripts/stress_boot.py --count $(STRESS_COUNT)

# From chapter 5 on the kernel has a disk: make run attaches a fresh image
# with the grader's seed files (grader/rubric.toml's [chN.disk]).
RUN_DISK := $(if $(shell [ $(KCH) -ge 5 ] && echo y),$(KDIR)/disk.img)
disk:
	$(PYTHON) scripts/mmfs.py mkfs $(KDIR)/disk.img --chapter $(KCH)

run: setup kernel $(if $(RUN_DISK),disk)
	$(if $(RUN_DISK),DISK=$(RUN_DISK) )scripts/qemu.sh $(KERNEL) $(QEMUFLAGS)

gdb: kernel $(if $(RUN_DISK),disk)
	@scripts/setup.sh --dev
	$(if $(RUN_DISK),DISK=$(RUN_DISK) )scripts/qemu.sh $(KERNEL) -S -gdb tcp::$(GDBPORT) $(QEMUFLAGS) & \
	gdb-multiarch -q -x scripts/gdbinit -ex 'target remote :$(GDBPORT)' $(KERNEL); \
	kill %1 2>/dev/null || true
GDBPORT ?= 26000

# ---- the project's own checks --------------------------------------------
PYTEST := /usr/bin/python3 -m pytest
HOST_CC ?= cc
HOST_CFLAGS := -std=gnu11 -g -O1 -Wall -Wextra -Werror -fsanitize=address,undefined \
	-fno-sanitize-recover=all -DMMLAB_HOST -iquote common/include \
	$(addprefix -iquote ,$(wildcard ch*/include))

test: setup-test format-check workflow-check grader-test check-rubric mutants-check generated-check host-test
	$(PYTHON) grader/grade.py $(GRADEFLAGS)
	$(MAKE) --no-print-directory linux-compare
	$(MAKE) --no-print-directory handout-check
	$(MAKE) --no-print-directory docs-check
	@echo "make test: all checks passed"

setup-test:
	@scripts/setup.sh --test

# The C sources .clang-format governs: every .c and .h of common/ and the
# chapters but generated ones (they say "GENERATED by" at the top).
FORMAT_SRCS = $(shell find common ch[0-9]* -name '*.[ch]' | sort | xargs grep -L 'GENERATED by')
CLANG_FORMAT ?= clang-format

format:
	$(CLANG_FORMAT) -i $(FORMAT_SRCS)

format-check:
	@bad=$$(for f in $(FORMAT_SRCS); do $(CLANG_FORMAT) --dry-run --Werror $$f >/dev/null 2>&1 || echo $$f; done); \
	if [ -n "$$bad" ]; then \
		echo "format-check: not in the style of .clang-format ($$($(CLANG_FORMAT) --version | grep -o 'version [0-9.]*')):"; \
		echo "$$bad" | sed 's/^/  /'; echo "format-check: run 'make format' and look at the diff"; exit 1; \
	fi; echo "format-check: $(words $(FORMAT_SRCS)) files follow .clang-format"

grader-test:
	$(PYTEST) -q grader/tests scripts/tests

# The GitHub Actions workflow a handout ships (.github/workflows/grade.yml,
# README.md "GitHub Classroom") against the schema of GitHub's workflow syntax,
# with action-validator (the npm packages scripts/workflow-check pins;
# scripts/setup.sh --test installs them into build/tools/workflow-check).
WORKFLOW_VALIDATOR := build/tools/workflow-check/node_modules/.bin/action-validator
WORKFLOWS := $(wildcard .github/workflows/*.yml)
workflow-check:
	@[ -x $(WORKFLOW_VALIDATOR) ] || { echo "workflow-check: $(WORKFLOW_VALIDATOR) is missing: run scripts/setup.sh --test"; exit 1; }
	@$(WORKFLOW_VALIDATOR) $(WORKFLOWS) && echo "workflow-check: $(WORKFLOWS) valid"

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
# extra flags on a line `// HOSTTEST_CFLAGS: ...`), then run. Directories on a
# line `// HOSTTEST_INCLUDE_FIRST: dir ...` are searched for "quoted" headers
# before common/include (as -iquote, which GCC searches in command-line
# order): host stand-ins for headers whose inline functions are RISC-V
# instructions (riscv.h's sfence, smp.h's cpuid), with no change to common/.
# Each runs for at most HOST_TIMEOUT seconds (the slowest, test_buddy, takes
# about 5 s alone and 11 s on a loaded machine), so that an infinite loop fails
# the run instead of hanging it; so does each host benchmark.
HOST_TESTS := $(wildcard common/hosttest/test_*.c ch*/hosttest/test_*.c)
HOST_TIMEOUT ?= 60
# Host tests at once (each builds under ASan, then runs); the output of each
# comes out whole when it is done (make --output-sync).
HOST_JOBS ?= 2
# Run $(1) (what) $(2) (an executable) under the time limit; 124: timed out (SIGTERM), 137: killed after.
host_run = timeout -k 5 $(HOST_TIMEOUT) $(2) || { rc=$$?; \
	if [ $$rc = 124 ] || [ $$rc = 137 ]; then echo "$(1): no result after $(HOST_TIMEOUT) s (an infinite loop?)"; fi; \
	exit $$rc; }
HOST_TEST_RUNS := $(addprefix host-test/,$(HOST_TESTS))
host-test:
	@mkdir -p $(BUILD)/host
	@$(MAKE) --no-print-directory -j$(HOST_JOBS) --output-sync=target $(HOST_TEST_RUNS)

.PHONY: $(HOST_TEST_RUNS)
$(HOST_TEST_RUNS): host-test/%:
	@t=$*; ch=$${t%%/*}; exe=$(BUILD)/host/$$ch-$$(basename $$t .c); \
	srcs=$$(sed -n 's|^// HOSTTEST_SOURCES:||p' $$t); \
	flags=$$(sed -n 's|^// HOSTTEST_CFLAGS:||p' $$t); \
	first=$$(sed -n 's|^// HOSTTEST_INCLUDE_FIRST:||p' $$t | xargs -rn1 printf -- '-iquote %s '); \
	echo "host-test $$t"; \
	$(HOST_CC) $$first $(HOST_CFLAGS) $$flags -iquote $$ch/include -iquote $$ch/src -o $$exe $$t $$srcs && \
	$(call host_run,host-test $$t,$$exe)

# Host benchmarks: chN/hosttest/bench_*.c, optimised, no sanitizers, for the
# chapter given by CH (make bench CH=n runs them after the guest benchmarks).
host-bench:
	@mkdir -p $(BUILD)/host
	@set -e; for t in $(wildcard ch$(KCH)/hosttest/bench_*.c); do \
		ch=$${t%%/*}; exe=$(BUILD)/host/$$(basename $$t .c); \
		srcs=$$(sed -n 's|^// HOSTTEST_SOURCES:||p' $$t); \
		$(HOST_CC) -std=gnu11 -O2 -DMMLAB_HOST -iquote common/include $(addprefix -iquote ,$(wildcard ch*/include)) \
			-iquote $$ch/src -o $$exe $$t $$srcs; \
		$(call host_run,host-bench $$t,$$exe); \
	done

# The Linux comparison (ch5): the same seeded sequences of mmap-family calls
# on mmlab (init=mmcompare, one boot per seed, at once) and on this machine's
# Linux (ch5/user/mmcompare.c built with cc); fails at the first call where
# they part. LINUX_COMPARE_SEEDS and LINUX_COMPARE_CALLS change the runs.
LINUX_COMPARE_SEEDS ?= 1,2,3
LINUX_COMPARE_CALLS ?= 10000
linux-compare:
	@$(MAKE) --no-print-directory kernel CH=5
	$(PYTHON) scripts/linux_compare.py --kernel $(BUILD)/ch5/kernel.elf \
		--seeds $(LINUX_COMPARE_SEEDS) --calls $(LINUX_COMPARE_CALLS)

# ---- the reference site and the student handout ---------------------------
docs:
	scripts/docs.sh build

docs-check:
	scripts/docs.sh check

handout:
	@[ -n "$(CH)" ] && [ -n "$(OUT)" ] || { echo "usage: make handout CH=n OUT=dir"; exit 2; }
	$(PYTHON) scripts/handout.py --ch $(CH) --out $(OUT)

# The autograder zip of chapter CH (of every chapter without CH): see grader/README.md, "Gradescope".
gradescope:
	$(PYTHON) scripts/gradescope.py zip $(if $(CH),--ch $(CH)) --out $(BUILD)/gradescope

handout-check:
	$(PYTHON) scripts/handout.py --check
	@$(MAKE) --no-print-directory progress-check

# The guides' tables of which rubric items each exercise turns green must still
# be true: solve the exercises one by one, build and grade after each (2 jobs).
progress-check:
	$(PYTHON) scripts/handout.py --progress --check --jobs 2

# ---- editors ----------------------------------------------------------------
compile_commands.json:
	@scripts/setup.sh --dev
	bear --output $@ -- $(MAKE) -B kernels

clean:
	rm -rf $(BUILD) compile_commands.json
