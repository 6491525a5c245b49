# Bare-metal test guests (tests/guests/README.md), included by the top Makefile.
#
#   tests/guests/NAME.c + lib/          -> build/guests/NAME.bin (raw image, linked at 0x40200000)
#   guest.dts + NAME-slots.dtsi         -> build/guests/NAME-gicv{2,3}.dtb
#   configs/test-NAME.cfg               -> build/test-NAME-gicv{2,3}/syshyper.elf + qemu-loader.args
#
# A test configuration gets its own hypervisor build directory, so the default
# build/gicvN/ image is never overwritten; scripts/qemu.sh boots it with
# HV_DIR=build/test-NAME-gicvN.

GUEST_DIR := tests/guests
GUEST_OUT := $(BUILD)/guests
GUEST_NAMES := hostile conform conform2 storm
# Test configurations that scenarios also boot on GICv2 (test-configs builds both).
GUEST_NAMES_GIC2 := conform conform2
# The string and formatting routines are the hypervisor's own (hv/lib):
# freestanding, and one copy to keep right.
GUEST_LIB_SRCS := $(GUEST_DIR)/lib/start.S $(GUEST_DIR)/lib/lib.c $(GUEST_DIR)/lib/virtio.c \
	hv/lib/string.c hv/lib/vsnprintf.c
GUEST_CFLAGS := -std=gnu11 -O2 -g -ffreestanding -fno-builtin -nostdlib -mgeneral-regs-only \
	-fno-stack-protector -fno-pic -fno-pie -mstrict-align -mno-outline-atomics -Wall -Wextra -Werror \
	-I$(GUEST_DIR)/lib -Ihv -MMD -MP
GUEST_LIB_OBJS := $(patsubst %,$(GUEST_OUT)/obj/%.o,$(GUEST_LIB_SRCS))

$(GUEST_OUT)/obj/%.c.o: %.c | $(HOST_STAMP)
	@mkdir -p $(dir $@)
	$(CROSS)gcc $(GUEST_CFLAGS) -c $< -o $@

$(GUEST_OUT)/obj/%.S.o: %.S | $(HOST_STAMP)
	@mkdir -p $(dir $@)
	$(CROSS)gcc $(GUEST_CFLAGS) -c $< -o $@

-include $(GUEST_LIB_OBJS:.o=.d) $(foreach g,$(GUEST_NAMES),$(GUEST_OUT)/obj/$(GUEST_DIR)/$(g).c.d)

$(GUEST_OUT)/%.elf: $(GUEST_OUT)/obj/$(GUEST_DIR)/%.c.o $(GUEST_LIB_OBJS) $(GUEST_DIR)/lib/linker.ld
	$(CROSS)gcc $(GUEST_CFLAGS) -static -no-pie -Wl,--no-warn-rwx-segments -Wl,--build-id=none \
		-T $(GUEST_DIR)/lib/linker.ld -o $@ $(GUEST_LIB_OBJS) $< -lgcc

$(GUEST_OUT)/%.bin: $(GUEST_OUT)/%.elf
	$(CROSS)objcopy -O binary $< $@

# $(GUEST_OUT)/NAME-gicvN.dtb from guest.dts and NAME-slots.dtsi
define guest_dtb_rule
$(GUEST_OUT)/$(1)-gicv$(2).dtb: $(GUEST_DIR)/guest.dts $(GUEST_DIR)/$(1)-slots.dtsi \
		mvm/dts/vm-common.dtsi | $(HOST_STAMP)
	@mkdir -p $$(dir $$@)
	cpp -P -nostdinc -undef -x assembler-with-cpp -Imvm/dts -I$(GUEST_DIR) -DGIC_VERSION=$(2) \
		-DSLOTS_DTSI='"$(1)-slots.dtsi"' $$< > $$@.dts
	dtc -q -I dts -O dtb -o $$@ $$@.dts

# configs/test-NAME.cfg names the guest's image and DTB: rebuild its config when they change.
$(BUILD)/test-$(1)-gicv$(2)/config.c $(BUILD)/test-$(1)-gicv$(2)/qemu-loader.args: \
		$(GUEST_OUT)/$(1).bin $(GUEST_OUT)/$(1)-gicv$(2).dtb configs/test-$(1).cfg
endef
$(foreach g,$(GUEST_NAMES),$(foreach v,2 3,$(eval $(call guest_dtb_rule,$(g),$(v)))))

.PHONY: guests test-configs
guests: $(foreach g,$(GUEST_NAMES),$(GUEST_OUT)/$(g).bin $(GUEST_OUT)/$(g)-gicv2.dtb \
	$(GUEST_OUT)/$(g)-gicv3.dtb)

# The hypervisor built for each test configuration (GIC=3 only: the system
# tests boot them on GICv3). A sub-make with HV_BUILD and CONFIG overridden.
test-configs: guests $(HOST_STAMP)
	@$(foreach g,$(GUEST_NAMES),$(MAKE) -s GIC=3 HV_BUILD=$(BUILD)/test-$(g)-gicv3 \
		CONFIG=configs/test-$(g).cfg $(BUILD)/test-$(g)-gicv3/syshyper.elf \
		$(BUILD)/test-$(g)-gicv3/qemu-loader.args &&) true
	@$(foreach g,$(GUEST_NAMES_GIC2),$(MAKE) -s GIC=2 HV_BUILD=$(BUILD)/test-$(g)-gicv2 \
		CONFIG=configs/test-$(g).cfg $(BUILD)/test-$(g)-gicv2/syshyper.elf \
		$(BUILD)/test-$(g)-gicv2/qemu-loader.args &&) true

system-test: test-configs

.SECONDARY: $(foreach g,$(GUEST_NAMES),$(GUEST_OUT)/$(g).elf $(GUEST_OUT)/obj/$(GUEST_DIR)/$(g).c.o)
