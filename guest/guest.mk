# guest/guest.mk - building the guest programs doorbell runs: Multiboot (v1)
# kernels linked at 1 MiB. Included by the top-level Makefile, whose CC,
# NASM, BUILD and WARN it uses.
#
#   make guests     every guest below, as $(BUILD)/guest/NAME.elf
#
# The guest library (guest/lib) is compiled twice: -m32 for 32-bit guests
# (entry32.asm, protected mode, paging off) and -m64 for 64-bit guests
# (entry64.asm switches to long mode itself). A 64-bit guest is linked as
# ELF64 and then converted with `objcopy -O elf32-i386`, because multiboot v1
# loaders (QEMU's -kernel included) load ELF32 only: its program headers and
# its entry point (32-bit code in entry64.asm) are unchanged. We chose that
# over the a.out kludge because the file stays an ordinary ELF with symbols,
# and the loader's ELF path is the one every guest then exercises.
#
# A guest NAME built from guest/SRC.c is listed as NAME:SRC in GUESTS32 or
# GUESTS64; NAME may contain a folder: bad/triple is built as
# build/guest/bad/triple.elf.

GUEST_B        := $(BUILD)/guest
OBJCOPY        ?= objcopy

GUESTS32       := bench:bench hello:hello doorbell:doorbell platform32:platform hypercall:hypercall \
                  bad/triple:bad/triple bad/spin:bad/spin bad/wild:bad/wild \
                  bad/initall:bad/initall bad/apictoggle:bad/apictoggle
GUESTS64       := platform64:platform hypercall64:hypercall doorbell64:doorbell
# One line per addition, so that parallel work does not collide.
GUESTS64       += bench64:bench
GUESTS32       += syncdev:syncdev
GUESTS32       += notify:notify
GUESTS64       += syncdev64:syncdev
GUESTS32       += fastmmio:fastmmio
GUESTS64       += fastmmio64:fastmmio
GUESTS32       += emulator:emulator
GUESTS64       += emulator64:emulator
GUESTS32       += vmxud:vmxud
GUESTS64       += vmxud64:vmxud
# CPU state each guest owns: IA32_TSC_AUX (RDTSCP), CPUID.1:ECX.OSXSAVE.
GUESTS32       += cpustate:cpustate
GUESTS64       += cpustate64:cpustate
# PCI bus 0 and QEMU's pci-testdev (vmx/pci.c, pci/).
GUESTS32       += pci:pci
GUESTS64       += pci64:pci
# The CPU tells the truth: CPUID vs MSRs, TSC writes, refused CR0/CR4/EFER.
GUESTS32       += cpu:cpu
GUESTS64       += cpu64:cpu
# The poll page (CPUID 0x40000002, watched slots, garbage contained).
GUESTS32       += poll:poll
GUESTS64       += poll64:poll
# fw_cfg, the ACPI tables and the PM timer, read as kvm-unit-tests does.
GUESTS32       += fwacpi:fwacpi
GUESTS64       += fwacpi64:fwacpi
# A stand-in for a kvm-unit-tests test (tests/runner/test_kut.sh).
GUESTS32       += kutfake:kutfake

GUEST_CFLAGS   := -std=gnu11 -O2 -g -ffreestanding -fno-pic -fno-pie \
                  -nostdlib -static -mgeneral-regs-only -fno-stack-protector \
                  -fno-asynchronous-unwind-tables -fno-common -nostdinc \
                  -isystem $(shell $(CC) -print-file-name=include) \
                  -Iguest $(WARN)
GUEST_CFLAGS32 := -m32 $(GUEST_CFLAGS)
# No red zone: exceptions arrive on the interrupted code's own stack.
GUEST_CFLAGS64 := -m64 -mcmodel=small -mno-red-zone $(GUEST_CFLAGS)
GUEST_LDFLAGS  := -nostdlib -static -no-pie -Wl,--build-id=none \
                  -Wl,-z,max-page-size=0x1000 -Wl,-z,noexecstack


