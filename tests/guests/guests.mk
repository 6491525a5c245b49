# Bare-metal test guests (tests/guests/README.md), included by the top Makefile.
#
#   tests/guests/NAME.c + lib/          -> build/guests/NAME.bin (raw image, linked at 0x40200000)
#   configs/test-NAME.cfg               -> build/test-NAME-gicv{2,3}/: syshyper.elf, QEMU's
#                                          arguments, the VMs' device trees (tools/cfgc)
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

.PHONY: guests test-configs
guests: $(foreach g,$(GUEST_NAMES),$(GUEST_OUT)/$(g).bin)

# The hypervisor built for each test configuration (GIC=3 only: the system
# tests boot them on GICv3). A sub-make with CONFIG overridden builds into
# $(BUILD)/test-NAME-gicvN/ (the top Makefile's HV_BUILD).
test-configs: guests $(HOST_STAMP)
	@$(foreach g,$(GUEST_NAMES),$(MAKE) -s GIC=3 CONFIG=configs/test-$(g).cfg qemu-deps &&) true
	@$(foreach g,$(GUEST_NAMES_GIC2),$(MAKE) -s GIC=2 CONFIG=configs/test-$(g).cfg qemu-deps &&) \
		true

system-test: test-configs

.SECONDARY: $(foreach g,$(GUEST_NAMES),$(GUEST_OUT)/$(g).elf $(GUEST_OUT)/obj/$(GUEST_DIR)/$(g).c.o)
