# The EL2 image: every source of the hypervisor's layers, the board's
# folder, and the compiled configuration (mk/config.mk).
HV_ELF := $(HV_BUILD)/syshyper.elf
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

$(HV_BUILD)/config.o: $(HV_BUILD)/config.c
	$(CROSS)gcc $(HV_CFLAGS) -c $< -o $@

$(HV_ELF): $(HV_OBJS) $(HV_BUILD)/config.o hv/platform/$(PLATFORM)/linker.ld
	$(CROSS)gcc $(HV_CFLAGS) -Wl,--no-warn-rwx-segments -Wl,--build-id=none \
		-T hv/platform/$(PLATFORM)/linker.ld -o $@ $(HV_OBJS) $(HV_BUILD)/config.o -lgcc

.PHONY: hv
hv: $(HV_ELF)
