# doorbell - a bare-metal VT-x micro-hypervisor.
#
#   make        build build/doorbell.elf and build/doorbell.iso (installs the
#               Debian packages it needs first)
#   make run    boot it (GUEST= GUEST_ARGS= ARGS= PLATFORM= TIMEOUT= CPUS=)
#   make iso    build/doorbell.iso for real hardware (GUEST= GUEST_ARGS= ARGS=)
#   make test   host unit tests + boot tests; last line "N passed, N failed"
#   make bench  the benchmark: its table, build/bench/results.json and doorbell.svg
#               (PLATFORM= ARGS= CPUS= TIMEOUT=); make bench-check: the 2% gate

# A fresh Debian 12 machine needs no step by hand: the packages are installed
# before anything else is read or built (at parse time, so that `make -j`
# cannot start compiling before the compiler's 32-bit libraries are there).
ifeq ($(filter clean,$(MAKECMDGOALS)),)
ifneq ($(shell tools/deps >&2 && echo ok),ok)
$(error tools/deps could not install the packages doorbell needs)
endif
endif

BUILD    := build
CC       := gcc
LD       := ld
NASM     := nasm

WARN     := -Wall -Wextra -Werror -Wconversion -Wshadow -Wmissing-prototypes \
            -Wvla -Wstrict-prototypes
# -ffixed-r10 -ffixed-r11: no C code of the hypervisor uses R10 or R11, so
# the guest's values stay in them across a doorbell's exit and vmx/entry.asm
# need not store or reload them (see there). -mpreferred-stack-boundary=3:
# with -mgeneral-regs-only nothing needs a 16-byte-aligned stack (as in
# Linux), so the exit handlers need no stack adjustment around their calls.
KCFLAGS  := -std=gnu11 -O2 -g -ffreestanding -fno-stack-protector -fno-pic \
            -fno-pie -mno-red-zone -mgeneral-regs-only -mcmodel=small \
            -mpreferred-stack-boundary=3 -ffixed-r10 -ffixed-r11 \
            -fno-common -nostdinc \
            -isystem $(shell $(CC) -print-file-name=include) -I. $(WARN)
HOSTCFLAGS := -std=gnu11 -O1 -g -DHOST_TEST -I. -fsanitize=address,undefined \
            -fno-sanitize-recover=undefined -fno-omit-frame-pointer \
            -Wall -Wextra -Werror -Wconversion -Wshadow -Wvla

