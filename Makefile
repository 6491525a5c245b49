# sysHyper: `make run` boots the hypervisor with its VMs in QEMU;
# `make test` runs every test. Both install or fetch what is missing first.

GIC ?= 3
PLATFORM ?= qemu-virt
BUILD := build
CACHE := .cache
CROSS ?= aarch64-linux-gnu-
HV_BUILD := $(BUILD)/gicv$(GIC)
HV_ELF := $(HV_BUILD)/syshyper.elf
CFGC := $(BUILD)/tools/cfgc
CONFIG ?= configs/qemu-virt.cfg

# ---------------------------------------------------------------- set-up
HOST_STAMP := $(CACHE)/host-tools.stamp
GUEST_STAMP := $(CACHE)/guest/fetched.stamp

$(HOST_STAMP): scripts/setup-host.sh
	@scripts/setup-host.sh
	@mkdir -p $(dir $@) && touch $@

$(GUEST_STAMP): scripts/fetch-guest.sh | $(HOST_STAMP)
	@scripts/fetch-guest.sh
	@touch $@

.PHONY: setup
setup: $(HOST_STAMP) $(GUEST_STAMP)

# ---------------------------------------------------------------- guest images
MVM_INITRD := $(BUILD)/mvm/initramfs.cpio.gz
MVM_INITRD_BASE := 0x58000000
MVM_DTBS := $(BUILD)/mvm/mvm-gicv2.dtb $(BUILD)/mvm/mvm-gicv3.dtb
KERNEL := $(BUILD)/guest/Image
DISK := $(BUILD)/disk.img
GVM_INITRDS := $(BUILD)/gvm/gvm1-initramfs.cpio.gz $(BUILD)/gvm/gvm2-initramfs.cpio.gz
GVM_INITRD_IPA := 0x48000000
# make run SCRIPT=file: the file runs as root in GVM 1 once it has booted.
SCRIPT ?=
SCRIPT_STAMP := $(BUILD)/gvm/script.stamp
GVM_DTBS := $(foreach g,gvm1 gvm2,$(BUILD)/gvm/$(g)-gicv2.dtb $(BUILD)/gvm/$(g)-gicv3.dtb)
HV_DISK := $(BUILD)/hvdisk.img
MVM_TOOLS := $(BUILD)/mvm/syshyper.ko $(BUILD)/mvm/syshyperd $(BUILD)/mvm/syshyper
MVM_IMAGES := $(KERNEL) $(MVM_INITRD) $(MVM_DTBS) $(GVM_INITRDS) $(GVM_DTBS)