GUEST_LIB_C    := $(patsubst guest/lib/%.c,%.o,$(wildcard guest/lib/*.c))
GUEST_LIB32    := $(addprefix $(GUEST_B)/lib32/,$(GUEST_LIB_C) \
                    entry32.asm.o stubs32.asm.o)
GUEST_LIB64    := $(addprefix $(GUEST_B)/lib64/,$(GUEST_LIB_C) \
                    entry64.asm.o stubs64.asm.o)

guest_name      = $(word 1,$(subst :, ,$(1)))
guest_src       = $(word 2,$(subst :, ,$(1)))

GUEST_ELFS     := $(foreach g,$(GUESTS32) $(GUESTS64), \
                    $(GUEST_B)/$(call guest_name,$(g)).elf) \
                  $(GUEST_B)/bad/notmultiboot.elf

.PHONY: guests
guests: $(GUEST_ELFS)

$(GUEST_B)/lib32/%.o: guest/lib/%.c
	@mkdir -p $(dir $@)
	@echo "  CC32    $<"
	@$(CC) $(GUEST_CFLAGS32) -MMD -MP -c $< -o $@

$(GUEST_B)/lib64/%.o: guest/lib/%.c
	@mkdir -p $(dir $@)
	@echo "  CC64    $<"
	@$(CC) $(GUEST_CFLAGS64) -MMD -MP -c $< -o $@

$(GUEST_B)/lib32/%.asm.o: guest/lib/%.asm
	@mkdir -p $(dir $@)
	@echo "  NASM    $<"
	@$(NASM) -f elf32 -g -MD $(@:.o=.d) -o $@ $<

$(GUEST_B)/lib64/%.asm.o: guest/lib/%.asm
	@mkdir -p $(dir $@)
	@echo "  NASM    $<"
	@$(NASM) -f elf64 -g -MD $(@:.o=.d) -o $@ $<

$(GUEST_B)/obj32/%.o: guest/%.c
	@mkdir -p $(dir $@)
	@echo "  CC32    $<"
	@$(CC) $(GUEST_CFLAGS32) -MMD -MP -c $< -o $@

$(GUEST_B)/obj64/%.o: guest/%.c
	@mkdir -p $(dir $@)
	@echo "  CC64    $<"
	@$(CC) $(GUEST_CFLAGS64) -MMD -MP -c $< -o $@

# $(1) = NAME:SRC. -lgcc supplies 64-bit division for the 32-bit printf.
define GUEST32_RULE
$(GUEST_B)/$(call guest_name,$(1)).elf: $(GUEST_B)/obj32/$(call guest_src,$(1)).o \
		$(GUEST_LIB32) guest/lib/guest32.ld
	@mkdir -p $$(dir $$@)
	@echo "  LD      $$@"
	@$(CC) -m32 $(GUEST_LDFLAGS) -T guest/lib/guest32.ld -o $$@ \
		$(GUEST_B)/obj32/$(call guest_src,$(1)).o $(GUEST_LIB32) -lgcc
endef

define GUEST64_RULE
$(GUEST_B)/$(call guest_name,$(1)).elf: $(GUEST_B)/obj64/$(call guest_src,$(1)).o \
		$(GUEST_LIB64) guest/lib/guest64.ld
	@mkdir -p $$(dir $$@)
	@mkdir -p $$(dir $(GUEST_B)/obj64/$(call guest_name,$(1)))
	@echo "  LD      $$@"
	@$(CC) -m64 $(GUEST_LDFLAGS) -T guest/lib/guest64.ld \
		-o $(GUEST_B)/obj64/$(call guest_name,$(1)).elf64 \
		$(GUEST_B)/obj64/$(call guest_src,$(1)).o $(GUEST_LIB64) -lgcc
	@$(OBJCOPY) -O elf32-i386 $(GUEST_B)/obj64/$(call guest_name,$(1)).elf64 $$@
endef

$(foreach g,$(GUESTS32),$(eval $(call GUEST32_RULE,$(g))))
$(foreach g,$(GUESTS64),$(eval $(call GUEST64_RULE,$(g))))

# Not a multiboot kernel: a plain ELF32 without the header, for the loader's
# refusal test. It never uses the library.
$(GUEST_B)/bad/notmultiboot.elf: guest/bad/notmultiboot.asm
	@mkdir -p $(dir $@) $(GUEST_B)/obj32/bad
	@echo "  NASM    $<"
	@$(NASM) -f elf32 -o $(GUEST_B)/obj32/bad/notmultiboot.asm.o $<
	@echo "  LD      $@"
	@$(CC) -m32 $(GUEST_LDFLAGS) -Wl,-Ttext=0x100000 -o $@ \
		$(GUEST_B)/obj32/bad/notmultiboot.asm.o

# A kernel linked at 0x8000, as kvm-unit-tests' realmode.flat: the loader
# must accept it (the boot information lies at 0x98000-0xa0000).
GUEST_ELFS     += $(GUEST_B)/low8000.elf
$(GUEST_B)/low8000.elf: guest/low8000.asm
	@mkdir -p $(dir $@) $(GUEST_B)/obj32
	@echo "  NASM    $<"
	@$(NASM) -f elf32 -o $(GUEST_B)/obj32/low8000.asm.o $<
	@echo "  LD      $@"
	@$(CC) -m32 $(GUEST_LDFLAGS) -Wl,-Ttext=0x8000 -o $@ \
		$(GUEST_B)/obj32/low8000.asm.o