# Every C and assembly file in the kernel's module folders is part of the
# kernel; a module adds files without touching this Makefile.
KDIRS    := boot drivers lib vmx ept iobus emul
KDIRS    += service
KDIRS    += pci
KDIRS    += platform
KSRCS_C  := $(foreach d,$(KDIRS),$(wildcard $(d)/*.c))
KSRCS_S  := $(foreach d,$(KDIRS),$(wildcard $(d)/*.asm))
KOBJS    := $(patsubst %.c,$(BUILD)/k/%.o,$(KSRCS_C)) \
            $(patsubst %.asm,$(BUILD)/k/%.asm.o,$(KSRCS_S))

HOST_TESTS := $(patsubst tests/host/%.c,$(BUILD)/host/%,$(wildcard tests/host/test_*.c))

.PHONY: all deps run iso test bench host-test clean
all: $(BUILD)/doorbell.iso guests

deps:
	@true	# done when the Makefile was read

$(BUILD)/k/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(KCFLAGS) $(KCFLAGS_$*) -MMD -MP -c $< -o $@

$(BUILD)/k/%.asm.o: %.asm
	@mkdir -p $(dir $@)
	@echo "  NASM    $<"
	@$(NASM) -f elf64 -g -I. -MD $(@:.o=.d) -o $@ $<

$(BUILD)/doorbell.elf: $(KOBJS) linker.ld
	@echo "  LD      $@"
	@$(LD) -n -nostdlib -z max-page-size=0x1000 -z noexecstack --no-warn-rwx-segments -T linker.ld -o $@ $(KOBJS)

# Guest programs (multiboot v1 kernels the hypervisor runs).
-include guest/guest.mk

# The variables of `make run`, `make iso` and `make bench` reach tools/run and
# tools/mkiso verbatim: each is exported as RUN_<NAME> holding its unexpanded
# text ($(value): a '$' in it is not a make reference), and the recipes quote
# "$$RUN_<NAME>", so no value is ever parsed by make or by the shell.
RUN_VARS := GUEST GUEST_ARGS ARGS PLATFORM TIMEOUT CPUS
$(foreach v,$(RUN_VARS),$(eval export RUN_$(v) := $$(value $(v))))
# The shell words for tools/run: an option for each variable that is set.
RUN_OPTS = set --; \
	[ -z "$$RUN_GUEST" ] || set -- "$$@" --guest "$$RUN_GUEST"; \
	[ -z "$$RUN_GUEST_ARGS" ] || set -- "$$@" --guest-args "$$RUN_GUEST_ARGS"; \
	[ -z "$$RUN_ARGS" ] || set -- "$$@" --args "$$RUN_ARGS"; \
	[ -z "$$RUN_PLATFORM" ] || set -- "$$@" --platform "$$RUN_PLATFORM"; \
	[ -z "$$RUN_TIMEOUT" ] || set -- "$$@" --timeout "$$RUN_TIMEOUT"; \
	[ -z "$$RUN_CPUS" ] || set -- "$$@" --cpus "$$RUN_CPUS"

# The ISO for real hardware (docs/hardware.md): a GRUB menu whose default
# entry boots the benchmark guest (or GUEST= with GUEST_ARGS=, doorbell's
# command line ARGS=), then the test guests, then a serial-console entry.
ISO_GUESTS := hello platform32 platform64 hypercall hypercall64 doorbell doorbell64
iso_mkiso = tools/mkiso $(BUILD)/doorbell.elf $(1).tmp --menu \
	--args "$$RUN_ARGS" --module "$${RUN_GUEST:-$(BUILD)/guest/bench.elf}" "$$RUN_GUEST_ARGS" \
	$(foreach g,$(ISO_GUESTS),--menu-guest $(g)=$(BUILD)/guest/$(g).elf "") \
	&& mv $(1).tmp $(1)

# `make` builds it with the defaults when its inputs change; `make iso`
# rebuilds it every time, with the variables given.
$(BUILD)/doorbell.iso: $(BUILD)/doorbell.elf $(GUEST_ELFS) tools/mkiso Makefile
	@echo "  ISO     $@"
	@RUN_GUEST= RUN_GUEST_ARGS= RUN_ARGS=; $(call iso_mkiso,$@)

# ISO= writes it elsewhere.
ISO ?= $(BUILD)/doorbell.iso
iso: $(BUILD)/doorbell.elf guests
	@echo "  ISO     $(ISO) ($${RUN_GUEST:-$(BUILD)/guest/bench.elf})"
	@$(call iso_mkiso,$(ISO))

$(BUILD)/host/%: tests/host/%.c
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $<"
	@$(CC) $(HOSTCFLAGS) -MMD -MP -o $@ $< $(HOST_LIBS_$*)

# Host tests that need an extra library name it here.
HOST_LIBS_test_decoder := -lZydis
HOST_LIBS_test_fastlen := -lZydis

host-test: $(HOST_TESTS)
	@HOST_ONLY=1 tests/run-all

test: all $(HOST_TESTS)
	@tests/run-all

# make can only exit 0 or 2: the run's status is its last line. RUN_TOOL is
# for tests/runner/test_runner.sh, which checks what reaches the runner.
RUN_TOOL ?= tools/run
run: all
	@$(RUN_OPTS); $(RUN_TOOL) "$$@"; true

bench: all
	@$(RUN_OPTS); tools/bench "$$@"

# The regression gate: a Bochs run's path lengths against bench/baseline.json
# (RESULTS=FILE compares an existing results.json instead of running).
.PHONY: bench-check
bench-check: all
	@if [ -n "$(RESULTS)" ]; then r="$(RESULTS)"; else \
	  ARGS= CPUS= TIMEOUT= tools/bench --platform bochs --out $(BUILD)/bench-check | \
	  grep --line-buffered -E '^bench: (platform|boot|[0-9]+ s)|PROBLEM'; \
	  r=$(BUILD)/bench-check/results.json; fi; \
	  python3 tools/bench-report.py check --results "$$r" --baseline bench/baseline.json

# kvm-unit-tests under doorbell (tools/kut --help; README "Running
# kvm-unit-tests"): make kut KUT=DIR [KUT_TESTS="emulator msr"] [PLATFORM=]
# [ARGS=], DIR a kvm-unit-tests build. Its last line is "N passed, N failed,
# N skipped"; make exits 2 when a test failed.
export RUN_KUT := $(value KUT)
export RUN_KUT_TESTS := $(value KUT_TESTS)
.PHONY: kut
kut: all
	@[ -n "$$RUN_KUT" ] || { echo "make kut: KUT=DIR, a kvm-unit-tests build, is missing"; exit 2; }; \
	  set -- "$$RUN_KUT" $$RUN_KUT_TESTS; \
	  [ -z "$$RUN_ARGS" ] || set -- --args "$$RUN_ARGS" "$$@"; \
	  [ -z "$$RUN_PLATFORM" ] || set -- --platform "$$RUN_PLATFORM" "$$@"; \
	  tools/kut "$$@"

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