# ---------------------------------------------------------------- EL2 image
HV_SRCS := $(wildcard hv/arch/arm64/*.c hv/arch/arm64/*.S hv/core/*.c hv/virtio/*.c hv/blk/*.c \
	hv/net/*.c hv/console/*.c hv/drivers/*.c hv/lib/*.c hv/platform/$(PLATFORM)/*.c)
HV_CFLAGS := -std=gnu11 -O2 -g -ffreestanding -fno-builtin -nostdlib -mgeneral-regs-only \
	-fno-stack-protector -fno-pic -mstrict-align -mno-outline-atomics -Wall -Wextra -Werror \
	-Ihv -Ihv/platform/$(PLATFORM)/include -Iinclude -MMD -MP
HV_OBJS := $(patsubst %,$(BUILD)/obj/%.o,$(HV_SRCS))

$(BUILD)/obj/%.c.o: %.c | $(HOST_STAMP)
	@mkdir -p $(dir $@)
	$(CROSS)gcc $(HV_CFLAGS) -c $< -o $@

$(BUILD)/obj/%.S.o: %.S | $(HOST_STAMP)
	@mkdir -p $(dir $@)
	$(CROSS)gcc $(HV_CFLAGS) -c $< -o $@

-include $(HV_OBJS:.o=.d)

$(CFGC): tools/cfgc/cfgc.c hv/core/config_check.c hv/platform/qemu-virt/devices.c \
		hv/core/vm_config.h | $(HOST_STAMP)
	@$(MAKE) -s -C tools/cfgc BUILD=$(abspath $(dir $@))

# The configuration, checked and compiled into the image (and QEMU's loader list).
$(HV_BUILD)/config.c $(HV_BUILD)/qemu-loader.args: $(CONFIG) $(CFGC) $(MVM_IMAGES)
	@mkdir -p $(HV_BUILD)
	$(CFGC) -D GIC=$(GIC) -o $(HV_BUILD)/config.c -q $(HV_BUILD)/qemu-loader.args $(CONFIG)

$(HV_BUILD)/config.o: $(HV_BUILD)/config.c
	$(CROSS)gcc $(HV_CFLAGS) -c $< -o $@

$(HV_ELF): $(HV_OBJS) $(HV_BUILD)/config.o hv/platform/qemu-virt/linker.ld
	$(CROSS)gcc $(HV_CFLAGS) -Wl,--no-warn-rwx-segments -Wl,--build-id=none -T hv/platform/qemu-virt/linker.ld -o $@ $(HV_OBJS) \
		$(HV_BUILD)/config.o -lgcc

.PHONY: hv
hv: $(HV_ELF)

# ---------------------------------------------------------------- guest images
$(KERNEL): $(GUEST_STAMP)
	@mkdir -p $(dir $@)
	cp $(CACHE)/guest/Image $@

$(MVM_INITRD): $(GUEST_STAMP) scripts/mkinitramfs.sh $(wildcard mvm/initramfs/*) $(MVM_TOOLS)
	@mkdir -p $(dir $@)
	scripts/mkinitramfs.sh $@ mvm

# The MVM's side: kernel module (against the Debian headers) and tools.
$(BUILD)/mvm/syshyper.ko: $(wildcard mvm/kmod/*.[ch]) mvm/kmod/Kbuild mvm/kmod/build.sh $(wildcard include/syshyper/*.h) \
		$(GUEST_STAMP)
	mvm/kmod/build.sh $(BUILD)/mvm

$(BUILD)/mvm/syshyperd $(BUILD)/mvm/syshyper $(BUILD)/mvm/ethflood &: mvm/daemon/syshyperd.c \
		$(wildcard mvm/cli/*.[ch]) mvm/tools/ethflood.c mvm/daemon/build.sh \
		$(wildcard include/syshyper/*.h) | $(HOST_STAMP)
	mvm/daemon/build.sh $(BUILD)/mvm

# Rebuilds GVM 1's image when SCRIPT (its name or its content) changes.
$(SCRIPT_STAMP): FORCE
	@mkdir -p $(dir $@)
	@{ echo "$(SCRIPT)"; [ -z "$(SCRIPT)" ] || cat "$(SCRIPT)"; } | cmp -s - $@ || \
		{ echo "$(SCRIPT)" > $@; [ -z "$(SCRIPT)" ] || cat "$(SCRIPT)" >> $@; }
FORCE:

$(BUILD)/gvm/gvm1-initramfs.cpio.gz: $(GUEST_STAMP) scripts/mkinitramfs.sh mvm/initramfs/init \
		$(SCRIPT_STAMP) $(BUILD)/mvm/ethflood
	@mkdir -p $(dir $@)
	scripts/mkinitramfs.sh $@ gvm $(if $(SCRIPT),$(SCRIPT):etc/autorun.sh)

$(BUILD)/gvm/gvm2-initramfs.cpio.gz: $(GUEST_STAMP) scripts/mkinitramfs.sh mvm/initramfs/init \
		$(BUILD)/mvm/ethflood
	@mkdir -p $(dir $@)
	scripts/mkinitramfs.sh $@ gvm

# A VM's DTB names its initrd's end, so it is built after the initrd:
# $(call vm_dtb,dts,initrd,initrd IPA,GIC version)
define vm_dtb
	@mkdir -p $(dir $@)
	cpp -P -nostdinc -undef -x assembler-with-cpp -Imvm/dts -DGIC_VERSION=$(4) \
		-DINITRD_START=$(3) \
		-DINITRD_END=$$(printf '0x%x' $$(( $(3) + $$(stat -c %s $(2)) ))) $(1) > $@.dts
	dtc -q -I dts -O dtb -o $@ $@.dts
endef

$(BUILD)/mvm/mvm-gicv%.dtb: mvm/dts/mvm.dts mvm/dts/vm-common.dtsi $(MVM_INITRD)
	$(call vm_dtb,$<,$(MVM_INITRD),$(MVM_INITRD_BASE),$*)

$(BUILD)/gvm/gvm1-gicv%.dtb: mvm/dts/gvm1.dts mvm/dts/vm-common.dtsi $(BUILD)/gvm/gvm1-initramfs.cpio.gz
	$(call vm_dtb,$<,$(BUILD)/gvm/gvm1-initramfs.cpio.gz,$(GVM_INITRD_IPA),$*)

$(BUILD)/gvm/gvm2-gicv%.dtb: mvm/dts/gvm2.dts mvm/dts/vm-common.dtsi $(BUILD)/gvm/gvm2-initramfs.cpio.gz
	$(call vm_dtb,$<,$(BUILD)/gvm/gvm2-initramfs.cpio.gz,$(GVM_INITRD_IPA),$*)

$(HV_DISK):
	@mkdir -p $(dir $@)
	truncate -s 32M $@

$(DISK): scripts/mkdisk.sh
	@mkdir -p $(dir $@)
	scripts/mkdisk.sh $@

# ---------------------------------------------------------------- run
QEMU_DEPS := $(HV_ELF) $(HV_BUILD)/qemu-loader.args $(MVM_IMAGES) $(DISK) $(HV_DISK)

.PHONY: run
run: $(QEMU_DEPS)
ifeq ($(SCRIPT),)
	@echo "sysHyper: Ctrl-] then ? for console help; the MVM's poweroff ends QEMU."
	@scripts/qemu.sh $(GIC)
else
	@python3 scripts/run-script.py $(GIC) "$(SCRIPT)"
endif

# ---------------------------------------------------------------- tests
.PHONY: test unit-test system-test
test: unit-test system-test

unit-test: $(HOST_STAMP) $(CFGC)
	@$(MAKE) -s -C tests/unit check

system-test: $(HOST_STAMP)
	@$(MAKE) -s GIC=2 $(QEMU_DEPS:$(HV_BUILD)%=$(BUILD)/gicv2%)
	@$(MAKE) -s GIC=3 $(QEMU_DEPS:$(HV_BUILD)%=$(BUILD)/gicv3%)
	python3 tests/system/test_hv.py

# Bare-metal test guests and their test configurations (system-test prerequisites).
include tests/guests/guests.mk

# libFuzzer on everything a guest or the MVM side can feed, for longer than
# make test does (FUZZ_SECONDS per harness).
.PHONY: fuzz
fuzz: $(HOST_STAMP)
	@$(MAKE) -s -C tests/unit fuzz FUZZ_SECONDS=$(or $(FUZZ_SECONDS),300)

# Formatting, static analysis and extra warnings (scripts/lint.sh).
.PHONY: lint
lint: $(HOST_STAMP)
	@scripts/lint.sh

.PHONY: bench
bench: $(QEMU_DEPS) test-configs
	python3 scripts/bench.py

.PHONY: clean
clean:
	rm -rf $(BUILD)
