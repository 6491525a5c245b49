# The configuration ($(CONFIG)) is the one description of the VMs. tools/cfgc
# checks it and writes, into $(HV_BUILD):
#   vms.mk               what each VM is made of (included here; mk/images.mk
#                        makes it), so no makefile names a VM
#   config.c             the compiled configuration linked into the EL2 image
#   qemu-loader.args     the images QEMU's loader places in RAM
#   qemu-devices.args    CPUs, RAM and what QEMU attaches to the board's slots
#   vms/                 the VMs' generated device trees and initrds, the MVM's
#                        vms.conf (the GVMs it loads) and disks.conf (what
#                        backs each mediated disk), both appended to its initrd
CFGC := $(BUILD)/tools/cfgc
CFGC_FLAGS := -D GIC=$(GIC) -B $(HV_BUILD)/vms --initramfs-dir $(BUILD)
CFG_MK := $(HV_BUILD)/vms.mk

$(CFGC): $(wildcard tools/cfgc/*.[ch]) tools/cfgc/Makefile hv/core/config_check.c \
		hv/core/vm_config.h $(wildcard hv/platform/*.h hv/platform/$(PLATFORM)/*.c \
		hv/platform/$(PLATFORM)/include/platform/*.h) include/syshyper/hypercall.h | $(HOST_STAMP)
	@$(MAKE) -s -C tools/cfgc BUILD=$(abspath $(dir $@)) PLATFORM=$(PLATFORM)

$(CFG_MK): $(CONFIG) $(CFGC)
	@mkdir -p $(dir $@)
	$(CFGC) $(CFGC_FLAGS) --no-files -m $@ $(CONFIG)

# (not for goals that need no configuration: cfgc is built to write it)
ifneq ($(filter-out clean setup,$(or $(MAKECMDGOALS),all)),)
include $(CFG_MK)
endif

# config.c measures every image; the loader list names them.
$(HV_BUILD)/config.c $(HV_BUILD)/qemu-loader.args &: $(CONFIG) $(CFGC) $(CFG_IMAGES)
	@mkdir -p $(HV_BUILD)
	$(CFGC) $(CFGC_FLAGS) -o $(HV_BUILD)/config.c -q $(HV_BUILD)/qemu-loader.args $(CONFIG)

$(HV_BUILD)/qemu-devices.args: $(CONFIG) $(CFGC)
	@mkdir -p $(HV_BUILD)
	$(CFGC) $(CFGC_FLAGS) --no-files -d $@ $(CONFIG)

ifneq ($(CFG_MANIFEST),)
$(CFG_MANIFEST): $(CONFIG) $(CFGC)
	@mkdir -p $(dir $@)
	$(CFGC) $(CFGC_FLAGS) --no-files --manifest $@ $(CONFIG)
endif

ifneq ($(CFG_DISKS),)
$(CFG_DISKS): $(CONFIG) $(CFGC)
	@mkdir -p $(dir $@)
	$(CFGC) $(CFGC_FLAGS) --no-files --disks $@ $(CONFIG)
endif
